"""The billing side of ACCEPT: monthly free allowance, daily limits, alarms, postpaid usage.

Called from ``AcceptKind.run_many`` inside the same transaction, once per commit for each
tenant or application it touches, so none of it costs a statement per message.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Executable, bindparam, insert, select

from smscloud.domain.billing.prices import SMS_INTL
from smscloud.notify import messages
from smscloud.services import notices
from smscloud.services.billing import ledger
from smscloud.store import schema as s

APP_DAILY = "LimitExceeded.AppDailyLimit"
APP_MAINLAND_DAILY = "LimitExceeded.AppMainlandChinaDailyLimit"
APP_GLOBAL_DAILY = "LimitExceeded.AppGlobalDailyLimit"
DAILY_MESSAGES = {
    APP_DAILY: "the daily sending limit of the application is reached",
    APP_MAINLAND_DAILY: "the daily Mainland China sending limit of the application is reached",
    APP_GLOBAL_DAILY: "the daily international sending limit of the application is reached",
}
UNSUPPORTED_REGION = "UnsupportedOperation.UnsupportedRegion"
UNSUPPORTED_REGION_MESSAGE = "no price for this country or region: it cannot be sent to"
PRICE_MARK = ledger.PRICE_MARK


@dataclass(slots=True)
class Alarm:
    """One tenant's package alarm: its threshold, contacts and units left when loaded."""

    name: str
    threshold: int
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    before: int


# Read in every ACCEPT: built once, with bound parameters (see wallet._USABLE).
_ALARM = select(
    s.tenants.c.name,
    s.tenants.c.alarm_threshold,
    s.tenants.c.contact_emails,
    s.tenants.c.contact_phones,
).where(s.tenants.c.id == bindparam("tenant_id"))
_DAY_COUNTS = select(s.app_days.c.app_id, s.app_days.c.mainland, s.app_days.c.intl).where(
    s.app_days.c.day == bindparam("day"),
    s.app_days.c.app_id.in_(bindparam("apps", expanding=True)),
)


def load_alarm(conn: Connection, tenant_id: int, left: int) -> Alarm | None:
    """The tenant's alarm settings, if it has a threshold and someone to tell."""
    row = conn.execute(_ALARM, {"tenant_id": tenant_id}).first()
    if row is None or not row.alarm_threshold:
        return None
    emails = tuple(row.contact_emails.split())
    return Alarm(
        row.name, int(row.alarm_threshold), emails, tuple(row.contact_phones.split()), left
    )


def fire_alarms(
    conn: Connection, alarms: Mapping[int, Alarm], left: Mapping[int, int], now: float
) -> None:
    """One notice per tenant whose units left crossed its threshold in this commit."""
    for tenant_id, alarm in alarms.items():
        after = left[tenant_id]
        if not alarm.before > alarm.threshold >= after:
            continue
        notice = notices.Notice(
            "balance",
            {"remaining": after, "threshold": alarm.threshold},
            functools.partial(messages.package_alarm, alarm.name, after, alarm.threshold),
            messages.package_alarm_sms(after, alarm.threshold),
        )
        notices.tell(conn, tenant_id, notice, alarm.emails, alarm.phones, now)


@dataclass(slots=True)
class DayCount:
    """An application's accepted messages today, and what this commit adds."""

    limits: tuple[int, int, int]
    mainland: int
    intl: int
    added_mainland: int = 0
    added_intl: int = 0

    def refuse(self, international: bool) -> str | None:
        """The daily-limit code for one more message, or None (and it is counted)."""
        total_limit, mainland_limit, intl_limit = self.limits
        mainland = self.mainland + self.added_mainland
        intl = self.intl + self.added_intl
        code = None
        if total_limit and mainland + intl >= total_limit:
            code = APP_DAILY
        elif not international and mainland_limit and mainland >= mainland_limit:
            code = APP_MAINLAND_DAILY
        elif international and intl_limit and intl >= intl_limit:
            code = APP_GLOBAL_DAILY
        if code is None:
            if international:
                self.added_intl += 1
            else:
                self.added_mainland += 1
        return code


def day_of(now: float, tz: ZoneInfo) -> str:
    """The natural day (``YYYY-MM-DD`` in ``tz``) of ``now``."""
    return _day_of(math.floor(now), tz)  # days change on whole seconds: see day_start


