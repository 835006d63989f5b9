"""Signature use cases: apply, modify while not approved, delete, describe.

Tencent SMS API 3.0: AddSmsSign, ModifySmsSign, DeleteSmsSign, DescribeSmsSignList.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update

from smscloud.domain.errors import RuleViolation
from smscloud.domain.signatures import validate_sign_application, validate_sign_name
from smscloud.services.registry.shared import (
    MAX_SIGNS,
    SIGNS,
    RegistryBase,
    check_editable,
    check_image,
    check_international,
    soft_delete,
)
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id


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
class RegisteredSign:
    """A tenant's signature as the registry holds it, with its review state."""

    id: int
    name: str
    international: int
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    created_at: float
    reviewed_at: float | None
    qualification_id: int

    @classmethod
    def from_row(cls, row: RowMapping) -> RegisteredSign:
        """The row of ``signs`` as a result."""
        return cls(
            id=int(row["id"]),
            name=str(row["name"]),
            international=int(row["international"]),
            status=int(row["status"]),
            review_reply=str(row["review_reply"]),
            created_at=float(row["created_at"]),
            reviewed_at=None if row["reviewed_at"] is None else float(row["reviewed_at"]),
            qualification_id=int(row["qualification_id"]),
        )


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


class SignRegistry(RegistryBase):
    """Signatures of a tenant."""

    def _validate_sign(self, app: SignApplication) -> None:
        check_international(app.international)
        validate_sign_name(app.name, international=bool(app.international))
        validate_sign_application(
            app.sign_type,
            app.document_type,
            app.purpose,
            international=bool(app.international),
            has_commission_image=bool(app.commission_image),
        )
        check_image(app.proof_image, "ProofImage")
        if app.commission_image:
            check_image(app.commission_image, "CommissionImage")

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
                "submitted_at": now,
            }
            return inserted_id(conn.execute(insert(g).values(**values)))

        return await self.db.write(write)

    async def modify_sign(
        self, tenant_id: int, sign_id: int, app: SignApplication, *, via_api: bool = True
    ) -> int:
        await self._tenant(tenant_id, via_api=via_api)
        self._validate_sign(app)
        g = s.signs
        now = self.clock()

        def write(conn: Connection) -> int:
            check_editable(conn, SIGNS, sign_id, tenant_id, app.international)
            conn.execute(
                update(g)
                .where(g.c.id == sign_id)
                .values(
                    **self._sign_values(app),
                    status=1,
                    review_reply="",
                    reviewed_at=None,
                    submitted_at=now,
                )
            )
            return sign_id

        result = await self.db.write(write)
        self.catalog.forget()
        return result

    async def delete_sign(self, tenant_id: int, sign_id: int, *, via_api: bool = True) -> float:
        await self._tenant(tenant_id, via_api=via_api)
        now = self.clock()

        def write(conn: Connection) -> None:
            soft_delete(conn, SIGNS, sign_id, tenant_id)

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
    ) -> list[RegisteredSign]:
        """The tenant's signatures by ids, or a page of them (Tencent SMS API 3.0,
        DescribeSmsSignList)."""
        await self._tenant(tenant_id, via_api=via_api)
        rows = await self._describe(SIGNS, tenant_id, international, ids, limit, offset)
        return [RegisteredSign.from_row(r) for r in rows]
