"""The web console: ``/console`` for tenants, ``/admin`` for operators, ``/static`` assets.

Server-rendered pages (Jinja2) with htmx for the live parts. Each area has its own signed
session cookie (its own name, path and key), so an operator session and a tenant session
never stand in for each other, and its own ``SessionGuard`` that checks the cookie's session
against the database on every request. Pages say who may open them with ``@tenant_page`` or
``@operator_page`` (``console/guard.py``); every tenant query filters by the session's tenant.

This module is the core: the ``Console`` the pages share (rendering, flashes, the form
guard), the middleware and the router. The pages live in ``console/pages/``, one module per
area, each giving its routes with ``routes(console)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Router, compile_path
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from smscloud.clock import Clock
from smscloud.console import auth, code_words, csrf, i18n, lint_words
from smscloud.console.forms import FORM_MAX, has_nul, read_form
from smscloud.console.pages import (
    admin_carriers,
    admin_reviews,
    admin_tenants,
    admin_voice_reviews,
    billing,
    home,
    identity,
    messages,
    notice_contacts,
    records,
    registry,
    send,
    settings,
    sign_in,
    tasks,
    voice,
    voice_calls,
)
from smscloud.console.session_guard import SessionGuard, signed_in
from smscloud.domain.call_states import CallState
from smscloud.domain.message_states import MessageState
from smscloud.domain.session_expiry import SessionLimits
from smscloud.platform import Platform
from smscloud.services.accounts.sessions import OPERATOR, TENANT

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, FormData], Awaitable[Response]]

# Each section: ``routes(console)`` -> (routes under /console, routes under /admin), and
# optionally ``UPLOADS`` (full path -> bytes) for routes taking files.
SECTIONS = (
    sign_in,
    home,
    identity,
    registry,
    billing,
    send,
    records,
    settings,
    messages,
    notice_contacts,
    admin_tenants,
    admin_carriers,
    admin_reviews,
    tasks,
    voice,
    voice_calls,
    admin_voice_reviews,
)
_UPLOADS = [
    (compile_path(path)[0], limit)
    for section in SECTIONS
    for path, limit in getattr(section, "UPLOADS", {}).items()
]


def console_body_limit(path: str) -> int:
    """The most a request to this console path may carry: a form, or an upload's own."""
    return next((limit for regex, limit in _UPLOADS if regex.match(path)), FORM_MAX)


