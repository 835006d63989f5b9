"""Working time and the half-work-day review promise (09:00-12:00, 13:00-18:00, Mon-Fri)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.work_time import (
    REVIEW_PROMISE_SECONDS,
    WORK_DAY_SECONDS,
    ReviewWait,
    queue_key,
    review_wait,
    working_seconds,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = 3600.0


def at(day: int, hour: int, minute: int = 0, tz: ZoneInfo = SHANGHAI) -> float:
    """Epoch seconds of December ``day`` 2026 at ``hour:minute``; 7 Dec 2026 is a Monday."""
    return datetime(2026, 12, day, hour, minute, tzinfo=tz).timestamp()


def test_a_work_day_is_eight_hours_and_the_promise_half_of_it() -> None:
    assert WORK_DAY_SECONDS == 8 * HOUR
    assert REVIEW_PROMISE_SECONDS == 4 * HOUR


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(7, 9), at(7, 12), 3),  # Monday morning
        (at(7, 9), at(7, 18), 8),  # the whole day, lunch not counted
        (at(7, 12), at(7, 13), 0),  # lunch
        (at(7, 11), at(7, 14), 2),  # across lunch: 11-12 and 13-14
        (at(7, 0), at(7, 9), 0),  # the night before work
        (at(7, 18), at(8, 9), 0),  # evening and night
        (at(7, 17), at(8, 10), 2),  # 17-18 and 09-10
        (at(7, 8, 30), at(7, 9, 30), 0.5),  # half before opening
        (at(7, 17, 30), at(7, 18, 30), 0.5),  # half after closing
        (at(11, 17), at(14, 9), 1),  # Friday 17:00 to Monday 09:00
        (at(11, 17), at(14, 12), 4),  # ... to Monday noon: the promise, exactly
        (at(12, 10), at(13, 16), 0),  # Saturday to Sunday
        (at(12, 10), at(14, 10), 1),  # Saturday to Monday 10:00
        (at(7, 9), at(14, 9), 40),  # a week
        (at(7, 10), at(7, 10), 0),  # no time
        (at(7, 15), at(7, 10), 0),  # the end before the start
    ],
)
def test_working_seconds(start: float, end: float, hours: float) -> None:
    assert working_seconds(start, end, SHANGHAI) == hours * HOUR


def test_the_wall_clock_of_the_given_zone_counts() -> None:
    # 09:00 in Shanghai is 01:00 UTC: a UTC platform sees the same instant as the night.
    start, end = at(7, 9), at(7, 12)
    assert working_seconds(start, end, SHANGHAI) == 3 * HOUR
    assert working_seconds(start, end, ZoneInfo("UTC")) == 0


def test_a_daylight_saving_change_keeps_the_wall_clock_periods() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Friday 27 March 2026 17:00 to Monday 30 March 10:00 (clocks went forward on Sunday).
    start = datetime(2026, 3, 27, 17, tzinfo=berlin).timestamp()
    end = datetime(2026, 3, 30, 10, tzinfo=berlin).timestamp()
    assert working_seconds(start, end, berlin) == 2 * HOUR


@pytest.mark.parametrize(
    ("submitted", "now", "overdue"),
    [
        (at(7, 9), at(7, 14), False),  # 3 + 1 hours: exactly the promise, not past it
        (at(7, 9), at(7, 14, 1), True),
        (at(11, 15), at(14, 10), False),  # Friday 15:00, Monday 10:00: 3 + 1
        (at(11, 15), at(14, 10, 30), True),
        (at(12, 9), at(13, 23), False),  # a weekend's wait is no wait
        (at(11, 18), at(14, 13), False),  # Friday after work: Monday 09-12 only
    ],
)
def test_review_wait(submitted: float, now: float, overdue: bool) -> None:
    wait = review_wait(submitted, now, SHANGHAI)
    assert wait.overdue is overdue
    assert wait.waited == working_seconds(submitted, now, SHANGHAI)


def test_waited_minutes_are_whole() -> None:
    assert ReviewWait(waited=119.9, overdue=False).waited_minutes == 1
    assert review_wait(at(7, 9), at(7, 10, 30), SHANGHAI).waited_minutes == 90


def test_queue_order_is_overdue_first_then_longest_wait() -> None:
    now = at(14, 16)
    submitted = {
        "fresh": at(14, 15),
        "monday-morning": at(14, 9),  # 6 hours: overdue
        "friday": at(11, 17),  # 1 + 6 hours: overdue, longer
        "weekend": at(13, 10),  # 6 hours, since Monday 09:00: overdue, as long as Monday's
    }
    order = sorted(
        submitted, key=lambda k: queue_key(review_wait(submitted[k], now, SHANGHAI), submitted[k])
    )
    assert order == ["friday", "weekend", "monday-morning", "fresh"]


MOMENTS = st.floats(min_value=at(1, 0) - 400 * 86400, max_value=at(1, 0) + 400 * 86400)


@given(MOMENTS, MOMENTS, MOMENTS)
def test_working_time_adds_up(a: float, b: float, c: float) -> None:
    a, b, c = sorted((a, b, c))
    whole = working_seconds(a, c, SHANGHAI)
    assert whole == pytest.approx(
        working_seconds(a, b, SHANGHAI) + working_seconds(b, c, SHANGHAI), abs=1e-3
    )
    assert 0 <= whole <= c - a


@given(MOMENTS, st.integers(min_value=0, max_value=30))
def test_whole_weeks_hold_forty_hours(start: float, weeks: int) -> None:
    end = start + weeks * 7 * 86400  # Shanghai keeps no daylight saving time
    assert working_seconds(start, end, SHANGHAI) == pytest.approx(weeks * 40 * HOUR, abs=1e-3)


@given(MOMENTS, st.floats(min_value=0, max_value=30 * 86400))
def test_the_wait_never_shrinks_as_time_goes_on(submitted: float, later: float) -> None:
    now = submitted + 86400.0
    first = review_wait(submitted, now, SHANGHAI)
    second = review_wait(submitted, now + later, SHANGHAI)
    assert second.waited >= first.waited
    assert second.overdue or not first.overdue


@given(MOMENTS)
def test_a_weekend_holds_no_working_time(moment: float) -> None:
    day = datetime.fromtimestamp(moment, SHANGHAI)
    saturday = (day - timedelta(days=day.weekday()) + timedelta(days=5)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    start = saturday.timestamp()
    assert working_seconds(start, start + 2 * 86400, SHANGHAI) == 0
