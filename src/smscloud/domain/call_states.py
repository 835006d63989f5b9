"""The life of a voice message, as one table: its states, what moves it, what each end means.

Theory of operation
-------------------
A voice message (a verification code read aloud, or a notification played from a template, a
text or an uploaded file) is born in ACCEPT (``services/sending/voice.py``), in the
transaction the sender waits for: it is inserted QUEUED, and the sender is answered with its
``CallId`` only once that commits. A request that breaks a rule (an individual account, an
unapproved template, a frequency limit, quiet hours) is answered with an error and stores
nothing: the voice APIs take one number per request, so there is no per-number refusal to
record as SMS has.

DIAL (``delivery/calls.py``) claims QUEUED calls and moves them to CLAIMED under a lease
(``lease_until``), as SMS claims do. Until the call is dialled nothing has reached the
network, so a worker that dies holding CLAIMED calls loses nothing: once the lease ran out
another worker claims them again (CLAIMED to CLAIMED). A worker with no free line on the
carrier hands a call back (CLAIMED to QUEUED). A call that waited longer than the platform's
start deadline is not dialled late (a code read minutes after it was asked for is useless):
it ends FAILED, failure code 22 (system busy), and is reported.

Just before the INVITE goes out the worker commits CALLING. From then on the call has
reached the network, and Tencent's rule holds: "a hang-up is never redialled". The carrier's
progress moves it on: RINGING on a provisional 180/183 (RFC 3261 §21.1), ANSWERED on the 2xx.
A final refusal (busy, not found, no answer, unreachable...) ends it FAILED with the failure
code the SIP status maps to (``protocols/sip``; the codes are Tencent's, listed in
``domain/voice_rules.py``). An answered call ends ENDED when either side hangs up; its talk
time is billed then, per started minute (Tencent voice messaging: billing overview), in the
same transaction that ends it, so a call is metered once.

A worker that dies during a call (CALLING, RINGING or ANSWERED with its lease run out) leaves
a call whose end nobody saw. It is never dialled again; the next claim ends it: FAILED with
failure code 11 (other) if it was not answered, ENDED with no talk time billed if it was (the
platform, not the tenant, carries what it cannot measure).

Both ends are reported: the transaction that sets them queues the call's callbacks for the
application's voice callback URL (``voicecode_callback`` / ``voiceprompt_callback``, and
``voice_failure_callback`` for FAILED; Tencent voice messaging: callback API) in the
``voice_pushes`` outbox, which the callback pusher drains as it does SMS status reports.

Each value is the very string stored in ``voice_calls.state`` and equals its member's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "FINAL",
    "IN_CALL",
    "NEXT",
    "TRANSITIONS",
    "CallEvent",
    "CallState",
    "CallTransition",
]


class CallState(StrEnum):
    """A voice message's state, as stored in ``voice_calls.state``."""

    QUEUED = "QUEUED"  # accepted, due for a worker
    CLAIMED = "CLAIMED"  # leased by a worker; not dialled yet
    CALLING = "CALLING"  # the INVITE went out (or may have): never dialled again
    RINGING = "RINGING"  # the phone rings (180/183)
    ANSWERED = "ANSWERED"  # answered (2xx): the message plays
    ENDED = "ENDED"  # an answered call hung up: talk time billed
    FAILED = "FAILED"  # never answered, or never dialled: free


class CallEvent(StrEnum):
    """What moves a call, named for where it happens."""

    ACCEPT = "accept"
    CLAIM = "claim"  # a worker leases it (again, once a lease ran out before dialling)
    NO_LINE = "no_line"  # no free line on the carrier: handed back
    TOO_LATE = "too_late"  # it waited past the start deadline
    DIAL = "dial"  # committed just before the INVITE
    RING = "ring"
    ANSWER = "answer"
    REFUSED = "refused"  # a final non-2xx, or no answer in time
    HANG_UP = "hang_up"  # either side ended an answered call
    INTERRUPTED = "interrupted"  # the worker died during the call


@dataclass(frozen=True, slots=True)
class CallTransition:
    """One allowed move. ``source`` None is a call not yet stored (ACCEPT inserts it).

    ``bills``: the same transaction meters talk time. ``reports``: it marks the call due to
    its voice callback.
    """

    source: CallState | None
    event: CallEvent
    target: CallState
    where: str
    bills: bool = False
    reports: bool = False


S, E = CallState, CallEvent
_ACCEPT = "services/sending/voice.py"
_CALLS = "delivery/calls.py"

# fmt: off
TRANSITIONS: tuple[CallTransition, ...] = (
    CallTransition(None, E.ACCEPT, S.QUEUED, _ACCEPT),
    CallTransition(S.QUEUED, E.CLAIM, S.CLAIMED, _CALLS),
    CallTransition(S.CLAIMED, E.CLAIM, S.CLAIMED, _CALLS),  # only once the lease ran out
    CallTransition(S.CLAIMED, E.NO_LINE, S.QUEUED, _CALLS),
    CallTransition(S.CLAIMED, E.TOO_LATE, S.FAILED, _CALLS, reports=True),
    CallTransition(S.CLAIMED, E.DIAL, S.CALLING, _CALLS),
    CallTransition(S.CALLING, E.RING, S.RINGING, _CALLS),
    CallTransition(S.CALLING, E.ANSWER, S.ANSWERED, _CALLS),
    CallTransition(S.RINGING, E.ANSWER, S.ANSWERED, _CALLS),
    CallTransition(S.CALLING, E.REFUSED, S.FAILED, _CALLS, reports=True),
    CallTransition(S.RINGING, E.REFUSED, S.FAILED, _CALLS, reports=True),
    CallTransition(S.ANSWERED, E.HANG_UP, S.ENDED, _CALLS, bills=True, reports=True),
    CallTransition(S.CALLING, E.INTERRUPTED, S.FAILED, _CALLS, reports=True),
    CallTransition(S.RINGING, E.INTERRUPTED, S.FAILED, _CALLS, reports=True),
    CallTransition(S.ANSWERED, E.INTERRUPTED, S.ENDED, _CALLS, reports=True),
)
# fmt: on


def _next() -> dict[CallState, frozenset[CallState]]:
    out: dict[CallState, set[CallState]] = {state: set() for state in CallState}
    for t in TRANSITIONS:
        if t.source is not None:
            out[t.source].add(t.target)
    return {state: frozenset(targets) for state, targets in out.items()}


# The same table read by state: where each state may go next (nowhere from a final state).
NEXT: Mapping[CallState, frozenset[CallState]] = _next()

# No way out; each is reported.
FINAL = (S.ENDED, S.FAILED)
# Dialled and not ended: what a dead worker leaves behind, never to be dialled again.
IN_CALL = (S.CALLING, S.RINGING, S.ANSWERED)
