"""Voice template use cases: apply, modify while not approved, delete, list.

Voice templates follow SMS templates (Tencent voice messaging: voice templates; legacy voice
SMS console guide): applied for, reviewed, usable once approved; "only a template under review
or rejected can be modified", and a modified one is reviewed again; deleted ones are gone for
good. Their text is judged by ``domain.voice_templates.lint_voice_template``. Every read and
change is scoped to the tenant: another tenant's id, or a deleted one, is not found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_templates import lint_voice_template
from smscloud.services.registry.shared import page_limit, page_offset
from smscloud.services.registry.voice_base import VoiceRegistryBase
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

__all__ = [
    "MAX_VOICE_TEMPLATES",
    "RegisteredVoiceTemplate",
    "VoiceTemplateApplication",
    "VoiceTemplateRegistry",
]

# Legacy voice SMS console guide: "at most 1,000 approved body templates" per application;
# counted here per tenant, over every template not deleted.
MAX_VOICE_TEMPLATES = 1000
NAME_MAX = 128  # what the store keeps of a template's name
REMARK_MAX = 500
# The codes of SMS templates: Tencent has no voice-specific ones.
MISSING_TO_MODIFY = "FailedOperation.MissingTemplateToModify"
ALREADY_APPROVED = "FailedOperation.TemplateAlreadyPassedCheck"
TEMPLATE_NOT_FOUND = "FailedOperation.TemplateIdNotExist"
TEMPLATE_LIMIT = "FailedOperation.TemplateNumberLimit"


@dataclass(frozen=True, slots=True)
class VoiceTemplateApplication:
    """What a tenant files for a voice template."""

    name: str
    content: str
    remark: str = ""


@dataclass(frozen=True, slots=True)
class RegisteredVoiceTemplate:
    """A tenant's voice template with its review state."""

    id: int
    tenant_id: int
    name: str
    content: str
    remark: str
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    created_at: float
    reviewed_at: float | None

    @classmethod
    def from_row(cls, row: RowMapping) -> RegisteredVoiceTemplate:
        """The row of ``voice_templates`` as a result."""
        return cls(
            id=int(row["id"]),
            tenant_id=int(row["tenant_id"]),
            name=str(row["name"]),
            content=str(row["content"]),
            remark=str(row["remark"]),
            status=int(row["status"]),
            review_reply=str(row["review_reply"]),
            created_at=float(row["created_at"]),
            reviewed_at=None if row["reviewed_at"] is None else float(row["reviewed_at"]),
        )


class VoiceTemplateRegistry(VoiceRegistryBase):
    """Voice templates of a tenant."""

    async def add_template(self, tenant_id: int, app: VoiceTemplateApplication) -> int:
        """File a new voice template (under review); returns its id."""
        await self._check_tenant(tenant_id)
        _validate(app)
        now = self.clock()
        t = s.voice_templates

        def write(conn: Connection) -> int:
            live = conn.execute(
                select(func.count()).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
            ).scalar_one()
            if live >= MAX_VOICE_TEMPLATES:
                raise RuleViolation(
                    TEMPLATE_LIMIT, "The maximum number of voice templates is reached."
                )
            return inserted_id(
                conn.execute(
                    insert(t).values(
                        tenant_id=tenant_id,
                        name=app.name,
                        content=app.content,
                        remark=app.remark,
                        status=1,
                        review_reply="",
                        deleted=False,
                        created_at=now,
                    )
                )
            )

        return await self.db.write(write)

    async def modify_template(
        self, tenant_id: int, template_id: int, app: VoiceTemplateApplication
    ) -> int:
        """Change a template under review or rejected; it goes back to review."""
        await self._check_tenant(tenant_id)
        _validate(app)
        t = s.voice_templates

        def write(conn: Connection) -> int:
            status = conn.execute(
                select(t.c.status).where(
                    t.c.id == template_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False)
                )
            ).scalar()
            if status is None:
                raise RuleViolation(
                    MISSING_TO_MODIFY,
                    "The voice template does not exist, so it cannot be modified.",
                )
            if status == 0:
                raise RuleViolation(
                    ALREADY_APPROVED, "An approved voice template cannot be modified."
                )
            conn.execute(
                update(t)
                .where(t.c.id == template_id, t.c.tenant_id == tenant_id)
                .values(
                    name=app.name,
                    content=app.content,
                    remark=app.remark,
                    status=1,
                    review_reply="",
                    reviewed_at=None,
                )
            )
            return template_id

        return await self.db.write(write)

    async def delete_template(self, tenant_id: int, template_id: int) -> None:
        """Delete one of the tenant's voice templates, whatever its state."""
        t = s.voice_templates

        def write(conn: Connection) -> None:
            done = conn.execute(
                update(t)
                .where(t.c.id == template_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
                .values(deleted=True)
            )
            if done.rowcount == 0:
                raise RuleViolation(TEMPLATE_NOT_FOUND, f"No voice template with id {template_id}.")

        await self.db.write(write)

    async def list_templates(
        self, tenant_id: int, *, ids: Sequence[int] = (), limit: int = 100, offset: int = 0
    ) -> list[RegisteredVoiceTemplate]:
        """The tenant's voice templates by ids (at most 100), or a page of them; oldest
        first."""
        t = s.voice_templates
        q = select(t).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False)).order_by(t.c.id)
        if ids:
            if len(ids) > 100:
                raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "At most 100 ids.")
            q = q.where(t.c.id.in_(list(ids)))
        else:
            q = q.limit(page_limit(limit)).offset(page_offset(offset))
        rows = await self.db.read(lambda c: c.execute(q).mappings().all())
        return [RegisteredVoiceTemplate.from_row(r) for r in rows]

    async def get_template(
        self, tenant_id: int, template_id: int
    ) -> RegisteredVoiceTemplate | None:
        """The tenant's voice template ``template_id``, or None."""
        found = await self.list_templates(tenant_id, ids=[template_id])
        return found[0] if found else None


def _validate(app: VoiceTemplateApplication) -> None:
    if not app.name.strip():
        raise RuleViolation("MissingParameter", "The template name must not be empty.")
    if len(app.name) > NAME_MAX:
        raise RuleViolation(
            "InvalidParameterValue", f"The template name must be at most {NAME_MAX} characters."
        )
    if len(app.remark) > REMARK_MAX:
        raise RuleViolation(
            "InvalidParameterValue", f"The remark must be at most {REMARK_MAX} characters."
        )
    findings = lint_voice_template(app.content)
    if findings:
        raise RuleViolation(findings[0].code, "; ".join(f.message for f in findings))
