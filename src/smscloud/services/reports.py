"""Delivery reports, replies and send records, as the API serves them (pull queues)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select, update

from smscloud.clock import Clock, system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import REPORTED, MessageState
from smscloud.domain.templates import mask_rendered
from smscloud.services.message_scope import EVERYTHING, MessageScope
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


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The final report of one message, as the status pulls return it (Tencent SMS API 3.0,
    PullSmsSendStatus)."""

    received_at: int  # when the handset got it, else when the message ended; 0 if neither
    nation_code: str
    subscriber: str  # the number without its country code
    phone: str  # E.164
    serial_no: str
    delivered: bool
    description: str  # the carrier's receipt code, else the final state
    session_context: str


def status_item(row: Any) -> StatusReport:
    """A ``messages`` row in a final state as its report."""
    nation = str(row.nation_code)
    phone = str(row.phone)
    return StatusReport(
        received_at=int(row.receive_time or row.done_at or 0),
        nation_code=nation,
        subscriber=phone[len(nation) + 1 :] if nation else phone,
        phone=phone,
        serial_no=str(row.serial_no),
        delivered=row.state == MessageState.DELIVERED,
        description=str(row.receipt_code or row.state),
        session_context=str(row.session_context),
    )


# Human text for the common receipt codes (the callback's ``description``): the carrier's
# words (SMPP 3.4 Appendix B stat), not message states.
RECEIPT_TEXT = {
    "DELIVRD": "用户短信送达成功",
    "UNDELIV": "空号、停机或关机",
    "EXPIRED": "短信超过有效期，用户手机不可达",
    "REJECTD": "短信被拒绝",
    "UNKNOWN": "未知状态",
}


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply from a handset, as the reply pulls return it (Tencent SMS API 3.0,
    PullSmsReplyStatus)."""

    extend_code: str
    nation_code: str
    phone: str  # E.164
    subscriber: str  # the number without its country code
    sign_name: str
    content: str
    replied_at: int


def reply_item(row: Any) -> Reply:
    """A ``replies`` row as its result."""
    nation = str(row.nation_code)
    phone = str(row.phone)
    return Reply(
        extend_code=str(row.extend_code),
        nation_code=nation,
        phone=phone,
        subscriber=phone[len(nation) + 1 :] if nation else phone,
        sign_name=str(row.sign_name),
        content=str(row.content),
        replied_at=int(row.reply_time),
    )


@dataclass(frozen=True, slots=True)
class SendRecord:
    """One message in a number's send records (Tencent SMS API 3.0, DescribeSendRecordList)."""

    phone: str
    serial_no: str  # empty when the request was refused
    send_status: int  # 1 refused, 2 delivered, 3 on its way, 4 failed
    request_code: str
    status_code: str  # the receipt code once final, else empty
    iso_code: str
    content: str  # with the template's values masked
    sent_at: int
    received_at: int  # when the handset got it; 0 unless delivered


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


def take_status_reports(conn: Connection, app_id: int, limit: int) -> list[StatusReport]:
    """Queue pull: each final report is returned once (Tencent SMS API 3.0, PullSmsSendStatus)."""
    rows = conn.execute(
        select(*_STATUS_COLS)
        .where(m.c.app_id == app_id, s.REPORT_PENDING)
        .order_by(m.c.id)
        .limit(limit)
    ).all()
    if rows:
        conn.execute(update(m).where(m.c.id.in_([r.id for r in rows])).values(report_state=2))
    return [status_item(r) for r in rows]


def take_replies(conn: Connection, app_id: int, limit: int) -> list[Reply]:
    """Queue pull: each reply is returned once (Tencent SMS API 3.0, PullSmsReplyStatus)."""
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

    async def pull_status(self, app_id: int, limit: int) -> list[StatusReport]:
        """Final reports not pulled before, oldest first; each is returned once."""
        n = pull_limit(limit)
        return await self.db.write(lambda c: take_status_reports(c, app_id, n))

    async def pull_replies(self, app_id: int, limit: int) -> list[Reply]:
        """Replies not pulled before, oldest first; each is returned once."""
        n = pull_limit(limit)
        return await self.db.write(lambda c: take_replies(c, app_id, n))

    async def status_by_phone(
        self, app_id: int, phone: str, begin: int, end: int | None, limit: int, offset: int
    ) -> list[StatusReport]:
        """Final reports of one number within the last days, pulled or not."""
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
    ) -> list[Reply]:
        """Replies from one number within the last days, pulled or not."""
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
    ) -> tuple[int, list[SendRecord]]:
        """The total (at most 1,000) and a page of one number's messages, newest first."""
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
    def _record(r: Any, template: str | None) -> SendRecord:
        if r.state == MessageState.REFUSED:
            status = 1
        elif r.state == MessageState.DELIVERED:
            status = 2
        elif r.state in REPORTED:
            status = 4
        else:
            status = 3
        return SendRecord(
            phone=str(r.phone),
            serial_no=str(r.serial_no) if r.state != MessageState.REFUSED else "",
            send_status=status,
            request_code=str(r.request_code),
            status_code=str(r.receipt_code) if status in (2, 4) else "",
            iso_code=str(r.iso_code),
            # Values are masked as Tencent does: a record list must not hand out codes.
            content=mask_rendered(r.content, template or ""),
            sent_at=int(r.created_at),
            received_at=int(r.receive_time or 0) if status == 2 else 0,
        )

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


