"""The built-in phone network's magic numbers: what the phone at a number does (pure, no I/O).

The voice twin of ``carriers.magic``: a callee is matched on the last seven digits of its
national number (only the digits of the SIP Request-URI's user part count, so
``+86 138-0000-0001`` and ``13800000001`` are the same phone), and any number not listed
answers. ``final_status`` is what the caller's INVITE ends with (RFC 3261 §21), and
``failure`` the Tencent failure code the platform records for it
(``domain.voice_failures.failure_for_sip``):

=========  ==================================================  ======  ===========================
suffix     the phone                                           INVITE  failure (code)
=========  ==================================================  ======  ===========================
0000001    busy: 486 Busy Here at once (§21.4.24)              486     user busy (10)
0000002    rings until the caller CANCELs (§9.2), then 487     487     no answer (5)
0000003    the number does not exist: 404 Not Found (§21.4.5)  404     number does not exist (8)
0000006    answers, hangs up (BYE) 2 s later                   200     none: answered
0000008    answers, presses key 1 (RFC 4733 event) 1 s later   200     none: answered
0000009    unreachable: no response at all, ever              none    temporarily unreachable (6)
any other  rings ``ring_seconds``, answers, waits for the BYE  200     none: answered
=========  ==================================================  ======  ===========================

For 0000002 the 487 is the answer to the caller's own CANCEL, which a caller sends when its
no-answer timer strikes: the platform reports that as no answer, not as terminated. For
0000009 the INVITE transaction times out at the caller (§17.1.1.2 Timer B), which the failure
table writes as status 0. The suffixes 0000004, 0000005 and 0000007 mean something for SMS
(``carriers.magic``) and nothing here: those phones answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from smscloud.domain.voice_failures import Failure, failure_for_sip

__all__ = [
    "DEFAULT_PHONE",
    "NO_RESPONSE",
    "PHONES",
    "Behaviour",
    "Phone",
    "phone_for",
    "suffix_of",
]

NO_RESPONSE = 0  # ``final_status`` of a phone that never answers (voice_failures: status 0)
_DIGITS = frozenset("0123456789")


class Behaviour(StrEnum):
    """What a phone does with a call (see the table above)."""

    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NOT_FOUND = "not_found"
    HANG_UP = "hang_up"
    PRESS_KEY = "press_key"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Phone:
    """What the phone at a number does.

    ``reject`` is the final status the simulator sends instead of ringing (None: it rings, or
    never responds); ``final_status`` the status the caller's INVITE ends with (200 answered,
    :data:`NO_RESPONSE` none). ``hang_up_after`` and ``key_after`` count seconds from the
    answer.
    """

    behaviour: Behaviour
    final_status: int
    reject: int | None = None
    hang_up_after: float | None = None
    key: str | None = None
    key_after: float | None = None

    @property
    def answers(self) -> bool:
        """Whether it answers, after ringing (and so needs a usable SDP offer)."""
        return self.final_status == 200

    @property
    def responds(self) -> bool:
        """Whether it sends anything at all (the unreachable phone does not)."""
        return self.final_status != NO_RESPONSE

    @property
    def failure(self) -> Failure | None:
        """The Tencent failure the platform records for a call to it; None when answered."""
        return None if self.answers else failure_for_sip(self.final_status)


DEFAULT_PHONE = Phone(Behaviour.ANSWER, 200)
PHONES: dict[str, Phone] = {
    "0000001": Phone(Behaviour.BUSY, 486, reject=486),
    "0000002": Phone(Behaviour.NO_ANSWER, 487),
    "0000003": Phone(Behaviour.NOT_FOUND, 404, reject=404),
    "0000006": Phone(Behaviour.HANG_UP, 200, hang_up_after=2.0),
    "0000008": Phone(Behaviour.PRESS_KEY, 200, key="1", key_after=1.0),
    "0000009": Phone(Behaviour.UNREACHABLE, NO_RESPONSE),
}


def suffix_of(number: str) -> str:
    """The last seven digits of ``number`` (its other characters left out)."""
    return "".join(c for c in number if c in _DIGITS)[-7:]


def phone_for(number: str) -> Phone:
    """The phone a call to ``number`` (a Request-URI's user part) reaches."""
    return PHONES.get(suffix_of(number), DEFAULT_PHONE)
