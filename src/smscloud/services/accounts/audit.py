"""The operators' audit log: who did what to which, written with the action itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from smscloud.clock import system_clock
from smscloud.store import schema as s


def record(
    conn: Connection,
    operator: str,
    action: str,
    target: str,
    detail: str = "",
    *,
    now: float | None = None,
) -> None:
    """Log an operator's action; call it in the action's own transaction."""
    conn.execute(
        insert(s.audit_log).values(
            operator=operator[:64],
            action=action[:64],
            target=target[:128],
            detail=detail,
            created_at=system_clock() if now is None else now,
        )
    )


def recent(conn: Connection, limit: int = 500) -> list[Any]:
    """The newest entries first."""
    a = s.audit_log
    return list(conn.execute(select(a).order_by(a.c.created_at.desc(), a.c.id.desc()).limit(limit)))
