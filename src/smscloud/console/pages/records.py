"""Delivery records, replies and statistics.

Every query filters by the session's tenant id and, for messages, by a bounded time range
(the ``ix_messages_tenant_time`` index) with a LIMIT.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import whole
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.console.pages.record_exports import RecordExports
from smscloud.console.pages.scope_filter import ScopeFilter, read_scope
from smscloud.console.pages.voice import voice_denial
from smscloud.console.pages.voice_calls import fold_voice
from smscloud.domain.message_states import FINAL, MessageState
from smscloud.domain.phone import describe_phone
from smscloud.services.accounts import tenants as accounts
from smscloud.services.message_scope import scope_choices
from smscloud.services.reports import (
    RecordFilter,
    RecordRow,
    message_record,
    message_records,
    recent_replies,
)
from smscloud.services.statistics import SLOT, failure_reasons, quarter_hours
from smscloud.services.voice_records import voice_quarter_hours

if TYPE_CHECKING:
    from smscloud.console.app import Console

PAGE = 50
MAX_DAYS = 7
# The state filter's choices, in the order the list offers them.
STATES = (
    MessageState.QUEUED,
    MessageState.SENDING,
    MessageState.SUBMITTED,
    MessageState.DELIVERED,
    MessageState.UNDELIVERED,
    MessageState.EXPIRED,
    MessageState.REJECTED,
    MessageState.FAILED,
    MessageState.UNKNOWN,
    MessageState.REFUSED,
    MessageState.HELD,
    MessageState.CANCELLED,
)
REPLIES = 200  # the newest replies shown
LOCAL = "%Y-%m-%dT%H:%M"

i18n.STRINGS.update(
    {
        "nav_records": ("发送记录", "Records"),
        "nav_replies": ("回复记录", "Replies"),
        "nav_stats": ("发送统计", "Statistics"),
        "rec_code": ("错误码", "Code"),
        "rec_task": ("任务 ID", "Task ID"),
        "rec_message": ("说明", "Message"),
        "rec_serial": ("流水号", "Serial no."),
        "rec_fee": ("计费条数", "Fee"),
        "rec_phone": ("手机号码", "Phone"),
        "rec_begin": ("开始时间", "From"),
        "rec_end": ("结束时间", "To"),
        "rec_state": ("状态", "State"),
        "state_REFUSED": ("未受理", "Refused"),
        "state_QUEUED": ("排队中", "Queued"),
        "state_HELD": ("已暂停", "Held"),
        "state_SENDING": ("发送中", "Sending"),
        "state_SUBMITTED": ("已提交运营商", "Submitted"),
        "state_DELIVERED": ("已送达", "Delivered"),
        "state_UNDELIVERED": ("未送达", "Undelivered"),
        "state_EXPIRED": ("已过期", "Expired"),
        "state_REJECTED": ("被拒绝", "Rejected"),
        "state_FAILED": ("发送失败", "Failed"),
        "state_UNKNOWN": ("状态未知", "Unknown"),
        "state_CANCELLED": ("已取消", "Cancelled"),
        "rec_all": ("全部", "All"),
        "rec_filter": ("查询", "Search"),
        "rec_time": ("时间", "Time"),
        "rec_receipt": ("回执码", "Receipt code"),
        "rec_none": ("该时间段内没有记录。", "No records in this range."),
        "rec_range": (
            "时间范围最多 7 天，已调整。",
            "The range may be at most 7 days; it was shortened.",
        ),
        "rec_bad_time": ("时间格式不正确，已使用默认范围。", "Bad time; the default was used."),
        "rec_next": ("下一页", "Next page"),
        "rec_prev": ("上一页", "Previous page"),
        "rec_timeline": ("状态时间线", "Timeline"),
        "rec_accepted": ("已受理", "Accepted"),
        "rec_submitted": ("已提交运营商", "Submitted to carrier"),
        "rec_final": ("最终状态", "Final state"),
        "rec_pending": ("等待中", "Waiting"),
        "rec_carrier": ("通道", "Carrier"),
        "rec_carrier_id": ("运营商消息 ID", "Carrier message id"),
        "rec_received": ("用户接收时间", "Received at"),
        "rec_done": ("回执时间", "Receipt at"),
        "rep_content": ("回复内容", "Reply"),
        "rep_none": ("最近 7 天没有回复。", "No replies in the last 7 days."),
        "stats_24h": ("最近 24 小时（按小时）", "Last 24 hours, by hour"),
        "stats_14d": ("最近 14 天（按天）", "Last 14 days, by day"),
        "stats_sent": ("发送", "Sent"),
        "stats_delivered": ("成功", "Delivered"),
        "stats_failed": ("失败", "Failed"),
        "stats_parts": ("计费条数", "Billed parts"),
        "stats_rate": ("成功率", "Success rate"),
        "stats_period": ("时段", "Period"),
        "stats_reasons": ("主要失败原因", "Top failure reasons"),
        "stats_reason": ("原因", "Reason"),
        "stats_count": ("次数", "Count"),
        "stats_no_failures": ("没有失败。", "No failures."),
    }
)


class RecordsPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform
        self.tz = console.platform.settings.tz

    # -- helpers ----------------------------------------------------------------------------
    def _ts(self, value: float | None) -> str:
        if value is None:
            return ""
        return datetime.fromtimestamp(value, self.tz).strftime("%Y-%m-%d %H:%M:%S")

    def _base(self, request: Request) -> dict[str, Any]:
        return {"area": "console", "user": request.session, "ts": self._ts}

    # -- records ----------------------------------------------------------------------------
    def _range(self, request: Request) -> tuple[float, float, list[str]]:
        now = self.c.clock()
        notes: list[str] = []
        q = request.query_params

        def parse(name: str) -> float | None:
            raw = q.get(name, "").strip()
            if not raw:
                return None
            try:
                when = datetime.strptime(raw, LOCAL).replace(tzinfo=self.tz)
            except ValueError:
                when = None
            # A time before the epoch (or at the calendar's end) has no record, and a day
            # before it could not even be shown.
            if when is None or not 1971 <= when.year <= 9998:
                notes.append("rec_bad_time")
                return None
            return when.timestamp()

        end = parse("end")
        begin = parse("begin")
        # The form shows minutes: "to 10:05" takes in the whole of 10:05, or the messages of
        # the minute the page was opened in would vanish when the form is submitted.
        end = now if end is None else end + 59.999
        begin = end - 86400 if begin is None or begin >= end else begin
        if end - begin > MAX_DAYS * 86400:
            begin = end - MAX_DAYS * 86400
            notes.append("rec_range")
        return begin, end, notes

    def filters(self, request: Request) -> dict[str, Any]:
        """The records page's time range or task, phone, state and page, as asked."""
        begin, end, notes = self._range(request)
        q = request.query_params
        phone = q.get("phone", "").strip()[:32]
        state = q.get("state", "").strip()
        page = whole(q.get("page", "0")) or 0
        task = whole(q.get("task", ""))
        return {
            "begin": begin,
            "end": end,
            "notes": notes,
            "phone": phone,
            "state": state if state in STATES else "",
            "page": min(page, 1000),
            "task": task,
            "begin_local": datetime.fromtimestamp(begin, self.tz).strftime(LOCAL),
            "end_local": datetime.fromtimestamp(end, self.tz).strftime(LOCAL),
        }

    async def scope(self, request: Request, tid: int) -> ScopeFilter:
        """The application, signature and template filters of ``request``, checked against
        the tenant's own."""
        choices = await self.platform.db.read(lambda c: scope_choices(c, tid))
        return read_scope(request.query_params, choices)

    def record_filter(self, f: dict[str, Any], sf: ScopeFilter) -> RecordFilter:
        """The records ``f`` and ``sf`` ask for, the page's rows (and one more)."""
        phone = f["phone"]
        if phone:
            parsed = describe_phone(phone)
            phone = parsed.e164 if parsed is not None else phone
        return RecordFilter(
            begin=f["begin"],
            end=f["end"],
            task=f["task"],
            phone=phone,
            state=f["state"],
            scope=sf.scope,
            offset=f["page"] * PAGE,
            limit=PAGE + 1,
        )

    def record_query(self, request: Request, f: dict[str, Any], sf: ScopeFilter) -> dict[str, str]:
        """The filters as a query string's values: the refresh, the pages and the exports ask
        for what the form shows. An open end stays open, so the refresh follows the clock."""
        return {
            "phone": f["phone"],
            "state": f["state"],
            "begin": f["begin_local"],
            "end": f["end_local"] if request.query_params.get("end") else "",
            "task": "" if f["task"] is None else str(f["task"]),
            **sf.values,
        }

    async def _records(self, request: Request, fragment: bool) -> Response:
        tid = tenant_id(request)
        f = self.filters(request)
        sf = await self.scope(request, tid)
        rows: list[RecordRow] = []
        more = False
        if sf.valid:  # a filter not the tenant's shows nothing, never an unfiltered list
            wanted = self.record_filter(f, sf)
            found = await self.platform.db.read(lambda c: message_records(c, tid, wanted))
            rows, more = found[:PAGE], len(found) > PAGE
        query = self.record_query(request, f, sf)
        at_page = {"page": str(f["page"])}
        context = self._base(request) | {
            "f": f,
            "sf": sf,
            "rows": rows,
            "more": more,
            "states": STATES,
            "query": urlencode(query | at_page),
            "export_query": urlencode({k: v for k, v in query.items() if v}),
            "prev_query": urlencode(query | {"page": str(f["page"] - 1)}),
            "next_query": urlencode(query | {"page": str(f["page"] + 1)}),
        }
        page = "console/records_rows.html" if fragment else "console/records.html"
        return self.c.render(request, page, context)

    @tenant_page
    async def records(self, request: Request) -> Response:
        return await self._records(request, fragment=False)

    @tenant_page
    async def records_rows(self, request: Request) -> Response:
        return await self._records(request, fragment=True)

    @tenant_page
    async def record(self, request: Request) -> Response:
        tid = tenant_id(request)
        serial = request.path_params["serial_no"][:48]
        row = await self.platform.db.read(lambda c: message_record(c, tid, serial))
        if row is None:
            return self.c.not_found(request)
        final = row.state in FINAL
        context = self._base(request) | {"m": row, "final": final}
        return self.c.render(request, "console/records_detail.html", context)

    @tenant_page
    async def replies(self, request: Request) -> Response:
        tid = tenant_id(request)
        since = self.c.clock() - MAX_DAYS * 86400
        rows = await self.platform.db.read(lambda c: recent_replies(c, tid, since, REPLIES))
        context = self._base(request) | {"rows": rows}
        return self.c.render(request, "console/records_replies.html", context)

    # -- statistics -------------------------------------------------------------------------
    def _buckets(self, now: float) -> tuple[list[tuple[float, float, str]], ...]:
        local = datetime.fromtimestamp(now, self.tz)
        hour = local.replace(minute=0, second=0, microsecond=0)
        hours = []
        for i in range(23, -1, -1):
            start = hour - timedelta(hours=i)
            hours.append((start.timestamp(), start.timestamp() + 3600, start.strftime("%H:00")))
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        days = []
        for i in range(13, -1, -1):
            start = (day - timedelta(days=i)).replace(tzinfo=None).replace(tzinfo=self.tz)
            stop = (start + timedelta(days=1)).replace(tzinfo=None).replace(tzinfo=self.tz)
            days.append((start.timestamp(), stop.timestamp(), start.strftime("%m-%d")))
        return hours, days

    async def stat_counts(
        self, tid: int, sf: ScopeFilter
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
        """(by hour, by day, failure reasons) of the tenant's messages ``sf`` narrows to;
        nothing counted when a filter is not the tenant's."""
        hours, days = self._buckets(self.c.clock())
        since = days[0][0]

        def load(conn: Connection) -> tuple[dict[int, tuple[int, ...]], list[Any]]:
            if not sf.valid:
                return {}, []
            counts = quarter_hours(conn, tid, since, sf.scope)
            return counts, failure_reasons(conn, tid, since, scope=sf.scope)

        counts, reasons = await self.platform.db.read(load)
        return fold(counts, hours), fold(counts, days), reasons

    @tenant_page
    async def stats(self, request: Request) -> Response:
        tid = tenant_id(request)
        hours, days = self._buckets(self.c.clock())
        sf = await self.scope(request, tid)
        by_hour, by_day, reasons = await self.stat_counts(tid, sf)

        def load(conn: Connection) -> dict[str, Any]:
            calls = voice_quarter_hours(conn, tid, days[0][0])
            return {
                "voice_hours": fold_voice(calls, hours),
                "voice_days": fold_voice(calls, days),
                "voice_denial": voice_denial(accounts.tenant_profile(conn, tid)),
            }

        data = await self.platform.db.read(load)
        context = self._base(request) | data
        context |= {
            "sf": sf,
            "hours": by_hour,
            "days": by_day,
            "reasons": reasons,
            "export_query": urlencode({k: v for k, v in sf.values.items() if v}),
            "hour_chart": _chart(by_hour),
            "day_chart": _chart(by_day),
        }
        return self.c.render(request, "console/stats.html", context)


def fold(
    slots: dict[int, tuple[int, ...]], buckets: list[tuple[float, float, str]]
) -> list[dict[str, Any]]:
    """Sum quarter-hour counts (sent, delivered, failed, parts) into labelled buckets."""
    out = []
    for start, stop, label in buckets:
        sent = ok = bad = parts = 0
        for number in range(int(start // SLOT), int(-(-stop // SLOT))):
            if number in slots:
                s_, o_, b_, p_ = slots[number]
                sent, ok, bad, parts = sent + s_, ok + o_, bad + b_, parts + p_
        out.append(
            {
                "label": label,
                "start": start,
                "sent": sent,
                "delivered": ok,
                "failed": bad,
                "parts": parts,
                "rate": f"{100 * ok / sent:.1f}%" if sent else "–",
            }
        )
    return out


def _chart(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Rectangles of a bar chart: sent (light) with delivered and failed stacked inside."""
    width, height, top = 720, 160, 10
    peak = max((p["sent"] for p in points), default=0) or 1
    slot = width / max(len(points), 1)
    bars = []
    for i, p in enumerate(points):
        x = i * slot + slot * 0.15
        w = slot * 0.7

        def h(n: int) -> float:
            return round((height - top) * n / peak, 1)

        sent, ok, bad = h(p["sent"]), h(p["delivered"]), h(p["failed"])
        bars.append(
            {
                "x": round(x, 1),
                "w": round(w, 1),
                "sent_y": round(height - sent, 1),
                "sent_h": sent,
                "ok_y": round(height - ok, 1),
                "ok_h": ok,
                "bad_y": round(height - ok - bad, 1),
                "bad_h": bad,
                "label": p["label"],
                "title": f"{p['label']}: {p['sent']} / {p['delivered']} / {p['failed']}",
                "show_label": len(points) <= 14 or i % 3 == 0,
                "lx": round(x + w / 2, 1),
            }
        )
    return {"width": width, "height": height + 20, "base": height, "bars": bars, "peak": peak}


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = RecordsPages(console)
    exports = RecordExports(pages)
    tenant: list[BaseRoute] = [
        Route("/records", pages.records, methods=["GET"]),
        Route("/records/rows", pages.records_rows, methods=["GET"]),
        Route("/records/{serial_no}", pages.record, methods=["GET"]),
        Route("/replies", pages.replies, methods=["GET"]),
        Route("/stats", pages.stats, methods=["GET"]),
        Route("/export/records.{kind}", exports.records, methods=["GET"]),
        Route("/export/stats.{kind}", exports.stats, methods=["GET"]),
    ]
    return tenant, []
