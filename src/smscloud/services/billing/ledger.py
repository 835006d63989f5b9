"""The ledger: every grant, debit and refund of package units, and the check that proves it.

Writers add entries in the same transaction as the change they record (``entries``), so the
ledger can never disagree with the packages except through a bug, which ``check`` reports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, func, insert, select

from smscloud.store import schema as s

PRICE_MARK = "$"  # in messages.debits: the unit price a postpaid message was metered at

GRANT, DEBIT, REFUND, PACKAGE_REFUND = "grant", "debit", "refund", "package_refund"
AMOUNT_KINDS = (GRANT, PACKAGE_REFUND)  # what make a package's amount
USE_KINDS = (DEBIT, REFUND)  # what make its use (negated)


_INSERT = insert(s.ledger)  # built once: every ACCEPT writes its debits (see wallet._USABLE)


def package_entries(
    conn: Connection,
    kind: str,
    units_by_package: Mapping[int, int],
    owners: Mapping[int, int],
    now: float,
    note: str = "",
) -> None:
    """One ledger row per package: ``units`` signed (a debit is negative)."""
    if not units_by_package:
        return
    conn.execute(
        _INSERT,
        [
            {
                "tenant_id": owners[pid],
                "kind": kind,
                "package_id": pid,
                "units": units,
                "amount": 0,
                "note": note,
                "created_at": now,
            }
            for pid, units in units_by_package.items()
        ],
    )


def owners_of(conn: Connection, package_ids: Iterable[int]) -> dict[int, int]:
    """package id -> tenant id."""
    p = s.packages
    ids = list(package_ids)
    if not ids:
        return {}
    rows = conn.execute(select(p.c.id, p.c.tenant_id).where(p.c.id.in_(ids)))
    return {int(pid): int(tid) for pid, tid in rows}


def _message_debits(conn: Connection) -> dict[int, int]:
    """Units each package gave to messages still billed (not refunded), from their debits."""
    m = s.messages
    out: dict[int, int] = defaultdict(int)
    query = select(m.c.debits).where(m.c.debits != "", m.c.refunded.is_(False))
    for (debits,) in conn.execute(query.execution_options(yield_per=10_000)):
        for item in debits.split(","):
            if ":" in item:  # not a postpaid message's price mark
                pid, units = item.split(":")
                out[int(pid)] += int(units)
    return out


def _postpaid_by_tenant(conn: Connection) -> tuple[dict[int, int], dict[int, int]]:
    """Per tenant: what billed postpaid messages cost (parts x the price they were metered
    at), and what the usage rows add up to."""
    m, u = s.messages, s.usage
    fees: dict[int, int] = defaultdict(int)
    query = select(m.c.tenant_id, m.c.debits, m.c.parts).where(
        m.c.debits.startswith(PRICE_MARK), m.c.refunded.is_(False)
    )
    for tenant, debits, parts in conn.execute(query.execution_options(yield_per=10_000)):
        fees[int(tenant)] += int(debits[len(PRICE_MARK) :]) * int(parts)
    metered = {
        int(tenant): int(total)
        for tenant, total in conn.execute(
            select(u.c.tenant_id, func.sum(u.c.amount)).group_by(u.c.tenant_id)
        )
    }
    return fees, metered


def check(conn: Connection) -> list[str]:
    """Every disagreement between packages, messages and the ledger; empty when all agree."""
    p, lg = s.packages, s.ledger
    sums: dict[tuple[int, str], int] = {
        (int(pid), kind): int(total)
        for pid, kind, total in conn.execute(
            select(lg.c.package_id, lg.c.kind, func.sum(lg.c.units))
            .where(lg.c.package_id.is_not(None))
            .group_by(lg.c.package_id, lg.c.kind)
        )
    }
    billed = _message_debits(conn)
    problems = []
    for pid, tenant, amount, used in conn.execute(
        select(p.c.id, p.c.tenant_id, p.c.amount, p.c.used).order_by(p.c.id)
    ):
        granted = sum(sums.get((pid, k), 0) for k in AMOUNT_KINDS)
        spent = -sum(sums.get((pid, k), 0) for k in USE_KINDS)
        where = f"package {pid} (tenant {tenant})"
        if not 0 <= used <= amount:
            problems.append(f"{where}: used {used} outside 0..{amount}")
        if granted != amount:
            problems.append(f"{where}: amount {amount} but the ledger grants {granted}")
        if spent != used:
            problems.append(f"{where}: used {used} but the ledger debits {spent}")
        if billed.get(pid, 0) != used:
            problems.append(f"{where}: used {used} but billed messages hold {billed.get(pid, 0)}")
    fees, metered = _postpaid_by_tenant(conn)
    for tenant in sorted(set(fees) | set(metered)):
        if fees.get(tenant, 0) != metered.get(tenant, 0):
            problems.append(
                f"tenant {tenant}: postpaid messages cost {fees.get(tenant, 0)} micro-yuan"
                f" but its usage adds up to {metered.get(tenant, 0)}"
            )
    return problems


def balances(conn: Connection, tenant_id: int) -> dict[str, int]:
    """Units granted, used and left over all of a tenant's packages, from the ledger."""
    lg = s.ledger
    totals = dict(
        conn.execute(
            select(lg.c.kind, func.sum(lg.c.units))
            .where(lg.c.tenant_id == tenant_id)
            .group_by(lg.c.kind)
        ).all()
    )
    granted = sum(int(totals.get(k, 0)) for k in AMOUNT_KINDS)
    used = -sum(int(totals.get(k, 0)) for k in USE_KINDS)
    return {"granted": granted, "used": used, "left": granted - used}
