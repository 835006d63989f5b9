"""SMS the platform sends on its own behalf (alarms, review results) through its own delivery.

They are queued as ordinary messages of a platform tenant and application, created on first
use, in the transaction that decided them, so they are as durable as any accepted message and
reach the handset by the same carriers, receipts included. The platform does not bill itself.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

from sqlalchemy import Connection, Engine, select

from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import MessageState
from smscloud.domain.phone import parse_phone
from smscloud.domain.segments import billed_parts
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from smscloud.store.database import run_many
from smscloud.store.messages import INSERT_MESSAGES, new_serial_no

PLATFORM_TENANT = "smscloud platform"
PLATFORM_SIGN = "云短信平台"
_apps: weakref.WeakKeyDictionary[Engine, tuple[int, int]] = weakref.WeakKeyDictionary()


def platform_app(conn: Connection) -> tuple[int, int]:
    """(tenant id, app id) of the platform's own sender, made on first use."""
    if (known := _apps.get(conn.engine)) is not None:
        return known
    t, a = s.tenants, s.applications
    row = conn.execute(
        select(t.c.id, a.c.id)
        .join(a, a.c.tenant_id == t.c.id)
        .where(t.c.name == PLATFORM_TENANT)
        .order_by(a.c.id)
    ).first()
    if row is not None:
        found = (int(row[0]), int(row[1]))
        _apps[conn.engine] = found
        return found
    tenant = tenants.create_tenant(conn, PLATFORM_TENANT, "enterprise", verified=True)
    app = tenants.create_app(conn, tenant.id, "notifications")
    return int(tenant.id), int(app.id)  # cached once read back committed


def queue(conn: Connection, phones: Iterable[str], text: str, now: float) -> int:
    """Queue ``【platform sign】text`` to each valid number; returns how many were queued."""
    tenant_id, app_id = platform_app(conn)
    content = f"【{PLATFORM_SIGN}】{text}"
    rows = []
    for raw in phones:
        try:
            ph = parse_phone(raw)
        except RuleViolation:
            continue
        parts = billed_parts(content, mainland=ph.mainland)
        rows.append(
            (
                new_serial_no(now), "platform", tenant_id, app_id, ph.e164, ph.nation_code,
                ph.iso_code, not ph.mainland, PLATFORM_SIGN, 0, 0, content, "", parts, "",
                "", "", "", MessageState.QUEUED, "Ok", now, None,
            )
        )  # fmt: skip
    run_many(conn, INSERT_MESSAGES, rows)
    return len(rows)
