"""The operator's review of signatures and templates: the queue of pending items, the
images each signature was filed with, and the decision on each, which queues the notice to
the tenant.

The rules live in ``services.registry.review``; the names of sign and document types are
the tenant pages' own (``pages.registry``). The queue is ordered by the half-work-day
promise (``domain.work_time``), read at the console's clock. A signature's images are served
to operators only (the ``/admin`` area's session), decoded from what was filed and only when
their first bytes are a PNG or a JPEG, with the headers of an identity document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import text as _text
from smscloud.console.guard import operator_page
from smscloud.console.pages.registry import DOCUMENT_NAMES, SIGN_TYPE_NAMES
from smscloud.domain.errors import RuleViolation
from smscloud.domain.images import MEDIA_TYPES
from smscloud.services.accounts import tenants as accounts
from smscloud.services.registry import review
from smscloud.services.registry.voice_review import pending_voice_count

if TYPE_CHECKING:
    from smscloud.console.app import Console


i18n.STRINGS.update(
    {
        "reviews": ("签名与模板审核", "Signature and template review"),
        "approve": ("通过", "Approve"),
        "reject": ("驳回", "Reject"),
        "decided": ("审核结果已保存，通知已排队。", "Decision saved; the notice is queued."),
        "err_reason": ("驳回时必须填写原因。", "A reason is required to reject."),
        "no_pending": ("没有待审核的内容。", "Nothing is waiting for review."),
        "tenant": ("租户", "Tenant"),
        "findings": ("格式问题", "Lint findings"),
        # The wait against the promise; shared with the identity queue (admin/identities.html).
        "rv_promise": (
            "审核承诺：提交后半个工作日（4 个工作小时）内完成审核。工作时间为周一至周五"
            " 09:00–12:00 和 13:00–18:00（平台时区）；超时的项目排在最前，其余按等待时间排列，"
            "等待最久的在前。",
            "The promise: every item is reviewed within half a work day (4 working hours) of"
            " its submission. Working hours are 09:00–12:00 and 13:00–18:00, Monday to Friday,"
            " in the platform's time zone; overdue items come first, then the longest waits.",
        ),
        "rv_waited": ("已等待", "Waited"),
        "rv_working_time": (
            "{h} 小时 {m} 分钟（工作时间）",
            "{h} h {m} min of working time",
        ),
        "rv_overdue": ("已超时", "Overdue"),
        "rv_overdue_why": (
            "已超过半个工作日的审核承诺",
            "past the promise of review within half a work day",
        ),
        "rv_in_time": ("未超时", "Within the promise"),
        "rv_submitted": ("提交审核时间", "Submitted for review"),
        # A signature's evidence.
        "rv_proof": ("证明材料", "Proof document"),
        "rv_proof_alt": ("签名证明材料图片", "The signature's proof document"),
        "rv_commission": ("委托授权书", "Letter of authorisation"),
        "rv_commission_alt": ("委托授权书图片", "The letter of authorisation"),
        "rv_full_size": ("查看原图", "Open at full size"),
        "rv_not_image": (
            "提交的内容不是 PNG 或 JPEG 图片，无法显示。",
            "What was filed is not a PNG or JPEG image and cannot be shown.",
        ),
        "rv_no_commission": ("未提交委托授权书。", "No letter of authorisation was filed."),
    }
)

# What a served image may do in the browser: nothing but be shown.
IMAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Content-Disposition": "inline",
}


class ReviewPages:
    """The review queue and the decision on one pending item."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    @staticmethod
    def _item_id(request: Request) -> int:
        return int(request.path_params["item_id"])  # the ``id`` convertor matched it

    async def _reviews_page(
        self, request: Request, *, error: str | None = None, status: int = 200
    ) -> Response:
        now, tz = self.c.clock(), self.platform.settings.tz

        def load(conn: Connection) -> tuple[list[review.Pending], dict[int, str], int]:
            items = review.pending(conn, now, tz)
            names = accounts.tenant_names(conn)
            return items, names, pending_voice_count(conn)

        items, names, voice = await self.platform.db.read(load)
        context = {
            "area": "admin",
            "user": request.session,
            "signs": [i for i in items if i.kind == "sign"],
            "templates": [i for i in items if i.kind == "template"],
            "names": names,
            "error": error,
            "pending_voice": voice,
            "sign_type_names": SIGN_TYPE_NAMES,
            "document_names": DOCUMENT_NAMES,
        }
        return self.c.render(request, "admin/reviews.html", context, status)

    @operator_page
    async def reviews(self, request: Request) -> Response:
        return await self._reviews_page(request)

    @operator_page
    async def evidence(self, request: Request) -> Response:
        """A signature's proof image or letter of authorisation, to operators only."""
        which = request.path_params["which"]
        if which not in review.EVIDENCE:
            return self.c.not_found(request)
        item_id = self._item_id(request)
        image = await self.platform.db.read(lambda c: review.sign_evidence(c, item_id, which))
        if image is None:
            return self.c.not_found(request)
        data, suffix = image
        return Response(data, media_type=MEDIA_TYPES[suffix], headers=IMAGE_HEADERS)

    @operator_page
    async def decide(self, request: Request, form: FormData) -> Response:
        kind = request.path_params["kind"]
        item_id = self._item_id(request)
        if kind not in ("sign", "template"):
            return self.c.not_found(request)
        decision = _text(form, "decision")
        reason = _text(form, "reason")[:500]
        if decision not in ("approve", "reject"):
            return await self._reviews_page(request, error="err_required", status=400)
        approve = decision == "approve"
        if not approve and not reason:
            return await self._reviews_page(request, error="err_reason", status=400)
        now = self.c.clock()

        def write(conn: Connection) -> None:
            review.decide(conn, kind, item_id, approve=approve, reason=reason, now=now)

        try:
            await self.platform.db.write(write)
        except RuleViolation as e:
            return await self._reviews_page(request, error=f"{e.code}: {e.message}", status=409)
        self.platform.catalog.forget()
        self.c.flash(request, "decided", "ok")
        return self.c.redirect("/admin/reviews")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = ReviewPages(console)
    post = console.posted
    admin: list[BaseRoute] = [
        Route("/reviews", pages.reviews, methods=["GET"]),
        Route("/reviews/sign/{item_id:id}/{which}", pages.evidence, methods=["GET"]),
        Route("/reviews/{kind}/{item_id:id}", post(pages.decide), methods=["POST"]),
    ]
    return [], admin
