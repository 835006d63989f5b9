"""Delivery reports, replies and send records, as the API serves them (pull queues)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select, update

from smscloud.clock import Clock, system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import REPORTED, MessageState
from smscloud.domain.templates import mask_rendered
from smscloud.store import schema as s
from smscloud.store.database import Database

m, rp = s.messages, s.replies
PULL_MAX = 100
BY_PHONE_DAYS = 7
RECORD_HOURS = 72


def pull_limit(limit: int) -> int:
    if not 0 < limit <= PULL_MAX:
        raise RuleViolation(
            "InvalidParameterValue.LimitVerifyFail", f"Limit must be between 1 and {PULL_MAX}."
        )
    return limit


def _window(begin: int, end: int | None, now: float, days: float) -> tuple[float, float]:
    stop = float(end) if end else now
    if stop < begin:
        raise RuleViolation(
            "InvalidParameterValue.InvalidStartTime", "BeginTime must not be after EndTime."
        )
    return max(float(begin), now - days * 86400), stop


def status_item(row: Any) -> dict[str, Any]:
    nation = row.nation_code
    phone = row.phone
    return {
        "UserReceiveTime": int(row.receive_time or row.done_at or 0),
        "CountryCode": nation,
        "SubscriberNumber": phone[len(nation) + 1 :] if nation else phone,
        "PhoneNumber": phone,
        "SerialNo": row.serial_no,
        "ReportStatus": "SUCCESS" if row.state == MessageState.DELIVERED else "FAIL",
        "Description": row.receipt_code or row.state,
        "SessionContext": row.session_context,
    }


def push_status_item(item: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """A pulled report in the status callback's shape (§4.2), as the v5 pulls return it."""
    received = item["UserReceiveTime"]
    return {
        "user_receive_time": (
            datetime.fromtimestamp(received, tz).strftime("%Y-%m-%d %H:%M:%S") if received else ""
        ),
        "nationcode": item["CountryCode"],
        "mobile": item["SubscriberNumber"],
        "report_status": item["ReportStatus"],
        "errmsg": item["Description"],
        "description": RECEIPT_TEXT.get(item["Description"], item["Description"]),
        "sid": item["SerialNo"],
    }


def push_reply_item(item: dict[str, Any]) -> dict[str, Any]:
    """A pulled reply in the reply callback's shape (§4.3)."""
    return {
        "extend": item["ExtendCode"],
        "mobile": item["SubscriberNumber"],
        "nationcode": item["CountryCode"],
        "sign": item["SignName"],
        "text": item["ReplyContent"],
        "time": item["ReplyTime"],
    }


# Human text for the common receipt codes (the callback's ``description``): the carrier's
# words (SMPP 3.4 Appendix B stat), not message states.
RECEIPT_TEXT = {
    "DELIVRD": "用户短信送达成功",
    "UNDELIV": "空号、停机或关机",
    "EXPIRED": "短信超过有效期，用户手机不可达",
    "REJECTD": "短信被拒绝",
    "UNKNOWN": "未知状态",
}


def reply_item(row: Any) -> dict[str, Any]:
    nation = row.nation_code
    return {
        "ExtendCode": row.extend_code,
        "CountryCode": nation,
        "PhoneNumber": row.phone,
        "SignName": row.sign_name,
        "ReplyContent": row.content,
        "ReplyTime": int(row.reply_time),
        "SubscriberNumber": row.phone[len(nation) + 1 :] if nation else row.phone,
    }


_STATUS_COLS = (
    m.c.id,
    m.c.phone,
    m.c.nation_code,
    m.c.serial_no,
    m.c.state,
    m.c.receipt_code,
    m.c.receive_time,
    m.c.done_at,
    m.c.session_context,
)


def take_status_reports(conn: Connection, app_id: int, limit: int) -> list[dict[str, Any]]:
    """Queue pull: each final report is returned once (§4.1)."""
    rows = conn.execute(
        select(*_STATUS_COLS)
        .where(m.c.app_id == app_id, s.REPORT_PENDING)
        .order_by(m.c.id)
        .limit(limit)
    ).all()
    if rows:
        conn.execute(update(m).where(m.c.id.in_([r.id for r in rows])).values(report_state=2))
    return [status_item(r) for r in rows]


def take_replies(conn: Connection, app_id: int, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(rp).where(rp.c.app_id == app_id, s.REPLY_PENDING).order_by(rp.c.id).limit(limit)
    ).all()
    if rows:
        conn.execute(update(rp).where(rp.c.id.in_([r.id for r in rows])).values(pulled=1))
    return [reply_item(r) for r in rows]


