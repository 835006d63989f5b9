"""The operator's review of signatures and templates: the queue of pending items and the
decision on each, which queues the notice to the tenant.

The rules live in ``services.registry.review``; the names of sign and document types are
the tenant pages' own (``pages.registry``).
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
    }
)


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
        def load(conn: Connection) -> tuple[list[review.Pending], dict[int, str], int]:
            items = review.pending(conn)
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
        Route("/reviews/{kind}/{item_id:id}", post(pages.decide), methods=["POST"]),
    ]
    return [], admin
