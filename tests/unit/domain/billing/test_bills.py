"""Building monthly bills from usage: month boundaries, grouping, refunds, totals."""

from __future__ import annotations

from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.domain.billing.bills import Bill, BillLine, Usage, build_bill
from smscloud.domain.billing.money import cost
from smscloud.domain.billing.periods import due_date, month_range, next_month
from smscloud.domain.billing.prices import SMS_INTL, VOICE

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC_ZONE = ZoneInfo("UTC")
MARCH = "2026-03"
START, END = month_range(MARCH, SHANGHAI)
ISSUED = END + 3600


def bill(usages: list[Usage], month: str = MARCH, tz: ZoneInfo = SHANGHAI) -> Bill:
    return build_bill(7, "某某科技", month, tz, usages, ISSUED, 15)


def sms(iso: str, nation: str, quantity: int, price: int, at: float = START + 60) -> Usage:
    return Usage(SMS_INTL, iso, nation, quantity, price, at)


def test_empty_bill() -> None:
    result = bill([])
    assert result == Bill(
        tenant_id=7,
        tenant_name="某某科技",
        month=MARCH,
        currency="CNY",
        lines=(),
        total=0,
        issued_at=ISSUED,
        due_at=due_date(MARCH, SHANGHAI, 15),
    )


def test_groups_and_sorts_lines() -> None:
    result = bill(
        [
            Usage(VOICE, "US", "1", 3, 150_000, START + 10),
            sms("US", "1", 2, 60_000),
            sms("HK", "852", 100, 45_000),
            sms("US", "1", 5, 60_000, START + 999),
            Usage(VOICE, "AU", "61", 1, 200_000, START + 10),
            sms("HK", "852", 1, 45_000, END - 1),
        ]
    )
    assert result.lines == (
        BillLine(SMS_INTL, "HK", "852", 45_000, 101, 4_545_000),
        BillLine(SMS_INTL, "US", "1", 60_000, 7, 420_000),
        BillLine(VOICE, "AU", "61", 200_000, 1, 200_000),
        BillLine(VOICE, "US", "1", 150_000, 3, 450_000),
    )
    assert result.total == 5_620_000
    assert result.currency == "CNY"
    assert result.due_at == due_date(MARCH, SHANGHAI, 15)


def test_price_change_mid_month_makes_two_lines() -> None:
    result = bill(
        [
            sms("HK", "852", 10, 50_000, START + 20 * 86_400),  # after the change
            sms("HK", "852", 10, 45_000, START + 1),
            sms("HK", "852", 5, 45_000, START + 2),
        ]
    )
    assert result.lines == (
        BillLine(SMS_INTL, "HK", "852", 45_000, 15, 675_000),
        BillLine(SMS_INTL, "HK", "852", 50_000, 10, 500_000),
    )


def test_same_country_other_nation_code_is_another_line() -> None:
    # Kazakhstan and Russia share +7, but one ISO code dialled with two codes stays apart.
    result = bill([sms("KZ", "7", 1, 10_000), sms("KZ", "997", 1, 10_000)])
    assert [line.nation_code for line in result.lines] == ["7", "997"]


def test_refunds_subtract_and_zero_lines_are_dropped() -> None:
    result = bill(
        [
            sms("HK", "852", 10, 45_000),
            sms("HK", "852", -3, 45_000),
            sms("US", "1", 4, 60_000),
            sms("US", "1", -4, 60_000),  # fully refunded: no line
            sms("SG", "65", -2, 30_000),  # refund of last month's usage
        ]
    )
    assert result.lines == (
        BillLine(SMS_INTL, "HK", "852", 45_000, 7, 315_000),
        BillLine(SMS_INTL, "SG", "65", 30_000, -2, -60_000),
    )
    assert result.total == 260_000


def test_only_refunds_gives_negative_total() -> None:
    result = bill([sms("HK", "852", -1, 45_000)])
    assert result.total == -50_000  # -0.045 rounds away from zero, like +0.045 would


