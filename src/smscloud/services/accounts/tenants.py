"""Tenants, API keys, applications, packages and operators: the operator's primitives.

Plain functions over a connection, so the CLI, the seed and the tests share them.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from smscloud.clock import system_clock
from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks
from smscloud.domain.callback_urls import judge_url
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.services.accounts.passwords import hash_password
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

SDK_APP_ID_BASE = 1400000000
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class NewTenant:
    """A tenant just created."""

    id: int
    name: str
    account_type: str  # "individual" or "enterprise"
    verified: bool


@dataclass(frozen=True, slots=True)
class Alarm:
    """A tenant's package alarm as saved: phones in E.164."""

    tenant_id: int
    threshold: int
    emails: tuple[str, ...]
    phones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DailyLimits:
    """An application's daily limits as saved (0: none)."""

    sdk_app_id: str
    daily: int
    mainland: int
    international: int


@dataclass(frozen=True, slots=True)
class NewKey:
    """A SecretId/SecretKey pair just made; the key is shown once."""

    tenant_id: int
    secret_id: str
    secret_key: str


@dataclass(frozen=True, slots=True)
class NewApp:
    """An application just created, with its SdkAppId and AppKey."""

    id: int
    tenant_id: int
    name: str
    sdk_app_id: str
    app_key: str


@dataclass(frozen=True, slots=True)
class NewOperator:
    """An operator account just created; the password is shown once."""

    username: str
    password: str


