"""What a call tells its driver: frozen events, one class per happening, times as passed in.

The calling side (``OutboundCall``) reports ``Trying``, ``Ringing``, ``Answered`` and then
``Ended``, or ``Failed`` instead of an answer. The answering side (``Answerer`` and its
``InboundCall``s) reports ``IncomingCall``, then ``CallConfirmed`` (the caller's ACK),
``CallCancelled`` or ``CallEnded``; its events name the call, since one answerer serves many.
An action the call's state does not allow (hanging up a call never started...) raises
``CallStateError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .timers import Address

__all__ = [
    "Answered",
    "AnswererEvent",
    "CallCancelled",
    "CallConfirmed",
    "CallEnded",
    "CallEvent",
    "CallStateError",
    "Ended",
    "Failed",
    "IncomingCall",
    "Ringing",
    "Trying",
]

Side = Literal["us", "them"]


class CallStateError(RuntimeError):
    """An action that the call's state table does not allow now."""


def _check_side(by: str) -> None:
    if by not in ("us", "them"):
        raise ValueError(f"by must be 'us' or 'them', not {by!r}")


@dataclass(frozen=True, slots=True)
class Trying:
    """The trunk took the INVITE in hand (100, RFC 3261 §21.1.1)."""

    at: float


@dataclass(frozen=True, slots=True)
class Ringing:
    """The callee's phone rings (the first 180 or 183, RFC 3261 §21.1.2, §21.1.5)."""

    at: float


@dataclass(frozen=True, slots=True)
class Answered:
    """The callee answered (2xx): send RTP to ``remote_rtp`` in ``payload_type``."""

    at: float
    remote_rtp: Address
    payload_type: int
    dtmf_payload_type: int | None


@dataclass(frozen=True, slots=True)
class Ended:
    """An answered call is over; ``by`` says who hung up."""

    at: float
    by: Side

    def __post_init__(self) -> None:
        _check_side(self.by)


@dataclass(frozen=True, slots=True)
class Failed:
    """The call was not answered: the INVITE's final ``status`` (see ``uac`` for the
    synthetic ones: 0 no response at all, 408 our no-answer timer, 488 unusable SDP)."""

    at: float
    status: int
    reason: str


CallEvent = Trying | Ringing | Answered | Ended | Failed


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """An INVITE arrived (100 Trying is already on its way): ring, answer or reject it.

    ``caller`` is the user part of From, ``callee`` that of the Request-URI, ``offer`` the
    SDP body (empty if the INVITE carried none), ``source`` where it came from.
    """

    call_id: str
    at: float
    caller: str
    callee: str
    offer: bytes
    source: Address


@dataclass(frozen=True, slots=True)
class CallConfirmed:
    """The caller acknowledged our 2xx (RFC 3261 §13.3.1.4): the call is up both ways."""

    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class CallCancelled:
    """The caller cancelled before an answer (RFC 3261 §9.2); 487 went to the INVITE."""

    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class CallEnded:
    """An answered call is over; ``by`` says who hung up."""

    call_id: str
    at: float
    by: Side

    def __post_init__(self) -> None:
        _check_side(self.by)


AnswererEvent = IncomingCall | CallConfirmed | CallCancelled | CallEnded