@functools.lru_cache(maxsize=64)
def _day_of(second: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(second, tz).strftime("%Y-%m-%d")


def load_days(
    conn: Connection, wanted: Mapping[tuple[int, str], tuple[int, int, int]]
) -> dict[tuple[int, str], DayCount]:
    """Today's counts of the applications in this commit."""
    out = {key: DayCount(limits, 0, 0) for key, limits in wanted.items()}
    by_day: dict[str, list[int]] = defaultdict(list)
    for app_id, day in wanted:
        by_day[day].append(app_id)
    for day, apps in by_day.items():
        rows = conn.execute(_DAY_COUNTS, {"day": day, "apps": apps})
        for app_id, mainland, intl in rows:
            out[(app_id, day)].mainland, out[(app_id, day)].intl = int(mainland), int(intl)
    return out


def save_days(conn: Connection, days: Mapping[tuple[int, str], DayCount]) -> None:
    """Add this commit's accepted messages to each application's day."""
    rows = [
        {"app_id": app, "day": day, "mainland": c.added_mainland, "intl": c.added_intl}
        for (app, day), c in days.items()
        if c.added_mainland or c.added_intl
    ]
    if not rows:
        return
    conn.execute(_add_to_days(conn.dialect.name), rows)


@functools.cache
def _add_to_days(dialect: str) -> Executable:
    """The upsert adding a commit's messages to an application's day, built once."""
    d = s.app_days
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    stmt = upsert(d)
    return stmt.on_conflict_do_update(
        index_elements=[d.c.app_id, d.c.day],
        set_={
            "mainland": d.c.mainland + stmt.excluded.mainland,
            "intl": d.c.intl + stmt.excluded.intl,
        },
    )


def daily_limit_alarms(
    conn: Connection, days: Mapping[tuple[int, str], DayCount], now: float
) -> None:
    """Tell the tenant's contacts when an application first reaches a daily limit today."""
    reached = []
    for (app_id, _), c in days.items():
        counts = (
            (c.mainland + c.intl, c.mainland + c.intl + c.added_mainland + c.added_intl),
            (c.mainland, c.mainland + c.added_mainland),
            (c.intl, c.intl + c.added_intl),
        )
        for limit, (before, after) in zip(c.limits, counts, strict=True):
            if limit and before < limit <= after:  # reached in this commit: once a day
                reached.append((app_id, limit))
                break
    if not reached:
        return
    a, t = s.applications, s.tenants
    for app_id, limit in reached:
        row = conn.execute(
            select(a.c.name, a.c.tenant_id, t.c.contact_emails, t.c.contact_phones)
            .join(t, t.c.id == a.c.tenant_id)
            .where(a.c.id == app_id)
        ).first()
        if row is None:
            continue
        name = str(row.name)
        notice = notices.Notice(
            "limit",
            {"app": name, "limit": limit},
            functools.partial(messages.daily_limit_alarm, name, limit),
            messages.daily_limit_alarm_sms(name, limit),
        )
        emails, phones = row.contact_emails.split(), row.contact_phones.split()
        notices.tell(conn, int(row.tenant_id), notice, emails, phones, now)


def intl_prices(conn: Connection, iso_codes: Iterable[str]) -> dict[str, tuple[str, int]]:
    """iso code -> (nation code, unit price) of international SMS, for those priced."""
    pr = s.prices
    codes = sorted(set(iso_codes))
    if not codes:
        return {}
    rows = conn.execute(
        select(pr.c.iso_code, pr.c.nation_code, pr.c.unit_price).where(
            pr.c.product == SMS_INTL, pr.c.iso_code.in_(codes)
        )
    )
    return {iso: (nation, int(price)) for iso, nation, price in rows}


def meter(
    conn: Connection,
    metered: Mapping[tuple[int, str, str, int], int],
    now: float,
    product: str = SMS_INTL,
) -> None:
    """Usage rows: (tenant, iso, nation, unit price) -> parts (negative for a refund)."""
    if not metered:
        return
    conn.execute(
        insert(s.usage),
        [
            {
                "tenant_id": tenant,
                "product": product,
                "iso_code": iso,
                "nation_code": nation,
                "quantity": quantity,
                "unit_price": price,
                "amount": quantity * price,
                "created_at": now,
            }
            for (tenant, iso, nation, price), quantity in metered.items()
            if quantity
        ],
    )


def refund_usage(
    conn: Connection, refunds: Sequence[tuple[int, str, str, str, int]], now: float
) -> None:
    """(tenant, iso, nation, debits, parts) of refused postpaid messages: negative usage."""
    back: dict[tuple[int, str, str, int], int] = defaultdict(int)
    for tenant, iso, nation, debits, parts in refunds:
        for item in debits.split(","):
            if item.startswith(PRICE_MARK):
                back[(tenant, iso, nation, int(item[1:]))] -= parts
    meter(conn, back, now)
