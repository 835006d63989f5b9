"""When a console session ends by itself: idle, or too old."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.session_expiry import TOUCH_EVERY, SessionLimits, alive, touch_due

LIMITS = SessionLimits(idle=7200.0, lifetime=43200.0)


@pytest.mark.parametrize(
    ("created", "seen", "now", "expected"),
    [
        (0.0, 0.0, 0.0, True),
        (0.0, 0.0, 7200.0, True),  # exactly idle: still alive
        (0.0, 0.0, 7200.5, False),
        (0.0, 36000.0, 43200.0, True),  # exactly the lifetime
        (0.0, 43000.0, 43200.5, False),  # used a moment ago, but too old
        (100.0, 50.0, 7250.0, True),  # a seen time before creation (clock skew) is harmless
    ],
)
def test_alive(created: float, seen: float, now: float, expected: bool) -> None:
    assert alive(created, seen, now, LIMITS) is expected


def test_the_last_request_is_written_down_once_a_minute() -> None:
    assert not touch_due(1000.0, 1000.0 + TOUCH_EVERY - 0.1)
    assert touch_due(1000.0, 1000.0 + TOUCH_EVERY)
    assert not touch_due(1000.0, 900.0)  # another process's clock a little behind


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        SessionLimits(idle=0.0)
    with pytest.raises(ValueError):
        SessionLimits(lifetime=-1.0)


@given(st.lists(st.floats(0.0, 3 * 3600.0), max_size=60))
def test_a_session_in_use_lives_its_lifetime_and_no_longer(gaps: list[float]) -> None:
    """Requests after the given gaps, with the last-request time written as the guard does:
    the session is alive exactly while no gap exceeded ``idle`` (give or take the minute the
    stored time may lag) and the lifetime has not passed."""
    created = seen = 0.0
    now = 0.0
    for gap in gaps:
        now += gap
        live = alive(created, seen, now, LIMITS)
        if now > LIMITS.lifetime or gap > LIMITS.idle:
            assert not live
            return
        if gap <= LIMITS.idle - TOUCH_EVERY:
            assert live
        if not live:
            return
        if touch_due(seen, now):
            seen = now
