"""Per-number frequency-limit policy (Tencent SMS docs: frequency limits).

The refusal codes and their messages are those of Tencent SMS API 3.0 error codes
(LimitExceeded.PhoneNumber*).

Pure: the caller supplies the number's recent send history and the current time.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = [
    "FREQUENCY_MESSAGES",
    "FrequencyPolicy",
    "Sent",
    "check_frequency",
    "day_start",
]

THIRTY_SECOND_LIMIT = "LimitExceeded.PhoneNumberThirtySecondLimit"
ONE_HOUR_LIMIT = "LimitExceeded.PhoneNumberOneHourLimit"
DAILY_LIMIT = "LimitExceeded.PhoneNumberDailyLimit"
SAME_CONTENT_DAILY_LIMIT = "LimitExceeded.PhoneNumberSameContentDailyLimit"

FREQUENCY_MESSAGES: dict[str, str] = {
    THIRTY_SECOND_LIMIT: (
        "the number of sms messages with the same content sent to a single mobile number "
        "within 30 seconds exceeds the upper limit"
    ),
    ONE_HOUR_LIMIT: (
        "the number of sms messages sent to a single mobile number within 1 hour exceeds "
        "the upper limit"
    ),
    DAILY_LIMIT: (
        "the number of sms messages sent from a single mobile number every day exceeds "
        "the upper limit"
    ),
    SAME_CONTENT_DAILY_LIMIT: (
        "the number of sms messages with the same content sent to a single mobile number "
        "every day exceeds the upper limit"
    ),
}

THIRTY_SECONDS = 30.0
ONE_HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class FrequencyPolicy:
    """Limits per destination number; None disables a dimension, 0 blocks it entirely.

    Defaults are Tencent's (Tencent SMS docs: frequency limits, mainland): same content at
    most once per 30 s and at most 10 per natural day, nothing more. The per-hour and
    same-content-per-day limits are dimensions an application may switch on; by default they
    are off, as on Tencent Cloud.
    """

    same_content_30s: int | None = 1
    per_hour: int | None = None
    per_day: int | None = 10
    same_content_per_day: int | None = None

    @property
    def unlimited(self) -> bool:
        """Every dimension off: no send can break a limit, so no history need be read."""
        return (
            self.same_content_30s is None
            and self.per_hour is None
            and self.per_day is None
            and self.same_content_per_day is None
        )


@dataclass(frozen=True, slots=True)
class Sent:
    """One earlier accepted send to the number: unix time and a key identifying its content."""

    at: float
    content_key: str


def day_start(now: float, tz: ZoneInfo) -> float:
    """Unix time at which the natural day (in `tz`) containing `now` began."""
    # Days begin on whole seconds (zone offsets are whole seconds), so the second decides;
    # every request of that second shares one calculation.
    return _day_start(math.floor(now), tz)


@functools.lru_cache(maxsize=64)
def _day_start(second: int, tz: ZoneInfo) -> float:
    local = datetime.fromtimestamp(second, tz)
    # fold=0 picks the earlier instant if midnight repeats; if midnight is skipped by a DST
    # jump, it maps onto the jump itself, which is when that day really starts.
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0)
    return midnight.timestamp()


def check_frequency(
    policy: FrequencyPolicy,
    history: Sequence[Sent],
    *,
    now: float,
    content_key: str,
    tz: ZoneInfo,
) -> str | None:
    """Code of the first limit a new send at `now` would break, or None when allowed.

    Windows: 30 s and 1 h are rolling and exclusive at the old end (a send exactly 30 s after
    the previous one is allowed); the day runs from local midnight in `tz`. Each limit is the
    number of earlier sends allowed in the window, so the new send must find fewer than that.
    """
    since_30s = now - THIRTY_SECONDS
    since_hour = now - ONE_HOUR
    since_day = day_start(now, tz)
    same_30s = in_hour = in_day = same_in_day = 0
    for sent in history:
        same = sent.content_key == content_key
        if sent.at > since_30s and same:
            same_30s += 1
        if sent.at > since_hour:
            in_hour += 1
        if sent.at >= since_day:
            in_day += 1
            if same:
                same_in_day += 1
    checks = (
        (policy.same_content_30s, same_30s, THIRTY_SECOND_LIMIT),
        (policy.per_hour, in_hour, ONE_HOUR_LIMIT),
        (policy.per_day, in_day, DAILY_LIMIT),
        (policy.same_content_per_day, same_in_day, SAME_CONTENT_DAILY_LIMIT),
    )
    for limit, count, code in checks:
        if limit is not None and count >= limit:
            return code
    return None
