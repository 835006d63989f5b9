"""Postpaid billing over the store: the price table, monthly bills, payments and arrears.

The arithmetic lives in ``smscloud.domain.billing`` (pure); this module only reads and writes rows.
Every function runs inside the caller's transaction, so a bill, its ledger entry and its
arrears notice are written together or not at all.
"""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from smscloud.domain.billing.bills import Bill, BillLine, Usage, build_bill
from smscloud.domain.billing.money import format_yuan
from smscloud.domain.billing.periods import month_range, parse_month
from smscloud.domain.billing.prices import PriceRow, PriceTable, PriceTableError, parse_csv, to_csv
from smscloud.domain.errors import RuleViolation
from smscloud.notify.messages import (
    arrears_notice,
    arrears_notice_sms,
    overdue_notice,
    overdue_notice_sms,
)
from smscloud.services import notices
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

__all__ = [
    "BILL_KIND",
    "PAYMENT_KIND",
    "bill",
    "close_month",
    "export_prices",
    "import_prices",
    "in_arrears",
    "list_bills",
    "load_prices",
    "notice_overdue",
    "overdue_unnoticed",
    "pay_bill",
]

log = logging.getLogger(__name__)
BILL_KIND, PAYMENT_KIND = "bill", "payment"  # ledger kinds (amount only, no package)
p, u, b, t = s.prices, s.usage, s.bills, s.tenants


# -- prices ------------------------------------------------------------------------------------
def load_prices(conn: Connection) -> PriceTable:
    rows = conn.execute(select(p.c.product, p.c.iso_code, p.c.nation_code, p.c.unit_price))
    return PriceTable(
        PriceRow(product, iso_code, nation_code, int(unit_price))
        for product, iso_code, nation_code, unit_price in rows
    )


def export_prices(conn: Connection) -> str:
    """The price table as CSV, in the form ``import_prices`` reads back."""
    return to_csv(load_prices(conn))


def import_prices(conn: Connection, csv_text: str) -> dict[str, Any]:
    """Replace the whole price table with the CSV's rows (in the caller's transaction).

    A table with any bad line is refused as a whole, listing every problem.
    """
    try:
        table = parse_csv(csv_text)
    except PriceTableError as exc:
        raise RuleViolation(
            "InvalidParameterValue", "invalid price table:\n" + "\n".join(exc.errors)
        ) from exc
    removed = conn.execute(delete(p)).rowcount
    if len(table):
        conn.execute(
            insert(p),
            [
                {
                    "product": row.product,
                    "iso_code": row.iso_code,
                    "nation_code": row.nation_code,
                    "unit_price": row.unit_price,
                }
                for row in table
            ],
        )
    return {"prices": len(table), "replaced": max(int(removed), 0)}


# -- bills -------------------------------------------------------------------------------------
def _month(month: str) -> str:
    try:
        parse_month(month)
    except ValueError as exc:
        raise RuleViolation("InvalidParameterValue", str(exc)) from exc
    return month


def _lines_json(lines: tuple[BillLine, ...]) -> str:
    return json.dumps(
        [
            {
                "product": ln.product,
                "iso_code": ln.iso_code,
                "nation_code": ln.nation_code,
                "unit_price": ln.unit_price,
                "quantity": ln.quantity,
                "amount": ln.amount,
            }
            for ln in lines
        ],
        separators=(",", ":"),
    )


def _emails(text: str) -> list[str]:
    """The usable addresses of a tenant's contact_emails (one a line; junk lines skipped)."""
    out = []
    for line in text.splitlines():
        address = line.strip()
        if address and "@" in parseaddr(address)[1]:
            out.append(address)
        elif address:
            log.warning("skipping contact e-mail %r: not an address", address)
    return out


def _due_text(due_at: float, tz: ZoneInfo) -> str:
    return f"{datetime.fromtimestamp(due_at, tz):%Y-%m-%d %H:%M} ({tz.key})"


