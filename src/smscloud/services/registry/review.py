"""The operator's review queue for signatures and templates."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Connection, select, update

from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import SmsType, lint_template
from smscloud.services import notices
from smscloud.store import schema as s

Kind = Literal["sign", "template"]


def pending(conn: Connection) -> list[dict[str, Any]]:
    """Everything waiting for review, oldest first, with the lint findings for templates."""
    out: list[dict[str, Any]] = []
    g, t = s.signs, s.templates
    for row in conn.execute(
        select(g).where(g.c.status == 1, g.c.deleted.is_(False)).order_by(g.c.created_at)
    ).mappings():
        out.append(
            {
                "kind": "sign",
                "id": row["id"],
                "tenant_id": row["tenant_id"],
                "name": row["name"],
                "international": row["international"],
                "created_at": row["created_at"],
            }
        )
    for row in conn.execute(
        select(t).where(t.c.status == 1, t.c.deleted.is_(False)).order_by(t.c.created_at)
    ).mappings():
        findings = lint_template(
            row["content"], SmsType(row["sms_type"]), international=bool(row["international"])
        )
        out.append(
            {
                "kind": "template",
                "id": row["id"],
                "tenant_id": row["tenant_id"],
                "name": row["name"],
                "content": row["content"],
                "sms_type": row["sms_type"],
                "international": row["international"],
                "created_at": row["created_at"],
                "findings": [f.message for f in findings],
            }
        )
    return out


def decide(
    conn: Connection,
    kind: Kind,
    item_id: int,
    *,
    approve: bool,
    reason: str = "",
    now: float | None = None,
) -> dict[str, Any]:
    """Approve or reject one pending item and tell the tenant; returns the decision."""
    table = s.signs if kind == "sign" else s.templates
    row = conn.execute(
        select(table.c.status, table.c.name, table.c.tenant_id).where(
            table.c.id == item_id, table.c.deleted.is_(False)
        )
    ).first()
    if row is None:
        raise RuleViolation("ResourceNotFound", f"No {kind} with id {item_id}.")
    status = 0 if approve else -1
    at = system_clock() if now is None else now
    done = conn.execute(
        update(table)
        .where(table.c.id == item_id, table.c.status == 1)  # two operators: one decision
        .values(status=status, review_reply=reason or ("通过" if approve else ""), reviewed_at=at)
    )
    if done.rowcount != 1:
        raise RuleViolation("FailedOperation", f"The {kind} {item_id} is not waiting for review.")
    notices.review_decided(conn, int(row.tenant_id), kind, str(row.name), approve, reason, at)
    return {"kind": kind, "id": item_id, "status": status, "reason": reason}