def _token(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def create_tenant(
    conn: Connection,
    name: str,
    account_type: str,
    *,
    verified: bool = False,
    sms_active: bool = True,
    now: float | None = None,
) -> NewTenant:
    """A new tenant, active unless ``sms_active`` is False."""
    if account_type not in ("individual", "enterprise"):
        raise RuleViolation("InvalidParameter", "type must be individual or enterprise")
    now = system_clock() if now is None else now
    tid = inserted_id(
        conn.execute(
            insert(s.tenants).values(
                name=name,
                account_type=account_type,
                verified=verified,
                status="active",
                created_at=now,
                sms_active=sms_active,
            )
        )
    )
    return NewTenant(id=int(tid), name=name, account_type=account_type, verified=verified)


def _tenant_exists(conn: Connection, tenant_id: int) -> None:
    if conn.execute(select(s.tenants.c.id).where(s.tenants.c.id == tenant_id)).first() is None:
        raise RuleViolation("ResourceNotFound", f"No tenant with id {tenant_id}.")


def set_alarm(
    conn: Connection, tenant_id: int, threshold: int, emails: Sequence[str], phones: Sequence[str]
) -> Alarm:
    """The package alarm: a threshold of units left (0: off) and whom to tell."""
    _tenant_exists(conn, tenant_id)
    if threshold < 0:
        raise RuleViolation("InvalidParameterValue", "the threshold cannot be negative")
    bad = [e for e in emails if "@" not in e or len(e) > 254]
    if bad:
        raise RuleViolation("InvalidParameterValue", f"not an email address: {bad[0]}")
    numbers = []
    for raw in phones:
        try:
            numbers.append(parse_phone(raw).e164)
        except RuleViolation:
            raise RuleViolation("InvalidParameterValue", f"not a phone number: {raw}") from None
    conn.execute(
        update(s.tenants)
        .where(s.tenants.c.id == tenant_id)
        .values(
            alarm_threshold=threshold,
            contact_emails="\n".join(emails),
            contact_phones="\n".join(numbers),
        )
    )
    return Alarm(
        tenant_id=tenant_id, threshold=threshold, emails=tuple(emails), phones=tuple(numbers)
    )


def set_daily_limits(
    conn: Connection, sdk_app_id: str, total: int, mainland: int, international: int
) -> DailyLimits:
    """An application's daily limits (0: none): all messages, mainland ones, international."""
    if min(total, mainland, international) < 0:
        raise RuleViolation("InvalidParameterValue", "limits cannot be negative")
    a = s.applications
    done = conn.execute(
        update(a)
        .where(a.c.sdk_app_id == sdk_app_id)
        .values(daily_limit=total, mainland_daily_limit=mainland, global_daily_limit=international)
    )
    if done.rowcount != 1:
        raise RuleViolation("ResourceNotFound", f"No application {sdk_app_id}.")
    return DailyLimits(
        sdk_app_id=sdk_app_id, daily=total, mainland=mainland, international=international
    )


def create_key(conn: Connection, tenant_id: int, *, now: float | None = None) -> NewKey:
    """A new SecretId/SecretKey pair in Tencent's shapes (AKID + 32, 32 characters)."""
    _tenant_exists(conn, tenant_id)
    secret_id = "AKID" + _token(32)
    secret_key = _token(32)
    conn.execute(
        insert(s.api_keys).values(
            secret_id=secret_id,
            tenant_id=tenant_id,
            secret_key=secret_key,
            status="active",
            created_at=system_clock() if now is None else now,
        )
    )
    return NewKey(tenant_id=tenant_id, secret_id=secret_id, secret_key=secret_key)


def check_callback_url(url: str, allowed: AllowedNetworks = NO_NETWORKS) -> str:
    """A callback URL the pusher may use (see ``domain/callback_urls.py``), or empty for none;
    ``allowed`` is the operator's ``SMSCLOUD_CALLBACK_ALLOWED_NETWORKS``."""
    if url:
        judge_url(url, allowed)
    return url


def create_app(
    conn: Connection,
    tenant_id: int,
    name: str,
    *,
    allowed_networks: AllowedNetworks = NO_NETWORKS,
    now: float | None = None,
    **settings: Any,
) -> NewApp:
    """A new application with its SdkAppId and AppKey; callback URLs are checked against
    ``allowed_networks`` (the operator's setting)."""
    _tenant_exists(conn, tenant_id)
    for key in ("status_callback_url", "reply_callback_url"):
        check_callback_url(settings.get(key) or "", allowed_networks)
    a = s.applications
    top = conn.execute(select(func.max(a.c.id))).scalar() or 0
    sdk_app_id = str(SDK_APP_ID_BASE + int(top) + 1)
    app_key = secrets.token_hex(16)
    values = {
        "sdk_app_id": sdk_app_id,
        "tenant_id": tenant_id,
        "name": name,
        "app_key": app_key,
        "status": "active",
        "created_at": system_clock() if now is None else now,
    } | settings
    app_id = inserted_id(conn.execute(insert(a).values(**values)))
    return NewApp(
        id=int(app_id), tenant_id=tenant_id, name=name, sdk_app_id=sdk_app_id, app_key=app_key
    )


def create_operator(
    conn: Connection, username: str, password: str, *, now: float | None = None
) -> None:
    """An operator account with the password given."""
    conn.execute(
        insert(s.operators).values(
            username=username,
            password_hash=hash_password(password),
            created_at=system_clock() if now is None else now,
        )
    )


def add_operator(conn: Connection, username: str, *, now: float | None = None) -> NewOperator:
    """A new operator account with a random password (returned, shown once)."""
    username = username.strip()
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{1,64}", username):
        raise RuleViolation("InvalidParameter", "username: 1-64 letters, digits or _ . @ -")
    o = s.operators
    if conn.execute(select(o.c.id).where(o.c.username == username)).first() is not None:
        raise RuleViolation("ResourceInUse", f"an operator named {username!r} exists")
    password = new_password()
    create_operator(conn, username, password, now=now)
    return NewOperator(username=username, password=password)


def create_tenant_user(
    conn: Connection, tenant_id: int, email: str, password: str, *, now: float | None = None
) -> None:
    """A console user of the tenant, signing in with ``email`` and ``password``."""
    _tenant_exists(conn, tenant_id)
    conn.execute(
        insert(s.tenant_users).values(
            tenant_id=tenant_id,
            email=email,
            password_hash=hash_password(password),
            created_at=system_clock() if now is None else now,
        )
    )


def new_password() -> str:
    """A random password of 12 letters and digits."""
    return _token(12)


# -- what the console shows of tenants --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TenantProfile:
    """A tenant's own row: its account, status, package alarm and SMS switch."""

    id: int
    name: str
    account_type: str  # individual | enterprise
    verified: bool
    status: str  # active | suspended
    created_at: float
    alarm_threshold: int
    contact_emails: str  # one a line
    contact_phones: str  # E.164, one a line
    sms_active: bool


@dataclass(frozen=True, slots=True)
class TenantSummary:
    """A line of the operator's overview: the tenant and the email of its first user."""

    id: int
    name: str
    account_type: str
    verified: bool
    status: str
    created_at: float
    email: str | None


@dataclass(frozen=True, slots=True)
class KeySummary:
    """An API key as its owner's list shows it (the SecretKey is shown only when made)."""

    secret_id: str
    status: str
    created_at: float


def _profile(row: Any) -> TenantProfile:
    return TenantProfile(
        id=int(row.id),
        name=str(row.name),
        account_type=str(row.account_type),
        verified=bool(row.verified),
        status=str(row.status),
        created_at=float(row.created_at),
        alarm_threshold=int(row.alarm_threshold),
        contact_emails=str(row.contact_emails or ""),
        contact_phones=str(row.contact_phones or ""),
        sms_active=bool(row.sms_active),
    )


def tenant_profile(conn: Connection, tenant_id: int) -> TenantProfile:
    """The tenant ``tenant_id`` (it must exist: a signed-in user's tenant does)."""
    t = s.tenants
    return _profile(conn.execute(select(t).where(t.c.id == tenant_id)).one())


def list_tenants(conn: Connection, limit: int) -> list[TenantProfile]:
    """The newest ``limit`` tenants, newest first."""
    t = s.tenants
    return [_profile(r) for r in conn.execute(select(t).order_by(t.c.id.desc()).limit(limit))]


def count_tenants(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(s.tenants)).scalar_one())


