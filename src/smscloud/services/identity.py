"""Identity verification (实名认证): applications and their review.

An individual proves who they are with the 18-character ID card number (GB 11643) and a
photo; an enterprise with its 18-character unified social credit code (GB 32100) and a
business licence image (the numbers are checked by ``domain/identity_numbers.py``). An
operator approves or rejects each application; approving verifies the tenant as the
application's account type (an enterprise's account takes the company's name), and every
decision is told to the tenant by email and SMS, and written to the audit log, in the same
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from smscloud.domain.identity_numbers import TYPES
from smscloud.services import notices
from smscloud.services.accounts import audit
from smscloud.store import schema as s

PENDING, APPROVED, REJECTED = 1, 0, 2


class IdentityRefusedError(Exception):
    """The application cannot be made now; ``key`` names the reason (an i18n key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def latest(conn: Connection, tenant_id: int) -> Any:
    i = s.identities
    return conn.execute(
        select(i).where(i.c.tenant_id == tenant_id).order_by(i.c.id.desc()).limit(1)
    ).first()


def refusal(conn: Connection, tenant_id: int, account_type: str) -> str | None:
    """Why ``tenant_id`` may not apply as ``account_type`` now, else None."""
    last = latest(conn, tenant_id)
    if last is not None and last.status == PENDING:
        return "err_identity_pending"
    t = s.tenants
    tenant = conn.execute(select(t.c.verified, t.c.account_type).where(t.c.id == tenant_id)).one()
    if tenant.verified and (tenant.account_type == "enterprise" or account_type == "individual"):
        return "err_identity_verified"  # only the upgrade, individual -> enterprise, remains
    return None


def submit(
    conn: Connection,
    tenant_id: int,
    account_type: str,
    name: str,
    id_number: str,
    document: str,
    now: float,
) -> int:
    """Record a pending application; raises IdentityRefusedError when one may not be made."""
    if account_type not in TYPES:
        raise IdentityRefusedError("err_type")
    if (why := refusal(conn, tenant_id, account_type)) is not None:
        raise IdentityRefusedError(why)
    result = conn.execute(
        insert(s.identities).values(
            tenant_id=tenant_id,
            account_type=account_type,
            name=name,
            id_number=id_number.upper(),
            document=document,
            status=PENDING,
            reason="",
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def pending(conn: Connection) -> list[Any]:
    i, t = s.identities, s.tenants
    return list(
        conn.execute(
            select(i, t.c.name.label("tenant_name"))
            .join(t, t.c.id == i.c.tenant_id)
            .where(i.c.status == PENDING)
            .order_by(i.c.created_at, i.c.id)
        ).all()
    )


def pending_count(conn: Connection) -> int:
    """Applications waiting for review."""
    i = s.identities
    query = select(func.count()).select_from(i).where(i.c.status == PENDING)
    return int(conn.execute(query).scalar_one())


def get(conn: Connection, identity_id: int) -> Any:
    i = s.identities
    return conn.execute(select(i).where(i.c.id == identity_id)).first()


def pending_by_tenant(conn: Connection, tenant_ids: Sequence[int]) -> dict[int, Any]:
    """The pending application (account type, name) of each of ``tenant_ids`` that has one."""
    i = s.identities
    if not tenant_ids:
        return {}
    rows = conn.execute(
        select(i.c.tenant_id, i.c.account_type, i.c.name).where(
            i.c.status == PENDING, i.c.tenant_id.in_(list(tenant_ids))
        )
    )
    return {int(r.tenant_id): r for r in rows}


def decide(
    conn: Connection,
    identity_id: int,
    approve: bool,
    reason: str,
    now: float,
    operator: str = "",
) -> bool:
    """Approve or reject a pending application; False when it is not pending (any more).

    Approving an enterprise renames the account to the company's name on its licence, in
    this same transaction, so that every page and every notice from now on (and the notice
    of this decision) call it what it is. The decision is written to the operators' audit log
    with the name before and after."""
    i, t = s.identities, s.tenants
    row = get(conn, identity_id)
    if row is None or row.status != PENDING:
        return False
    done = conn.execute(
        update(i)
        .where(i.c.id == identity_id, i.c.status == PENDING)
        .values(
            status=APPROVED if approve else REJECTED,
            reason="" if approve else reason,
            reviewed_at=now,
        )
    )
    if done.rowcount != 1:
        return False
    before = conn.execute(select(t.c.name).where(t.c.id == row.tenant_id)).scalar_one()
    detail = f"{row.account_type}: {row.name}"
    if approve:
        values: dict[str, Any] = {"verified": True, "account_type": row.account_type}
        if row.account_type == "enterprise":
            values["name"] = row.name
            if row.name != before:
                detail = f"{row.account_type}: {before} -> {row.name}"
        conn.execute(update(t).where(t.c.id == row.tenant_id).values(**values))
    action = "identity.approve" if approve else "identity.reject"
    audit.record(conn, operator or "-", action, f"tenant:{row.tenant_id}", detail, now=now)
    notices.review_decided(conn, row.tenant_id, "identity", row.name, approve, reason, now)
    return True