def close_month(
    conn: Connection, month: str, tz: ZoneInfo, now: float, due_days: int = 15
) -> list[dict[str, Any]]:
    """Bill every tenant with usage in ``month`` (local to ``tz``) that has no bill for it yet.

    Each new bill gets a ledger entry (``bill``, amount -total) and, when its total is due
    and the tenant has contact e-mails, an arrears notice queued in ``notifications``.
    Idempotent, also against a concurrent run: the unique (tenant, month) constraint decides,
    and a tenant whose insert conflicts is skipped. Returns the bills made by this call.
    """
    _month(month)
    if due_days < 0:
        raise RuleViolation("InvalidParameterValue", f"due days must be >= 0, got {due_days}")
    start, end = month_range(month, tz)
    if now < end:
        raise RuleViolation(
            "UnsupportedOperation",
            f"Month {month} has not ended yet in {tz.key}; it can be closed from "
            f"{datetime.fromtimestamp(end, tz):%Y-%m-%d %H:%M}.",
        )
    # One index probe (ix_usage_tenant_time) per tenant, not a scan of all usage.
    used = (
        select(u.c.id)
        .where(u.c.tenant_id == t.c.id, u.c.created_at >= start, u.c.created_at < end)
        .exists()
    )
    billed = select(b.c.id).where(b.c.tenant_id == t.c.id, b.c.month == month).exists()
    tenants = conn.execute(
        select(t.c.id, t.c.name, t.c.contact_emails).where(used, ~billed).order_by(t.c.id)
    ).all()
    made: list[dict[str, Any]] = []
    for tenant_id, name, contact_emails in tenants:
        usages = [
            Usage(product, iso, nation, int(qty), int(price), float(at))
            for product, iso, nation, qty, price, at in conn.execute(
                select(
                    u.c.product,
                    u.c.iso_code,
                    u.c.nation_code,
                    u.c.quantity,
                    u.c.unit_price,
                    u.c.created_at,
                ).where(u.c.tenant_id == tenant_id, u.c.created_at >= start, u.c.created_at < end)
            )
        ]
        new = build_bill(int(tenant_id), name, month, tz, usages, now, due_days)
        try:
            # A savepoint: a conflict (another process billed this tenant first) undoes only
            # this insert, and the rest of the run goes on.
            with conn.begin_nested():
                bill_id = inserted_id(
                    conn.execute(
                        insert(b).values(
                            tenant_id=new.tenant_id,
                            month=month,
                            total=new.total,
                            lines=_lines_json(new.lines),
                            issued_at=new.issued_at,
                            due_at=new.due_at,
                            paid_at=None,
                        )
                    )
                )
        except IntegrityError:
            log.info("tenant %s already billed for %s: skipped", tenant_id, month)
            continue
        conn.execute(
            insert(s.ledger).values(
                tenant_id=new.tenant_id,
                kind=BILL_KIND,
                package_id=None,
                units=0,
                amount=-new.total,
                note=f"bill:{month}",
                created_at=now,
            )
        )
        notified = False
        if new.total > 0:
            yuan, due = format_yuan(new.total, 2), _due_text(new.due_at, tz)
            notice = notices.Notice(
                "bill",
                {"month": month, "amount": yuan, "due_at": new.due_at, "bill": bill_id},
                functools.partial(arrears_notice, name, month, yuan, due),
                arrears_notice_sms(month, yuan, due),
            )
            # The account's own phones never had bills by SMS; a contact that chose them has.
            to = _emails(contact_emails or "")
            notified = notices.tell(conn, new.tenant_id, notice, to, (), now) > 0
        made.append(
            {
                "id": bill_id,
                "tenant_id": new.tenant_id,
                "tenant_name": name,
                "month": month,
                "lines": len(new.lines),
                "total": new.total,
                "total_yuan": format_yuan(new.total, 2),
                "due_at": new.due_at,
                "notified": notified,
            }
        )
    return made


def _row_dict(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "tenant_id": int(row.tenant_id),
        "tenant_name": row.name,
        "month": row.month,
        "total": int(row.total),
        "total_yuan": format_yuan(int(row.total), 2),
        "issued_at": float(row.issued_at),
        "due_at": float(row.due_at),
        "paid_at": None if row.paid_at is None else float(row.paid_at),
    }


def _bill_query() -> Any:
    return select(
        b.c.id,
        b.c.tenant_id,
        t.c.name,
        b.c.month,
        b.c.total,
        b.c.lines,
        b.c.issued_at,
        b.c.due_at,
        b.c.paid_at,
    ).join(t, t.c.id == b.c.tenant_id)


def _get(conn: Connection, bill_id: int) -> Any:
    row = conn.execute(_bill_query().where(b.c.id == bill_id)).first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"No bill with id {bill_id}.")
    return row


