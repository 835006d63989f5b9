"""The operator's review queue for signatures and templates, and the evidence a signature
was filed with (its proof image and, for a signature used on others' behalf, the letter of
authorisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select, update

from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.images import BASE64_HEAD, base64_image_suffix, image_from_base64
from smscloud.domain.templates import SmsType, lint_template
from smscloud.domain.work_time import ReviewWait, queue_key, review_wait
from smscloud.services import notices
from smscloud.store import schema as s

Kind = Literal["sign", "template"]
Evidence = Literal["proof", "commission"]
EVIDENCE: tuple[Evidence, ...] = ("proof", "commission")


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
    submitted_at: float  # when it last entered the queue
    wait: ReviewWait
    # ``png``/``jpg`` when the image is one; "" when none was filed; None when what was
    # filed is not a PNG or JPEG (the API takes any base64 of at most 5 MB).
    proof: str | None
    commission: str | None
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
    submitted_at: float
    wait: ReviewWait
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


def _kind_of(head: str) -> str | None:
    return "" if not head else base64_image_suffix(head)


def pending(conn: Connection, now: float, tz: ZoneInfo) -> list[Pending]:
    """Everything waiting for review at ``now``, signatures then templates, each in the
    queue's order: past the half-work-day promise first, then the longest wait."""
    g, t = s.signs, s.templates
    signs: list[PendingSign] = []
    templates: list[PendingTemplate] = []
    # The images are up to 5 MB each: the queue reads only their first characters.
    proof_head = func.substr(g.c.proof_image, 1, BASE64_HEAD).label("proof_head")
    commission_head = func.substr(g.c.commission_image, 1, BASE64_HEAD).label("commission_head")
    columns = [c for c in g.c if c.name not in ("proof_image", "commission_image")]
    for row in conn.execute(
        select(*columns, proof_head, commission_head).where(g.c.status == 1, g.c.deleted.is_(False))
    ).mappings():
        submitted = float(row["submitted_at"] or row["created_at"])
        signs.append(
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
                submitted_at=submitted,
                wait=review_wait(submitted, now, tz),
                proof=_kind_of(str(row["proof_head"] or "")),
                commission=_kind_of(str(row["commission_head"] or "")),
            )
        )
    for row in conn.execute(select(t).where(t.c.status == 1, t.c.deleted.is_(False))).mappings():
        findings = lint_template(
            row["content"], SmsType(row["sms_type"]), international=bool(row["international"])
        )
        submitted = float(row["submitted_at"] or row["created_at"])
        templates.append(
            PendingTemplate(
                id=int(row["id"]),
                tenant_id=int(row["tenant_id"]),
                name=str(row["name"]),
                content=str(row["content"]),
                sms_type=int(row["sms_type"]),
                international=int(row["international"]),
                created_at=float(row["created_at"]),
                submitted_at=submitted,
                wait=review_wait(submitted, now, tz),
                findings=tuple(f.message for f in findings),
            )
        )
    signs.sort(key=lambda i: (queue_key(i.wait, i.submitted_at), i.id))
    templates.sort(key=lambda i: (queue_key(i.wait, i.submitted_at), i.id))
    return [*signs, *templates]


def sign_evidence(conn: Connection, sign_id: int, which: Evidence) -> tuple[bytes, str] | None:
    """The image ``which`` of a signature, as bytes and ``png``/``jpg``; None when there is
    no such signature (or it was deleted), no such image, or it is not a PNG or JPEG.
    Operators only: the caller checks who asks."""
    g = s.signs
    column = g.c.proof_image if which == "proof" else g.c.commission_image
    text = conn.execute(select(column).where(g.c.id == sign_id, g.c.deleted.is_(False))).scalar()
    return None if not text else image_from_base64(str(text))


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
