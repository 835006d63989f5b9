"""Monthly postpaid bills built from priced usage records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from smscloud.domain.billing.money import cost, round_to_fen
from smscloud.domain.billing.periods import due_date, month_range

__all__ = ["Bill", "BillLine", "Usage", "build_bill"]


@dataclass(frozen=True)
class Usage:
    """Billable units used at Unix time `at`, priced when used; negative quantity is a refund."""

    product: str
    iso_code: str
    nation_code: str
    quantity: int
    unit_price: int  # micro-yuan
    at: float


@dataclass(frozen=True)
class BillLine:
    """All usage of one product to one country at one unit price within a bill month."""

    product: str
    iso_code: str
    nation_code: str
    unit_price: int  # micro-yuan
    quantity: int
    amount: int  # micro-yuan, exact: cost(unit_price, quantity)


# Keyword-only: eight fields, several of them ints and floats, are too easy to swap by position.
@dataclass(frozen=True, kw_only=True)
class Bill:
    """A tenant's bill for one month; `total` is the exact line sum rounded to the fen."""

    tenant_id: int
    tenant_name: str
    month: str
    currency: str = "CNY"
    lines: tuple[BillLine, ...]
    total: int  # micro-yuan, a multiple of 10_000
    issued_at: float
    due_at: float


def build_bill(
    tenant_id: int,
    tenant_name: str,
    month: str,
    tz: ZoneInfo,
    usages: Iterable[Usage],
    issued_at: float,
    due_days: int,
) -> Bill:
    """Bill the usages that fall in `month` (local to `tz`), one line per product,
    country and unit price; the bill is due `due_days` days after the month ends.
    """
    start, end = month_range(month, tz)
    quantities: dict[tuple[str, str, str, int], int] = {}
    for usage in usages:
        if start <= usage.at < end:
            key = (usage.product, usage.iso_code, usage.nation_code, usage.unit_price)
            quantities[key] = quantities.get(key, 0) + usage.quantity
    lines = [
        BillLine(product, iso_code, nation_code, unit_price, quantity, cost(unit_price, quantity))
        for (product, iso_code, nation_code, unit_price), quantity in quantities.items()
        # The amount is linear in the quantity, so a line that nets to zero units is zero.
        if quantity != 0
    ]
    lines.sort(key=lambda ln: (ln.product, ln.iso_code, ln.unit_price, ln.nation_code))
    return Bill(
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        month=month,
        lines=tuple(lines),
        # Rounded once on the exact sum: rounding each line would let fen errors add up.
        total=round_to_fen(sum(line.amount for line in lines)),
        issued_at=issued_at,
        due_at=due_date(month, tz, due_days),
    )
