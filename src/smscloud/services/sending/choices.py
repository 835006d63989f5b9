"""What a tenant may send with: its active applications and its approved signatures and
templates, as the console's send page and bulk tasks offer them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from smscloud.services.accounts.tenants import TenantProfile, tenant_profile
from smscloud.store import schema as s

APPROVED = 0  # Tencent StatusCode: 0 approved


@dataclass(frozen=True, slots=True)
class AppChoice:
    sdk_app_id: str
    name: str


@dataclass(frozen=True, slots=True)
class SignChoice:
    name: str
    international: int


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    id: int
    name: str
    content: str
    sms_type: int
    international: int


@dataclass(frozen=True, slots=True)
class SendingChoices:
    tenant: TenantProfile
    apps: list[AppChoice]
    signs: list[SignChoice]
    templates: list[TemplateChoice]


def sending_choices(conn: Connection, tenant_id: int) -> SendingChoices:
    """The tenant, its active applications, approved signatures and approved templates,
    oldest first."""
    a, g, t = s.applications, s.signs, s.templates
    apps = conn.execute(
        select(a.c.sdk_app_id, a.c.name)
        .where(a.c.tenant_id == tenant_id, a.c.status == "active")
        .order_by(a.c.id)
    )
    signs = conn.execute(
        select(g.c.name, g.c.international)
        .where(g.c.tenant_id == tenant_id, g.c.status == APPROVED, g.c.deleted.is_(False))
        .order_by(g.c.id)
    )
    templates = conn.execute(
        select(t.c.id, t.c.name, t.c.content, t.c.sms_type, t.c.international)
        .where(t.c.tenant_id == tenant_id, t.c.status == APPROVED, t.c.deleted.is_(False))
        .order_by(t.c.id)
    )
    return SendingChoices(
        tenant=tenant_profile(conn, tenant_id),
        apps=[AppChoice(str(r.sdk_app_id), str(r.name)) for r in apps],
        signs=[SignChoice(str(r.name), int(r.international)) for r in signs],
        templates=[
            TemplateChoice(
                int(r.id), str(r.name), str(r.content), int(r.sms_type), int(r.international)
            )
            for r in templates
        ],
    )
