"""The operator's catalogue of prepaid packages, and tenants' orders of them.

An order records the offer's units and price as they were when it was placed, so a later
change of the offer never alters it. The operator confirms the payment (``pay_order``): that
grants the package (``source`` ``order:<id>``) with its ledger ``grant`` entry and writes a
``payment`` entry holding the money. A free offer is paid in the transaction that orders it.

Paying is made safe against a second payment, also a concurrent one, by a conditional UPDATE
(``WHERE state = 'pending'``) whose row count is checked before anything is granted; the
unique ``(tenant_id, source)`` of packages is a second guard.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, insert, select, update

from smscloud.clock import system_clock
from smscloud.domain.billing.money import format_yuan
from smscloud.domain.errors import RuleViolation
from smscloud.services.billing import wallet
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

__all__ = [
    "PAYMENT",
    "add_offer",
    "cancel_order",
    "create_order",
    "list_offers",
    "list_orders",
    "pay_order",
    "set_offer_active",
]

PAYMENT = "payment"  # ledger kind: money received for an order (units 0, amount = price)
PENDING, PAID, CANCELLED = "pending", "paid", "cancelled"
NAME_MAX = 64
VALIDITY_MAX_DAYS = 3660
# Micro-yuan (a billion yuan): any sum of orders and bills stays far inside 64 bits.
PRICE_MAX = 10**9 * 1_000_000


def _int(value: Any, what: str) -> int:
    # bool is an int subclass; True units or price is a caller's mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise RuleViolation("InvalidParameterValue", f"{what} must be an integer")
    return value


def _offer_dict(row: RowMapping) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "name": str(row["name"]),
        "units": int(row["units"]),
        "price": int(row["price"]),
        "price_yuan": format_yuan(int(row["price"])),
        "validity_days": int(row["validity_days"]),
        "active": bool(row["active"]),
        "created_at": int(row["created_at"]),
    }


def _order_dict(row: RowMapping) -> dict[str, Any]:
    package_id = row["package_id"]
    paid_at = row["paid_at"]
    return {
        "id": int(row["id"]),
        "tenant_id": int(row["tenant_id"]),
        "offer_id": int(row["offer_id"]),
        "units": int(row["units"]),
        "price": int(row["price"]),
        "price_yuan": format_yuan(int(row["price"])),
        "state": str(row["state"]),
        "package_id": None if package_id is None else int(package_id),
        "created_at": int(row["created_at"]),
        "paid_at": None if paid_at is None else int(paid_at),
    }


def _offer_row(conn: Connection, offer_id: int) -> RowMapping:
    o = s.package_offers
    row = conn.execute(select(o).where(o.c.id == offer_id)).mappings().first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"No package offer with id {offer_id}.")
    return row


def _order_row(conn: Connection, order_id: int) -> RowMapping:
    o = s.orders
    row = conn.execute(select(o).where(o.c.id == order_id)).mappings().first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"No order with id {order_id}.")
    return row


# -- offers -------------------------------------------------------------------------------


def add_offer(
    conn: Connection,
    name: str,
    units: int,
    price: int,
    validity_days: int,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """A new, active offer: ``units`` domestic SMS for ``price`` micro-yuan, valid that long."""
    name = name.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise RuleViolation(
            "InvalidParameterValue", f"the offer name must be 1 to {NAME_MAX} characters"
        )
    if _int(units, "units") <= 0:
        raise RuleViolation("InvalidParameterValue", "units must be positive")
    if _int(price, "price") < 0:
        raise RuleViolation("InvalidParameterValue", "the price cannot be negative")
    if price > PRICE_MAX:
        raise RuleViolation("InvalidParameterValue", "the price must be under a billion yuan")
    if not 1 <= _int(validity_days, "validity_days") <= VALIDITY_MAX_DAYS:
        raise RuleViolation(
            "InvalidParameterValue",
            f"validity_days must be between 1 and {VALIDITY_MAX_DAYS}",
        )
    offer_id = inserted_id(
        conn.execute(
            insert(s.package_offers).values(
                name=name,
                units=units,
                price=price,
                validity_days=validity_days,
                active=True,
                created_at=system_clock() if now is None else now,
            )
        )
    )
    return _offer_dict(_offer_row(conn, offer_id))


def list_offers(conn: Connection, *, active_only: bool = False) -> list[dict[str, Any]]:
    o = s.package_offers
    query = select(o).order_by(o.c.id)
    if active_only:
        query = query.where(o.c.active.is_(True))
    return [_offer_dict(row) for row in conn.execute(query).mappings()]


def set_offer_active(conn: Connection, offer_id: int, active: bool) -> dict[str, Any]:
    """Enable or disable an offer; orders already placed are not affected."""
    _offer_row(conn, offer_id)
    o = s.package_offers
    conn.execute(update(o).where(o.c.id == offer_id).values(active=active))
    return _offer_dict(_offer_row(conn, offer_id))


# -- orders -------------------------------------------------------------------------------


def create_order(
    conn: Connection, tenant_id: int, offer_id: int, tz: ZoneInfo, *, now: float | None = None
) -> dict[str, Any]:
    """A verified tenant orders an active offer; a free one is paid (granted) at once."""
    now = system_clock() if now is None else now
    t = s.tenants
    tenant = conn.execute(select(t.c.verified).where(t.c.id == tenant_id)).first()
    if tenant is None:
        raise RuleViolation("ResourceNotFound", f"No tenant with id {tenant_id}.")
    if not tenant.verified:
        raise RuleViolation(
            "FailedOperation",
            f"Tenant {tenant_id} is not verified: only verified tenants can order packages.",
        )
    offer = _offer_row(conn, offer_id)
    if not offer["active"]:
        raise RuleViolation(
            "FailedOperation", f"Package offer {offer_id} is disabled and cannot be ordered."
        )
    order_id = inserted_id(
        conn.execute(
            insert(s.orders).values(
                tenant_id=tenant_id,
                offer_id=offer_id,
                units=int(offer["units"]),
                price=int(offer["price"]),
                state=PENDING,
                package_id=None,
                created_at=now,
                paid_at=None,
            )
        )
    )
    if int(offer["price"]) == 0:
        return _pay(conn, order_id, tz, now)
    return _order_dict(_order_row(conn, order_id))


def pay_order(
    conn: Connection, order_id: int, tz: ZoneInfo, *, now: float | None = None
) -> dict[str, Any]:
    """The operator confirms an order's payment: its package is granted, once."""
    return _pay(conn, order_id, tz, system_clock() if now is None else now)


