"""Exports of the records and statistics pages, as CSV or XLSX.

``/console/export/records.{csv,xlsx}`` takes the records page's filters (time range or task,
phone, state, application, signature, template) and writes every matching message, not only
the page shown; ``/console/export/stats.{csv,xlsx}`` writes the statistics page's hourly and
daily counts under its filters. Column headers are in the page's language, states and receipts
in words with their codes in columns of their own, times in the platform's time zone as the
pages show them. The records are read in keyset batches (``services/record_export.py``) and
written as they come (``console/downloads.py``).

Only the signed-in tenant's own messages are read: every batch filters by the session's
tenant id, and a filter naming what is not the tenant's gets the page with its message
instead of a file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from smscloud.console import code_words, i18n
from smscloud.console.downloads import Cell, Sheet, Text, download
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.services.record_export import ExportRecord, record_batches

if TYPE_CHECKING:
    from smscloud.console.pages.records import RecordsPages

KINDS = ("csv", "xlsx")

i18n.STRINGS.update(
    {
        "exp_csv": ("导出 CSV", "Export CSV"),
        "exp_xlsx": ("导出 XLSX", "Export XLSX"),
        "exp_title": ("导出", "Export"),
        "exp_records_note": (
            "导出当前筛选条件下的全部记录，不只是本页。",
            "Exports every record the filters match, not only this page.",
        ),
        "exp_sheet_records": ("发送记录", "Records"),
        "exp_sheet_stats": ("发送统计", "Statistics"),
        "exp_time": ("发送时间", "Sent at"),
        "exp_app": ("应用 SdkAppId", "Application SdkAppId"),
        "exp_template_id": ("模板 ID", "Template ID"),
        "exp_template_name": ("模板名称", "Template name"),
        "exp_content": ("短信内容", "Message text"),
        "exp_state_code": ("状态代码", "State code"),
        "exp_receipt_words": ("回执", "Receipt"),
        "exp_request_words": ("受理结果", "Request result"),
        "exp_request_code": ("受理错误码", "Request code"),
        "exp_done": ("完成时间", "Finished at"),
        "exp_granularity": ("粒度", "Granularity"),
        "exp_by_hour": ("按小时", "By hour"),
        "exp_by_day": ("按天", "By day"),
        "exp_period_start": ("时段开始", "Period start"),
        "exp_rate": ("成功率（%）", "Success rate (%)"),
    }
)


class RecordExports:
    """The export routes, reading the same filters as the pages in ``pages``."""

    def __init__(self, pages: RecordsPages) -> None:
        self.pages = pages
        self.c = pages.c
        self.tz = pages.tz

    def _when(self, value: float | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
        return "" if value is None else datetime.fromtimestamp(value, self.tz).strftime(pattern)

    def _stem(self, what: str) -> str:
        return f"{what}-{self._when(self.c.clock(), '%Y%m%d-%H%M')}"

    @staticmethod
    def _kind(request: Request) -> str | None:
        kind = str(request.path_params.get("kind", ""))
        return kind if kind in KINDS else None

    # -- records ----------------------------------------------------------------------------
    def _record_row(self, r: ExportRecord, lang: str, t: Callable[..., str]) -> list[Cell]:
        receipt = code_words.receipt_words(r.receipt_code, lang) if r.receipt_code else ""
        request_words = "" if r.request_code == "Ok" else code_words.explain(r.request_code, lang)
        return [
            self._when(r.created_at),
            r.phone,
            r.sdk_app_id,
            Text(r.sign_name),
            r.template_id,
            Text(r.template_name),
            Text(r.content),
            r.parts,
            t("state_" + r.state),
            r.state,
            receipt,
            r.receipt_code,
            request_words,
            r.request_code,
            r.serial_no,
            self._when(r.done_at),
        ]

    @tenant_page
    async def records(self, request: Request) -> Response:
        """Every record the records page's filters match, as a file."""
        kind = self._kind(request)
        if kind is None:
            return self.c.not_found(request)
        tid = tenant_id(request)
        sf = await self.pages.scope(request, tid)
        if not sf.valid:  # the page, with the message beside the field, and no file
            return await self.pages.records(request)
        f = self.pages.filters(request)
        wanted = self.pages.record_filter(f, sf)
        lang = i18n.pick(request)
        t = i18n.translator(lang)
        header = [
            t("exp_time"),
            t("rec_phone"),
            t("exp_app"),
            t("sign_name"),
            t("exp_template_id"),
            t("exp_template_name"),
            t("exp_content"),
            t("parts"),
            t("rec_state"),
            t("exp_state_code"),
            t("exp_receipt_words"),
            t("rec_receipt"),
            t("exp_request_words"),
            t("exp_request_code"),
            t("rec_serial"),
            t("exp_done"),
        ]

        async def rows() -> AsyncIterator[Sequence[Sequence[Cell]]]:
            batches = record_batches(self.c.platform.db.read, tid, wanted)
            async for batch in batches:
                yield [self._record_row(r, lang, t) for r in batch]

        widths = [20, 16, 14, 14, 10, 16, 48, 8, 12, 12, 16, 12, 16, 16, 28, 20]
        sheet = Sheet(t("exp_sheet_records"), header, rows(), widths)
        return download([sheet], kind, self._stem("records"))

    # -- statistics -------------------------------------------------------------------------
    @tenant_page
    async def stats(self, request: Request) -> Response:
        """The statistics page's hourly and daily counts, as a file."""
        kind = self._kind(request)
        if kind is None:
            return self.c.not_found(request)
        tid = tenant_id(request)
        sf = await self.pages.scope(request, tid)
        if not sf.valid:
            return await self.pages.stats(request)
        by_hour, by_day, _ = await self.pages.stat_counts(tid, sf)
        t = i18n.translator(i18n.pick(request))
        header = [
            t("exp_granularity"),
            t("exp_period_start"),
            t("stats_sent"),
            t("stats_delivered"),
            t("stats_failed"),
            t("stats_parts"),
            t("exp_rate"),
        ]
        table: list[list[Cell]] = []
        for name, points in (("exp_by_hour", by_hour), ("exp_by_day", by_day)):
            table += [self._stat_row(t(name), p) for p in points]

        async def rows() -> AsyncIterator[Sequence[Sequence[Cell]]]:
            yield table  # 38 rows: one batch

        sheet = Sheet(t("exp_sheet_stats"), header, rows(), [12, 18, 10, 10, 10, 12, 10])
        return download([sheet], kind, self._stem("stats"))

    def _stat_row(self, granularity: str, p: dict[str, Any]) -> list[Cell]:
        rate = round(100 * p["delivered"] / p["sent"], 1) if p["sent"] else None
        return [
            granularity,
            self._when(p["start"], "%Y-%m-%d %H:%M"),
            p["sent"],
            p["delivered"],
            p["failed"],
            p["parts"],
            rate,
        ]