def test_total_rounds_the_exact_sum_once() -> None:
    # Each line is 0.0045 yuan; rounding per line would give 0.00 + 0.00 + 0.00.
    result = bill([sms("HK", "852", 1, 4_500), sms("US", "1", 1, 4_500), sms("SG", "65", 1, 4_500)])
    assert sum(line.amount for line in result.lines) == 13_500
    assert result.total == 10_000
    assert bill([sms("HK", "852", 1, 4_999)]).total == 0
    assert bill([sms("HK", "852", 1, 5_000)]).total == 10_000


@pytest.mark.parametrize(
    ("at", "included"),
    [
        (START, True),
        (START - 0.001, False),
        (START - 1, False),
        (END - 0.001, True),
        (END, False),
        (END + 1, False),
    ],
)
def test_month_boundaries(at: float, included: bool) -> None:
    result = bill([sms("HK", "852", 1, 45_000, at)])
    assert (len(result.lines) == 1) is included


def test_same_instant_is_in_different_months_by_zone() -> None:
    # 2026-03-31T18:00Z is still March in UTC but already April 1st in Shanghai.
    instant = month_range("2026-04", UTC_ZONE)[0] - 6 * 3600
    usage = [sms("HK", "852", 1, 45_000, instant)]
    assert len(bill(usage, MARCH, UTC_ZONE).lines) == 1
    assert len(bill(usage, "2026-04", UTC_ZONE).lines) == 0
    assert len(bill(usage, MARCH, SHANGHAI).lines) == 0
    assert len(bill(usage, "2026-04", SHANGHAI).lines) == 1


def test_usages_may_be_any_iterable() -> None:
    usages = [sms("HK", "852", 2, 45_000)]
    assert bill(usages).lines == build_bill(7, "x", MARCH, SHANGHAI, iter(usages), 0, 15).lines


def test_invalid_month_is_rejected() -> None:
    with pytest.raises(ValueError, match="month"):
        bill([], "2026-3")


MONTHS = ["2025-11"]
while len(MONTHS) < 5:
    MONTHS.append(next_month(MONTHS[-1]))
SPAN_START = month_range(MONTHS[0], ZoneInfo("Pacific/Kiritimati"))[0]
SPAN_END = month_range(MONTHS[-1], ZoneInfo("Pacific/Pago_Pago"))[1]

usages = st.builds(
    Usage,
    product=st.sampled_from([SMS_INTL, VOICE]),
    iso_code=st.sampled_from(["HK", "US", "SG"]),
    nation_code=st.sampled_from(["852", "1", "65"]),
    quantity=st.integers(min_value=-50, max_value=500),
    unit_price=st.sampled_from([0, 1, 4_500, 45_000, 60_123]),
    at=st.floats(min_value=SPAN_START - 86_400, max_value=SPAN_END + 86_400),
)


@settings(max_examples=60)
@given(
    st.lists(usages, max_size=40),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "UTC"]),
)
def test_consecutive_bills_add_up(items: list[Usage], zone: str) -> None:
    tz = ZoneInfo(zone)
    first, last = month_range(MONTHS[0], tz)[0], month_range(MONTHS[-1], tz)[1]
    in_span = [u for u in items if first <= u.at < last]
    bills = [build_bill(1, "t", m, tz, items, 0, 0) for m in MONTHS]
    assert [b.month for b in bills] == MONTHS

    billed = sum(line.amount for b in bills for line in b.lines)
    assert billed == sum(cost(u.unit_price, u.quantity) for u in in_span)

    # Every usage is counted exactly once, in one month's line for its key.
    units: Counter[tuple[str, str, str, int]] = Counter()
    for b in bills:
        for line in b.lines:
            assert line.quantity != 0
            assert line.amount == cost(line.unit_price, line.quantity)
            units[(line.product, line.iso_code, line.nation_code, line.unit_price)] += line.quantity
    expected: Counter[tuple[str, str, str, int]] = Counter()
    for u in in_span:
        expected[(u.product, u.iso_code, u.nation_code, u.unit_price)] += u.quantity
    assert {k: v for k, v in units.items() if v} == {k: v for k, v in expected.items() if v}