def list_bills(
    conn: Connection, tenant_id: int | None = None, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """Bills, newest month first; unpaid ones before paid ones with ``limit``."""
    order: list[Any] = [b.c.month.desc(), b.c.tenant_id]
    if limit is not None:
        order.insert(0, b.c.paid_at.is_not(None))
    query = _bill_query().order_by(*order).limit(limit)
    if tenant_id is not None:
        query = query.where(b.c.tenant_id == tenant_id)
    return [_row_dict(row) for row in conn.execute(query)]


def bill(conn: Connection, bill_id: int) -> Bill:
    """The stored bill as a ``Bill``, for ``bill_csv``/``bill_pdf`` (tenant's current name)."""
    row = _get(conn, bill_id)
    lines = tuple(
        BillLine(
            item["product"],
            item["iso_code"],
            item["nation_code"],
            int(item["unit_price"]),
            int(item["quantity"]),
            int(item["amount"]),
        )
        for item in json.loads(row.lines)
    )
    return Bill(
        tenant_id=int(row.tenant_id),
        tenant_name=row.name,
        month=row.month,
        lines=lines,
        total=int(row.total),
        issued_at=float(row.issued_at),
        due_at=float(row.due_at),
    )


def tenant_bill(conn: Connection, tenant_id: int, bill_id: int) -> Bill | None:
    """The tenant's own bill ``bill_id``, or None (no such bill, or another tenant's)."""
    owner = conn.execute(select(b.c.tenant_id).where(b.c.id == bill_id)).scalar()
    if owner is None or int(owner) != tenant_id:
        return None
    return bill(conn, bill_id)


def pay_bill(conn: Connection, bill_id: int, now: float) -> dict[str, Any]:
    """Record an operator-confirmed payment of an unpaid bill in full."""
    row = _get(conn, bill_id)
    # Conditional on still being unpaid, so two concurrent payments record one.
    paid = conn.execute(
        update(b).where(b.c.id == bill_id, b.c.paid_at.is_(None)).values(paid_at=now)
    ).rowcount
    if paid != 1:
        raise RuleViolation("FailedOperation", f"Bill {bill_id} ({row.month}) is already paid.")
    conn.execute(
        insert(s.ledger).values(
            tenant_id=int(row.tenant_id),
            kind=PAYMENT_KIND,
            package_id=None,
            units=0,
            amount=int(row.total),
            note=f"bill:{row.month}",
            created_at=now,
        )
    )
    return {**_row_dict(row), "paid_at": now}


def in_arrears(conn: Connection, tenant_id: int, now: float) -> bool:
    """Whether the tenant has an unpaid bill past its due date with something to pay."""
    overdue = conn.execute(
        select(b.c.id)
        .where(
            b.c.tenant_id == tenant_id,
            b.c.paid_at.is_(None),
            b.c.due_at < now,
            b.c.total > 0,
        )
        .limit(1)
    ).first()
    return overdue is not None


def _overdue(now: float) -> Any:
    """Bills in arrears (as ``in_arrears`` judges) whose tenant was not told yet."""
    return (
        b.c.paid_at.is_(None),
        b.c.due_at < now,
        b.c.total > 0,
        b.c.overdue_noticed_at.is_(None),
    )


def overdue_unnoticed(conn: Connection, now: float) -> bool:
    """Whether some bill became overdue without its notice: a read, for idle polling."""
    return conn.execute(select(b.c.id).where(*_overdue(now)).limit(1)).first() is not None


def notice_overdue(conn: Connection, tz: ZoneInfo, now: float) -> int:
    """Tell each tenant whose bill became overdue (the arrears notice), once per bill; returns
    how many were told. The bill is marked in the same transaction, under a conditional
    update, so two workers never tell one bill twice."""
    rows = conn.execute(
        select(
            b.c.id, b.c.tenant_id, b.c.month, b.c.total, b.c.due_at, t.c.name, t.c.contact_emails
        )
        .join(t, t.c.id == b.c.tenant_id)
        .where(*_overdue(now))
        .order_by(b.c.id)
        .limit(200)
    ).all()
    told = 0
    for row in rows:
        marked = conn.execute(
            update(b)
            .where(b.c.id == row.id, b.c.overdue_noticed_at.is_(None))
            .values(overdue_noticed_at=now)
        )
        if not marked.rowcount:
            continue  # another worker told it
        yuan, due = format_yuan(int(row.total), 2), _due_text(float(row.due_at), tz)
        notice = notices.Notice(
            "arrears",
            {"month": row.month, "amount": yuan, "due_at": float(row.due_at), "bill": int(row.id)},
            functools.partial(overdue_notice, row.name, row.month, yuan, due),
            overdue_notice_sms(row.month, yuan),
        )
        notices.tell(conn, int(row.tenant_id), notice, _emails(row.contact_emails or ""), (), now)
        told += 1
    return told
