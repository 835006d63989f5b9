"""Signatures and templates: apply, modify while not approved, delete, describe.

The API path refuses individual accounts (``FailedOperation.NotEnterpriseCertification``,
§7.6); the console passes ``via_api=False`` because individuals may apply there.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from smscloud.domain.errors import RuleViolation
from smscloud.domain.rights import AccountType, Capability, require
from smscloud.domain.signatures import validate_sign_application, validate_sign_name
from smscloud.domain.templates import SmsType, lint_template
from smscloud.services.catalog import Catalog
from smscloud.services.records import TenantRec
from smscloud.services.sending import usable_tenant
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id

MAX_SIGNS = 100
MAX_TEMPLATES = 1000  # §7.2: up to 1,000 templates per account
MAX_IMAGE_BYTES = 5 * 1024 * 1024
DELETE_STATUS = "return successfully!"


@dataclass(frozen=True, slots=True)
class SignApplication:
    name: str
    sign_type: int
    document_type: int
    international: int
    purpose: int
    proof_image: str
    commission_image: str = ""
    remark: str = ""
    qualification_id: int = 0


@dataclass(frozen=True, slots=True)
class TemplateApplication:
    name: str
    content: str
    sms_type: int
    international: int
    remark: str


def _check_international(value: int) -> None:
    if value not in (0, 1):
        raise RuleViolation(
            "InvalidParameterValue.InvalidInternational", "International must be 0 or 1."
        )


def _check_image(data: str, field: str) -> None:
    if data.startswith("data:"):  # tolerate the prefix the docs tell callers to strip
        data = data.split(",", 1)[-1]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if not raw or len(raw) > MAX_IMAGE_BYTES:
        raise RuleViolation(
            "InvalidParameterValue.ImageInvalid",
            f"{field} must be a base64 image of at most {MAX_IMAGE_BYTES // 1048576} MB.",
        )


def _limit(limit: int, maximum: int = 100) -> int:
    if not 0 <= limit <= maximum:
        raise RuleViolation(
            "InvalidParameterValue.LimitVerifyFail", f"Limit must be between 0 and {maximum}."
        )
    return limit


def _offset(offset: int) -> int:
    if offset < 0:
        raise RuleViolation("InvalidParameterValue.OffsetVerifyFail", "Offset must be >= 0.")
    return offset


async def default_sign(db: Database, tenant_id: int, international: int) -> str:
    """The tenant's signature when a legacy request names none: its oldest approved one."""
    g = s.signs
    q = (
        select(g.c.name)
        .where(
            g.c.tenant_id == tenant_id,
            g.c.international == international,
            g.c.status == 0,
            g.c.deleted.is_(False),
        )
        .order_by(g.c.id)
        .limit(1)
    )
    name = await db.read(lambda c: c.execute(q).scalar())
    return str(name or "")


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


