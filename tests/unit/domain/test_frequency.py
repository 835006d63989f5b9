"""Per-number frequency limits (Tencent SMS docs: frequency limits; SMS API 3.0 error codes)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.domain.frequency import (
    FREQUENCY_MESSAGES,
    FrequencyPolicy,
    Sent,
    check_frequency,
    day_start,
)

THIRTY = "LimitExceeded.PhoneNumberThirtySecondLimit"
HOUR = "LimitExceeded.PhoneNumberOneHourLimit"
DAILY = "LimitExceeded.PhoneNumberDailyLimit"
SAME_DAILY = "LimitExceeded.PhoneNumberSameContentDailyLimit"

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_ZONE = ZoneInfo("UTC")
# 2024-05-01 10:00:00 in Shanghai.
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI).timestamp()
DEFAULT = FrequencyPolicy()


def check(
    history: list[Sent],
    now: float,
    key: str = "k",
    policy: FrequencyPolicy = DEFAULT,
    tz: ZoneInfo = SHANGHAI,
) -> str | None:
    return check_frequency(policy, history, now=now, content_key=key, tz=tz)


def test_defaults_follow_the_mainland_docs() -> None:
    # Tencent SMS docs, frequency limits: same content ≤1 per 30 s, ≤10 per natural day, and
    # nothing per hour.
    assert FrequencyPolicy(1, None, 10, None) == DEFAULT


def test_the_default_allows_ten_messages_in_an_hour_then_stops_for_the_day() -> None:
    history: list[Sent] = []
    for i in range(10):  # one a minute, each with its own content
        assert check(history, T0 + i * 60, f"c{i}") is None
        history.append(Sent(T0 + i * 60, f"c{i}"))
    assert check(history, T0 + 600, "c10") == DAILY
    assert check(history, T0 + 13 * 3600, "c10") == DAILY  # 23:00, still the same day
    assert check(history, datetime(2024, 5, 2, tzinfo=SHANGHAI).timestamp(), "c10") is None


def test_messages_exist_for_every_code() -> None:
    assert set(FREQUENCY_MESSAGES) == {THIRTY, HOUR, DAILY, SAME_DAILY}
    # The English message Tencent returns for the daily limit (SendSms, SendStatusSet).
    assert FREQUENCY_MESSAGES[DAILY] == (
        "the number of sms messages sent from a single mobile number every day exceeds "
        "the upper limit"
    )


@pytest.mark.parametrize(
    ("gap", "key", "expected"),
    [
        (0.0, "k", THIRTY),  # same number + content twice in 30 s
        (29.999, "k", THIRTY),
        (30.0, "k", None),  # exactly 30 s later is allowed
        (31.0, "k", None),
        (1.0, "other", None),  # different content is not limited by the 30 s rule
    ],
)
def test_thirty_second_window(gap: float, key: str, expected: str | None) -> None:
    assert check([Sent(T0, "k")], T0 + gap, key) == expected


@pytest.mark.parametrize(
    ("gap", "expected"),
    [(240.5, HOUR), (3599.0, HOUR), (3599.999, HOUR), (3600.0, None), (3700.0, None)],
)
def test_one_hour_window(gap: float, expected: str | None) -> None:
    history = [Sent(T0 + i * 60, f"c{i}") for i in range(5)]  # 5 sends, one a minute
    # The oldest send leaves the rolling hour exactly 3600 s after it was made.
    assert check(history, T0 + gap, "new", FrequencyPolicy(per_hour=5)) == expected


def test_daily_limit_counts_the_natural_day() -> None:
    history = [Sent(T0 + i * 3600, f"c{i}") for i in range(10)]  # 10:00 .. 19:00
    assert check(history, T0 + 10 * 3600, "new") == DAILY
    midnight = datetime(2024, 5, 2, 0, 0, tzinfo=SHANGHAI).timestamp()
    assert check(history, midnight - 0.001, "new") == DAILY
    assert check(history, midnight, "new") is None


def test_day_boundary_depends_on_time_zone() -> None:
    # Ten sends at 23:00-23:09 Shanghai (15:00-15:09 UTC), then one at 00:00 Shanghai.
    start = datetime(2024, 5, 1, 23, 0, tzinfo=SHANGHAI).timestamp()
    history = [Sent(start + i * 60, f"c{i}") for i in range(10)]
    now = datetime(2024, 5, 2, 0, 0, tzinfo=SHANGHAI).timestamp()
    daily_only = FrequencyPolicy(same_content_30s=None, per_hour=None, per_day=10)
    assert check(history, now, "new", daily_only, SHANGHAI) is None  # a new day in Shanghai
    assert check(history, now, "new", daily_only, UTC_ZONE) == DAILY  # still 16:00 in UTC


def test_same_content_daily_limit() -> None:
    policy = FrequencyPolicy(same_content_per_day=2)
    history = [Sent(T0, "k"), Sent(T0 + 7200, "k")]
    assert check(history, T0 + 14400, "k", policy) == SAME_DAILY
    assert check(history, T0 + 14400, "other", policy) is None


def test_checks_run_in_documented_order() -> None:
    policy = FrequencyPolicy(same_content_30s=1, per_hour=1, per_day=1, same_content_per_day=1)
    history = [Sent(T0, "k")]
    assert check(history, T0 + 1, "k", policy) == THIRTY
    assert check(history, T0 + 31, "k", policy) == HOUR
    assert check(history, T0 + 3601, "k", policy) == DAILY
    no_daily = FrequencyPolicy(same_content_30s=None, per_hour=None, per_day=None)
    assert check(history, T0 + 1, "k", FrequencyPolicy(None, None, None, 1)) == SAME_DAILY
    assert check(history, T0 + 1, "k", no_daily) is None


def test_zero_blocks_and_none_disables() -> None:
    assert check([], T0, "k", FrequencyPolicy(per_day=0)) == DAILY
    unlimited = FrequencyPolicy(None, None, None, None)
    assert check([Sent(T0, "k")] * 1000, T0, "k", unlimited) is None


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        (datetime(2024, 5, 1, 23, 59, 59), "Asia/Shanghai", datetime(2024, 5, 1)),
        (datetime(2024, 5, 2, 0, 0, 0), "Asia/Shanghai", datetime(2024, 5, 2)),
        (datetime(2024, 5, 1, 7, 59, 59), "UTC", datetime(2024, 5, 1)),
        # DST starts at 02:00 in New York on 2024-03-10; the day still starts at 00:00 EST.
        (datetime(2024, 3, 10, 12, 0), "America/New_York", datetime(2024, 3, 10)),
    ],
)
def test_day_start(local: datetime, zone: str, expected: datetime) -> None:
    tz = ZoneInfo(zone)
    now = local.replace(tzinfo=tz).timestamp()
    assert day_start(now, tz) == expected.replace(tzinfo=tz).timestamp()


def test_day_start_when_midnight_is_skipped() -> None:
    # Chile springs forward at 24:00 (2024-09-08 00:00 does not exist): the day starts
    # at the jump, 04:00 UTC, when local time becomes 01:00.
    tz = ZoneInfo("America/Santiago")
    now = datetime(2024, 9, 8, 12, 0, tzinfo=tz).timestamp()
    assert day_start(now, tz) == datetime(2024, 9, 8, 4, 0, tzinfo=UTC).timestamp()


ZONES = [ZoneInfo(z) for z in ("Asia/Shanghai", "UTC", "America/New_York", "America/Santiago")]


@given(now=st.floats(min_value=1.0e9, max_value=2.2e9), tz=st.sampled_from(ZONES))
def test_day_start_is_the_first_instant_of_the_local_day(now: float, tz: ZoneInfo) -> None:
    start = day_start(now, tz)
    today = datetime.fromtimestamp(now, tz).date()
    assert start <= now
    assert datetime.fromtimestamp(start, tz).date() == today
    assert datetime.fromtimestamp(start - 0.001, tz).date() < today


policies = st.builds(
    FrequencyPolicy,
    same_content_30s=st.none() | st.integers(0, 3),
    per_hour=st.none() | st.integers(0, 6),
    per_day=st.none() | st.integers(0, 12),
    same_content_per_day=st.none() | st.integers(0, 4),
)
attempts = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=1800.0), st.sampled_from("abc")),
    max_size=80,
)


@settings(max_examples=200)
@given(policy=policies, steps=attempts, tz=st.sampled_from(ZONES))
def test_simulated_sends_never_exceed_limits(
    policy: FrequencyPolicy, steps: list[tuple[float, str]], tz: ZoneInfo
) -> None:
    now = T0
    allowed: list[Sent] = []
    for gap, key in steps:
        now += gap
        code = check_frequency(policy, allowed, now=now, content_key=key, tz=tz)
        if code is None:
            allowed.append(Sent(now, key))
    for index, sent in enumerate(allowed):
        upto = allowed[: index + 1]
        same = [s for s in upto if s.content_key == sent.content_key]
        today = day_start(sent.at, tz)
        counts = (
            (policy.same_content_30s, sum(s.at > sent.at - 30 for s in same)),
            (policy.per_hour, sum(s.at > sent.at - 3600 for s in upto)),
            (policy.per_day, sum(s.at >= today for s in upto)),
            (policy.same_content_per_day, sum(s.at >= today for s in same)),
        )
        for limit, count in counts:
            assert limit is None or count <= limit


@given(policy=policies, steps=attempts)
def test_refusals_name_a_limit_that_is_really_full(
    policy: FrequencyPolicy, steps: list[tuple[float, str]]
) -> None:
    now = T0
    history: list[Sent] = []
    for gap, key in steps:
        now += gap
        code = check_frequency(policy, history, now=now, content_key=key, tz=SHANGHAI)
        if code is None:
            history.append(Sent(now, key))
            continue
        same = [s for s in history if s.content_key == key]
        today = day_start(now, SHANGHAI)
        full = {
            THIRTY: (policy.same_content_30s, sum(s.at > now - 30 for s in same)),
            HOUR: (policy.per_hour, sum(s.at > now - 3600 for s in history)),
            DAILY: (policy.per_day, sum(s.at >= today for s in history)),
            SAME_DAILY: (policy.same_content_per_day, sum(s.at >= today for s in same)),
        }
        limit, count = full[code]
        assert limit is not None and count >= limit


@given(
    second=st.integers(min_value=10**9, max_value=2_200_000_000),
    fraction=st.floats(min_value=0.0, max_value=0.999999),
    tz=st.sampled_from(ZONES),
)
def test_day_start_of_any_instant_within_a_second_is_its_days_start(
    second: int, fraction: float, tz: ZoneInfo
) -> None:
    # day_start is computed once per second; the fraction of a second must never matter,
    # least of all in the last second before a midnight.
    now = second + fraction
    local = datetime.fromtimestamp(now, tz)
    expected = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0).timestamp()
    assert day_start(now, tz) == expected
    assert day_start(now, tz) <= now


@given(policy=policies, steps=attempts)
def test_a_policy_is_unlimited_exactly_when_no_history_can_refuse_a_send(
    policy: FrequencyPolicy, steps: list[tuple[float, str]]
) -> None:
    """ACCEPT skips reading the history of an unlimited policy's numbers: that is only right
    if such a policy refuses nothing, whatever was sent before."""
    history = [Sent(T0 + gap, key) for gap, key in steps]
    now = T0 + 1800.0
    if policy.unlimited:
        assert check_frequency(policy, history, now=now, content_key="a", tz=SHANGHAI) is None
    else:  # a limit is on: enough recent sends of the same content break it
        full = [Sent(now - 1.0, "a")] * 12
        assert check_frequency(policy, full, now=now, content_key="a", tz=SHANGHAI) is not None
