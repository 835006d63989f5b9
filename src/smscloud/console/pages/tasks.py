"""Bulk send tasks in the console: upload and check a list, confirm, watch, suspend, resume.

The rules live in ``services.send_tasks`` and ``domain.bulk``; the file is read by
``domain.recipients``. Every task is looked up with the session's tenant id, so another
tenant's task id is "not found" like one that never existed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import FORM_MAX, whole
from smscloud.console.forms import text as _text
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.console.pages.send import choice_problems, choices_context
from smscloud.domain.errors import RuleViolation
from smscloud.domain.recipients import MAX_BYTES, MAX_ROWS, UploadRefused, read_recipients
from smscloud.domain.task_progress import TaskCounts, is_finished
from smscloud.domain.templates import SmsType, variable_indexes
from smscloud.services import tasks as send_tasks
from smscloud.services.registry import listings
from smscloud.services.sending.choices import sending_choices
from smscloud.services.sending.sms import in_marketing_hours
from smscloud.services.tasks.upload import start_in_window

if TYPE_CHECKING:
    from smscloud.console.app import Console

LOCAL = "%Y-%m-%dT%H:%M"
MAX_BODY = MAX_BYTES + FORM_MAX  # the list and the form's other fields
UPLOADS = {"/console/tasks": MAX_BODY}

i18n.STRINGS.update(
    {
        "nav_tasks": ("群发任务", "Bulk tasks"),
        "tk_new": ("新建群发任务", "New bulk task"),
        "tk_file": ("号码文件", "Recipient list"),
        "tk_file_help": (
            "CSV 或 XLSX：每行一个手机号码，其后依次为该号码的模板参数；首行可为表头。"
            f"最多 {MAX_ROWS:,} 行、{MAX_BYTES // 1024 // 1024} MB。",
            "CSV or XLSX: one phone number a row, then that number's template parameters in "
            f"order; the first row may be a header. At most {MAX_ROWS:,} rows and "
            f"{MAX_BYTES // 1024 // 1024} MB.",
        ),
        "tk_sample": (
            "下载该模板的示例文件（CSV）",
            "Download a sample list for this template (CSV)",
        ),
        "tk_rate": ("发送速度（条/秒）", "Speed (numbers a second)"),
        "tk_start": ("定时发送（可选）", "Scheduled start (optional)"),
        "tk_start_help": ("留空则确认后立即开始。", "Leave empty to start when confirmed."),
        "tk_upload": ("上传并校验", "Upload and check"),
        "tk_list": ("任务列表", "Tasks"),
        "tk_none": ("还没有群发任务。", "No bulk tasks yet."),
        "tk_id": ("任务 ID", "Task"),
        "tk_name": ("文件", "File"),
        "tk_state": ("状态", "State"),
        "tk_progress": ("进度", "Progress"),
        "tk_numbers": ("号码数", "Numbers"),
        "tk_created": ("创建时间", "Created"),
        "tk_preview": ("确认群发任务", "Confirm the bulk task"),
        "tk_valid": ("有效号码", "Valid numbers"),
        "tk_invalid": ("无效号码", "Invalid"),
        "tk_duplicates": ("重复号码", "Duplicates"),
        "tk_parts": ("预计计费条数", "Billed parts"),
        "tk_units_left": ("套餐包剩余条数", "Units left in packages"),
        "tk_short": (
            "套餐包余量不足以发送全部号码：余量用完时任务将自动暂停，购买套餐包后可继续。",
            "The packages cannot pay for every number: the task will pause when they run out, "
            "and can be resumed after buying a package.",
        ),
        "tk_postpaid": (
            "国际短信为后付费，按月出账。",
            "International SMS is postpaid and billed monthly.",
        ),
        "tk_samples": ("内容示例", "Sample messages"),
        "tk_problems": ("有问题的行", "Rows with a problem"),
        "tk_problems_more": (
            "仅显示前 100 行；这些行不会发送。",
            "Only the first 100 are shown; these rows are not sent.",
        ),
        "tk_line": ("行号", "Row"),
        "tk_raw": ("号码", "Number"),
        "tk_reason": ("原因", "Reason"),
        "tk_confirm": ("确认发送", "Confirm and send"),
        "tk_discard": ("放弃", "Discard"),
        "tk_suspend": ("暂停", "Suspend"),
        "tk_resume": ("继续", "Resume"),
        "tk_cancel": ("取消任务", "Cancel task"),
        "tk_cancel_confirm": (
            "取消后未发送的号码不再发送，已扣的条数退回。确定取消？",
            "Numbers not yet sent will not be sent and their units are refunded. Cancel?",
        ),
        "tk_state_draft": ("待确认", "Draft"),
        "tk_state_scheduled": ("定时待发", "Scheduled"),
        "tk_state_running": ("发送中", "Sending"),
        "tk_state_waiting": ("等待营销时段", "Waiting for 08:00"),
        "tk_state_suspended": ("已暂停", "Suspended"),
        "tk_state_cancelled": ("已取消", "Cancelled"),
        "tk_state_finished": ("已完成", "Finished"),
        "tk_state_settling": ("等待回执", "Awaiting receipts"),
        "tk_hold_package": (
            "套餐包余量不足，任务已自动暂停。购买套餐包后点击“继续”。",
            "The packages ran out, so the task was paused. Buy a package, then Resume.",
        ),
        "tk_hold_daily_limit": (
            "已达到应用的每日发送上限，任务已自动暂停。",
            "The application's daily limit was reached, so the task was paused.",
        ),
        "tk_hold_account": (
            "账号已停用或未完成认证，任务已自动暂停。",
            "The account is suspended or not verified, so the task was paused.",
        ),
        "tk_hold_arrears": (
            "账单逾期未付，任务已自动暂停。",
            "A bill is overdue, so the task was paused.",
        ),
        "tk_hold_application": (
            "应用已停用，任务已自动暂停。",
            "The application is disabled, so the task was paused.",
        ),
        "tk_fed": ("已受理", "Handed over"),
        "tk_total": ("号码总数", "Numbers in all"),
        "tk_waiting": ("待发送", "Waiting"),
        "tk_held": ("其中暂停保留", "of which held"),
        "tk_sending": ("已受理、发送中", "Accepted, sending"),
        "tk_delivered": ("成功", "Delivered"),
        "tk_failed": ("失败", "Failed"),
        "tk_refused": ("受理时被拒绝", "Refused at acceptance"),
        "tk_cancelled": ("已取消", "Cancelled"),
        "tk_counts_note": (
            "每个号码只计入一栏，各栏相加即号码总数；统计页按同样的口径计算成功与失败。",
            "Each number is counted in one column only, and the columns add up to the total; "
            "the statistics page counts delivered and failed the same way.",
        ),
        "tk_failures": ("失败原因", "Why messages failed"),
        "tk_fail_invalid_number": ("空号或号码不存在", "The number does not exist"),
        "tk_fail_shutdown": (
            "关机、停机或不在服务区",
            "The phone is off, suspended or out of reach",
        ),
        "tk_fail_blacklisted": (
            "号码在黑名单中或已退订",
            "The number is blacklisted or has unsubscribed",
        ),
        "tk_fail_frequency": (
            "超过运营商对该号码的发送上限",
            "The carrier's limit for this number is reached",
        ),
        "tk_fail_carrier_refused": ("被运营商拒绝", "Refused by the carrier"),
        "tk_fail_no_receipt": ("运营商未返回明确结果", "The carrier gave no clear outcome"),
        "tk_fail_other": ("其他运营商原因", "Other carrier reasons"),
        "tk_typed_count": ("确认号码数", "Number count, to confirm"),
        "tk_typed_count_help": (
            "本任务有 {n} 个号码。大批量发送前，请输入号码数 {n} 以确认。",
            "This task has {n} numbers. Before a large send, type the count {n} to confirm.",
        ),
        "tk_err_count_missing": (
            "请输入号码数以确认发送。",
            "Type the number count to confirm the send.",
        ),
        "tk_err_count_wrong": (
            "号码数不符：本任务有 {n} 个号码，未发送任何号码。",
            "That is not the count: this task has {n} numbers. Nothing was sent.",
        ),
        "tk_receipts": ("回执分析", "Receipt analysis"),
        "tk_receipt": ("状态与回执码", "State and receipt code"),
        "tk_share": ("占比", "Share"),
        "tk_no_receipts": ("还没有回执。", "No receipts yet."),
        "tk_refusals": ("未发送原因", "Why numbers were not sent"),
        "tk_records": ("查看该任务的发送记录", "This task's delivery records"),
        "tk_start_at": ("开始时间", "Starts"),
        "tk_updated": ("每 5 秒自动刷新", "Refreshed every 5 seconds"),
        "tk_err_file": ("请选择号码文件。", "Choose a recipient list."),
        "tk_err_empty": ("文件中没有号码。", "The file holds no numbers."),
        "tk_err_too_large": (
            f"文件超过 {MAX_BYTES // 1024 // 1024} MB。",
            f"The file is larger than {MAX_BYTES // 1024 // 1024} MB.",
        ),
        "tk_err_bad_type": (
            "只支持 CSV 或 XLSX 文件。",
            "Only CSV and XLSX files can be used.",
        ),
        "tk_err_xls": (
            "不支持旧版 Excel（.xls）文件，请另存为 XLSX 或 CSV。",
            "Old Excel (.xls) files cannot be read: save it as XLSX or CSV.",
        ),
        "tk_err_too_many_rows": (
            f"文件超过 {MAX_ROWS:,} 行，请拆分为多个任务。",
            f"The file has more than {MAX_ROWS:,} rows: split it into several tasks.",
        ),
        "tk_err_bad_file": (
            "无法读取该文件，请检查格式。",
            "The file cannot be read: check its format.",
        ),
        "tk_err_start": ("定时时间格式不正确。", "The start time is not a valid time."),
        "tk_err_start_window": (
            "定时时间须在现在到 30 天之内。",
            "The start time must be between now and 30 days ahead.",
        ),
        "tk_err_rate": ("请从列表中选择发送速度。", "Choose a speed from the list."),
        "tk_fix_fields": (
            "请修正下面标出的问题，任务未创建。",
            "No task was made: correct the problems marked below.",
        ),
        "tk_confirmed": ("任务已开始。", "The task has started."),
        "tk_scheduled_ok": ("任务已确认，将按时开始。", "Confirmed: it starts at its time."),
        "tk_discarded": ("已放弃该任务。", "The task was discarded."),
        "tk_suspended_ok": ("任务已暂停。", "The task is suspended."),
        "tk_resumed_ok": ("任务已继续。", "The task is resumed."),
        "tk_cancelled_ok": (
            "任务已取消，未发送部分已退回。",
            "Cancelled; what was not sent is refunded.",
        ),
        "tk_not_allowed": (
            "任务当前状态不允许此操作。",
            "The task's state does not allow this now.",
        ),
    }
)


def needs_typed_count(numbers: int, threshold: int) -> bool:
    """Whether confirming a task of ``numbers`` numbers asks for their count to be typed
    (``SMSCLOUD_TASK_CONFIRM_THRESHOLD``; 0 never asks)."""
    return 0 < threshold <= numbers


def typed_count_problem(typed: str, numbers: int) -> str | None:
    """The error key when ``typed`` is not the count ``numbers`` (commas, spaces and full-width
    digits allowed, as people type them), else None."""
    cleaned = unicodedata.normalize("NFKC", typed).replace(",", "").replace(" ", "")
    if not cleaned:
        return "tk_err_count_missing"
    if not (cleaned.isascii() and cleaned.isdigit()) or int(cleaned) != numbers:
        return "tk_err_count_wrong"
    return None


class TaskPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform
        self.tasks = console.platform.tasks
        self.tz = console.platform.settings.tz
        self.confirm_threshold = console.platform.settings.task_confirm_threshold
        self._confirm_action = self._action("confirm", "tk_confirmed")

    def _base(self, request: Request) -> dict[str, Any]:
        return {"area": "console", "user": request.session}

    def display_state(self, task: Any, now: float, counts: TaskCounts | None = None) -> str:
        """What the tenant is told: running tasks may be scheduled, waiting for 08:00, or fed
        to the end and waiting for their receipts (when the counts are known); a task is
        finished only when every number has its final outcome (``domain.task_progress``)."""
        if task.state == "running":
            if task.start_at > now:
                return "scheduled"
            if counts is not None and counts.waiting == 0:
                return "finished" if is_finished(counts) else "settling"
            if task.sms_type == SmsType.MARKETING and not in_marketing_hours(now, self.tz):
                return "waiting"
        return str(task.state)

    # -- the list and the upload ----------------------------------------------------------
    async def _choices(self, tid: int) -> dict[str, Any]:
        return choices_context(await self.platform.db.read(lambda c: sending_choices(c, tid)))

    async def _list_context(self, tid: int) -> dict[str, Any]:
        tasks = await self.tasks.recent(tid)
        fed = await self.tasks.fed_counts([task.id for task in tasks])
        now = self.c.clock()
        rows = []
        for task in tasks:
            counts: TaskCounts | None = None
            percent = 100 * fed.get(task.id, 0) // task.numbers if task.numbers else 100
            # A task still at work is read as its page reads it: the bar is the share of its
            # numbers with a final outcome, and fed to the end it awaits its receipts until
            # every number has one. Finished and cancelled tasks need no counting.
            if task.state in ("running", "suspended"):
                counts = (await self.tasks.progress(tid, task.id))["counts"]
                percent = counts.percent
            rows.append(
                {
                    "task": task,
                    "state": self.display_state(task, now, counts),
                    "percent": percent,
                }
            )
        return {"tasks": rows}

    async def _page(
        self,
        request: Request,
        tid: int,
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
    ) -> Response:
        context = self._base(request) | await self._choices(tid) | await self._list_context(tid)
        context |= {"values": values, "errors": errors, "rates": send_tasks.RATES}
        return self.c.render(request, "console/tasks.html", context, status)

    @tenant_page
    async def page(self, request: Request) -> Response:
        tid = tenant_id(request)
        values = {"rate": str(send_tasks.DEFAULT_RATE)}
        return await self._page(request, tid, values, {})

    @tenant_page
    async def rows(self, request: Request) -> Response:
        tid = tenant_id(request)
        context = self._base(request) | await self._list_context(tid)
        return self.c.render(request, "console/tasks_rows.html", context)

    @tenant_page
    async def sample(self, request: Request) -> Response:
        """A CSV to fill in: the header and one example row for the chosen template."""
        tid = tenant_id(request)
        template_id = whole(request.query_params.get("template", ""))
        row = None
        if template_id is not None:
            wanted = template_id
            row = await self.platform.db.read(lambda c: listings.own_template(c, tid, wanted))
        if row is None:
            return self.c.not_found(request)
        count = max(variable_indexes(row.content), default=0)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["手机号", *(f"{{{i}}}" for i in range(1, count + 1))])
        writer.writerow(["13800138000", *(f"示例{i}" for i in range(1, count + 1))])
        return Response(
            # A BOM, so that Excel opens the Chinese header as UTF-8.
            ("\ufeff" + out.getvalue()).encode(),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="recipients-{row.id}.csv"',
                "Cache-Control": "no-store",
            },
        )

    @tenant_page
    async def upload_too_large(self, request: Request) -> Response:
        """A list over the route's limit: this page, the message beside the file field."""
        return await self._page(request, tenant_id(request), {}, {"file": "tk_err_too_large"}, 413)

    @tenant_page
    async def upload(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        values = {k: _text(form, k)[:64] for k in ("app", "sign", "template", "rate", "start")}
        errors: dict[str, str] = {}
        start_at: float | None = None
        # Every field's problem at once, beside its field: the choices, the speed and the
        # start time are checked here; the service checks them again (and the list's rows).
        errors |= choice_problems(values, await self._choices(tid))
        if values["rate"] and whole(values["rate"]) not in send_tasks.RATES:
            errors["rate"] = "tk_err_rate"
        if values["start"]:
            try:
                start = datetime.strptime(values["start"], LOCAL).replace(tzinfo=self.tz)
                start_at = start.timestamp()
            except ValueError:
                errors["start"] = "tk_err_start"
            else:
                if not start_in_window(start_at, self.c.clock()):
                    errors["start"] = "tk_err_start_window"
        upload = form.get("file")
        rows: list[Any] = []
        name = ""
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["file"] = "tk_err_file"
        else:
            name = upload.filename
            data = await upload.read(MAX_BYTES + 1)
            try:
                rows = await asyncio.to_thread(read_recipients, name, data)
            except UploadRefused as e:
                errors["file"] = f"tk_err_{e.key}"
        if errors:
            status = 413 if errors.get("file") == "tk_err_too_large" else 400
            return await self._page(request, tid, values, errors, status)
        # Not a whole number: 0, which is no offered speed, so the task says which ones are.
        rate = whole(values["rate"]) or 0 if values["rate"] else send_tasks.DEFAULT_RATE
        try:
            draft = await self.tasks.draft(
                tid,
                sdk_app_id=values["app"],
                sign_name=values["sign"],
                template_id=values["template"],
                name=name,
                rows=rows,
                rate=rate,
                start_at=start_at,
            )
        except RuleViolation as e:
            errors["rule"], errors["rule_message"] = e.code, e.message
            return await self._page(request, tid, values, errors, 400)
        return self.c.redirect(f"/console/tasks/{draft.task_id}")

    # -- one task -------------------------------------------------------------------------
    async def _draft_context(self, tid: int, task: Any) -> dict[str, Any]:
        preview = await self.tasks.draft_preview(tid, task, self.c.clock())
        context = {f.name: getattr(preview, f.name) for f in fields(preview)}
        return context | {
            "task": task,
            "start_local": self._local(task.start_at),
            "ask_count": needs_typed_count(task.numbers, self.confirm_threshold),
        }

    async def _draft_page(
        self,
        request: Request,
        tid: int,
        task: Any,
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
    ) -> Response:
        context = self._base(request) | await self._draft_context(tid, task)
        context |= {"values": values, "errors": errors}
        return self.c.render(request, "console/task_draft.html", context, status)

    @tenant_page
    async def detail(self, request: Request) -> Response:
        tid = tenant_id(request)
        task_id = int(request.path_params["task_id"])
        try:
            if (task := await self.tasks.task(tid, task_id)).state == "draft":
                return await self._draft_page(request, tid, task, {}, {})
            progress = await self.tasks.progress(tid, task_id)
        except RuleViolation:
            return self.c.not_found(request)
        context = self._base(request) | self._progress_context(progress)
        return self.c.render(request, "console/task.html", context)

    @tenant_page
    async def progress(self, request: Request) -> Response:
        tid = tenant_id(request)
        try:
            progress = await self.tasks.progress(tid, int(request.path_params["task_id"]))
        except RuleViolation:
            return self.c.not_found(request)
        context = self._base(request) | self._progress_context(progress)
        return self.c.render(request, "console/task_progress.html", context)

    def _progress_context(self, progress: dict[str, Any]) -> dict[str, Any]:
        task, counts = progress["task"], progress["counts"]
        return {
            "task": task,
            "p": progress,
            "n": counts,
            "state": self.display_state(task, self.c.clock(), counts),
            "final": counts.delivered + counts.failed,
            "start_local": self._local(task.start_at),
        }

    def _local(self, value: float) -> str:
        return datetime.fromtimestamp(value, self.tz).strftime("%Y-%m-%d %H:%M")

    # -- actions --------------------------------------------------------------------------
    @tenant_page
    async def confirm(self, request: Request, form: FormData) -> Response:
        """Start a draft; a large one only once the tenant has typed its number count."""
        tid = tenant_id(request)
        task_id = int(request.path_params["task_id"])
        try:
            task = await self.tasks.task(tid, task_id)
        except RuleViolation:
            return self.c.not_found(request)
        typed = _text(form, "typed_count")[:32]
        asked = task.state == "draft" and needs_typed_count(task.numbers, self.confirm_threshold)
        if asked and (problem := typed_count_problem(typed, task.numbers)) is not None:
            errors = {"typed_count": problem}
            return await self._draft_page(request, tid, task, {"typed_count": typed}, errors, 400)
        response: Response = await self._confirm_action(request, form)
        return response

    def _action(self, name: str, done: str) -> Any:
        @tenant_page
        async def run(request: Request, form: FormData) -> Response:
            tid = tenant_id(request)
            task_id = int(request.path_params["task_id"])
            target = f"/console/tasks/{task_id}"
            try:
                if name == "confirm":
                    start = await self.tasks.confirm(tid, task_id)
                    scheduled = start > self.c.clock()
                    self.c.flash(request, "tk_scheduled_ok" if scheduled else done, "ok")
                else:
                    await getattr(self.tasks, name)(tid, task_id)
                    self.c.flash(request, done, "ok")
            except RuleViolation as e:
                if e.code == send_tasks.NOT_FOUND[0]:
                    return self.c.not_found(request)
                if name == "confirm" and e.code != "FailedOperation":
                    self.c.flash(request, e.message, "error")  # shown as written
                else:
                    self.c.flash(request, "tk_not_allowed", "error")
            if name == "discard":
                target = "/console/tasks"
            if request.headers.get("hx-request") == "true":
                return Response(status_code=204, headers={"HX-Redirect": target})
            return self.c.redirect(target)

        return run


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = TaskPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/tasks", pages.page, methods=["GET"]),
        Route(
            "/tasks",
            post(pages.upload, max_files=1, max_fields=16, too_large=pages.upload_too_large),
            methods=["POST"],
        ),
        Route("/tasks/rows", pages.rows, methods=["GET"]),
        Route("/tasks/sample.csv", pages.sample, methods=["GET"]),
        Route("/tasks/{task_id:id}", pages.detail, methods=["GET"]),
        Route("/tasks/{task_id:id}/progress", pages.progress, methods=["GET"]),
    ]
    tenant.append(Route("/tasks/{task_id:id}/confirm", post(pages.confirm), methods=["POST"]))
    for name, done in (
        ("discard", "tk_discarded"),
        ("suspend", "tk_suspended_ok"),
        ("resume", "tk_resumed_ok"),
        ("cancel", "tk_cancelled_ok"),
    ):
        tenant.append(
            Route(
                f"/tasks/{{task_id:id}}/{name}", post(pages._action(name, done)), methods=["POST"]
            )
        )
    return tenant, []
