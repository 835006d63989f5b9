"""The operator's review queue for signatures and templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, select, update

from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import SmsType, lint_template
from smscloud.services import notices
from smscloud.store import schema as s

Kind = Literal["sign", "template"]


@dataclass(frozen=True, slots=True)
class PendingSign:
    """A signature waiting for the operator, with what the operator judges it by."""

    id: int
    tenant_id: int
    name: str
    sign_type: int
    document_type: int
    purpose: int
    international: int
    remark: str
    created_at: float
    kind: Literal["sign"] = "sign"


@dataclass(frozen=True, slots=True)
class PendingTemplate:
    """A template waiting for the operator, with the lint findings on its text."""

    id: int
    tenant_id: int
    name: str
    content: str
    sms_type: int
    international: int
    created_at: float
    findings: tuple[str, ...]
    kind: Literal["template"] = "template"


Pending = PendingSign | PendingTemplate


@dataclass(frozen=True, slots=True)
class Decision:
    """What the operator decided: status 0 approved, -1 rejected."""

    kind: Kind
    id: int
    status: int
    reason: str


def pending(conn: Connection) -> list[Pending]:
    """Everything waiting for review: signatures, then templates, each oldest first."""
    out: list[Pending] = []
    g, t = s.signs, s.templates
    for row in conn.execute(
        select(g).where(g.c.status == 1, g.c.deleted.is_(False)).order_by(g.c.created_at)
    ).mappings():
        out.append(
            PendingSign(
                id=int(row["id"]),
                tenant_id=int(row["tenant_id"]),
                name=str(row["name"]),
                sign_type=int(row["sign_type"]),
                document_type=int(row["document_type"]),
                purpose=int(row["purpose"]),
                international=int(row["international"]),
                remark=str(row["remark"]),
                created_at=float(row["created_at"]),
            )
        )
    for row in conn.execute(
        select(t).where(t.c.status == 1, t.c.deleted.is_(False)).order_by(t.c.created_at)
    ).mappings():
        findings = lint_template(
            row["content"], SmsType(row["sms_type"]), international=bool(row["international"])
        )
        out.append(
            PendingTemplate(
                id=int(row["id"]),
                tenant_id=int(row["tenant_id"]),
                name=str(row["name"]),
                content=str(row["content"]),
                sms_type=int(row["sms_type"]),
                international=int(row["international"]),
                created_at=float(row["created_at"]),
                findings=tuple(f.message for f in findings),
            )
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
) -> Decision:
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
    return Decision(kind=kind, id=item_id, status=status, reason=reason)
