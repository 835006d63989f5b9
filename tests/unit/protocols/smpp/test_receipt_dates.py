"""Receipt dates are parsed by hand; they must read exactly as strptime would."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.smpp import SubmitSm
from smscloud.protocols.smpp.receipt import _date


@given(st.text(alphabet="0123456789", min_size=10, max_size=12))
def test_dates_read_as_strptime_reads_them(value: str) -> None:
    if len(value) == 11:
        assert _date(value) is None
        return
    fmt = "%y%m%d%H%M%S" if len(value) == 12 else "%y%m%d%H%M"
    try:
        expected: datetime | None = datetime.strptime(value, fmt)
    except ValueError:
        expected = None
    assert _date(value) == expected


@pytest.mark.parametrize(
    ("value", "year"), [("6901011200", 1969), ("6812312359", 2068), ("0001010000", 2000)]
)
def test_two_digit_years_pivot_like_strptime(value: str, year: int) -> None:
    parsed = _date(value)
    assert parsed is not None and parsed.year == year


def test_with_sequence_changes_the_sequence_number_alone() -> None:
    pdu = SubmitSm(destination_addr="8613800138000", short_message=b"hi")
    twin = pdu.with_sequence(7)
    assert (twin.sequence_number, pdu.sequence_number) == (7, 0)
    assert twin.destination_addr == pdu.destination_addr and twin.short_message == b"hi"
    with pytest.raises(ValueError):
        pdu.with_sequence(2**32)
