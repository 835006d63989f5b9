"""The one seam between the platform and whatever places phone calls.

A voice carrier takes one call at a time per coroutine: ``call`` dials, plays the audio
``play_times`` times once the callee answers, hangs up, and returns how the call went. It
knows numbers and audio, nothing of tenants, templates or billing. Progress on the way
(ringing, answered, a key pressed) goes to the :class:`CallProgress` the caller handed in, so
the platform can store each step as it happens.

Errors, written once:
- A call that reached the network and was not answered is no error: ``CallOutcome`` says how
  it ended (``answered`` False, the SIP status and the failure code it maps to).
- ``NoLineError`` (raised before anything was dialled): every line of the carrier is busy, or its
  trunk is down. The call was not placed; the platform may hand it back to the queue.
- Anything else raised from ``call`` after dialling ended the call abnormally; the platform
  ends it as failed and never dials it again (Tencent voice messaging: a hang-up is never
  redialled).

Audio is 8 kHz, 16-bit signed little-endian mono PCM (G.711's sampling rate; the carrier
encodes it to the codec the far end chose).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "CallOutcome",
    "CallProgress",
    "CallRequest",
    "NoLineError",
    "VoiceCarrier",
]


class NoLineError(Exception):
    """The carrier could not start the call: no free line, or its trunk is unreachable."""


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One call to place. ``call_id`` is the platform's id for it (logs, recordings)."""

    call_id: str
    phone: str  # E.164, with its +
    audio: bytes  # one playing: 8 kHz 16-bit signed little-endian mono PCM
    play_times: int = 2
    caller: str = ""  # the number shown to the callee; "" is the trunk's own


@dataclass(frozen=True, slots=True)
class CallOutcome:
    """How a placed call ended. Times are platform seconds; None where it never got there."""

    call_id: str
    answered: bool
    dialled_at: float
    ringing_at: float | None
    answered_at: float | None
    ended_at: float
    sip_status: int  # the INVITE's final status; 0 when none came
    failure_code: int = 0  # Tencent's (``domain.voice_failures``); 0 when answered
    hung_up_by: str = ""  # "us" | "them" for an answered call
    keys: str = ""  # DTMF keys the callee pressed, in order
    audio_seconds: float = 0.0  # how much audio went out as RTP

    @property
    def talk_seconds(self) -> float:
        """Answered to hung up: what is billed."""
        if self.answered_at is None:
            return 0.0
        return max(0.0, self.ended_at - self.answered_at)


class CallProgress(Protocol):
    """Where a carrier reports a call's progress while it lasts."""

    async def ringing(self, call_id: str, at: float) -> None: ...

    async def answered(self, call_id: str, at: float) -> None: ...

    async def key(self, call_id: str, key: str, at: float) -> None: ...


class VoiceCarrier(Protocol):
    """A carrier of calls: a SIP trunk, or the built-in simulator's."""

    name: str
    max_calls: int  # calls it carries at once; the platform never asks for more

    async def start(self) -> None: ...

    async def call(self, request: CallRequest, progress: CallProgress) -> CallOutcome: ...

    async def stop(self) -> None: ...
