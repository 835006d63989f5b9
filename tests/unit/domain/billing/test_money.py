"""Money in micro-yuan: parsing, formatting, rounding to the fen, cost."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.billing.money import (
    cost,
    format_yuan,
    format_yuan_exact,
    parse_yuan,
    round_to_fen,
)


@pytest.mark.parametrize(
    ("text", "micro"),
    [
        ("0", 0),
        ("12", 12_000_000),
        ("0.045", 45_000),
        ("0.5", 500_000),
        ("0.50", 500_000),
        ("1.000001", 1_000_001),
        ("0.000001", 1),
        ("007.10", 7_100_000),
        ("123456789.123456", 123_456_789_123_456),
    ],
)
def test_parse_yuan_accepts(text: str, micro: int) -> None:
    assert parse_yuan(text) == micro


@pytest.mark.parametrize(
    "text",
    [
        "",
        ".",
        ".5",
        "5.",
        "-1",
        "+1",
        "-0.01",
        "1e3",
        "1E-2",
        "1,234.5",
        "1,5",
        "1 234",
        " 1",
        "1 ",
        "1\n",
        "0.0000001",
        "1.2.3",
        "NaN",
        "inf",
        "１２",  # full-width digits
        "٣",  # Arabic-Indic digit
        "0x10",
        "1_000",
        "¥1",
    ],
)
def test_parse_yuan_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid yuan amount"):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("micro", "places", "text"),
    [
        (1_234_567, 2, "1.23"),
        (1_234_567, 4, "1.2346"),
        (1_234_567, 6, "1.234567"),
        (1_234_567, 0, "1"),
        (1_500_000, 0, "2"),
        (0, 2, "0.00"),
        (5_000, 2, "0.01"),  # exactly half a fen rounds up
        (4_999, 2, "0.00"),
        (995_000, 2, "1.00"),  # carries into the yuan
        (9_999_999, 2, "10.00"),
        (45_000, 4, "0.0450"),
        (45_050, 4, "0.0451"),
        (-1_234_567, 2, "-1.23"),
        (-5_000, 2, "-0.01"),  # symmetric: a refund rounds like its charge
        (-4_999, 2, "0.00"),  # no "-0.00"
        (-1, 6, "-0.000001"),
        (12_000_000, 2, "12.00"),
    ],
)
def test_format_yuan(micro: int, places: int, text: str) -> None:
    assert format_yuan(micro, places) == text


def test_format_yuan_default_places_is_two() -> None:
    assert format_yuan(1_005_000) == "1.01"


@pytest.mark.parametrize("places", [-1, 7])
def test_format_yuan_rejects_places(places: int) -> None:
    with pytest.raises(ValueError, match="places"):
        format_yuan(1, places)


@pytest.mark.parametrize(
    ("micro", "text"),
    [
        (0, "0.00"),
        (45_000, "0.045"),
        (500_000, "0.50"),
        (1_000_000, "1.00"),
        (1_230_000, "1.23"),
        (1, "0.000001"),
        (1_234_560, "1.23456"),
    ],
)
def test_format_yuan_exact(micro: int, text: str) -> None:
    assert format_yuan_exact(micro) == text


@pytest.mark.parametrize(
    ("micro", "fen"),
    [
        (0, 0),
        (1, 0),
        (4_999, 0),
        (5_000, 10_000),
        (14_999, 10_000),
        (15_000, 20_000),
        (1_234_567, 1_230_000),
        (1_235_000, 1_240_000),
        (-4_999, 0),
        (-5_000, -10_000),
        (-1_235_000, -1_240_000),
    ],
)
def test_round_to_fen(micro: int, fen: int) -> None:
    assert round_to_fen(micro) == fen


@pytest.mark.parametrize(
    ("price", "quantity", "amount"),
    [(45_000, 100, 4_500_000), (45_000, 0, 0), (45_000, -3, -135_000), (0, 9, 0)],
)
def test_cost(price: int, quantity: int, amount: int) -> None:
    assert cost(price, quantity) == amount


def test_cost_rejects_negative_price() -> None:
    with pytest.raises(ValueError, match="negative"):
        cost(-1, 1)


@given(st.integers(min_value=0, max_value=10**15))
def test_parse_inverts_format_at_six_places(micro: int) -> None:
    assert parse_yuan(format_yuan(micro, 6)) == micro
    assert parse_yuan(format_yuan_exact(micro)) == micro


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_round_to_fen_agrees_with_format(micro: int) -> None:
    fen = round_to_fen(micro)
    assert fen % 10_000 == 0
    assert abs(fen - micro) <= 5_000
    assert round_to_fen(-micro) == -fen
    assert format_yuan(fen, 2) == format_yuan(micro, 2)
