"""Money as integer micro-yuan (1 CNY = 1_000_000), so sums and products are exact."""

from __future__ import annotations

import re

__all__ = [
    "MICRO_PER_FEN",
    "MICRO_PER_YUAN",
    "cost",
    "format_yuan",
    "format_yuan_exact",
    "parse_yuan",
    "round_to_fen",
]

MICRO_PER_YUAN = 1_000_000
MICRO_PER_FEN = 10_000
_MAX_PLACES = 6

# ASCII digits only: `\d` would also accept Arabic-Indic and full-width digits, which
# int() happily converts, so "１２" would otherwise parse as a price.
_YUAN = re.compile(r"([0-9]+)(?:\.([0-9]{1,6}))?")


def parse_yuan(text: str) -> int:
    """Parse a non-negative decimal yuan amount ("0.045", "12") into micro-yuan.

    At most 6 decimals; no sign, exponent, thousands separator or whitespace.
    """
    match = _YUAN.fullmatch(text)
    if match is None:
        raise ValueError(
            f"invalid yuan amount {text!r}: expected digits with an optional '.' "
            "and at most 6 decimals (no sign, exponent, separators or spaces)"
        )
    whole, fraction = match.group(1), match.group(2) or ""
    return int(whole) * MICRO_PER_YUAN + int(fraction.ljust(_MAX_PLACES, "0"))


def _round_half_up(micro: int, step: int) -> int:
    # Rounds the magnitude half up and keeps the sign, so a refund rounds exactly like
    # the charge it cancels: round(-x) == -round(x).
    magnitude = (abs(micro) + step // 2) // step * step
    return -magnitude if micro < 0 else magnitude


def round_to_fen(micro: int) -> int:
    """Round micro-yuan half up (away from zero for negatives) to a whole fen (10_000)."""
    return _round_half_up(micro, MICRO_PER_FEN)


def format_yuan(micro: int, places: int = 2) -> str:
    """Format micro-yuan as yuan with `places` decimals (0-6), rounding half up.

    Negative amounts get a leading minus; an amount that rounds to zero has none.
    """
    if not 0 <= places <= _MAX_PLACES:
        raise ValueError(f"places must be between 0 and {_MAX_PLACES}, got {places}")
    step = 10 ** (_MAX_PLACES - places)
    rounded = _round_half_up(micro, step)
    whole, fraction = divmod(abs(rounded), MICRO_PER_YUAN)
    sign = "-" if rounded < 0 else ""
    if places == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction // step:0{places}d}"


def format_yuan_exact(micro: int) -> str:
    """Format micro-yuan without losing precision: 6 decimals, trailing zeros trimmed to 2.

    1_000_000 -> "1.00", 45_000 -> "0.045", 500_000 -> "0.50".
    """
    text = format_yuan(micro, _MAX_PLACES)
    while text[-1] == "0" and len(text) - text.index(".") > 3:
        text = text[:-1]
    return text


def cost(unit_price: int, quantity: int) -> int:
    """The exact amount in micro-yuan of `quantity` units (negative for a refund)."""
    if unit_price < 0:
        raise ValueError(f"a unit price cannot be negative, got {unit_price}")
    return unit_price * quantity
