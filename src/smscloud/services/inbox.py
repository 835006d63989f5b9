"""The console's messages (站内信): every notice to a tenant is also a row here, read in the
console, where the header counts the unread ones.

``notices.tell`` writes the row in the transaction that decided the notice; the rest is
the tenant's reading, always scoped to its own tenant id (another tenant's message is not
found).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from smscloud.store import schema as s

__all__ = [
    "Message",
    "mark_all_read",
    "message_row",
    "messages",
    "open_message",
    "post",
    "unread",
]

m = s.console_messages
PAGE = 100  # the newest ones; older messages stay stored


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    kind: str
    params: dict[str, Any]
    created_at: float
    read_at: float | None


def message_row(tenant_id: int, kind: str, params: dict[str, Any], now: float) -> dict[str, Any]:
    """The row of one notice, for ``insert(console_messages)``."""
    return {
        "tenant_id": tenant_id,
        "kind": kind,
        "params": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        "created_at": now,
        "read_at": None,
    }


def post(conn: Connection, tenant_id: int, kind: str, params: dict[str, Any], now: float) -> None:
    conn.execute(insert(m).values(**message_row(tenant_id, kind, params, now)))


def _message(row: Any) -> Message:
    params = json.loads(row.params)
    return Message(
        int(row.id),
        str(row.kind),
        params if isinstance(params, dict) else {},
        float(row.created_at),
        None if row.read_at is None else float(row.read_at),
    )


def unread(conn: Connection, tenant_id: int) -> int:
    """How many of the tenant's messages are unread."""
    query = select(func.count()).where(m.c.tenant_id == tenant_id, m.c.read_at.is_(None))
    return int(conn.execute(query).scalar_one())


def messages(conn: Connection, tenant_id: int) -> list[Message]:
    """The tenant's newest messages, newest first."""
    rows = conn.execute(
        select(m).where(m.c.tenant_id == tenant_id).order_by(m.c.id.desc()).limit(PAGE)
    )
    return [_message(row) for row in rows]


def open_message(conn: Connection, tenant_id: int, message_id: int, now: float) -> Message | None:
    """One of the tenant's messages, marked read from now on; None when it has none by
    that id."""
    row = conn.execute(select(m).where(m.c.id == message_id, m.c.tenant_id == tenant_id)).first()
    if row is None:
        return None
    if row.read_at is None:
        conn.execute(update(m).where(m.c.id == message_id).values(read_at=now))
    return _message(row)


def mark_all_read(conn: Connection, tenant_id: int, now: float) -> int:
    """Mark every unread message of the tenant read; returns how many were."""
    done = conn.execute(
        update(m).where(m.c.tenant_id == tenant_id, m.c.read_at.is_(None)).values(read_at=now)
    )
    return int(done.rowcount)
