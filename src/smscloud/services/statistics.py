"""Statistics as the API reports them: sends, receipts, packages.

Tencent SMS API 3.0: SendStatusStatistics, CallbackStatusStatistics, SmsPackagesStatistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Integer, and_, case, cast, func, select

from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import REPORTED, MessageState
from smscloud.domain.outcomes import (
    BLACKLIST_CODES,
    FREQUENCY_CODES,
    INVALID_NUMBER_CODES,
    SHUTDOWN_CODES,
    STATES,
    Outcome,
)
from smscloud.services.message_scope import EVERYTHING, MessageScope
from smscloud.store import schema as s
from smscloud.store.database import Database

m = s.messages
# The receipt code groups live with the outcomes (``domain.outcomes``), shared by the console's
# task progress; they are named here too for the API's statistics below.


@dataclass(frozen=True, slots=True)
class SendCounts:
    """Requests over a range (Tencent SMS API 3.0, SendStatusStatistics)."""

    fee: int  # billed parts of the accepted messages not refunded
    requests: int  # every number asked for, refused or not
    accepted: int


@dataclass(frozen=True, slots=True)
class CallbackCounts:
    """Receipts over a range, failures grouped by cause (Tencent SMS API 3.0,
    CallbackStatusStatistics)."""

    receipts: int  # accepted messages with a carrier's final receipt
    accepted: int
    failed: int
    delivered: int
    internal_errors: int  # failures in none of the groups below
    invalid_numbers: int
    shutdowns: int
    blacklisted: int
    frequency_limited: int


@dataclass(frozen=True, slots=True)
class PackageUsage:
    """One package and what of it is used (Tencent SMS API 3.0, SmsPackagesStatistics)."""

    created_at: int
    effective_at: int
    expires_at: int
    amount: int
    package_type: int  # 0 gifted, 1 purchased
    id: int
    used: int


def parse_hour(value: str, tz: ZoneInfo, *, code: str) -> float:
    """``yyyymmddhh`` in the platform's time zone -> Unix seconds of that hour's start."""
    try:
        if len(value) != 10 or not value.isdigit():
            raise ValueError(value)
        return datetime.strptime(value, "%Y%m%d%H").replace(tzinfo=tz).timestamp()
    except ValueError:
        raise RuleViolation(code, f"`{value}` is not a time in the yyyymmddhh format.") from None


def hour_range(
    begin: str, end: str, tz: ZoneInfo, *, max_days: int | None = None
) -> tuple[float, float]:
    """[start of BeginTime hour, end of EndTime hour) with Tencent's errors."""
    start = parse_hour(begin, tz, code="InvalidParameterValue.BeginTimeVerifyFail")
    stop = parse_hour(end, tz, code="InvalidParameterValue.EndTimeVerifyFail") + 3600
    if stop <= start:
        raise RuleViolation(
            "InvalidParameterValue.EndTimeVerifyFail", "EndTime must not be before BeginTime."
        )
    if max_days is not None and stop - start > max_days * 86400 + 3600:
        raise RuleViolation(
            "InvalidParameterValue.EndTimeVerifyFail",
            f"The range must not exceed {max_days} days.",
        )
    return start, stop


