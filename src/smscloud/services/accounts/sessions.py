"""Console sessions kept in the database, so that ending one takes effect at its next request
in every process.

A session's cookie holds a random token; its row (``console_sessions``) is keyed by the
token's SHA-256, so the table opens no session to whoever reads it. A request is signed in
only while its row exists, its account still does (and, for a tenant user, the tenant is
active), and it is neither idle nor too old (``domain/session_expiry.py``).

Ending sessions deletes rows: log-out its own, a password change every session of the user
(the changer gets a new one in the same transaction), suspending a tenant every session of
its users. A log-in racing one of those cannot leave a session behind: ``start`` opens a
session only if, in its own transaction, the password hash it verified is still the stored
one and the tenant still active, reading those rows under a share lock on PostgreSQL (the
change or suspension holds their row lock until it commits; on SQLite the writer holds the
database's write lock). The per-request check of the tenant's status closes what is left.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, func, insert, select, update

from smscloud.domain.session_expiry import SessionLimits
from smscloud.store import schema as s

__all__ = [
    "OPERATOR",
    "TENANT",
    "SignedIn",
    "change_password",
    "end",
    "end_tenant",
    "load",
    "start",
    "token_key",
    "touch",
]

TENANT, OPERATOR = "tenant", "operator"
cs = s.console_sessions


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live session's record: whose it is and its times."""

    key: str
    realm: str
    user_id: int
    tenant_id: int | None  # the tenant of a tenant user; None for an operator
    created_at: float
    seen_at: float
    unread: int = 0  # the tenant's unread console messages, shown in every page's header


def token_key(token: str) -> str:
    """The row key of a session token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def _users(realm: str) -> Table:
    if realm == TENANT:
        return s.tenant_users
    if realm == OPERATOR:
        return s.operators
    raise ValueError(f"no such realm: {realm}")


def _insert(conn: Connection, realm: str, user_id: int, now: float) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(cs).values(
            id=token_key(token), realm=realm, user_id=user_id, created_at=now, seen_at=now
        )
    )
    return token


def start(
    conn: Connection,
    realm: str,
    user_id: int,
    proven_hash: str,
    now: float,
    limits: SessionLimits,
    *,
    new_hash: str | None = None,
) -> str | None:
    """Open a session for a user whose password matched ``proven_hash`` (and store
    ``new_hash`` in its place, when the old one should be upgraded): the cookie's token, or
    None when the account changed meanwhile (password changed, tenant suspended, removed)."""
    users = _users(realm)
    conn.execute(delete(cs).where(cs.c.created_at < now - limits.lifetime))  # long dead
    if new_hash is not None:
        upgraded = conn.execute(
            update(users)
            .where(users.c.id == user_id, users.c.password_hash == proven_hash)
            .values(password_hash=new_hash)
        ).rowcount
        if not upgraded:
            return None
    still = select(users.c.id).where(
        users.c.id == user_id, users.c.password_hash == (new_hash or proven_hash)
    )
    if realm == TENANT:
        t = s.tenants
        still = still.join_from(users, t, t.c.id == users.c.tenant_id).where(t.c.status == "active")
    if conn.execute(still.with_for_update(read=True)).first() is None:
        return None
    return _insert(conn, realm, user_id, now)


def load(conn: Connection, key: str, realm: str) -> SignedIn | None:
    """The session with row key ``key`` in ``realm`` if its account still stands (expiry
    is the caller's to judge, with the times returned)."""
    users = _users(realm)
    query = (
        select(cs.c.user_id, cs.c.created_at, cs.c.seen_at)
        .join_from(cs, users, users.c.id == cs.c.user_id)
        .where(cs.c.id == key, cs.c.realm == realm)
    )
    if realm == TENANT:
        t, m = s.tenants, s.console_messages
        # Read with the session, in the same round trip (ix_console_messages_tenant).
        unread = (
            select(func.count())
            .where(m.c.tenant_id == users.c.tenant_id, m.c.read_at.is_(None))
            .scalar_subquery()
        )
        query = (
            query.add_columns(users.c.tenant_id, unread.label("unread"))
            .join(t, t.c.id == users.c.tenant_id)
            .where(t.c.status == "active")
        )
    row = conn.execute(query).first()
    if row is None:
        return None
    tenant_id = int(row.tenant_id) if realm == TENANT else None
    return SignedIn(
        key,
        realm,
        int(row.user_id),
        tenant_id,
        float(row.created_at),
        float(row.seen_at),
        int(row.unread) if realm == TENANT else 0,
    )


def touch(conn: Connection, key: str, now: float) -> None:
    """Record a request of the session at ``now``."""
    conn.execute(update(cs).where(cs.c.id == key, cs.c.seen_at < now).values(seen_at=now))


def end(conn: Connection, key: str) -> None:
    """End one session (log-out, or found expired)."""
    conn.execute(delete(cs).where(cs.c.id == key))


def change_password(conn: Connection, user_id: int, new_hash: str, now: float) -> str:
    """Store a tenant user's new password hash, end every session of the user, and open a
    new one for the browser that changed it: its token."""
    u = s.tenant_users
    conn.execute(update(u).where(u.c.id == user_id).values(password_hash=new_hash))
    conn.execute(delete(cs).where(cs.c.realm == TENANT, cs.c.user_id == user_id))
    return _insert(conn, TENANT, user_id, now)


def end_tenant(conn: Connection, tenant_id: int) -> int:
    """End every session of a tenant's users (the tenant is being suspended): how many."""
    u = s.tenant_users
    users = select(u.c.id).where(u.c.tenant_id == tenant_id).scalar_subquery()
    return int(
        conn.execute(delete(cs).where(cs.c.realm == TENANT, cs.c.user_id.in_(users))).rowcount
    )