class Console:
    """What the pages of both areas share: the platform, the clock, one template
    environment, the session limits, and the ways to answer."""

    def __init__(self, platform: Platform, *, clock: Clock | None = None) -> None:
        self.platform = platform
        self.clock = clock or platform.clock
        settings = platform.settings
        self.session_limits = SessionLimits(
            idle=settings.session_idle_minutes * 60.0,
            lifetime=settings.session_max_hours * 3600.0,
        )
        self.env = Environment(
            loader=PackageLoader("smscloud.console", "templates"),
            autoescape=select_autoescape(default=True),
        )
        self.env.filters["dt"] = self._format_time
        self.env.globals["MessageState"] = MessageState  # templates name states, not spell them
        self.env.globals["CallState"] = CallState

    def _format_time(self, value: float | None) -> str:
        if value is None:
            return ""
        return datetime.fromtimestamp(value, self.platform.settings.tz).strftime("%Y-%m-%d %H:%M")

    # -- rendering --------------------------------------------------------------------------
    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        lang = i18n.pick(request)
        flashes = request.session.pop("flash", [])
        found = signed_in(request.scope, TENANT)
        values: dict[str, Any] = {
            "request": request,
            "t": i18n.translator(lang),
            "explain": code_words.explainer(lang),
            "receipt": code_words.receipt_explainer(lang),
            "refusal": code_words.refusal_writer(lang),
            "lint": lambda message: lint_words.lint_words(message, lang),
            "lang": lang,
            "other_lang": "en" if lang == "zh" else "zh",
            "csrf": csrf.token(request.session),
            "flashes": flashes if isinstance(flashes, list) else [],
            # The header's count, as the session check read it; a page that reads or marks
            # messages passes its own.
            "unread": found.unread if found is not None else 0,
        }
        html = self.env.get_template(name).render(values | context)
        response = HTMLResponse(html, status_code=status)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.query_params.get("lang") in i18n.LANGS:
            response.set_cookie(i18n.COOKIE, lang, max_age=365 * 86400, samesite="lax")
        return response

    @staticmethod
    def flash(request: Request, key: str, kind: str = "info") -> None:
        request.session.setdefault("flash", []).append([kind, key])

    @staticmethod
    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=303)

    def not_found(self, request: Request) -> Response:
        context = {"area": self.area(request), "user": request.session}
        return self.render(request, "not_found.html", context, 404)

    # -- the form guard ---------------------------------------------------------------------
    def posted(
        self,
        handler: FormHandler,
        *,
        max_files: int = 1000,
        max_fields: int = 1000,
        too_large: Handler | None = None,
    ) -> Handler:
        """A POST handler, run only with a readable form and the session's CSRF token (else
        a 413, 400 or 403 page). An upload form bounds its files and fields, and may answer
        a body over its route's limit with its own page (``too_large``, which must check who
        is signed in itself: it runs before ``handler``'s guard)."""

        async def run(request: Request) -> Response:
            form = await read_form(request, max_files=max_files, max_fields=max_fields)
            if form is None:
                return await too_large(request) if too_large else self.refused(request, 413)
            try:
                if has_nul(request, form):
                    return self.refused(request, 400)
                if not csrf.valid(request, form):
                    return self.render(request, "csrf.html", {"area": self.area(request)}, 403)
                return await handler(request, form)
            finally:
                await form.close()  # the uploads' spooled files

        return run

    def refused(self, request: Request, status: int) -> Response:
        """The page for a request that cannot be read: too large (413) or holding NUL (400)."""
        kind = "too_large" if status == 413 else "unreadable"
        context = {"area": self.area(request), "title": f"{kind}_title", "body": f"{kind}_body"}
        return self.render(request, "refused.html", context, status)

    @staticmethod
    def area(request: Request) -> str:
        """The request's area: ``console`` (tenants) or ``admin`` (operators)."""
        return "admin" if request.scope.get("root_path", "").endswith("/admin") else "console"


class NulGuard:
    """Refuses a request whose path or query holds NUL before any page sees it (400)."""

    def __init__(self, app: ASGIApp, console: Console) -> None:
        self.app = app
        self.console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and has_nul(request := Request(scope, receive)):
            await self.console.refused(request, 400)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def console_routes(platform: Platform, *, clock: Clock | None = None) -> list[BaseRoute]:
    """The console's mounts, each area behind its own session middleware."""
    console = Console(platform, clock=clock)
    secret = auth.load_secret(platform.settings.data_dir)
    tenant_routes: list[BaseRoute] = []
    admin_routes: list[BaseRoute] = []
    for section in SECTIONS:
        tenant_more, admin_more = section.routes(console)
        tenant_routes += tenant_more
        admin_routes += admin_more

    def area(routes: list[BaseRoute], name: str, realm: str) -> SessionMiddleware:
        guarded = SessionGuard(
            Router(routes=routes, middleware=[Middleware(NulGuard, console=console)]),
            db=platform.db,
            realm=realm,
            limits=console.session_limits,
            clock=console.clock,
        )
        return SessionMiddleware(
            guarded,
            secret_key=f"{secret}:{name}",  # a cookie of one area is no good in the other
            session_cookie=f"smscloud_{name}",
            max_age=int(console.session_limits.idle),
            path=f"/{name}",
            same_site="lax",
        )

    return [
        Mount("/console", app=area(tenant_routes, "console", TENANT)),
        Mount("/admin", app=area(admin_routes, "admin", OPERATOR)),
        Mount("/static", app=StaticFiles(packages=[("smscloud.console", "static")]), name="static"),
    ]
