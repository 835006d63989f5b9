"""The prepaid wallet: package units granted, debited and refunded, each with its ledger entry.

Every change to a package's ``amount`` or ``used`` happens here, in the transaction of the
change that causes it, and writes its ledger row in the same transaction
(``services/billing/ledger.py``), so ``smscloud admin billing check`` can prove that packages,
messages and ledger agree.

- **Grant**: an operator's grant or a confirmed order (``grant_package``), and the month's free
  allowance (``ensure_free_package``), made on first use in the month.
- **Debit**: ACCEPT (``services/sending/accept.py``) reads the tenant's usable packages once per
  commit (``open_packages``: the one expiring first first, locked ``FOR UPDATE`` on
  PostgreSQL), takes each message's units in memory (``take``), and writes all debits of the
  commit at once with a conditional update that can never oversell (``spend``).
- **Refund**: a message the carrier never took gives its units back once
  (``refund_messages``); an operator may refund what is left of a package (``refund_package``).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from smscloud.clock import system_clock
from smscloud.domain.billing.periods import month_of, month_range
from smscloud.domain.errors import RuleViolation
from smscloud.services.billing import ledger
from smscloud.services.billing.usage import refund_usage
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

# The statements of every ACCEPT are built once, with bound parameters: built per commit,
# SQLAlchemy's construction and cache key cost more than running them.
_USABLE = (
    select(s.packages.c.id, s.packages.c.amount - s.packages.c.used)
    .where(
        s.packages.c.tenant_id == bindparam("tenant_id"),
        s.packages.c.effective_at <= bindparam("now"),
        s.packages.c.expires_at > bindparam("now"),
        s.packages.c.used < s.packages.c.amount,
    )
    .order_by(s.packages.c.expires_at, s.packages.c.id)
)
_USABLE_LOCKED = _USABLE.with_for_update()  # PostgreSQL: the packages a debit will change
_SPEND = (
    update(s.packages)
    .where(
        s.packages.c.id == bindparam("pid"),
        s.packages.c.used + bindparam("n") <= s.packages.c.amount,
    )
    .values(used=s.packages.c.used + bindparam("n"))
)


def open_packages(conn: Connection, tenant_id: int, now: float) -> list[list[int]]:
    """Usable packages (the tenant's packages with units left now, the one expiring first
    first) as mutable [id, remaining], locked on PostgreSQL for the debit."""
    q = _USABLE_LOCKED if conn.dialect.name == "postgresql" else _USABLE
    return [[int(pid), int(left)] for pid, left in conn.execute(q, _at(tenant_id, now))]


def units_left(conn: Connection, tenant_id: int, now: float) -> int:
    """Units a send could use now: what ACCEPT would find in the tenant's packages."""
    return sum(int(left) for _, left in conn.execute(_USABLE, _at(tenant_id, now)))


def _at(tenant_id: int, now: float) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "now": now}


def take(wallet: list[list[int]], units: int) -> list[tuple[int, int]] | None:
    """Take ``units`` from the wallet in order; None (and no change) when it is short."""
    for entry in wallet:  # mostly the first package with units left holds them all
        if entry[1]:
            if entry[1] >= units:
                entry[1] -= units
                return [(entry[0], units)] if units else []
            break
    if sum(left for _, left in wallet) < units:
        return None
    taken: list[tuple[int, int]] = []
    need = units
    for entry in wallet:
        if need == 0:
            break
        take = min(entry[1], need)
        if take:
            entry[1] -= take
            taken.append((entry[0], take))
            need -= take
    return taken


def spend(
    conn: Connection, spent: Mapping[int, int], owners: Mapping[int, int], now: float
) -> None:
    """Write the units taken from each package (``{package id: units}``) and their debits."""
    if not spent:
        return
    result = conn.execute(_SPEND, [{"pid": k, "n": v} for k, v in spent.items()])
    # rowcount is -1 where a driver cannot count executemany; the row locks (PostgreSQL)
    # or the write lock (SQLite) already make the condition hold.
    if result.rowcount >= 0 and result.rowcount != len(spent):
        # Someone spent these units between our read and write: never oversell.
        raise RuntimeError("package balance changed during accept")
    taken_units = {pid: -units for pid, units in spent.items()}
    ledger.package_entries(conn, ledger.DEBIT, taken_units, owners, now)


def refund_messages(conn: Connection, ids: Sequence[int], now: float) -> None:
    """Give back the units of messages the carrier never took (billed once, refunded once)."""
    m = s.messages
    rows = conn.execute(
        select(m.c.id, m.c.debits, m.c.tenant_id, m.c.iso_code, m.c.nation_code, m.c.parts).where(
            m.c.id.in_(ids), m.c.refunded.is_(False)
        )
    ).all()
    back: dict[int, int] = defaultdict(int)
    postpaid = []
    for _, debits, tenant, iso, nation, parts in rows:
        if debits.startswith(ledger.PRICE_MARK):
            postpaid.append((tenant, iso, nation, debits, parts))
            continue
        for item in filter(None, debits.split(",")):
            pid, units = item.split(":")
            back[int(pid)] += int(units)
    refund_usage(conn, postpaid, now)
    if back:
        p = s.packages
        conn.execute(
            update(p).where(p.c.id == bindparam("pid")).values(used=p.c.used - bindparam("n")),
            [{"pid": k, "n": v} for k, v in back.items()],
        )
        ledger.package_entries(conn, ledger.REFUND, back, ledger.owners_of(conn, back), now)
    if rows:
        conn.execute(
            update(s.messages)
            .where(s.messages.c.id.in_([r[0] for r in rows]))
            .values(refunded=True)
        )