# -- the tenant's console: delivery records and replies ------------------------------------------
@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which of a tenant's messages a records page shows: a time range (on the tenant's
    ``ix_messages_tenant_time`` index) or a bulk task, a phone, a state, an application,
    signature or template; one page."""

    begin: float
    end: float
    task: int | None = None  # a task's records, however long it ran (the range is ignored)
    phone: str = ""  # E.164, or as typed when it is no number
    state: str = ""
    scope: MessageScope = EVERYTHING
    offset: int = 0
    limit: int = 50


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A message as the records list shows it."""

    serial_no: str
    phone: str
    sign_name: str
    template_id: int
    content: str
    parts: int
    state: str
    request_code: str
    receipt_code: str
    created_at: float
    done_at: float | None


@dataclass(frozen=True, slots=True)
class RecordDetail:
    """A message with its timeline: accepted, submitted to a carrier, final."""

    serial_no: str
    sdk_app_id: str
    phone: str
    content: str
    parts: int
    state: str
    request_code: str
    receipt_code: str
    carrier: str
    carrier_msg_id: str | None
    created_at: float
    submitted_at: float | None
    done_at: float | None
    receive_time: float | None


@dataclass(frozen=True, slots=True)
class ReplyRow:
    """A reply (mobile-originated message) as the replies page shows it."""

    phone: str
    sign_name: str
    extend_code: str
    content: str
    reply_time: float


def record_conditions(tenant_id: int, f: RecordFilter) -> list[Any]:
    """SQL conditions on ``messages`` for the tenant's messages ``f`` asks for (its page
    aside)."""
    cond: list[Any] = [m.c.tenant_id == tenant_id]
    if f.task is not None:
        cond += [m.c.task_id == f.task, s.IN_TASK]
    else:
        cond += [m.c.created_at >= f.begin, m.c.created_at <= f.end]
    if f.phone:
        cond.append(m.c.phone == f.phone)
    if f.state:
        cond.append(m.c.state == f.state)
    return cond + f.scope.conditions()


def message_records(conn: Connection, tenant_id: int, f: RecordFilter) -> list[RecordRow]:
    """One page of a tenant's messages, newest first (fetch ``limit + 1`` to learn whether
    another page follows)."""
    cond = record_conditions(tenant_id, f)
    columns = [getattr(m.c, f.name) for f in fields(RecordRow)]
    rows = conn.execute(
        select(*columns)
        .where(*cond)
        .order_by(m.c.created_at.desc(), m.c.id.desc())
        .limit(f.limit)
        .offset(f.offset)
    )
    return [RecordRow(*row) for row in rows]


def message_record(conn: Connection, tenant_id: int, serial_no: str) -> RecordDetail | None:
    """The tenant's message ``serial_no``, or None."""
    a = s.applications
    names = [f.name for f in fields(RecordDetail) if f.name != "sdk_app_id"]
    row = conn.execute(
        select(a.c.sdk_app_id, *(getattr(m.c, n) for n in names))
        .join(a, a.c.id == m.c.app_id)
        .where(m.c.serial_no == serial_no, m.c.tenant_id == tenant_id)
    ).first()
    return None if row is None else RecordDetail(**row._mapping)


def recent_replies(conn: Connection, tenant_id: int, since: float, limit: int) -> list[ReplyRow]:
    """The tenant's replies since ``since`` to its own applications, newest first."""
    a = s.applications
    apps = [
        int(i) for i in conn.execute(select(a.c.id).where(a.c.tenant_id == tenant_id)).scalars()
    ]
    if not apps:
        return []
    rows = conn.execute(
        select(rp.c.phone, rp.c.sign_name, rp.c.extend_code, rp.c.content, rp.c.reply_time)
        .where(rp.c.tenant_id == tenant_id, rp.c.app_id.in_(apps), rp.c.reply_time >= since)
        .order_by(rp.c.reply_time.desc(), rp.c.id.desc())
        .limit(limit)
    )
    return [ReplyRow(*row) for row in rows]
