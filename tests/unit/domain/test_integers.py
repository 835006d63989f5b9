from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.integers import INT64_MAX, INT64_MIN, parse_int


def test_only_ascii_decimal_digits_are_numbers() -> None:
    assert parse_int("42") == 42
    assert parse_int("0") == 0
    assert parse_int(str(INT64_MAX)) == INT64_MAX
    for text in ("²", "١٢", "０", "1_000", "+1", " 1", "1 ", "1e3", "0x10", "", "-", "--1"):
        assert parse_int(text, lo=INT64_MIN) is None, text
    assert parse_int("42\n") is None  # no trailing newline, as "$" would allow


def test_the_range_never_exceeds_64_bits() -> None:
    assert parse_int(str(INT64_MAX + 1), hi=10**30) is None
    assert parse_int(str(INT64_MIN), lo=-(10**30)) == INT64_MIN
    assert parse_int(str(INT64_MIN - 1), lo=-(10**30)) is None
    assert parse_int("9" * 5000) is None  # never handed to int(), which would refuse it
    assert parse_int("-1") is None and parse_int("-1", lo=-1) == -1
    assert parse_int("11", hi=10) is None


@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_every_64_bit_integer_round_trips(n: int) -> None:
    assert parse_int(str(n), lo=INT64_MIN) == n


@given(st.text())
def test_any_text_is_a_64_bit_integer_or_none(text: str) -> None:
    n = parse_int(text, lo=INT64_MIN)
    assert n is None or (type(n) is int and INT64_MIN <= n <= INT64_MAX and str(n) in text)