def grant_package(
    conn: Connection,
    tenant_id: int,
    units: int,
    *,
    expires: date | None = None,
    package_type: int = 0,
    tz: ZoneInfo | None = None,
    source: str = "",
    now: float | None = None,
) -> dict[str, Any]:
    """Add a prepaid package; it expires at the end of ``expires`` (default: in 12 months).

    ``source`` says where it came from ("order:12"); a tenant has at most one of each.
    """
    _tenant_exists(conn, tenant_id)
    if units <= 0:
        raise RuleViolation("InvalidParameterValue", "units must be positive")
    now = system_clock() if now is None else now
    zone = tz or ZoneInfo("Asia/Shanghai")
    if expires is None:
        expires = (datetime.fromtimestamp(now, zone) + timedelta(days=365)).date()
    expires_at = datetime.combine(
        expires + timedelta(days=1), datetime.min.time(), zone
    ).timestamp()
    if expires_at <= now:
        raise RuleViolation("InvalidParameterValue", "the expiry date is in the past")
    pid = inserted_id(
        conn.execute(
            insert(s.packages).values(
                tenant_id=tenant_id,
                amount=units,
                used=0,
                package_type=package_type,
                created_at=now,
                effective_at=now,
                expires_at=expires_at,
                source=source,
            )
        )
    )
    ledger.package_entries(
        conn, ledger.GRANT, {int(pid): units}, {int(pid): tenant_id}, now, note=source
    )
    return {"id": int(pid), "tenant_id": tenant_id, "units": units, "expires_at": int(expires_at)}


def refund_package(
    conn: Connection, package_id: int, *, now: float | None = None
) -> dict[str, Any]:
    """An operator refunds what is left of a package: it ends now, holding what it used."""
    p = s.packages
    row = conn.execute(select(p).where(p.c.id == package_id)).first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"no package {package_id}")
    left = int(row.amount) - int(row.used)
    if left <= 0:
        raise RuleViolation("FailedOperation", f"package {package_id} has nothing left to refund")
    now = system_clock() if now is None else now
    conn.execute(update(p).where(p.c.id == package_id).values(amount=row.used, expires_at=now))
    ledger.package_entries(
        conn, ledger.PACKAGE_REFUND, {package_id: -left}, {package_id: row.tenant_id}, now
    )
    return {"id": package_id, "tenant_id": int(row.tenant_id), "refunded_units": left}


# Per database: tenants whose free package of a month is known to be committed (read back,
# not just written: a write could still roll back with its batch).
_free_seen: weakref.WeakKeyDictionary[Engine, set[tuple[int, str]]] = weakref.WeakKeyDictionary()


def ensure_free_package(
    conn: Connection, tenant_id: int, now: float, tz: ZoneInfo, units: int
) -> None:
    """The month's free allowance: a gifted package for the calendar month, once per tenant."""
    if units <= 0:
        return
    month = month_of(now, tz)
    seen = _free_seen.setdefault(conn.engine, set())
    if (tenant_id, month) in seen:
        return
    p = s.packages
    source = f"free:{month}"
    found = conn.execute(
        select(p.c.id).where(p.c.tenant_id == tenant_id, p.c.source == source)
    ).first()
    if found is not None:
        seen.add((tenant_id, month))
        return
    start, end = month_range(month, tz)
    row = {
        "tenant_id": tenant_id,
        "amount": units,
        "used": 0,
        "package_type": 0,
        "created_at": now,
        "effective_at": start,
        "expires_at": end,
        "source": source,
    }
    upsert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = upsert(p).values(row).on_conflict_do_nothing().returning(p.c.id)
    pid = conn.execute(stmt).scalar()
    if pid is not None:  # another process may have granted it first
        ledger.package_entries(
            conn, ledger.GRANT, {int(pid): units}, {int(pid): tenant_id}, now, note=source
        )


def _tenant_exists(conn: Connection, tenant_id: int) -> None:
    if conn.execute(select(s.tenants.c.id).where(s.tenants.c.id == tenant_id)).first() is None:
        raise RuleViolation("ResourceNotFound", f"No tenant with id {tenant_id}.")


@dataclass(frozen=True, slots=True)
class Package:
    """A package as its owner sees it: units granted and used, and when it may be used."""

    id: int
    amount: int
    used: int
    package_type: int  # 0 gifted, 1 purchased
    created_at: float
    effective_at: float
    expires_at: float
    source: str  # "free:2026-11" (the month's allowance), "order:12", "" (an operator's)

    @property
    def remaining(self) -> int:
        return self.amount - self.used


def packages_of(conn: Connection, tenant_id: int) -> list[Package]:
    """Every package of a tenant, used up or expired too, the one expiring first first."""
    p = s.packages
    rows = conn.execute(
        select(p).where(p.c.tenant_id == tenant_id).order_by(p.c.expires_at, p.c.id)
    )
    return [
        Package(
            int(r.id),
            int(r.amount),
            int(r.used),
            int(r.package_type),
            float(r.created_at),
            float(r.effective_at),
            float(r.expires_at),
            str(r.source),
        )
        for r in rows
    ]
