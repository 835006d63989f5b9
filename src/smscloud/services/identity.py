"""Identity verification (实名认证): the numbers' checksums, applications and their review.

An individual proves who they are with the 18-character ID card number (GB 11643) and a
photo; an enterprise with its 18-character unified social credit code (GB 32100) and a
business licence image. An operator approves or rejects each application; approving verifies
the tenant as the application's account type, and every decision is told to the tenant by
email and SMS in the same transaction.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Connection, insert, select, update

from smscloud.services import notices
from smscloud.store import schema as s

PENDING, APPROVED, REJECTED = 1, 0, 2
TYPES = ("individual", "enterprise")

# -- GB 11643: citizen identification number ---------------------------------------------------
_ID_FORM = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, ...
_ID_CHECK = "10X98765432"


def id_card_check(first17: str) -> str:
    """The check character of 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def valid_id_card(number: str) -> bool:
    """An 18-character mainland ID card number: digits, a real birth date, the checksum."""
    number = number.upper()
    if not _ID_FORM.match(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    return id_card_check(number[:17]) == number[17]


# -- GB 32100: unified social credit code --------------------------------------------------------
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_FORM = re.compile(f"^[{USCC_CHARS}]{{18}}$")
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, ...


def uscc_check(first17: str) -> str:
    """The check character of the first 17 characters of a code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    """An 18-character unified social credit code with the right check character."""
    code = code.upper()
    return bool(_USCC_FORM.match(code)) and uscc_check(code[:17]) == code[17]


def valid_number(account_type: str, number: str) -> bool:
    return valid_id_card(number) if account_type == "individual" else valid_uscc(number)


# -- applications ----------------------------------------------------------------------------------
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


def get(conn: Connection, identity_id: int) -> Any:
    i = s.identities
    return conn.execute(select(i).where(i.c.id == identity_id)).first()


def decide(conn: Connection, identity_id: int, approve: bool, reason: str, now: float) -> bool:
    """Approve or reject a pending application; False when it is not pending (any more)."""
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
    if approve:
        conn.execute(
            update(t)
            .where(t.c.id == row.tenant_id)
            .values(verified=True, account_type=row.account_type)
        )
    notices.review_decided(conn, row.tenant_id, "identity", row.name, approve, reason, now)
    return True
