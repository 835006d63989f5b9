"""A tenant's own signatures and templates as its console lists them, and the counts and
details the operator's review pages read.

Every tenant read is scoped to the tenant and skips deleted rows: another tenant's id, or a
deleted one, is not found, like one that never existed. Changes go through the registry
(``signs.py``, ``templates.py``) and decisions through ``review.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, func, select

from smscloud.store import schema as s

PENDING = 1  # Tencent StatusCode: 0 approved, 1 under review, -1 rejected


@dataclass(frozen=True, slots=True)
class SignEntry:
    """A signature with everything its owner filed and the reviewer's answer."""

    id: int
    tenant_id: int
    name: str
    sign_type: int
    document_type: int
    international: int
    purpose: int
    proof_image: str  # base64
    commission_image: str  # base64, or empty
    remark: str
    qualification_id: int
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    deleted: bool
    created_at: float
    reviewed_at: float | None


@dataclass(frozen=True, slots=True)
class TemplateEntry:
    """A template with everything its owner filed and the reviewer's answer."""

    id: int
    tenant_id: int
    name: str
    content: str
    sms_type: int
    international: int
    remark: str
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    deleted: bool
    created_at: float
    reviewed_at: float | None


@dataclass(frozen=True, slots=True)
class SignChoice:
    """A signature offered to go with a template: approved ones first."""

    name: str
    international: int
    status: int


E = TypeVar("E", SignEntry, TemplateEntry)


def _entry(cls: type[E], row: Any) -> E:
    return cls(**{f.name: row._mapping[f.name] for f in fields(cls)})


def _own(table: Table, tenant_id: int) -> Any:
    return select(table).where(table.c.tenant_id == tenant_id, table.c.deleted.is_(False))


def own_sign(conn: Connection, tenant_id: int, sign_id: int) -> SignEntry | None:
    """The tenant's signature ``sign_id`` (not deleted), or None."""
    row = conn.execute(_own(s.signs, tenant_id).where(s.signs.c.id == sign_id)).first()
    return None if row is None else _entry(SignEntry, row)


def own_template(conn: Connection, tenant_id: int, template_id: int) -> TemplateEntry | None:
    """The tenant's template ``template_id`` (not deleted), or None."""
    t = s.templates
    row = conn.execute(_own(t, tenant_id).where(t.c.id == template_id)).first()
    return None if row is None else _entry(TemplateEntry, row)


def own_signs(conn: Connection, tenant_id: int) -> list[SignEntry]:
    """The tenant's signatures, oldest first."""
    rows = conn.execute(_own(s.signs, tenant_id).order_by(s.signs.c.id))
    return [_entry(SignEntry, r) for r in rows]


def own_templates(conn: Connection, tenant_id: int) -> list[TemplateEntry]:
    """The tenant's templates, oldest first."""
    rows = conn.execute(_own(s.templates, tenant_id).order_by(s.templates.c.id))
    return [_entry(TemplateEntry, r) for r in rows]


def sign_choices(conn: Connection, tenant_id: int) -> list[SignChoice]:
    """The tenant's signatures to preview a template with, by status descending (under
    review, approved, rejected), oldest first within each."""
    g = s.signs
    rows = conn.execute(
        select(g.c.name, g.c.international, g.c.status)
        .where(g.c.tenant_id == tenant_id, g.c.deleted.is_(False))
        .order_by(g.c.status.desc(), g.c.id)
    )
    return [SignChoice(str(r.name), int(r.international), int(r.status)) for r in rows]


def sign_for_review(conn: Connection, sign_id: int) -> SignEntry:
    """The signature ``sign_id`` as its reviewer reads it (it must exist)."""
    return _entry(SignEntry, conn.execute(select(s.signs).where(s.signs.c.id == sign_id)).one())


def pending_count(conn: Connection) -> int:
    """Signatures and templates waiting for review."""
    return sum(
        int(
            conn.execute(
                select(func.count())
                .select_from(g)
                .where(g.c.status == PENDING, g.c.deleted.is_(False))
            ).scalar_one()
        )
        for g in (s.signs, s.templates)
    )