class Registry:
    """Sign and template use cases."""

    def __init__(self, db: Database, catalog: Catalog, clock: Callable[[], float] = time.time):
        self.db = db
        self.catalog = catalog
        self.clock = clock

    async def _tenant(self, tenant_id: int, *, via_api: bool) -> TenantRec:
        tenant = usable_tenant(await self.catalog.tenant(tenant_id))
        if via_api:
            require(AccountType(tenant.account_type), Capability.SIGN_TEMPLATE_API)
        return tenant

    # -- signatures ------------------------------------------------------------------------
    def _validate_sign(self, app: SignApplication) -> None:
        _check_international(app.international)
        validate_sign_name(app.name, international=bool(app.international))
        validate_sign_application(
            app.sign_type,
            app.document_type,
            app.purpose,
            international=bool(app.international),
            has_commission_image=bool(app.commission_image),
        )
        _check_image(app.proof_image, "ProofImage")
        if app.commission_image:
            _check_image(app.commission_image, "CommissionImage")

    @staticmethod
    def _sign_values(app: SignApplication) -> dict[str, Any]:
        return {
            "name": app.name,
            "sign_type": app.sign_type,
            "document_type": app.document_type,
            "international": app.international,
            "purpose": app.purpose,
            "proof_image": app.proof_image,
            "commission_image": app.commission_image,
            "remark": app.remark,
            "qualification_id": app.qualification_id,
        }

    async def add_sign(self, tenant_id: int, app: SignApplication, *, via_api: bool = True) -> int:
        await self._tenant(tenant_id, via_api=via_api)
        self._validate_sign(app)
        now = self.clock()
        g = s.signs

        def write(conn: Connection) -> int:
            live = conn.execute(
                select(func.count()).where(g.c.tenant_id == tenant_id, g.c.deleted.is_(False))
            ).scalar_one()
            if live >= MAX_SIGNS:
                raise RuleViolation(
                    "FailedOperation.SignNumberLimit",
                    "The maximum number of signatures is reached.",
                )
            dup = conn.execute(
                select(g.c.id).where(
                    g.c.tenant_id == tenant_id,
                    g.c.name == app.name,
                    g.c.international == app.international,
                    g.c.status.in_((0, 1)),
                    g.c.deleted.is_(False),
                )
            ).first()
            if dup is not None:
                raise RuleViolation(
                    "InvalidParameterValue.SignExistAndUnapproved",
                    "An identical signature is already approved or under review.",
                )
            values = self._sign_values(app) | {
                "tenant_id": tenant_id,
                "status": 1,
                "review_reply": "",
                "deleted": False,
                "created_at": now,
            }
            return inserted_id(conn.execute(insert(g).values(**values)))

        return await self.db.write(write)

    async def modify_sign(
        self, tenant_id: int, sign_id: int, app: SignApplication, *, via_api: bool = True
    ) -> int:
        await self._tenant(tenant_id, via_api=via_api)
        self._validate_sign(app)
        g = s.signs

        def write(conn: Connection) -> int:
            row = conn.execute(
                select(g.c.status, g.c.international).where(
                    g.c.id == sign_id, g.c.tenant_id == tenant_id, g.c.deleted.is_(False)
                )
            ).first()
            if row is None:
                raise RuleViolation(
                    "FailedOperation.MissingSignatureToModify",
                    "The signature does not exist, so it cannot be modified.",
                )
            if row.status == 0:
                raise RuleViolation(
                    "InvalidParameterValue.SignAlreadyPassedCheck",
                    "An approved signature cannot be modified.",
                )
            if row.international != app.international:
                raise RuleViolation(
                    "InvalidParameterValue.InvalidInternational",
                    "International must equal the signature's existing value.",
                )
            conn.execute(
                update(g)
                .where(g.c.id == sign_id)
                .values(**self._sign_values(app), status=1, review_reply="", reviewed_at=None)
            )
            return sign_id

        result = await self.db.write(write)
        self.catalog.forget()
        return result

    async def delete_sign(self, tenant_id: int, sign_id: int, *, via_api: bool = True) -> float:
        await self._tenant(tenant_id, via_api=via_api)
        now = self.clock()
        g = s.signs

        def write(conn: Connection) -> None:
            done = conn.execute(
                update(g)
                .where(g.c.id == sign_id, g.c.tenant_id == tenant_id, g.c.deleted.is_(False))
                .values(deleted=True)
            )
            if done.rowcount == 0:
                raise RuleViolation("FailedOperation.SignIdNotExist", "SignId does not exist.")

        await self.db.write(write)
        self.catalog.forget()
        return now

    async def describe_signs(
        self,
        tenant_id: int,
        *,
        international: int | None,
        ids: Sequence[int] = (),
        limit: int = 10,
        offset: int = 0,
        via_api: bool = True,
    ) -> list[dict[str, Any]]:
        await self._tenant(tenant_id, via_api=via_api)
        if len(ids) > 100:
            raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "At most 100 ids.")
        g = s.signs
        q = select(g).where(g.c.tenant_id == tenant_id, g.c.deleted.is_(False))
        if international is not None:  # None: both (the v5 API has no such filter)
            _check_international(international)
            q = q.where(g.c.international == international)
        if ids:
            q = q.where(g.c.id.in_(list(ids))).order_by(g.c.id)
        else:
            q = q.order_by(g.c.id).limit(_limit(limit)).offset(_offset(offset))
        rows = await self.db.read(lambda c: c.execute(q).mappings().all())
        return [dict(r) for r in rows]

    # -- templates -------------------------------------------------------------------------
    def _validate_template(self, tenant: TenantRec, app: TemplateApplication) -> SmsType:
        if app.sms_type not in (1, 2, 3):
            raise RuleViolation(
                "InvalidParameterValue.InvalidSmsType",
                "SmsType must be 1 (marketing), 2 (notification) or 3 (verification code).",
            )
        _check_international(app.international)
        sms_type = SmsType(app.sms_type)
        if sms_type is SmsType.MARKETING and tenant.account_type == AccountType.INDIVIDUAL:
            raise RuleViolation(
                "FailedOperation.ForbidAddMarketingTemplates",
                "Individual accounts may not apply for marketing templates.",
            )
        if not app.name.strip():
            raise RuleViolation("MissingParameter", "TemplateName must not be empty.")
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

        def write(conn: Connection) -> int:
            row = conn.execute(
                select(t.c.status, t.c.international).where(
                    t.c.id == template_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False)
                )
            ).first()
            if row is None:
                raise RuleViolation(
                    "FailedOperation.MissingTemplateToModify",
                    "The template does not exist, so it cannot be modified.",
                )
            if row.status == 0:
                raise RuleViolation(
                    "FailedOperation.TemplateAlreadyPassedCheck",
                    "An approved template cannot be modified.",
                )
            if row.international != app.international:
                raise RuleViolation(
                    "InvalidParameterValue.InvalidInternational",
                    "International must equal the template's existing value.",
                )
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
        t = s.templates

        def write(conn: Connection) -> None:
            done = conn.execute(
                update(t)
                .where(t.c.id == template_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
                .values(deleted=True)
            )
            if done.rowcount == 0:
                raise RuleViolation(
                    "FailedOperation.TemplateIdNotExist", "TemplateId does not exist."
                )

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
    ) -> list[dict[str, Any]]:
        await self._tenant(tenant_id, via_api=via_api)
        if len(ids) > 100:
            raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "At most 100 ids.")
        t = s.templates
        q = select(t).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
        if international is not None:
            _check_international(international)
            q = q.where(t.c.international == international)
        if ids:
            q = q.where(t.c.id.in_(list(ids))).order_by(t.c.id)
        else:
            q = q.order_by(t.c.id).limit(_limit(limit)).offset(_offset(offset))
        rows = await self.db.read(lambda c: c.execute(q).mappings().all())
        return [dict(r) for r in rows]
