"""Clocks for tests: the platform at a chosen moment, whatever the machine's time.

A test that depends on the time of day or on a calendar boundary hands one of these to the
platform (``Platform(clock=...)``, ``LiveServer(..., clock=...)``) instead of hoping for the
machine's clock. They advance with the monotonic clock, so leases, retries and receipt delays
behave as in production.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from smscloud.clock import Clock

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A weekday morning in Shanghai, far from any day, month or year boundary.
DAYTIME = datetime(2026, 6, 16, 10, 0, tzinfo=SHANGHAI)
# Inside Tencent's marketing quiet hours (22:00-08:00), on the last evening of a year.
NIGHT = datetime(2026, 12, 31, 23, 30, tzinfo=SHANGHAI)


def running_from(moment: datetime) -> Clock:
    """A clock that reads ``moment`` now and then advances as real time does."""
    start, base = time.monotonic(), moment.timestamp()
    return lambda: base + (time.monotonic() - start)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
