"""Per-process cache of keys, applications, templates and signatures.

Only positive, stable facts are cached (an active key, an approved template), for a short time
to live; a miss always asks the database. So an operator's approval or a new key is usable at
once, while a disabled key or application stops working within ``ttl`` seconds in every
process. Writes made through this process call :meth:`Catalog.forget` to take effect at once.

An entry that expires under load is read once: the requests that miss it while its read is
under way wait for that read instead of each starting their own (a hundred connections all
missing one key at the same moment was a hundred reads).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from smscloud.clock import Clock, system_clock
from smscloud.domain.frequency import FrequencyPolicy
from smscloud.domain.voice_rules import VoicePolicy
from smscloud.services.billing import postpaid
from smscloud.services.metadata.records import ApiKeyRec, AppRec, SignRec, TemplateRec, TenantRec
from smscloud.store import schema as s
from smscloud.store.database import Database

T = TypeVar("T")


def load_tenant(conn: Connection, tenant_id: int) -> TenantRec | None:
    t = s.tenants
    row = conn.execute(select(t).where(t.c.id == tenant_id)).mappings().first()
    if row is None:
        return None
    return TenantRec(
        row["id"],
        row["name"],
        row["account_type"],
        row["verified"],
        row["status"],
        bool(row["sms_active"]),
    )


def load_key(conn: Connection, secret_id: str) -> ApiKeyRec | None:
    k = s.api_keys
    row = conn.execute(select(k).where(k.c.secret_id == secret_id)).mappings().first()
    if row is None:
        return None
    return ApiKeyRec(
        row["secret_id"], row["secret_key"], row["tenant_id"], row["status"] == "active"
    )


def app_from_row(row: Any) -> AppRec:
    allow = frozenset(n.strip() for n in (row["freq_allowlist"] or "").split() if n.strip())
    return AppRec(
        id=row["id"],
        sdk_app_id=row["sdk_app_id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        app_key=row["app_key"],
        active=row["status"] == "active",
        policy=FrequencyPolicy(
            same_content_30s=row["freq_30s"],
            per_hour=row["freq_hour"],
            per_day=row["freq_day"],
            same_content_per_day=row["freq_same_content_day"],
        ),
        allowlist=allow,
        max_param_length=row["max_param_length"],
        status_callback_url=row["status_callback_url"],
        reply_callback_url=row["reply_callback_url"],
        daily_limits=(
            int(row["daily_limit"]),
            int(row["mainland_daily_limit"]),
            int(row["global_daily_limit"]),
        ),
        voice_policy=VoicePolicy(
            per_30s=row["voice_per_30s"],
            per_10min=row["voice_per_10min"],
            per_day=row["voice_per_day"],
            quiet_start=int(row["voice_quiet_start"]),
            quiet_end=int(row["voice_quiet_end"]),
        ),
        voice_callback_url=row["voice_callback_url"],
    )


def load_app(conn: Connection, sdk_app_id: str) -> AppRec | None:
    a = s.applications
    row = conn.execute(select(a).where(a.c.sdk_app_id == sdk_app_id)).mappings().first()
    return None if row is None else app_from_row(row)


def load_template(conn: Connection, template_id: int) -> TemplateRec | None:
    t = s.templates
    row = (
        conn.execute(select(t).where(t.c.id == template_id, t.c.deleted.is_(False)))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return TemplateRec(
        row["id"],
        row["tenant_id"],
        row["name"],
        row["content"],
        row["sms_type"],
        row["international"],
        row["status"],
    )


def load_sign(conn: Connection, tenant_id: int, name: str, international: int) -> SignRec | None:
    g = s.signs
    row = (
        conn.execute(
            select(g)
            .where(
                g.c.tenant_id == tenant_id,
                g.c.name == name,
                g.c.international == international,
                g.c.deleted.is_(False),
            )
            .order_by(g.c.status)  # an approved (0) row wins over a pending duplicate
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    return SignRec(row["id"], row["tenant_id"], row["name"], row["international"], row["status"])


class Catalog:
    """Cached lookups; each ``get_*`` is async because a miss reads the database."""

    def __init__(
        self,
        db: Database,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        now: Clock = system_clock,
    ):
        self.db = db
        self.ttl = ttl
        self._clock = clock  # ages the entries
        self.now = now  # the platform's time, for rules (is a bill overdue?)
        self._entries: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._loading: dict[tuple[Any, ...], asyncio.Future[Any]] = {}

    def forget(self, *key: Any) -> None:
        """Drop one entry (or everything when called with no key).

        A read already under way is dropped too: it may have started before the write that
        calls this, so what it finds is neither kept nor handed to later callers.
        """
        if key:
            self._entries.pop(key, None)
            self._loading.pop(key, None)
        else:
            self._entries.clear()
            self._loading.clear()

    async def _get(
        self,
        key: tuple[Any, ...],
        load: Callable[[Connection], T | None],
        keep: Callable[[T], bool],
    ) -> T | None:
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]  # type: ignore[no-any-return]
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, load, keep, now))
            self._loading[key] = loading
            loading.add_done_callback(functools.partial(self._loaded, key))
        # Shielded: a caller that gives up (its client went away) leaves the read to the rest.
        return await asyncio.shield(loading)

    async def _load(
        self,
        key: tuple[Any, ...],
        load: Callable[[Connection], T | None],
        keep: Callable[[T], bool],
        now: float,
    ) -> T | None:
        value = await self.db.read(load)
        if self._loading.get(key) is not asyncio.current_task():
            return value  # forgotten meanwhile: answer the callers, keep nothing
        if value is not None and keep(value):
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[key] = (now + self.ttl, value)
        else:
            self._entries.pop(key, None)
        return value

    def _loaded(self, key: tuple[Any, ...], done: asyncio.Future[Any]) -> None:
        if self._loading.get(key) is done:
            del self._loading[key]
        if not done.cancelled():
            done.exception()  # every caller may have gone: the error is theirs, not the loop's

    async def key(self, secret_id: str) -> ApiKeyRec | None:
        return await self._get(
            ("key", secret_id), lambda c: load_key(c, secret_id), lambda k: k.active
        )

    async def tenant(self, tenant_id: int) -> TenantRec | None:
        return await self._get(
            ("tenant", tenant_id), lambda c: load_tenant(c, tenant_id), lambda t: t.active
        )

    async def arrears(self, tenant_id: int) -> bool:
        """Whether an overdue bill suspends the tenant (rechecked every ``ttl`` seconds, so
        sending resumes by itself soon after the bill is paid)."""
        overdue = await self._get(
            ("arrears", tenant_id),
            lambda c: postpaid.in_arrears(c, tenant_id, self.now()),
            lambda _: True,
        )
        return bool(overdue)

    async def app(self, sdk_app_id: str) -> AppRec | None:
        return await self._get(
            ("app", sdk_app_id), lambda c: load_app(c, sdk_app_id), lambda a: a.active
        )

    async def template(self, template_id: int) -> TemplateRec | None:
        return await self._get(
            ("template", template_id),
            lambda c: load_template(c, template_id),
            lambda t: t.approved,
        )

    async def sign(self, tenant_id: int, name: str, international: int) -> SignRec | None:
        return await self._get(
            ("sign", tenant_id, name, international),
            lambda c: load_sign(c, tenant_id, name, international),
            lambda g: g.approved,
        )
