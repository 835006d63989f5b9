"""What became of a message, as a sender reads it: one definition for every count shown.

A message's state (``domain.message_states``) says where it is in the platform; its *outcome*
says what a sender should make of it, and is what the statistics and a bulk task's progress
both count, so the two never disagree about the same messages:

- SENDING: accepted and on its way (QUEUED, HELD by a suspended task, SENDING, SUBMITTED);
  no outcome yet.
- DELIVERED: the carrier's receipt says delivered.
- FAILED: it ended without delivery after it was accepted: the receipt said undelivered,
  expired, rejected or unknown, the carrier refused the submit for good (REJECTED, refunded),
  or it refused it again and again (FAILED, refunded), or no receipt came in time (UNKNOWN).
- REFUSED: refused at acceptance (invalid, opted out, a frequency limit...): never sent.
- CANCELLED: its bulk task was cancelled before a carrier had it.

A failure falls in one *bucket* by its receipt code, the groups of Tencent's receipt
statistics (Tencent SMS API 3.0, CallbackStatusStatistics: invalid numbers, phones off,
blacklists, frequency limits), plus three the platform can tell apart itself: refused by the
carrier, no receipt, and any other carrier code.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from smscloud.domain.message_states import MessageState

__all__ = [
    "BLACKLIST_CODES",
    "FREQUENCY_CODES",
    "INVALID_NUMBER_CODES",
    "SHUTDOWN_CODES",
    "STATES",
    "Failure",
    "Outcome",
    "failure_of",
    "outcome_of",
]

# Receipt codes (the carrier's words, not message states) grouped as CallbackStatusStatistics
# counts them (Tencent SMS API 3.0, CallbackStatusStatistics).
INVALID_NUMBER_CODES = ("UNDELIV", "UNDELIVRD", "MK:0001", "MK:0012", "MK:0013")
SHUTDOWN_CODES = ("EXPIRED", "MI:0013", "MI:0024", "MK:0004", "MK:0011")
BLACKLIST_CODES = ("BWLIST", "MX:0012", "TD:0001", "TUIDING", "W-BLACK")
FREQUENCY_CODES = ("MX:0003", "TE:0003")


class Outcome(StrEnum):
    """What a sender makes of a message."""

    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"
    CANCELLED = "cancelled"


class Failure(StrEnum):
    """Why a FAILED message failed, in the buckets the console shows as words."""

    INVALID_NUMBER = "invalid_number"
    SHUTDOWN = "shutdown"
    BLACKLISTED = "blacklisted"
    FREQUENCY = "frequency"
    CARRIER_REFUSED = "carrier_refused"  # rejected by the carrier, at submit or by receipt
    NO_RECEIPT = "no_receipt"  # UNKNOWN: no receipt in time, or a receipt that said so
    OTHER = "other"


S = MessageState
_OUTCOMES: Mapping[MessageState, Outcome] = {
    S.QUEUED: Outcome.SENDING,
    S.HELD: Outcome.SENDING,
    S.SENDING: Outcome.SENDING,
    S.SUBMITTED: Outcome.SENDING,
    S.DELIVERED: Outcome.DELIVERED,
    S.UNDELIVERED: Outcome.FAILED,
    S.EXPIRED: Outcome.FAILED,
    S.REJECTED: Outcome.FAILED,
    S.FAILED: Outcome.FAILED,
    S.UNKNOWN: Outcome.FAILED,
    S.REFUSED: Outcome.REFUSED,
    S.CANCELLED: Outcome.CANCELLED,
}

# The same table read by outcome, for SQL predicates (tuples in the enum's order).
STATES: Mapping[Outcome, tuple[MessageState, ...]] = {
    outcome: tuple(state for state in MessageState if _OUTCOMES[state] is outcome)
    for outcome in Outcome
}

_BY_CODE: Mapping[str, Failure] = {
    **dict.fromkeys(INVALID_NUMBER_CODES, Failure.INVALID_NUMBER),
    **dict.fromkeys(SHUTDOWN_CODES, Failure.SHUTDOWN),
    **dict.fromkeys(BLACKLIST_CODES, Failure.BLACKLISTED),
    **dict.fromkeys(FREQUENCY_CODES, Failure.FREQUENCY),
}


def outcome_of(state: str) -> Outcome:
    """The outcome of a message in ``state`` (a ``messages.state`` value)."""
    return _OUTCOMES[MessageState(state)]


def failure_of(state: str, receipt_code: str) -> Failure:
    """The bucket of a FAILED message: its receipt code's group first (the carrier's word is
    the most precise), else what its state says."""
    if (bucket := _BY_CODE.get(receipt_code.strip().upper())) is not None:
        return bucket
    if state == S.UNKNOWN:
        return Failure.NO_RECEIPT
    if state in (S.REJECTED, S.FAILED):
        return Failure.CARRIER_REFUSED
    return Failure.OTHER