class Reports:
    """Read side of the API."""

    def __init__(self, db: Database, tz: ZoneInfo, clock: Clock = system_clock):
        self.db = db
        self.tz = tz
        self.clock = clock

    async def pull_status(self, app_id: int, limit: int) -> list[dict[str, Any]]:
        n = pull_limit(limit)
        return await self.db.write(lambda c: take_status_reports(c, app_id, n))

    async def pull_replies(self, app_id: int, limit: int) -> list[dict[str, Any]]:
        n = pull_limit(limit)
        return await self.db.write(lambda c: take_replies(c, app_id, n))

    async def status_by_phone(
        self, app_id: int, phone: str, begin: int, end: int | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        n = pull_limit(limit)
        start, stop = _window(begin, end, self.clock(), BY_PHONE_DAYS)
        q = (
            select(*_STATUS_COLS)
            .where(
                m.c.app_id == app_id,
                m.c.phone == phone,
                m.c.state.in_(REPORTED),
                m.c.created_at >= start,
                m.c.created_at <= stop,
            )
            .order_by(m.c.created_at)
            .limit(n)
            .offset(max(offset, 0))
        )
        rows = await self.db.read(lambda c: c.execute(q).all())
        return [status_item(r) for r in rows]

    async def replies_by_phone(
        self, app_id: int, phone: str, begin: int, end: int | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        n = pull_limit(limit)
        start, stop = _window(begin, end, self.clock(), BY_PHONE_DAYS)
        q = (
            select(rp)
            .where(
                rp.c.app_id == app_id,
                rp.c.phone == phone,
                rp.c.reply_time >= start,
                rp.c.reply_time <= stop,
            )
            .order_by(rp.c.reply_time)
            .limit(n)
            .offset(max(offset, 0))
        )
        rows = await self.db.read(lambda c: c.execute(q).all())
        return [reply_item(r) for r in rows]

    async def send_records(
        self, app_id: int, phone: str, begin: int, end: int | None, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        if not 1 <= limit <= 50:
            raise RuleViolation("InvalidParameterValue.LimitVerifyFail", "Limit must be 1 to 50.")
        if not 0 <= offset <= 1000:
            raise RuleViolation(
                "InvalidParameterValue.OffsetVerifyFail", "Offset must be 0 to 1000."
            )
        now = self.clock()
        if begin < now - RECORD_HOURS * 3600 - 60:
            raise RuleViolation(
                "InvalidParameterValue.BeginTimeVerifyFail",
                f"BeginTime must be within the last {RECORD_HOURS} hours.",
            )
        stop = float(end) if end else now
        if stop < begin:
            raise RuleViolation(
                "InvalidParameterValue.EndTimeVerifyFail", "EndTime must not be before BeginTime."
            )
        where = and_(
            m.c.app_id == app_id,
            m.c.phone == phone,
            m.c.created_at >= begin,
            m.c.created_at <= stop,
        )

        def read(conn: Connection) -> tuple[int, list[Any], dict[int, str]]:
            total = conn.execute(select(func.count()).where(where)).scalar_one()
            rows = conn.execute(
                select(m).where(where).order_by(m.c.created_at.desc()).limit(limit).offset(offset)
            ).all()
            t = s.templates
            ids = list({r.template_id for r in rows})
            bodies = dict(conn.execute(select(t.c.id, t.c.content).where(t.c.id.in_(ids))).all())
            return min(int(total), 1000), list(rows), bodies

        total, rows, bodies = await self.db.read(read)
        return total, [self._record(r, bodies.get(r.template_id)) for r in rows]

    @staticmethod
    def _record(r: Any, template: str | None) -> dict[str, Any]:
        if r.state == MessageState.REFUSED:
            status = 1
        elif r.state == MessageState.DELIVERED:
            status = 2
        elif r.state in REPORTED:
            status = 4
        else:
            status = 3
        return {
            "PhoneNumber": r.phone,
            "SerialNo": r.serial_no if r.state != MessageState.REFUSED else "",
            "SendStatus": status,
            "RequestCode": r.request_code,
            "StatusCode": r.receipt_code if status in (2, 4) else "",
            "IsoCode": r.iso_code,
            # Values are masked as Tencent does: a record list must not hand out codes.
            "Content": mask_rendered(r.content, template or ""),
            "SendTime": int(r.created_at),
            "UserReceiveTime": int(r.receive_time or 0) if status == 2 else 0,
        }

    async def report_conversion(self, app_id: int, serial_no: str, at: int | None) -> None:
        when = float(at) if at else self.clock()
        c = s.conversions

        def write(conn: Connection) -> None:
            found = conn.execute(
                select(m.c.id).where(m.c.serial_no == serial_no, m.c.app_id == app_id)
            ).first()
            if found is None:
                raise RuleViolation(
                    "InvalidParameterValue", "SerialNo does not belong to this application."
                )
            conn.execute(c.delete().where(c.c.serial_no == serial_no))
            conn.execute(
                c.insert().values(serial_no=serial_no, app_id=app_id, conversion_time=when)
            )

        await self.db.write(write)
