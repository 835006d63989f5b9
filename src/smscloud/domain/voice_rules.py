"""Voice product rules: play times, codes, limits per number, quiet hours, billed minutes.

The rules are Tencent's (Tencent voice messaging: product rules, billing overview; the VMS
API's ``SendCodeVoice`` and ``SendTtsVoice``). Pure: callers pass the number's history and
the time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from smscloud.domain.billing.prices import voice_minutes
from smscloud.domain.errors import RuleViolation
from smscloud.domain.frequency import day_start

__all__ = [
    "DEFAULT_PLAY_TIMES",
    "FREQUENCY_LIMIT",
    "INVALID_PARAMETERS",
    "MAX_PLAY_TIMES",
    "VoiceKind",
    "VoicePolicy",
    "billed_minutes",
    "check_code",
    "check_play_times",
    "check_voice_frequency",
    "in_quiet_hours",
]

# SendCodeVoice / SendTtsVoice: PlayTimes "at most 3, default 2".
MAX_PLAY_TIMES = 3
DEFAULT_PLAY_TIMES = 2
# Quiet hours too: Tencent states them as a frequency rule.
FREQUENCY_LIMIT = "LimitExceeded.DeliveryFrequencyLimit"
INVALID_PARAMETERS = "FailedOperation.InvalidParameters"

# SendCodeVoice: CodeMessage is "digits only". The legacy sendcvoice takes digits or letters.
# 12 characters is our ceiling: longer is no code a person copies from a call.
_CODE_DIGITS = re.compile(r"[0-9]{1,12}")
_CODE_ALNUM = re.compile(r"[0-9A-Za-z]{1,12}")
_MINUTES_A_DAY = 24 * 60


class VoiceKind(StrEnum):
    """What a call plays, as stored in ``voice_calls.kind``."""

    CODE = "code"  # a verification code (SendCodeVoice, sendcvoice)
    TEMPLATE = "template"  # an approved voice template (SendTtsVoice, sendtvoice)
    PROMPT = "prompt"  # text matching an approved template (sendvoiceprompt)
    FILE = "file"  # an approved uploaded recording (sendfvoice)


@dataclass(frozen=True, slots=True)
class VoicePolicy:
    """Limits per called number for one application; None switches a dimension off.

    Defaults are Tencent's: 1 call per 30 s, 2 per 10 minutes, 3 per natural day; in quiet
    hours (22:00 to 08:00) at most 1 notification call and no verification-code call.
    ``quiet_start``/``quiet_end`` are minutes after local midnight; equal values switch
    quiet hours off.
    """

    per_30s: int | None = 1
    per_10min: int | None = 2
    per_day: int | None = 3
    quiet_start: int = 22 * 60
    quiet_end: int = 8 * 60
    quiet_notifications: int = 1


def check_play_times(value: int | None) -> int:
    """PlayTimes as the call will use it: the default when absent, 1 to 3 otherwise."""
    if value is None:
        return DEFAULT_PLAY_TIMES
    if not 1 <= value <= MAX_PLAY_TIMES:
        raise RuleViolation(INVALID_PARAMETERS, f"PlayTimes must be 1 to {MAX_PLAY_TIMES}.")
    return value


def check_code(code: str, *, letters: bool = False) -> str:
    """A verification code to read aloud: 1 to 12 digits (or letters, for the legacy API)."""
    pattern = _CODE_ALNUM if letters else _CODE_DIGITS
    if pattern.fullmatch(code) is None:
        what = "digits or letters" if letters else "digits"
        raise RuleViolation(INVALID_PARAMETERS, f"The code must be 1 to 12 {what}.")
    return code


def _quiet_since(policy: VoicePolicy, now: float, tz: ZoneInfo) -> float | None:
    """When the quiet window holding `now` opened, or None outside quiet hours. A window
    may cross midnight: both ends are read modulo a day."""
    start, end = policy.quiet_start, policy.quiet_end
    local = datetime.fromtimestamp(now, tz)
    into = (local.hour * 60 + local.minute - start) % _MINUTES_A_DAY
    if into >= (end - start) % _MINUTES_A_DAY:  # equal ends: a window of no length
        return None
    return now - into * 60 - local.second - local.microsecond / 1e6


def in_quiet_hours(policy: VoicePolicy, now: float, tz: ZoneInfo) -> bool:
    """Whether `now` falls in the policy's quiet hours."""
    return _quiet_since(policy, now, tz) is not None


def check_voice_frequency(
    policy: VoicePolicy,
    history: Sequence[float],
    *,
    now: float,
    kind: VoiceKind,
    tz: ZoneInfo,
) -> str | None:
    """Why a call to a number at `now` is refused, or None.

    `history` holds the times of earlier accepted calls from this application to the number.
    Windows are rolling and exclusive at the old end; the day runs from local midnight.
    """
    quiet_since = _quiet_since(policy, now, tz)
    if quiet_since is not None:
        if kind is VoiceKind.CODE:
            return "verification-code calls are not placed in quiet hours"
        if sum(1 for at in history if at >= quiet_since) >= policy.quiet_notifications:
            return "at most one notification call per number in quiet hours"
    day = day_start(now, tz)
    counts = (
        (policy.per_30s, sum(1 for at in history if at > now - 30.0), "30 seconds"),
        (policy.per_10min, sum(1 for at in history if at > now - 600.0), "10 minutes"),
        (policy.per_day, sum(1 for at in history if at >= day), "day"),
    )
    for limit, count, what in counts:
        if limit is not None and count >= limit:
            return f"the number was called as often as allowed in one {what}"
    return None


def billed_minutes(talk_seconds: float, *, answered: bool) -> int:
    """Minutes billed for a call: per started minute of talk time, only when answered.

    Tencent voice messaging, billing overview: "less than one minute counts as one".
    """
    if not answered:
        return 0
    return max(1, voice_minutes(math.ceil(talk_seconds)))