def tenant_summaries(conn: Connection, limit: int) -> list[TenantSummary]:
    """The newest ``limit`` tenants with the email of their first user, newest first."""
    t, u = s.tenants, s.tenant_users
    email = (
        select(func.min(u.c.email)).where(u.c.tenant_id == t.c.id).correlate(t).scalar_subquery()
    )
    rows = conn.execute(
        select(
            t.c.id,
            t.c.name,
            t.c.account_type,
            t.c.verified,
            t.c.status,
            t.c.created_at,
            email.label("email"),
        )
        .order_by(t.c.id.desc())
        .limit(limit)
    )
    return [
        TenantSummary(
            int(r.id),
            str(r.name),
            str(r.account_type),
            bool(r.verified),
            str(r.status),
            float(r.created_at),
            None if r.email is None else str(r.email),
        )
        for r in rows
    ]


def tenant_names(conn: Connection, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Tenants' names by id: of ``ids``, or of every tenant."""
    t = s.tenants
    query = select(t.c.id, t.c.name)
    if ids is not None:
        query = query.where(t.c.id.in_(list(ids)))
    return {int(i): str(n) for i, n in conn.execute(query)}


def activate_sms(conn: Connection, tenant_id: int) -> bool:
    """Switch SMS on for a verified tenant; False when it is not verified."""
    t = s.tenants
    done = conn.execute(
        update(t).where(t.c.id == tenant_id, t.c.verified.is_(True)).values(sms_active=True)
    )
    return bool(done.rowcount)


def sms_active(conn: Connection, tenant_id: int) -> bool:
    t = s.tenants
    return bool(conn.execute(select(t.c.sms_active).where(t.c.id == tenant_id)).scalar())


def set_status(conn: Connection, tenant_id: int, status: str) -> str | None:
    """Set a tenant's status (active | suspended); its name, or None when there is no such
    tenant."""
    t = s.tenants
    name = conn.execute(select(t.c.name).where(t.c.id == tenant_id)).scalar()
    if name is None:
        return None
    conn.execute(update(t).where(t.c.id == tenant_id).values(status=status))
    return str(name)


def tenant_keys(conn: Connection, tenant_id: int) -> list[KeySummary]:
    """A tenant's API keys, newest first."""
    k = s.api_keys
    rows = conn.execute(
        select(k.c.secret_id, k.c.status, k.c.created_at)
        .where(k.c.tenant_id == tenant_id)
        .order_by(k.c.created_at.desc())
    )
    return [KeySummary(str(r.secret_id), str(r.status), float(r.created_at)) for r in rows]
