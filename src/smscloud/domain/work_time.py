"""Working time, and the platform's promise to review within half a work day.

The platform promises tenants that an operator reviews an identity application, a signature
or a template within **half a work day**. What a work day is, written once here:

- Monday to Friday, in the platform's time zone (``Settings.timezone``, Asia/Shanghai by
  default);
- 09:00–12:00 and 13:00–18:00 local time: eight working hours, the lunch hour not counted;
- so half a work day is **4 working hours** (:data:`REVIEW_PROMISE_SECONDS`).

Public holidays are not known to the platform and count as working days; weekends and
nights do not count. An item submitted on Friday at 17:00 has waited one working hour at
Monday 09:00, and is overdue from Monday 12:00.

Everything here is arithmetic on epoch seconds and a time zone; "now" is always an argument
(the caller reads the platform's clock), never the machine's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "REVIEW_PROMISE_SECONDS",
    "WORK_DAYS",
    "WORK_DAY_SECONDS",
    "WORK_PERIODS",
    "ReviewWait",
    "queue_key",
    "review_wait",
    "working_seconds",
]

# Monday is 0 (``date.weekday``).
WORK_DAYS = frozenset({0, 1, 2, 3, 4})
# Local wall-clock periods of a working day, in order and not overlapping.
WORK_PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
WORK_DAY_SECONDS = sum(
    (datetime.combine(date.min, end) - datetime.combine(date.min, start)).total_seconds()
    for start, end in WORK_PERIODS
)
REVIEW_PROMISE_SECONDS = WORK_DAY_SECONDS / 2  # half a work day: 4 working hours


def _local(moment: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(moment, tz).date()


def _at(day: date, clock: time, tz: ZoneInfo) -> float:
    """Epoch seconds of the wall-clock time ``clock`` on ``day`` in ``tz``."""
    return datetime.combine(day, clock, tzinfo=tz).timestamp()


def working_seconds(start: float, end: float, tz: ZoneInfo) -> float:
    """Seconds of working time between the instants ``start`` and ``end`` (0 when ``end`` is
    not after ``start``): the parts of ``[start, end]`` that fall on a working day's periods,
    read on the wall clock of ``tz``."""
    if end <= start:
        return 0.0
    total = 0.0
    day, last = _local(start, tz), _local(end, tz)
    while day <= last:
        if day.weekday() in WORK_DAYS:
            for opens, closes in WORK_PERIODS:
                lo = max(start, _at(day, opens, tz))
                hi = min(end, _at(day, closes, tz))
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


@dataclass(frozen=True, slots=True)
class ReviewWait:
    """How long an item has waited for review, in working time, against the promise."""

    waited: float  # working seconds since submission
    overdue: bool  # waited past the promise

    @property
    def waited_minutes(self) -> int:
        """Whole working minutes waited (what a page shows)."""
        return int(self.waited // 60)


def review_wait(submitted: float, now: float, tz: ZoneInfo) -> ReviewWait:
    """The working time an item submitted at ``submitted`` has waited at ``now``, and whether
    that is past the promise of :data:`REVIEW_PROMISE_SECONDS`."""
    waited = working_seconds(submitted, now, tz)
    return ReviewWait(waited=waited, overdue=waited > REVIEW_PROMISE_SECONDS)


def queue_key(wait: ReviewWait, submitted: float) -> tuple[bool, float, float]:
    """Sort key of the review queues: overdue items first, then the longest working wait,
    then the earliest submission (which also keeps ties stable across a weekend)."""
    return (not wait.overdue, -wait.waited, submitted)
