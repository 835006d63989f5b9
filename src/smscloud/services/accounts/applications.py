"""A tenant's applications as its console reads and changes them.

Every read is scoped to the tenant: another tenant's SdkAppId is not found, like one that
never existed. Creating an application and its daily limits are ``tenants.py``; the send path
reads applications through the metadata cache (``services/metadata/cache.py``), which a
caller tells to forget after a change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, select, update

from smscloud.store import schema as s

# What a tenant may change from its settings page (Tencent SMS console, application settings).
SETTINGS = frozenset(
    {
        "status_callback_url",
        "reply_callback_url",
        "voice_callback_url",
        "voice_per_30s",
        "voice_per_10min",
        "voice_per_day",
        "voice_quiet_start",
        "voice_quiet_end",
        "freq_30s",
        "freq_hour",
        "freq_day",
        "freq_same_content_day",
        "freq_allowlist",
        "app_key",
    }
)


@dataclass(frozen=True, slots=True)
class AppSummary:
    """An application as the tenant's lists show it."""

    name: str
    sdk_app_id: str
    status: str
    created_at: float


@dataclass(frozen=True, slots=True)
class AppSettings:
    """An application with every setting its owner may see and change."""

    id: int
    sdk_app_id: str
    tenant_id: int
    name: str
    app_key: str
    status: str
    freq_30s: int | None  # None: that frequency dimension is off
    freq_hour: int | None
    freq_day: int | None
    freq_same_content_day: int | None
    freq_allowlist: str  # E.164 numbers, one a line
    max_param_length: int | None
    status_callback_url: str
    reply_callback_url: str
    voice_callback_url: str
    voice_per_30s: int | None  # None: that limit is off
    voice_per_10min: int | None
    voice_per_day: int | None
    voice_quiet_start: int  # minutes after local midnight; equal ends: no quiet hours
    voice_quiet_end: int
    created_at: float
    daily_limit: int  # 0: none
    mainland_daily_limit: int
    global_daily_limit: int


def _summary(row: Any) -> AppSummary:
    return AppSummary(str(row.name), str(row.sdk_app_id), str(row.status), float(row.created_at))


def tenant_apps(conn: Connection, tenant_id: int) -> list[AppSummary]:
    """A tenant's applications, oldest first."""
    a = s.applications
    rows = conn.execute(
        select(a.c.name, a.c.sdk_app_id, a.c.status, a.c.created_at)
        .where(a.c.tenant_id == tenant_id)
        .order_by(a.c.id)
    )
    return [_summary(r) for r in rows]


def tenant_app(conn: Connection, tenant_id: int, sdk_app_id: str) -> AppSummary | None:
    """The tenant's application ``sdk_app_id``, or None."""
    a = s.applications
    row = conn.execute(
        select(a.c.name, a.c.sdk_app_id, a.c.status, a.c.created_at).where(
            a.c.tenant_id == tenant_id, a.c.sdk_app_id == sdk_app_id
        )
    ).first()
    return None if row is None else _summary(row)


def app_settings(conn: Connection, tenant_id: int, sdk_app_id: str) -> AppSettings | None:
    """The tenant's application ``sdk_app_id`` with its settings, or None."""
    a = s.applications
    row = conn.execute(
        select(a).where(a.c.tenant_id == tenant_id, a.c.sdk_app_id == sdk_app_id)
    ).first()
    if row is None:
        return None
    return AppSettings(**{f.name: row._mapping[f.name] for f in fields(AppSettings)})


def change_settings(conn: Connection, app_id: int, values: dict[str, Any]) -> None:
    """Write some of an application's ``SETTINGS`` (checked by the caller)."""
    unknown = set(values) - SETTINGS
    if unknown:
        raise ValueError(f"not an application setting: {sorted(unknown)}")
    a = s.applications
    conn.execute(update(a).where(a.c.id == app_id).values(**values))
