"""Bill months as local calendar months: ranges across DST and extreme offsets."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest

from smscloud.domain.billing.periods import (
    due_date,
    month_of,
    month_range,
    next_month,
    parse_month,
    previous_month,
)

HOUR = 3600
DAY = 86_400
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_ZONE = ZoneInfo("UTC")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
ZONES = [NEW_YORK, SHANGHAI, UTC_ZONE, KIRITIMATI, PAGO_PAGO]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("month", "tz", "start", "end"),
    [
        ("2026-03", UTC_ZONE, utc(2026, 3, 1), utc(2026, 4, 1)),
        ("2026-03", SHANGHAI, utc(2026, 2, 28, 16), utc(2026, 3, 31, 16)),
        # DST starts 2026-03-08 in New York: EST (-5) at the start, EDT (-4) at the end.
        ("2026-03", NEW_YORK, utc(2026, 3, 1, 5), utc(2026, 4, 1, 4)),
        # DST ends 2026-11-01.
        ("2026-11", NEW_YORK, utc(2026, 11, 1, 4), utc(2026, 12, 1, 5)),
        ("2026-03", KIRITIMATI, utc(2026, 2, 28, 10), utc(2026, 3, 31, 10)),
        ("2026-03", PAGO_PAGO, utc(2026, 3, 1, 11), utc(2026, 4, 1, 11)),
        ("2024-02", UTC_ZONE, utc(2024, 2, 1), utc(2024, 3, 1)),  # leap year
        ("2026-12", SHANGHAI, utc(2026, 11, 30, 16), utc(2026, 12, 31, 16)),
        # Kiritimati was at UTC-10:40 in 1970.
        ("1970-01", KIRITIMATI, utc(1970, 1, 1, 10, 40), utc(1970, 2, 1, 10, 40)),
    ],
)
def test_month_range(month: str, tz: ZoneInfo, start: float, end: float) -> None:
    assert month_range(month, tz) == (start, end)


@pytest.mark.parametrize(
    ("month", "tz", "length"),
    [
        ("2026-03", NEW_YORK, 31 * DAY - HOUR),
        ("2026-11", NEW_YORK, 30 * DAY + HOUR),
        ("2026-04", NEW_YORK, 30 * DAY),
        ("2026-03", SHANGHAI, 31 * DAY),
        ("2026-02", UTC_ZONE, 28 * DAY),
        ("2028-02", KIRITIMATI, 29 * DAY),
        ("2026-03", PAGO_PAGO, 31 * DAY),
        # Kiritimati skipped 1994-12-31 entirely when it moved from UTC-10 to UTC+14.
        ("1994-12", KIRITIMATI, 30 * DAY),
        # Samoa skipped 2011-12-30 when it crossed the date line.
        ("2011-12", ZoneInfo("Pacific/Apia"), 30 * DAY),
        # Lord Howe Island's DST shift is 30 minutes.
        ("2026-04", ZoneInfo("Australia/Lord_Howe"), 30 * DAY + HOUR // 2),
    ],
)
def test_month_length(month: str, tz: ZoneInfo, length: int) -> None:
    start, end = month_range(month, tz)
    assert end - start == length


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_consecutive_months_tile(tz: ZoneInfo) -> None:
    month = "2023-11"
    for _ in range(40):
        start, end = month_range(month, tz)
        assert month_of(start, tz) == month
        assert month_of(end - 1, tz) == month
        assert month_of(end, tz) == next_month(month)
        following = next_month(month)
        assert month_range(following, tz)[0] == end
        month = following


def test_ranges_are_right_in_every_zone() -> None:
    # Zones whose DST change falls at midnight (e.g. America/Havana, Asia/Beirut,
    # America/Santiago) are where a naive "midnight plus offset" goes wrong.
    zones = [ZoneInfo(name) for name in sorted(available_timezones())]
    assert len(zones) > 300
    for tz in zones:
        previous_end = None
        for year in (2011, 2024):
            for mon in range(1, 13):
                month = f"{year}-{mon:02d}"
                start, end = month_range(month, tz)
                assert month_of(start, tz) == month, (tz, month)
                assert month_of(start - 1, tz) == previous_month(month), (tz, month)
                assert month_of(end - 1, tz) == month, (tz, month)
                if previous_end is not None and mon > 1:
                    assert start == previous_end, (tz, month)
                previous_end = end


def test_same_instant_different_months() -> None:
    instant = utc(2026, 3, 31, 18)
    assert month_of(instant, UTC_ZONE) == "2026-03"
    assert month_of(instant, SHANGHAI) == "2026-04"
    assert month_of(instant, PAGO_PAGO) == "2026-03"
    assert month_of(utc(2026, 3, 1, 3), PAGO_PAGO) == "2026-02"
    assert month_of(utc(2026, 2, 28, 10), KIRITIMATI) == "2026-03"


@pytest.mark.parametrize(
    ("month", "before", "after"),
    [
        ("2026-03", "2026-02", "2026-04"),
        ("2026-01", "2025-12", "2026-02"),
        ("2026-12", "2026-11", "2027-01"),
    ],
)
def test_previous_and_next(month: str, before: str, after: str) -> None:
    assert previous_month(month) == before
    assert next_month(month) == after
    assert next_month(previous_month(month)) == month


def test_edges_of_the_supported_years() -> None:
    assert parse_month("1970-01") == (1970, 1)
    assert parse_month("9998-12") == (9998, 12)
    with pytest.raises(ValueError, match="outside"):
        previous_month("1970-01")
    with pytest.raises(ValueError, match="outside"):
        next_month("9998-12")
    assert month_range("9998-12", UTC_ZONE)[1] == utc(9999, 1, 1)


@pytest.mark.parametrize(
    "month",
    [
        "",
        "2026-3",
        "2026-00",
        "2026-13",
        "26-03",
        "2026/03",
        "202603",
        "2026-03-01",
        " 2026-03",
        "2026-03\n",
        "２０２６-03",
        "+2026-03",
        "1969-12",
        "9999-01",
        "0000-01",
    ],
)
def test_invalid_months(month: str) -> None:
    with pytest.raises(ValueError, match="month"):
        month_range(month, UTC_ZONE)
    with pytest.raises(ValueError, match="month"):
        next_month(month)
    with pytest.raises(ValueError, match="month"):
        previous_month(month)


@pytest.mark.parametrize(
    ("month", "tz", "days", "due"),
    [
        ("2026-03", SHANGHAI, 15, utc(2026, 4, 15, 16)),
        ("2026-03", SHANGHAI, 0, utc(2026, 3, 31, 16)),
        ("2026-12", UTC_ZONE, 10, utc(2027, 1, 11)),
        ("2026-01", UTC_ZONE, 30, utc(2026, 3, 3)),
        # Still local midnight after New York's DST change on 2026-03-08.
        ("2026-02", NEW_YORK, 10, utc(2026, 3, 11, 4)),
        ("2026-02", NEW_YORK, 5, utc(2026, 3, 6, 5)),
        ("2026-03", KIRITIMATI, 1, utc(2026, 4, 1, 10)),
        ("2026-03", PAGO_PAGO, 1, utc(2026, 4, 2, 11)),
    ],
)
def test_due_date(month: str, tz: ZoneInfo, days: int, due: float) -> None:
    assert due_date(month, tz, days) == due
    local = datetime.fromtimestamp(due, tz)
    assert (local.hour, local.minute, local.second) == (0, 0, 0)


def test_due_date_rejects_negative_days() -> None:
    with pytest.raises(ValueError, match="days"):
        due_date("2026-03", UTC_ZONE, -1)
