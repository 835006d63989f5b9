"""Voice product rules: play times, codes, limits per number, quiet hours, billed minutes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_rules import (
    VoiceKind,
    VoicePolicy,
    billed_minutes,
    check_code,
    check_play_times,
    check_voice_frequency,
    in_quiet_hours,
)

TZ = ZoneInfo("Asia/Shanghai")
POLICY = VoicePolicy()


def at(hour: int, minute: int = 0, day: int = 4) -> float:
    return datetime(2026, 12, day, hour, minute, tzinfo=TZ).timestamp()


def test_play_times_default_two_and_at_most_three() -> None:
    assert check_play_times(None) == 2
    assert [check_play_times(n) for n in (1, 2, 3)] == [1, 2, 3]
    for bad in (0, 4, -1, 2**63):
        with pytest.raises(RuleViolation):
            check_play_times(bad)


def test_codes_are_digits_for_vms_and_may_hold_letters_for_the_legacy_api() -> None:
    assert check_code("8253") == "8253"
    for bad in ("", "82a3", "１２３", "²", "1" * 13, " 123"):
        with pytest.raises(RuleViolation):
            check_code(bad)
    assert check_code("ab12", letters=True) == "ab12"
    with pytest.raises(RuleViolation):
        check_code("ab-12", letters=True)


def test_tencents_defaults_one_per_30s_two_per_10min_three_per_day() -> None:
    now = at(12)
    kind = VoiceKind.TEMPLATE
    assert check_voice_frequency(POLICY, [], now=now, kind=kind, tz=TZ) is None
    assert "30 seconds" in (
        check_voice_frequency(POLICY, [now - 29], now=now, kind=kind, tz=TZ) or ""
    )
    assert check_voice_frequency(POLICY, [now - 30], now=now, kind=kind, tz=TZ) is None
    assert "10 minutes" in (
        check_voice_frequency(POLICY, [now - 100, now - 200], now=now, kind=kind, tz=TZ) or ""
    )
    three = [at(9), at(10), at(11)]
    assert "day" in (check_voice_frequency(POLICY, three, now=now, kind=kind, tz=TZ) or "")
    yesterday = [at(9, day=3), at(10, day=3), at(11, day=3)]
    assert check_voice_frequency(POLICY, yesterday, now=now, kind=kind, tz=TZ) is None


def test_quiet_hours_cross_midnight_in_the_platforms_time_zone() -> None:
    assert in_quiet_hours(POLICY, at(22), TZ)
    assert in_quiet_hours(POLICY, at(3), TZ)
    assert not in_quiet_hours(POLICY, at(8), TZ)
    assert not in_quiet_hours(POLICY, at(21, 59), TZ)
    assert not in_quiet_hours(VoicePolicy(quiet_start=0, quiet_end=0), at(23), TZ)
    daytime = VoicePolicy(quiet_start=12 * 60, quiet_end=14 * 60)
    assert in_quiet_hours(daytime, at(13), TZ) and not in_quiet_hours(daytime, at(14), TZ)


def test_no_codes_and_one_notification_per_number_in_quiet_hours() -> None:
    night = at(2)
    assert check_voice_frequency(POLICY, [], now=night, kind=VoiceKind.CODE, tz=TZ)
    assert check_voice_frequency(POLICY, [], now=night, kind=VoiceKind.TEMPLATE, tz=TZ) is None
    # One notification at 23:00 the evening before counts in the same quiet window.
    evening = [at(23, day=3)]
    assert check_voice_frequency(POLICY, evening, now=night, kind=VoiceKind.FILE, tz=TZ)
    # One at 21:00, before the window opened, does not.
    assert (
        check_voice_frequency(POLICY, [at(21, day=3)], now=night, kind=VoiceKind.FILE, tz=TZ)
        is None
    )


def test_limits_switched_off_allow_anything() -> None:
    off = VoicePolicy(per_30s=None, per_10min=None, per_day=None, quiet_start=0, quiet_end=0)
    now = at(23)
    many = [now - i for i in range(1, 50)]
    assert check_voice_frequency(off, many, now=now, kind=VoiceKind.CODE, tz=TZ) is None


@given(st.floats(min_value=0, max_value=36000, allow_nan=False))
def test_billed_per_started_minute_only_when_answered(talk: float) -> None:
    minutes = billed_minutes(talk, answered=True)
    assert minutes >= 1
    assert (minutes - 1) * 60 <= talk <= minutes * 60 or (talk == 0 and minutes == 1)
    assert billed_minutes(talk, answered=False) == 0


def test_billed_minutes_at_the_edges() -> None:
    assert billed_minutes(0.4, answered=True) == 1
    assert billed_minutes(60.0, answered=True) == 1
    assert billed_minutes(60.01, answered=True) == 2


@given(
    st.integers(min_value=0, max_value=1439),
    st.integers(min_value=0, max_value=1439),
    st.integers(min_value=0, max_value=1439),
)
def test_quiet_hours_agree_with_the_plain_reading_of_a_window(
    start: int, end: int, minute: int
) -> None:
    policy = VoicePolicy(quiet_start=start, quiet_end=end)
    if start < end:
        expected = start <= minute < end
    elif start > end:  # it crosses midnight
        expected = minute >= start or minute < end
    else:
        expected = False
    assert in_quiet_hours(policy, at(minute // 60, minute % 60), TZ) is expected