class Statistics:
    """Counts over ``yyyymmddhh`` ranges in the platform's time zone."""

    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self.db = db
        self.tz = tz

    async def send_statistics(self, app_id: int, begin: str, end: str) -> SendCounts:
        """Requests of one application created in the range."""
        start, stop = hour_range(begin, end, self.tz)
        accepted = m.c.state != MessageState.REFUSED
        q = select(
            func.count(),
            func.coalesce(func.sum(case((accepted, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((and_(accepted, m.c.refunded.is_(False)), m.c.parts), else_=0)), 0
            ),
        ).where(m.c.app_id == app_id, m.c.created_at >= start, m.c.created_at < stop)
        total, ok, fee = await self.db.read(lambda c: c.execute(q).one())
        return SendCounts(fee=int(fee), requests=int(total), accepted=int(ok))

    async def callback_statistics(self, app_id: int, begin: str, end: str) -> CallbackCounts:
        """Receipts of one application's messages created in the range (at most 32 days)."""
        start, stop = hour_range(begin, end, self.tz, max_days=32)
        has_receipt = and_(
            m.c.state.in_(REPORTED),
            m.c.carrier_msg_id.is_not(None),
            m.c.state != MessageState.UNKNOWN,
        )
        failed = and_(has_receipt, m.c.state != MessageState.DELIVERED)

        def count(cond: Any) -> Any:
            return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

        q = select(
            count(m.c.state != MessageState.REFUSED),
            count(has_receipt),
            count(m.c.state == MessageState.DELIVERED),
            count(failed),
            count(and_(failed, m.c.receipt_code.in_(INVALID_NUMBER_CODES))),
            count(and_(failed, m.c.receipt_code.in_(SHUTDOWN_CODES))),
            count(and_(failed, m.c.receipt_code.in_(BLACKLIST_CODES))),
            count(and_(failed, m.c.receipt_code.in_(FREQUENCY_CODES))),
        ).where(m.c.app_id == app_id, m.c.created_at >= start, m.c.created_at < stop)
        row = await self.db.read(lambda c: c.execute(q).one())
        ok, received, success, fail, invalid, shutdown, black, freq = (int(x) for x in row)
        internal = fail - invalid - shutdown - black - freq
        return CallbackCounts(
            receipts=received,
            accepted=ok,
            failed=fail,
            delivered=success,
            internal_errors=internal,
            invalid_numbers=invalid,
            shutdowns=shutdown,
            blacklisted=black,
            frequency_limited=freq,
        )

    async def package_statistics(
        self, tenant_id: int, begin: str, end: str, limit: int, offset: int
    ) -> list[PackageUsage]:
        """A page of the tenant's packages created in the range, oldest first."""
        if not 0 <= limit <= 500:
            raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "Limit must be 0 to 500.")
        if offset < 0:
            raise RuleViolation("InvalidParameterValue.OffsetVerifyFail", "Offset must be >= 0.")
        start, stop = hour_range(begin, end, self.tz)
        p = s.packages
        q = (
            select(p)
            .where(p.c.tenant_id == tenant_id, p.c.created_at >= start, p.c.created_at < stop)
            .order_by(p.c.created_at, p.c.id)
            .limit(limit)
            .offset(offset)
        )
        rows = await self.db.read(lambda c: c.execute(q).all())
        return [
            PackageUsage(
                created_at=int(r.created_at),
                effective_at=int(r.effective_at),
                expires_at=int(r.expires_at),
                amount=int(r.amount),
                package_type=int(r.package_type),
                id=int(r.id),
                used=int(r.used),
            )
            for r in rows
        ]


# -- the tenant's console: counts by quarter hour, and why messages failed ------------------------
SLOT = 900  # seconds: the console counts in quarter hours, then folds them into hours or days


@dataclass(frozen=True, slots=True)
class FailureReason:
    """A receipt code (else the request's error code, else the state) and how often."""

    reason: str
    n: int


def total(cond: Any, value: Any = 1) -> Any:
    """SQL: the sum of ``value`` over the rows where ``cond`` holds (0 when none does)."""
    return func.coalesce(func.sum(case((cond, value), else_=0)), 0)


def slot_of(conn: Connection, column: Any, width: int) -> Any:
    """SQL: the number of the ``width``-second slot a time stamp ``column`` falls in."""
    scaled = column / width
    return (
        func.floor(scaled)
        if conn.dialect.name == "postgresql"
        else cast(scaled, Integer)  # SQLite truncates: the floor, for times after 1970
    ).label("slot")


def quarter_hours(
    conn: Connection, tenant_id: int, since: float, scope: MessageScope = EVERYTHING
) -> dict[int, tuple[int, ...]]:
    """(sent, delivered, failed, billed parts) of a tenant's messages since ``since`` (of
    one application, signature or template when ``scope`` says so), by quarter hour
    (``created_at // SLOT``): one pass, however many buckets are shown, and every time zone's
    hours and days start on a quarter hour. Delivered and failed are outcomes
    (``domain.outcomes``), counted as a bulk task's progress counts them."""
    accepted = m.c.state != MessageState.REFUSED
    slot = slot_of(conn, m.c.created_at, SLOT)
    rows = conn.execute(
        select(
            slot,
            total(accepted),
            total(m.c.state.in_(STATES[Outcome.DELIVERED])),
            total(m.c.state.in_(STATES[Outcome.FAILED])),
            total(and_(accepted, m.c.refunded.is_(False)), m.c.parts),
        )
        .where(m.c.tenant_id == tenant_id, m.c.created_at >= since, *scope.conditions())
        .group_by(slot)
    )
    return {int(r[0]): tuple(int(x) for x in r[1:]) for r in rows}


def failure_reasons(
    conn: Connection,
    tenant_id: int,
    since: float,
    limit: int = 10,
    scope: MessageScope = EVERYTHING,
) -> list[FailureReason]:
    """The commonest reasons a tenant's messages since ``since`` failed, commonest first."""
    reason = case(
        (m.c.receipt_code != "", m.c.receipt_code),
        (m.c.request_code != "Ok", m.c.request_code),
        else_=m.c.state,
    )
    rows = conn.execute(
        select(reason.label("reason"), func.count().label("n"))
        .where(
            m.c.tenant_id == tenant_id,
            m.c.created_at >= since,
            m.c.state.in_(STATES[Outcome.FAILED]),
            *scope.conditions(),
        )
        .group_by(reason)
        .order_by(func.count().desc())
        .limit(limit)
    )
    return [FailureReason(str(r.reason), int(r.n)) for r in rows]