def _pay(conn: Connection, order_id: int, tz: ZoneInfo, now: float) -> dict[str, Any]:
    order = _order_row(conn, order_id)
    if order["state"] != PENDING:
        raise RuleViolation(
            "FailedOperation",
            f"Order {order_id} is {order['state']}: only a pending order can be paid.",
        )
    offer = _offer_row(conn, int(order["offer_id"]))
    o = s.orders
    # The state change comes first and is conditional: of two payments racing, the second
    # finds no pending row (PostgreSQL re-checks the condition once the first commits; SQLite
    # runs one writer at a time) and stops before granting anything.
    changed = conn.execute(
        update(o).where(o.c.id == order_id, o.c.state == PENDING).values(state=PAID, paid_at=now)
    ).rowcount
    if changed != 1:
        raise RuleViolation("FailedOperation", f"Order {order_id} is no longer pending.")
    tenant_id, price, source = int(order["tenant_id"]), int(order["price"]), f"order:{order_id}"
    today = datetime.fromtimestamp(now, tz).date()
    package = wallet.grant_package(
        conn,
        tenant_id,
        int(order["units"]),
        expires=today + timedelta(days=int(offer["validity_days"]) - 1),
        package_type=1 if price > 0 else 0,
        tz=tz,
        source=source,
        now=now,
    )
    conn.execute(update(o).where(o.c.id == order_id).values(package_id=package["id"]))
    conn.execute(
        insert(s.ledger).values(
            tenant_id=tenant_id,
            kind=PAYMENT,
            package_id=package["id"],
            units=0,
            amount=price,
            note=source,
            created_at=now,
        )
    )
    return _order_dict(_order_row(conn, order_id))


def cancel_order(conn: Connection, order_id: int) -> dict[str, Any]:
    """Cancel a pending order; a paid or cancelled one stays as it is."""
    order = _order_row(conn, order_id)
    o = s.orders
    changed = conn.execute(
        update(o).where(o.c.id == order_id, o.c.state == PENDING).values(state=CANCELLED)
    ).rowcount
    if changed != 1:
        state = order["state"] if order["state"] != PENDING else "no longer pending"
        raise RuleViolation(
            "FailedOperation",
            f"Order {order_id} is {state}: only a pending order can be cancelled.",
        )
    return _order_dict(_order_row(conn, order_id))


def list_orders(
    conn: Connection,
    tenant_id: int | None = None,
    *,
    state: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Orders, oldest first (with ``limit``: the oldest ``limit`` of them)."""
    o = s.orders
    query = select(o).order_by(o.c.id).limit(limit)
    if tenant_id is not None:
        query = query.where(o.c.tenant_id == tenant_id)
    if state is not None:
        query = query.where(o.c.state == state)
    return [_order_dict(row) for row in conn.execute(query).mappings()]
