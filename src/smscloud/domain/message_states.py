"""The life of an SMS message, as one table: its states, what moves it, what each end means.

Theory of operation
-------------------
A message is born in ACCEPT (``services/sending/accept.py``), in the transaction a send waits
for (API, console, or a bulk task's feed): the sender is answered only once it commits. A
number that passes every check is inserted QUEUED and its units are debited in that same
transaction: accepted means durable and billed. A number that fails a check (invalid, opted
out, frequency or daily limit, no units left) is inserted REFUSED, as the record of the
refusal the sender was answered; it is never billed, never sent and never reported. (A bulk
task's number refused for want of units or for a daily limit is not inserted at all: it stays
waiting in its task, which is suspended.) The platform's own notices
(``services/sending/platform_sms.py``) are inserted QUEUED the same way, without a debit.

DISPATCH (``delivery/claims.py``) claims QUEUED messages in batches and moves them to SENDING
under a lease (``lease_until``). The lease is what makes a crash harmless: a worker that dies
holding SENDING messages loses nothing, because once their lease has run out another worker
claims them again (SENDING to SENDING, one more attempt). A worker that holds no bind slot for
a message's carrier hands it back: the lease is cut short and the state stays SENDING.

The carrier's answer to the submit (``delivery/submits.py``) moves a SENDING message on:
- taken: SUBMITTED, with its carrier message id (one per part of a long message);
- a temporary failure with attempts left: QUEUED again, for any worker to retry;
- a temporary failure with its attempts spent: FAILED, refunded;
- a permanent refusal: REJECTED, refunded, because the carrier never took it.

A delivery receipt (``delivery/receipts.py``), matched by carrier message id, moves a
SUBMITTED message to the final state the receipt carries: DELIVERED, UNDELIVERED, EXPIRED,
REJECTED or UNKNOWN. A long message finishes with the receipt of its last part: DELIVERED when
every part was, else as its first part that was not. A message whose receipt never comes ends
UNKNOWN once the receipt timeout has passed. These ends are billed: the carrier took the
message. (So REJECTED says only that the message was rejected; whether before the carrier took
it, and so refunded, is the ``refunded`` column's to say.)

A bulk task (``services/tasks/``) feeds ACCEPT chunk by chunk. Suspending it (the tenant, or
the platform when the units run out, a daily limit is reached, or the account or application
may no longer send) moves its QUEUED messages to HELD, which no worker claims; resuming moves
them back to QUEUED. Cancelling it moves its HELD and QUEUED messages to CANCELLED and refunds
them. A message a worker already holds (SENDING) when its task is suspended or cancelled goes
on: a retry of it is QUEUED again, not held.

Every final state but REFUSED is reported: the transaction that sets it marks the message due
to ``PullSmsSendStatus`` and to the application's status callback (``store.messages.reported``;
Tencent SMS API 3.0, PullSmsSendStatus, and the status report callback). REFUSED was answered
in the send's own response.

Vocabularies kept apart
-----------------------
- SMPP's ``message_state`` (SMPP 3.4 §5.2.28, ``protocols.smpp.receipt.MessageState``) and its
  receipt stat words (SMPP 3.4 Appendix B: ``DELIVRD``, ``UNDELIV``, ``REJECTD``...) are the
  carrier's words. ``carriers/smpp/inbound.py`` maps them to the five states a receipt carries
  (``RECEIPT_STATES``); the word itself is kept as the message's ``receipt_code``.
- A receipt's state, as the carrier seam hands it over (``carriers.base.Receipt.state``, also
  ``message_parts.state`` and ``orphan_receipts.state``), *is* a message state, one of
  ``RECEIPT_STATES``: it is written to ``messages.state`` as it is.
- Where the platform ends a message with no carrier's word (no receipt, a cancelled task, a
  refused submit without an error code), ``receipt_code`` repeats the state's name (UNKNOWN,
  CANCELLED, FAILED), so reports always have a code to show.
- Tencent's report fields (``ReportStatus`` SUCCESS/FAIL, ``SendStatus`` 1-4) are derived
  from these states where the API answers; they are not stored.
- Tasks, task numbers, callbacks and notifications have states of their own, in their tables.

Each value is the very string stored in ``messages.state`` (a ``String(12)`` with no CHECK
constraint), and equals its member's name, so a driver that writes an enum by name and one
that writes it as a string store the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "CANCELLABLE",
    "FAILURES",
    "FINAL",
    "INITIAL",
    "NEXT",
    "PENDING",
    "RECEIPT_STATES",
    "REPORTED",
    "TRANSITIONS",
    "Event",
    "MessageState",
    "Transition",
]


class MessageState(StrEnum):
    """A message's state, as stored in ``messages.state``."""

    REFUSED = "REFUSED"  # refused at ACCEPT: kept as the send record, never sent
    QUEUED = "QUEUED"  # accepted and billed, due for a worker
    HELD = "HELD"  # queued, but its bulk task is suspended
    SENDING = "SENDING"  # claimed by a worker under a lease
    SUBMITTED = "SUBMITTED"  # the carrier took it; waiting for its receipt
    DELIVERED = "DELIVERED"
    UNDELIVERED = "UNDELIVERED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    FAILED = "FAILED"  # the carrier would not take it, attempt after attempt
    UNKNOWN = "UNKNOWN"  # the receipt said so, or never came
    CANCELLED = "CANCELLED"  # its bulk task was cancelled before a carrier had it


