"""What signature and template use cases share: checks, paging, the edit rules.

The API path refuses individual accounts (``FailedOperation.NotEnterpriseCertification``;
Tencent SMS docs: individual vs enterprise verification); the console passes ``via_api=False``
because individuals may apply there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from smscloud.clock import Clock, system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.images import MAX_IMAGE_BYTES, image_from_base64
from smscloud.domain.rights import AccountType, Capability, require
from smscloud.services.metadata.cache import Catalog
from smscloud.services.metadata.records import TenantRec
from smscloud.services.sending.sms import usable_tenant
from smscloud.store import schema as s
from smscloud.store.database import Database

MAX_SIGNS = 100
MAX_TEMPLATES = 1000  # up to 1,000 templates per account (Tencent SMS docs: international FAQ)
DELETE_STATUS = "return successfully!"


def check_international(value: int) -> None:
    if value not in (0, 1):
        raise RuleViolation(
            "InvalidParameterValue.InvalidInternational", "International must be 0 or 1."
        )


def check_image(data: str, field: str) -> None:
    """A signature's image as the API and the console file it: base64 (a ``data:`` prefix
    tolerated) of a PNG or JPEG (Tencent SMS API 3.0 AddSmsSign: jpg, png) of at most 5 MB,
    judged by its first bytes as an identity document is; the operator's review shows it."""
    if image_from_base64(data) is None:
        raise RuleViolation(
            "InvalidParameterValue.ImageInvalid",
            f"{field} must be a base64 PNG or JPEG image of at most "
            f"{MAX_IMAGE_BYTES // 1048576} MB.",
        )


def page_limit(limit: int, maximum: int = 100) -> int:
    if not 0 <= limit <= maximum:
        raise RuleViolation(
            "InvalidParameterValue.LimitVerifyFail", f"Limit must be between 0 and {maximum}."
        )
    return limit


def page_offset(offset: int) -> int:
    if offset < 0:
        raise RuleViolation("InvalidParameterValue.OffsetVerifyFail", "Offset must be >= 0.")
    return offset


@dataclass(frozen=True, slots=True)
class Kind:
    """What differs between signatures and templates: the table and Tencent's codes."""

    table: Any
    noun: str
    missing: str  # modify an id that does not exist
    approved: str  # modify an approved one
    not_found: str  # delete an id that does not exist


SIGNS = Kind(
    s.signs,
    "signature",
    "FailedOperation.MissingSignatureToModify",
    "InvalidParameterValue.SignAlreadyPassedCheck",
    "FailedOperation.SignIdNotExist",
)
TEMPLATES = Kind(
    s.templates,
    "template",
    "FailedOperation.MissingTemplateToModify",
    "FailedOperation.TemplateAlreadyPassedCheck",
    "FailedOperation.TemplateIdNotExist",
)


def check_editable(
    conn: Connection, kind: Kind, item_id: int, tenant_id: int, international: int
) -> None:
    """Only the tenant's own pending or rejected items change, and never their region."""
    t = kind.table
    row = conn.execute(
        select(t.c.status, t.c.international).where(
            t.c.id == item_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False)
        )
    ).first()
    if row is None:
        raise RuleViolation(
            kind.missing, f"The {kind.noun} does not exist, so it cannot be modified."
        )
    if row.status == 0:
        raise RuleViolation(kind.approved, f"An approved {kind.noun} cannot be modified.")
    if row.international != international:
        raise RuleViolation(
            "InvalidParameterValue.InvalidInternational",
            f"International must equal the {kind.noun}'s existing value.",
        )


def soft_delete(conn: Connection, kind: Kind, item_id: int, tenant_id: int) -> None:
    t = kind.table
    done = conn.execute(
        update(t)
        .where(t.c.id == item_id, t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
        .values(deleted=True)
    )
    if done.rowcount == 0:
        raise RuleViolation(kind.not_found, f"No {kind.noun} with id {item_id}.")


class RegistryBase:
    """State and checks shared by the sign and template use cases."""

    def __init__(self, db: Database, catalog: Catalog, clock: Clock = system_clock):
        self.db = db
        self.catalog = catalog
        self.clock = clock

    async def _tenant(self, tenant_id: int, *, via_api: bool) -> TenantRec:
        tenant = usable_tenant(await self.catalog.tenant(tenant_id))
        if via_api:
            require(AccountType(tenant.account_type), Capability.SIGN_TEMPLATE_API)
        return tenant

    # -- signatures ------------------------------------------------------------------------
    async def _describe(
        self,
        kind: Kind,
        tenant_id: int,
        international: int | None,
        ids: Sequence[int],
        limit: int,
        offset: int,
    ) -> list[RowMapping]:
        """By ids (at most 100), or a page; ``international`` None means both regions."""
        if len(ids) > 100:
            raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "At most 100 ids.")
        t = kind.table
        q = select(t).where(t.c.tenant_id == tenant_id, t.c.deleted.is_(False))
        if international is not None:  # the v5 API has no such filter
            check_international(international)
            q = q.where(t.c.international == international)
        if ids:
            q = q.where(t.c.id.in_(list(ids))).order_by(t.c.id)
        else:
            q = q.order_by(t.c.id).limit(page_limit(limit)).offset(page_offset(offset))
        return list(await self.db.read(lambda c: c.execute(q).mappings().all()))

    # -- templates -------------------------------------------------------------------------
