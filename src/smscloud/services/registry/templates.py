"""Template use cases: apply, modify while not approved, delete, describe.

Tencent SMS API 3.0: AddSmsTemplate, ModifySmsTemplate, DeleteSmsTemplate,
DescribeSmsTemplateList.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from smscloud.domain.errors import RuleViolation
from smscloud.domain.rights import AccountType
from smscloud.domain.templates import SmsType, lint_template
from smscloud.services.metadata.records import TenantRec
from smscloud.services.registry.shared import (
    MAX_TEMPLATES,
    TEMPLATES,
    RegistryBase,
    check_editable,
    check_international,
    soft_delete,
)
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id


@dataclass(frozen=True, slots=True)
class TemplateApplication:
    name: str
    content: str
    sms_type: int
    international: int
    remark: str


@dataclass(frozen=True, slots=True)
class RegisteredTemplate:
    """A tenant's template as the registry holds it, with its review state."""

    id: int
    name: str
    content: str
    sms_type: int
    international: int
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    created_at: float
    reviewed_at: float | None

    @classmethod
    def from_row(cls, row: RowMapping) -> RegisteredTemplate:
        """The row of ``templates`` as a result."""
        return cls(
            id=int(row["id"]),
            name=str(row["name"]),
            content=str(row["content"]),
            sms_type=int(row["sms_type"]),
            international=int(row["international"]),
            status=int(row["status"]),
            review_reply=str(row["review_reply"]),
            created_at=float(row["created_at"]),
            reviewed_at=None if row["reviewed_at"] is None else float(row["reviewed_at"]),
        )


async def approved_templates(db: Database, tenant_id: int) -> list[tuple[int, str, int]]:
    """(id, content, international) of the tenant's approved templates, newest first."""
    t = s.templates
    q = (
        select(t.c.id, t.c.content, t.c.international)
        .where(t.c.tenant_id == tenant_id, t.c.status == 0, t.c.deleted.is_(False))
        .order_by(t.c.id.desc())
    )
    rows = await db.read(lambda c: c.execute(q).all())
    return [(int(r[0]), str(r[1]), int(r[2])) for r in rows]


NAME_MAX = 128  # what the store keeps of a template's name


class TemplateRegistry(RegistryBase):
    """Templates of a tenant."""

    def _validate_template(self, tenant: TenantRec, app: TemplateApplication) -> SmsType:
        if app.sms_type not in (1, 2, 3):
            raise RuleViolation(
                "InvalidParameterValue.InvalidSmsType",
                "SmsType must be 1 (marketing), 2 (notification) or 3 (verification code).",
            )
        check_international(app.international)
        sms_type = SmsType(app.sms_type)
        if sms_type is SmsType.MARKETING and tenant.account_type == AccountType.INDIVIDUAL:
            raise RuleViolation(
                "FailedOperation.ForbidAddMarketingTemplates",
                "Individual accounts may not apply for marketing templates.",
            )
        if not app.name.strip():
            raise RuleViolation("MissingParameter", "TemplateName must not be empty.")
        if len(app.name) > NAME_MAX:
            raise RuleViolation(
                "InvalidParameterValue", f"TemplateName must be at most {NAME_MAX} characters."
            )
        findings = lint_template(app.content, sms_type, international=bool(app.international))
        if findings:
            raise RuleViolation(findings[0].code, "; ".join(f.message for f in findings))
        return sms_type

    async def add_template(
        self, tenant_id: int, app: TemplateApplication, *, via_api: bool = True
    ) -> int:
        tenant = await self._tenant(tenant_id, via_api=via_api)
        self._validate_template(tenant, app)
        now = self.clock()
        t, g = s.templates, s.signs

        def write(conn: Connection) -> int:
            has_sign = conn.execute(
                select(g.c.id).where(g.c.tenant_id == tenant_id, g.c.deleted.is_(False)).limit(1)
            ).first()
            if has_sign is None:
                raise RuleViolation(
                    "FailedOperation.MissingSignature",
                    "Apply for a signature before applying for templates.",
                )
            live = conn.execute(
                select(func.count()).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
            ).scalar_one()
            if live >= MAX_TEMPLATES:
                raise RuleViolation(
                    "FailedOperation.TemplateNumberLimit",
                    "The maximum number of templates is reached.",
                )
            result = conn.execute(
                insert(t).values(
                    tenant_id=tenant_id,
                    name=app.name,
                    content=app.content,
                    sms_type=app.sms_type,
                    international=app.international,
                    remark=app.remark,
                    status=1,
                    review_reply="",
                    deleted=False,
                    created_at=now,
                    submitted_at=now,
                )
            )
            return inserted_id(result)

        return await self.db.write(write)

    async def modify_template(
        self, tenant_id: int, template_id: int, app: TemplateApplication, *, via_api: bool = True
    ) -> int:
        tenant = await self._tenant(tenant_id, via_api=via_api)
        self._validate_template(tenant, app)
        t = s.templates
        now = self.clock()

        def write(conn: Connection) -> int:
            check_editable(conn, TEMPLATES, template_id, tenant_id, app.international)
            conn.execute(
                update(t)
                .where(t.c.id == template_id)
                .values(
                    name=app.name,
                    content=app.content,
                    sms_type=app.sms_type,
                    remark=app.remark,
                    status=1,
                    review_reply="",
                    reviewed_at=None,
                    submitted_at=now,
                )
            )
            return template_id

        result = await self.db.write(write)
        self.catalog.forget()
        return result

    async def delete_template(
        self, tenant_id: int, template_id: int, *, via_api: bool = True
    ) -> float:
        await self._tenant(tenant_id, via_api=via_api)
        now = self.clock()

        def write(conn: Connection) -> None:
            soft_delete(conn, TEMPLATES, template_id, tenant_id)

        await self.db.write(write)
        self.catalog.forget()
        return now

    async def describe_templates(
        self,
        tenant_id: int,
        *,
        international: int | None,
        ids: Sequence[int] = (),
        limit: int = 10,
        offset: int = 0,
        via_api: bool = True,
    ) -> list[RegisteredTemplate]:
        """The tenant's templates by ids, or a page of them (Tencent SMS API 3.0,
        DescribeSmsTemplateList)."""
        await self._tenant(tenant_id, via_api=via_api)
        rows = await self._describe(TEMPLATES, tenant_id, international, ids, limit, offset)
        return [RegisteredTemplate.from_row(r) for r in rows]
