"""Statistics as the API reports them: sends, receipts, packages (§2.16–§2.18, §4.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select

from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import REPORTED, MessageState
from smscloud.store import schema as s
from smscloud.store.database import Database

m = s.messages
# Receipt codes (the carrier's words, not message states) grouped as CallbackStatusStatistics
# counts them (§4.6).
INVALID_NUMBER_CODES = ("UNDELIV", "UNDELIVRD", "MK:0001", "MK:0012", "MK:0013")
SHUTDOWN_CODES = ("EXPIRED", "MI:0013", "MI:0024", "MK:0004", "MK:0011")
BLACKLIST_CODES = ("BWLIST", "MX:0012", "TD:0001", "TUIDING", "W-BLACK")
FREQUENCY_CODES = ("MX:0003", "TE:0003")


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

    async def send_statistics(self, app_id: int, begin: str, end: str) -> dict[str, int]:
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
        return {"FeeCount": int(fee), "RequestCount": int(total), "RequestSuccessCount": int(ok)}

    async def callback_statistics(self, app_id: int, begin: str, end: str) -> dict[str, int]:
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
        return {
            "CallbackCount": received,
            "RequestSuccessCount": ok,
            "CallbackFailCount": fail,
            "CallbackSuccessCount": success,
            "InternalErrorCount": internal,
            "InvalidNumberCount": invalid,
            "ShutdownErrorCount": shutdown,
            "BlackListCount": black,
            "FrequencyLimitCount": freq,
        }

    async def package_statistics(
        self, tenant_id: int, begin: str, end: str, limit: int, offset: int
    ) -> list[dict[str, int]]:
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
            {
                "PackageCreateTime": int(r.created_at),
                "PackageEffectiveTime": int(r.effective_at),
                "PackageExpiredTime": int(r.expires_at),
                "PackageAmount": int(r.amount),
                "PackageType": int(r.package_type),
                "PackageId": int(r.id),
                "CurrentUsage": int(r.used),
            }
            for r in rows
        ]