class Event(StrEnum):
    """What moves a message, named for where it happens."""

    ACCEPT = "accept"  # ACCEPT inserts an accepted number
    REFUSE = "refuse"  # ACCEPT inserts a refused number
    CLAIM = "claim"  # a worker leases it (again, once a lease ran out)
    TAKEN = "taken"  # the carrier took the submit
    RETRY = "retry"  # the carrier failed temporarily; attempts left
    GIVE_UP = "give_up"  # the carrier failed temporarily; attempts spent
    CARRIER_REFUSED = "carrier_refused"  # the carrier refused it for good
    RECEIPT = "receipt"  # its receipt (its last part's) came
    RECEIPT_TIMEOUT = "receipt_timeout"  # no receipt within the receipt timeout
    TASK_SUSPENDED = "task_suspended"
    TASK_RESUMED = "task_resumed"
    TASK_CANCELLED = "task_cancelled"


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move. ``source`` None is a message not yet stored (ACCEPT inserts it).

    ``refunds``: the same transaction gives back the message's units. ``reports``: it marks
    the message due to status pulls and to its status callback.
    """

    source: MessageState | None
    event: Event
    target: MessageState
    where: str  # the module that makes the move
    refunds: bool = False
    reports: bool = False


S, E = MessageState, Event
_ACCEPT = "services/sending/accept.py"
_CLAIMS = "delivery/claims.py"
_SUBMITS = "delivery/submits.py"
_RECEIPTS = "delivery/receipts.py"
_TASKS = "services/tasks/states.py"

# fmt: off
TRANSITIONS: tuple[Transition, ...] = (
    Transition(None, E.ACCEPT, S.QUEUED, _ACCEPT),
    Transition(None, E.REFUSE, S.REFUSED, _ACCEPT),
    Transition(S.QUEUED, E.CLAIM, S.SENDING, _CLAIMS),
    Transition(S.SENDING, E.CLAIM, S.SENDING, _CLAIMS),  # only once the lease ran out
    Transition(S.SENDING, E.TAKEN, S.SUBMITTED, _SUBMITS),
    Transition(S.SENDING, E.RETRY, S.QUEUED, _SUBMITS),
    Transition(S.SENDING, E.GIVE_UP, S.FAILED, _SUBMITS, refunds=True, reports=True),
    Transition(S.SENDING, E.CARRIER_REFUSED, S.REJECTED, _SUBMITS, refunds=True, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT, S.DELIVERED, _RECEIPTS, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT, S.UNDELIVERED, _RECEIPTS, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT, S.EXPIRED, _RECEIPTS, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT, S.REJECTED, _RECEIPTS, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT, S.UNKNOWN, _RECEIPTS, reports=True),
    Transition(S.SUBMITTED, E.RECEIPT_TIMEOUT, S.UNKNOWN, _RECEIPTS, reports=True),
    Transition(S.QUEUED, E.TASK_SUSPENDED, S.HELD, _TASKS),
    Transition(S.HELD, E.TASK_RESUMED, S.QUEUED, _TASKS),
    Transition(S.QUEUED, E.TASK_CANCELLED, S.CANCELLED, _TASKS, refunds=True, reports=True),
    Transition(S.HELD, E.TASK_CANCELLED, S.CANCELLED, _TASKS, refunds=True, reports=True),
)
# fmt: on


def _next() -> dict[MessageState, frozenset[MessageState]]:
    out: dict[MessageState, set[MessageState]] = {state: set() for state in MessageState}
    for t in TRANSITIONS:
        if t.source is not None:
            out[t.source].add(t.target)
    return {state: frozenset(targets) for state, targets in out.items()}


# The same table read by state: where each state may go next (nowhere from a final state).
NEXT: Mapping[MessageState, frozenset[MessageState]] = _next()

# Groups the code asks about, as tuples in the enum's order so SQL built from them reads the
# same every time. A test holds each to the table above.

# The states ACCEPT inserts.
INITIAL = (S.REFUSED, S.QUEUED)
# No way out.
FINAL = (
    S.REFUSED,
    S.DELIVERED,
    S.UNDELIVERED,
    S.EXPIRED,
    S.REJECTED,
    S.FAILED,
    S.UNKNOWN,
    S.CANCELLED,
)
# Final and reported to the tenant (pulls, status callbacks, queries by number): every final
# state but REFUSED, which the SendSms response itself reported.
REPORTED = tuple(state for state in FINAL if state is not S.REFUSED)
# On the way to a carrier or to its receipt. HELD is not final either, but paused by its task
# and counted apart.
PENDING = (S.QUEUED, S.SENDING, S.SUBMITTED)
# The states a delivery receipt carries (``carriers.base.Receipt.state``).
RECEIPT_STATES = (S.DELIVERED, S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.UNKNOWN)
# Ended without delivery, for a reason the carrier or its receipt gave. UNKNOWN (no answer) and
# CANCELLED (the tenant's choice) are counted apart.
FAILURES = (S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.FAILED)
# What cancelling a bulk task ends: its messages no carrier has had.
CANCELLABLE = (S.QUEUED, S.HELD)
