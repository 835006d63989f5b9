"""The people who log in: tenant users (by email) and operators (by user name).

What the console's log-in, sign-up and password pages read and write. Checking a password
is ``passwords.py``; the sessions it opens are ``sessions.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from smscloud.services.accounts import tenants
from smscloud.store import schema as s


class EmailTakenError(Exception):
    """Another tenant user already signs in with this email."""


@dataclass(frozen=True, slots=True)
class TenantLogin:
    """A tenant user as a log-in sees it: whose password to check, and its tenant's status."""

    id: int
    tenant_id: int
    password_hash: str
    status: str  # the tenant's: active | suspended


@dataclass(frozen=True, slots=True)
class OperatorLogin:
    id: int
    password_hash: str


def tenant_login(conn: Connection, email: str) -> TenantLogin | None:
    """The tenant user who signs in with ``email``, or None."""
    u, t = s.tenant_users, s.tenants
    row = conn.execute(
        select(u.c.id, u.c.tenant_id, u.c.password_hash, t.c.status)
        .join_from(u, t, t.c.id == u.c.tenant_id)
        .where(u.c.email == email)
    ).first()
    if row is None:
        return None
    return TenantLogin(int(row.id), int(row.tenant_id), str(row.password_hash), str(row.status))


def operator_login(conn: Connection, username: str) -> OperatorLogin | None:
    """The operator named ``username``, or None."""
    o = s.operators
    row = conn.execute(select(o.c.id, o.c.password_hash).where(o.c.username == username)).first()
    return None if row is None else OperatorLogin(int(row.id), str(row.password_hash))


def password_hash(conn: Connection, user_id: int) -> str | None:
    """A tenant user's stored password hash (None: no such user)."""
    u = s.tenant_users
    found = conn.execute(select(u.c.password_hash).where(u.c.id == user_id)).scalar()
    return None if found is None else str(found)


def sign_up(
    conn: Connection, email: str, name: str, account_type: str, password_hash: str, now: float
) -> int:
    """A new tenant (SMS not yet active) and its first user; the tenant's id.
    Raises ``EmailTakenError`` when the email is in use."""
    u = s.tenant_users
    if conn.execute(select(u.c.id).where(u.c.email == email)).first():
        raise EmailTakenError
    tenant = tenants.create_tenant(conn, name, account_type, sms_active=False, now=now)
    conn.execute(
        insert(u).values(
            tenant_id=tenant.id, email=email, password_hash=password_hash, created_at=now
        )
    )
    return int(tenant.id)
