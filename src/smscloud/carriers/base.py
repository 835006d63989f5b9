"""The one seam between the platform and whatever reaches handsets.

A carrier takes submissions and later reports receipts (and mobile-originated replies) to the
sink it was started with. It knows numbers and text, nothing of tenants or billing.

What a carrier hands the sink is not yet safe: the sink answers with an awaitable that
completes once the reports are durable (the group commit holding them has committed) and
raises if they could not be stored. A carrier acknowledges its network only then, so a crash
between receiving a report and storing it loses nothing: the network, never acknowledged,
sends it again (SMPP 3.4 §4.6.2: deliver_sm_resp is the ESME's acknowledgement).

Errors, as ``SubmitResult.error`` codes rather than exceptions, because a batch mixes them:
- ``temporary``: the carrier could not take it now (throttled, queue full, unbound); the
  dispatcher retries it later, possibly elsewhere.
- ``permanent``: the carrier refused it (bad number, rejected content); the message ends
  REJECTED and its billed units are refunded, because the carrier never took it.

A long message goes as several parts. When the carrier took some of them and then failed
temporarily (a bind dropped between two parts), the result says which parts it holds
(``SubmitResult.taken``); the dispatcher records them and the retry hands them back
(``Submission.taken``), so only the parts not yet taken are sent, under the same
concatenation reference: the handset never gets a part twice nor a message twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from smscloud.domain.message_states import MessageState


@dataclass(frozen=True, slots=True)
class Submission:
    """One message to send. ``message_id`` also fixes a long message's concatenation
    reference, so every attempt (in any worker) builds the very same parts."""

    message_id: int
    phone: str  # E.164
    text: str
    sender_id: str = ""
    extend_code: str = ""
    # Parts this carrier took in an earlier attempt, as (part number from 1, carrier id),
    # and how many parts the message was built as then; the carrier sends only the others.
    taken: tuple[tuple[int, str], ...] = ()
    parts: int = 0


@dataclass(frozen=True, slots=True)
class SubmitResult:
    message_id: int
    carrier_msg_id: str | None  # set when the carrier took the message (its first part)
    error: str = ""  # carrier's code when it did not
    permanent: bool = False
    # Every part's id, in order, when a long message went as several parts; each part gets
    # its own receipt, and the message is final when all its parts are.
    part_ids: tuple[str, ...] = ()
    # On a temporary failure of a long message: the parts the carrier holds all the same,
    # as (part number from 1, carrier id), out of ``parts``. Kept for the retry.
    taken: tuple[tuple[int, str], ...] = ()
    parts: int = 0


def canonical_id(carrier_msg_id: str) -> str:
    """The one spelling a carrier message id is stored and matched in.

    SMSCs write the same id differently in the submit response and in the receipt (case,
    padding); both sides go through this function so they meet.
    """
    return carrier_msg_id.strip().lower()


# The final states a receipt carries: message states (``domain.message_states.RECEIPT_STATES``),
# written to ``messages.state`` as they are. The carrier's own word (SMPP 3.4 Appendix B stat,
# e.g. DELIVRD) travels apart, as ``Receipt.code``.
DELIVERED = MessageState.DELIVERED
UNDELIVERED = MessageState.UNDELIVERED
EXPIRED = MessageState.EXPIRED
REJECTED = MessageState.REJECTED
UNKNOWN = MessageState.UNKNOWN


@dataclass(frozen=True, slots=True)
class Receipt:
    carrier_msg_id: str
    state: MessageState  # one of the final states above
    code: str  # the carrier's receipt code, e.g. DELIVRD, UNDELIV, EXPIRED
    done_at: float


@dataclass(frozen=True, slots=True)
class Reply:
    # E.164 of the handset that replied; an address that is no phone number (alphanumeric,
    # a short code) is kept as the carrier wrote it, and matches no message.
    phone: str
    text: str
    received_at: float
    destination: str = ""  # the number it was sent to (our sender + extend code)
    carrier: str = ""  # the carrier it came through


class ReportSink(Protocol):
    """Where a carrier delivers what comes back from the network.

    Each call returns an awaitable that completes once what it was given is stored for good,
    and raises if storing failed; only then may the carrier acknowledge it to the network.
    """

    def receipts(self, receipts: Sequence[Receipt]) -> Awaitable[None]: ...

    def replies(self, replies: Sequence[Reply]) -> Awaitable[None]: ...


@dataclass(frozen=True, slots=True)
class InFlight:
    """A message the carrier took before this process started, still awaiting its receipt."""

    carrier_msg_id: str
    phone: str


class Carrier(Protocol):
    name: str

    async def start(self, sink: ReportSink) -> None: ...

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]: ...

    async def resume(self, in_flight: Sequence[InFlight]) -> None:
        """Messages submitted before a restart. A real SMSC keeps their receipts and sends
        them once we bind again, so most carriers do nothing; a carrier whose network lived
        in the dead process (the sandbox) re-announces them."""
        ...

    async def stop(self) -> None: ...
