"""The operator's review of voice templates and uploaded voice files: the queue, each file
playable, and the decision on each (``platform.voice_registry.decide``, which queues the
notice to the tenant in the same transaction).

Uploaded files are served here to operators only (the ``/admin`` area's session), from inside
the voice files' directory; the tenant's own copy is ``voice_calls.file_audio``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n, voice_words
from smscloud.console.forms import text as _text
from smscloud.console.guard import operator_page
from smscloud.console.pages.voice_calls import audio_response
from smscloud.domain.errors import RuleViolation
from smscloud.services.accounts import tenants as accounts
from smscloud.services.registry.voice_review import (
    PendingVoiceFile,
    PendingVoiceTemplate,
    ReviewKind,
)
from smscloud.services.voice_records import inside

if TYPE_CHECKING:
    from smscloud.console.app import Console

KINDS = ("voice_template", "voice_file")

i18n.STRINGS.update(voice_words.OPERATOR)


class VoiceReviewPages:
    """The voice review queue, the files to listen to, and the decisions."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    async def _page(
        self, request: Request, *, error: str | None = None, status: int = 200
    ) -> Response:
        items = await self.platform.voice_registry.pending(self.platform.settings.tz)
        names = await self.platform.db.read(
            lambda c: accounts.tenant_names(c, {i.tenant_id for i in items})
        )
        context: dict[str, Any] = {
            "area": "admin",
            "user": request.session,
            "templates": [i for i in items if isinstance(i, PendingVoiceTemplate)],
            "files": [i for i in items if isinstance(i, PendingVoiceFile)],
            "names": names,
            "error": error,
            "lint_key": voice_words.lint_key,
        }
        return self.c.render(request, "admin/voice_reviews.html", context, status)

    @operator_page
    async def reviews(self, request: Request) -> Response:
        """Voice templates and files waiting for review, across tenants."""
        return await self._page(request)

    @operator_page
    async def decide(self, request: Request, form: FormData) -> Response:
        """Approve a waiting template or file, or reject it with a reason."""
        item_id = int(request.path_params["item_id"])
        if request.path_params["kind"] not in KINDS:
            return self.c.not_found(request)
        kind: ReviewKind = (
            "voice_template" if request.path_params["kind"] == "voice_template" else "voice_file"
        )
        decision = _text(form, "decision")
        reason = _text(form, "reason")[:500]
        if decision not in ("approve", "reject"):
            return await self._page(request, error="err_required", status=400)
        approve = decision == "approve"
        if not approve and not reason:
            return await self._page(request, error="err_reason", status=400)
        try:
            await self.platform.voice_registry.decide(kind, item_id, approve=approve, reason=reason)
        except RuleViolation:
            return await self._page(request, error="vr_gone", status=409)
        self.c.flash(request, "decided", "ok")
        return self.c.redirect("/admin/voice/reviews")

    @operator_page
    async def file_audio(self, request: Request) -> Response:
        """Any tenant's uploaded file (not deleted), for the reviewer to hear."""
        item_id = int(request.path_params["item_id"])
        found = await self.platform.voice_registry.file_for_review(item_id)
        answer = None
        if found is not None:
            folder = Path(self.platform.settings.data_dir) / "voice_files"
            path = inside(found[1], folder, suffixes=(".mp3", ".wav"))
            if path is not None:
                answer = await anyio.to_thread.run_sync(audio_response, path)
        return self.c.not_found(request) if answer is None else answer


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = VoiceReviewPages(console)
    post = console.posted
    admin: list[BaseRoute] = [
        Route("/voice/reviews", pages.reviews, methods=["GET"]),
        Route("/voice/reviews/{kind}/{item_id:id}", post(pages.decide), methods=["POST"]),
        Route("/voice/files/{item_id:id}/audio", pages.file_audio, methods=["GET"]),
    ]
    return [], admin
