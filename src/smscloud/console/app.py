"""The web console: ``/console`` for tenants, ``/admin`` for operators, ``/static`` assets.

Server-rendered pages (Jinja2) with htmx for the live parts. Each area has its own signed
session cookie (its own name, path and key), so an operator session and a tenant session
never stand in for each other, and its own ``SessionGuard`` that checks the cookie's session
against the database on every request. Every tenant query filters by the session's tenant id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection, func, insert, select, update
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router, compile_path
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from smscloud.clock import Clock
from smscloud.console import auth, csrf, i18n
from smscloud.console.forms import FORM_MAX, has_nul, read_form
from smscloud.console.forms import text as _field
from smscloud.console.pages import billing as billing_pages
from smscloud.console.pages import identity
from smscloud.console.pages import records as records_pages
from smscloud.console.pages import registry as registry_pages
from smscloud.console.pages import settings as settings_pages
from smscloud.console.pages import tasks as task_pages
from smscloud.console.session_guard import SessionGuard
from smscloud.console.session_guard import signed_in as checked_session
from smscloud.domain import login_limits
from smscloud.domain.message_states import MessageState
from smscloud.domain.session_expiry import SessionLimits
from smscloud.platform import Platform
from smscloud.services.accounts import login_gate, sessions
from smscloud.services.accounts import tenants as accounts
from smscloud.services.billing import ledger
from smscloud.store import schema as s

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, FormData], Awaitable[Response]]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD = 1024
TENANT, OPERATOR = sessions.TENANT, sessions.OPERATOR


SECTIONS = (identity, registry_pages, billing_pages, records_pages, settings_pages, task_pages)
# Routes taking files declare their own body limits (``UPLOADS``: full path -> bytes).
_UPLOADS = [
    (compile_path(path)[0], limit)
    for section in SECTIONS
    for path, limit in getattr(section, "UPLOADS", {}).items()
]


def console_body_limit(path: str) -> int:
    """The most a request to this console path may carry: a form, or an upload's own."""
    return next((limit for regex, limit in _UPLOADS if regex.match(path)), FORM_MAX)


class EmailTakenError(Exception):
    pass


def _secret(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _rate_error(minutes: int) -> dict[str, Any]:
    """The page's error for a refused log-in: "try again in N minutes"."""
    return {"error": "err_rate_1" if minutes == 1 else "err_rate", "minutes": minutes}


def _password_errors(password: str, again: str) -> dict[str, str]:
    """A new password's problems, by field: its length, then the second typing."""
    if len(password) < auth.MIN_PASSWORD:
        return {"password": "err_password_short"}
    if len(password) > MAX_PASSWORD:
        return {"password": "err_password_long"}
    if password != again:
        return {"password2": "err_password_match"}
    return {}


class Console:
    """The pages of both areas, sharing one template environment and the log-in limits."""

    def __init__(self, platform: Platform, *, clock: Clock | None = None) -> None:
        self.platform = platform
        self.clock = clock or platform.clock
        settings = platform.settings
        self.limits = login_limits.Limits(
            per_account=settings.login_failures_per_account,
            per_address=settings.login_failures_per_address,
            window=settings.login_window_minutes * 60.0,
        )
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
        html = self.env.get_template(name).render(
            request=request,
            t=i18n.translator(lang),
            lang=lang,
            other_lang="en" if lang == "zh" else "zh",
            csrf=csrf.token(request.session),
            flashes=flashes if isinstance(flashes, list) else [],
            **context,
        )
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

    def ip(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    # -- log-in limits ----------------------------------------------------------------------
    async def reserve_check(self, request: Request, account: str) -> int | None:
        """Reserve a password check for ``account`` from this client before checking it:
        None when allowed, else the minutes to wait."""
        now, address = self.clock(), login_limits.address_key(self.ip(request))
        refused = await self.platform.db.write(
            lambda c: login_gate.reserve_check(c, account, address, now, self.limits)
        )
        return None if refused is None else refused.minutes(now)

    async def check_passed(self, request: Request, account: str) -> None:
        """The reserved check proved the password: it counts as no failure."""
        address = login_limits.address_key(self.ip(request))
        await self.platform.db.write(lambda c: login_gate.check_passed(c, account, address))

    # -- guards -----------------------------------------------------------------------------
    def posted(self, handler: FormHandler) -> Handler:
        """A POST handler, run only with a readable form and the session's CSRF token (else
        a 413, 400 or 403 page)."""

        async def run(request: Request) -> Response:
            form = await read_form(request)
            if form is None:
                return self.refused(request, 413)
            try:
                if has_nul(request, form):
                    return self.refused(request, 400)
                if not csrf.valid(request, form):
                    return self.render(request, "csrf.html", {"area": self._area(request)}, 403)
                return await handler(request, form)
            finally:
                await form.close()  # the uploads' spooled files

        return run

    def refused(self, request: Request, status: int) -> Response:
        """The page for a request that cannot be read: too large (413) or holding NUL (400)."""
        kind = "too_large" if status == 413 else "unreadable"
        context = {"area": self._area(request), "title": f"{kind}_title", "body": f"{kind}_body"}
        return self.render(request, "refused.html", context, status)

    @staticmethod
    def _area(request: Request) -> str:
        return "admin" if request.scope.get("root_path", "").endswith("/admin") else "console"

    def tenant_id(self, request: Request) -> int | None:
        """The signed-in tenant's id, or None (not signed in, or the session expired)."""
        if not self.signed_in(request, TENANT):
            return None
        return int(request.session["tid"])

    def to_login(self, request: Request) -> Response:
        """Back to the tenant's log-in page; htmx requests are told to go there."""
        if request.headers.get("hx-request") == "true":
            return Response(status_code=204, headers={"HX-Redirect": "/console/login"})
        return self.redirect("/console/login")

    def signed_in(self, request: Request, realm: str) -> bool:
        """Whether this request's session was found live in ``realm`` by the session guard."""
        return checked_session(request.scope, realm) is not None

    async def start_session(
        self, request: Request, realm: str, row: Any, verdict: auth.Verdict, values: dict[str, Any]
    ) -> bool:
        """Sign the browser in as ``row``'s user, whose password was just verified; False
        when the account changed meanwhile (its password, or its tenant suspended)."""
        now = self.clock()
        token = await self.platform.db.write(
            lambda c: sessions.start(
                c,
                realm,
                int(row.id),
                str(row.password_hash),
                now,
                self.session_limits,
                new_hash=verdict.new_hash,
            )
        )
        if token is None:
            return False
        auth.sign_in(request.session, {"realm": realm, "uid": int(row.id)} | values, token)
        return True

    # -- tenant pages -------------------------------------------------------------------------
    async def signup_page(self, request: Request) -> Response:
        return self.render(request, "console/signup.html", {"area": "console", "values": {}})

    async def signup(self, request: Request, form: FormData) -> Response:
        values = {
            "email": _field(form, "email").lower(),
            "name": _field(form, "name"),
            "account_type": _field(form, "account_type"),
        }
        password, password2 = _secret(form, "password"), _secret(form, "password2")
        errors: dict[str, str] = {}
        if not values["email"]:
            errors["email"] = "err_required"
        elif len(values["email"]) > 254 or not EMAIL.match(values["email"]):
            errors["email"] = "err_email"
        if not values["name"]:
            errors["name"] = "err_required"
        elif len(values["name"]) > 128:
            errors["name"] = "err_too_long"
        if values["account_type"] not in ("individual", "enterprise"):
            errors["account_type"] = "err_type"
        errors |= _password_errors(password, password2)
        if not errors:
            password_hash = await auth.hash_password(password)
            now = self.clock()

            def create(conn: Connection) -> None:
                u = s.tenant_users
                if conn.execute(select(u.c.id).where(u.c.email == values["email"])).first():
                    raise EmailTakenError
                tenant = accounts.create_tenant(
                    conn, values["name"], values["account_type"], sms_active=False, now=now
                )
                conn.execute(
                    insert(u).values(
                        tenant_id=tenant["id"],
                        email=values["email"],
                        password_hash=password_hash,
                        created_at=now,
                    )
                )

            try:
                await self.platform.db.write(create)
            except EmailTakenError:
                errors["email"] = "err_email_taken"
        if errors:
            context = {"area": "console", "values": values, "errors": errors}
            return self.render(request, "console/signup.html", context, 400)
        self.flash(request, "signed_up", "ok")
        return self.redirect("/console/login")

    async def login_page(self, request: Request) -> Response:
        return self.render(request, "console/login.html", {"area": "console", "values": {}})

    async def login(self, request: Request, form: FormData) -> Response:
        email = _field(form, "email").lower()
        password = _secret(form, "password")
        context: dict[str, Any] = {"area": "console", "values": {"email": email}}
        account = login_limits.account_key(TENANT, email)
        if (wait := await self.reserve_check(request, account)) is not None:
            return self.render(request, "console/login.html", context | _rate_error(wait), 429)
        u, t = s.tenant_users, s.tenants
        row = await self.platform.db.read(
            lambda c: c.execute(
                select(u.c.id, u.c.tenant_id, u.c.password_hash, t.c.status)
                .join_from(u, t, t.c.id == u.c.tenant_id)
                .where(u.c.email == email)
            ).first()
        )
        verdict = await auth.verify_password(password, row.password_hash if row else None)
        if row is None or not verdict.ok:
            return self.render(request, "console/login.html", context | {"error": "err_login"}, 400)
        await self.check_passed(request, account)
        if row.status != "active":  # told only to whoever knows the password
            context["error"] = "err_suspended"
            return self.render(request, "console/login.html", context, 403)
        values = {"tid": int(row.tenant_id), "email": email}
        if not await self.start_session(request, TENANT, row, verdict, values):
            return self.render(request, "console/login.html", context | {"error": "err_login"}, 400)
        return self.redirect("/console/")

    async def logout(self, request: Request, form: FormData) -> Response:
        area = self._area(request)
        token = request.session.get("sid")
        if isinstance(token, str):  # ended for every copy of the cookie, not just this one
            key = sessions.token_key(token)
            await self.platform.db.write(lambda c: sessions.end(c, key))
        request.session.clear()
        self.flash(request, "logged_out", "ok")
        return self.redirect(f"/{area}/login")

    async def dashboard(self, request: Request) -> Response:
        if not self.signed_in(request, TENANT):
            return self.redirect("/console/login")
        tid = int(request.session["tid"])

        def load(conn: Connection) -> dict[str, Any]:
            t, p, a = s.tenants, s.packages, s.applications
            tenant = conn.execute(select(t).where(t.c.id == tid)).first()
            packages = conn.execute(
                select(p).where(p.c.tenant_id == tid).order_by(p.c.expires_at, p.c.id)
            ).all()
            apps = conn.execute(
                select(a.c.name, a.c.sdk_app_id, a.c.status, a.c.created_at)
                .where(a.c.tenant_id == tid)
                .order_by(a.c.id)
            ).all()
            return {
                "tenant": tenant,
                "balance": ledger.balances(conn, tid),
                "packages": packages,
                "apps": apps,
            }

        data = await self.platform.db.read(load)
        context = {"area": "console", "user": request.session, "now": self.clock(), **data}
        return self.render(request, "console/dashboard.html", context)

    async def activate(self, request: Request, form: FormData) -> Response:
        if not self.signed_in(request, TENANT):
            return self.redirect("/console/login")
        tid = int(request.session["tid"])
        t = s.tenants
        changed = await self.platform.db.write(
            lambda c: (
                c.execute(
                    update(t).where(t.c.id == tid, t.c.verified.is_(True)).values(sms_active=True)
                ).rowcount
            )
        )
        self.platform.catalog.forget("tenant", tid)
        if changed:
            self.flash(request, "activated", "ok")
        else:
            self.flash(request, "activate_first", "warn")
        return self.redirect("/console/")

    async def create_app(self, request: Request, form: FormData) -> Response:
        htmx = request.headers.get("hx-request") == "true"
        if not self.signed_in(request, TENANT):
            if htmx:
                return Response(status_code=204, headers={"HX-Redirect": "/console/login"})
            return self.redirect("/console/login")
        tid = int(request.session["tid"])
        name = _field(form, "name")
        error = "err_required" if not name else "err_too_long" if len(name) > 128 else None
        t = s.tenants
        active = await self.platform.db.read(
            lambda c: c.execute(select(t.c.sms_active).where(t.c.id == tid)).scalar()
        )
        if not active:
            error = "activate_first"
        app = None
        if error is None:
            now = self.clock()
            app = await self.platform.db.write(lambda c: accounts.create_app(c, tid, name, now=now))
        context: dict[str, Any] = {
            "area": "console",
            "user": request.session,
            "app": app,
            "error": error,
        }
        context |= {"values": {"name": name}, "now": self.clock()}
        if htmx:
            return self.render(request, "console/_app_created.html", context)
        page = "console/app_created.html"
        return self.render(request, page, context, 400 if error else 200)

    async def app_detail(self, request: Request) -> Response:
        if not self.signed_in(request, TENANT):
            return self.redirect("/console/login")
        tid = int(request.session["tid"])
        sdk_app_id = request.path_params["sdk_app_id"]
        a = s.applications
        row = await self.platform.db.read(
            lambda c: c.execute(
                select(a.c.name, a.c.sdk_app_id, a.c.status, a.c.created_at).where(
                    a.c.tenant_id == tid, a.c.sdk_app_id == sdk_app_id
                )
            ).first()
        )
        if row is None:
            return self.not_found(request)
        context = {"area": "console", "user": request.session, "app": row}
        return self.render(request, "console/app.html", context)

    async def password_page(self, request: Request) -> Response:
        if not self.signed_in(request, TENANT):
            return self.redirect("/console/login")
        context = {"area": "console", "user": request.session}
        return self.render(request, "console/password.html", context)

    async def change_password(self, request: Request, form: FormData) -> Response:
        if not self.signed_in(request, TENANT):
            return self.redirect("/console/login")
        uid, email = int(request.session["uid"]), str(request.session["email"])
        current, new, new2 = (_secret(form, k) for k in ("current", "password", "password2"))
        errors: dict[str, str] = {}
        status = 400
        u = s.tenant_users
        account = login_limits.account_key(TENANT, email)
        if (wait := await self.reserve_check(request, account)) is not None:
            refused = _rate_error(wait)
            errors["current"], status = refused["error"], 429
        else:
            stored = await self.platform.db.read(
                lambda c: c.execute(select(u.c.password_hash).where(u.c.id == uid)).scalar()
            )
            if (await auth.verify_password(current, stored)).ok:
                await self.check_passed(request, account)
            else:
                errors["current"] = "err_current_password"
        errors |= _password_errors(new, new2)
        if errors:
            context: dict[str, Any] = {"area": "console", "user": request.session}
            context |= {"errors": errors, "minutes": wait}
            return self.render(request, "console/password.html", context, status)
        new_hash, now = await auth.hash_password(new), self.clock()
        # Every session of the user ends; this browser gets a new one (and a new CSRF token).
        token = await self.platform.db.write(
            lambda c: sessions.change_password(c, uid, new_hash, now)
        )
        keep = {k: request.session[k] for k in ("realm", "uid", "tid", "email")}
        auth.sign_in(request.session, keep, token)
        self.flash(request, "password_changed", "ok")
        return self.redirect("/console/")

    def not_found(self, request: Request) -> Response:
        context = {"area": self._area(request), "user": request.session}
        return self.render(request, "not_found.html", context, 404)

    # -- operator pages -----------------------------------------------------------------------
    async def admin_login_page(self, request: Request) -> Response:
        return self.render(request, "admin/login.html", {"area": "admin", "values": {}})

    async def admin_login(self, request: Request, form: FormData) -> Response:
        username = _field(form, "username")
        password = _secret(form, "password")
        context: dict[str, Any] = {"area": "admin", "values": {"username": username}}
        account = login_limits.account_key(OPERATOR, username)
        if (wait := await self.reserve_check(request, account)) is not None:
            return self.render(request, "admin/login.html", context | _rate_error(wait), 429)
        o = s.operators
        row = await self.platform.db.read(
            lambda c: c.execute(
                select(o.c.id, o.c.password_hash).where(o.c.username == username)
            ).first()
        )
        verdict = await auth.verify_password(password, row.password_hash if row else None)
        context["error"] = "err_admin_login"
        if row is None or not verdict.ok:
            return self.render(request, "admin/login.html", context, 400)
        await self.check_passed(request, account)
        if not await self.start_session(request, OPERATOR, row, verdict, {"username": username}):
            return self.render(request, "admin/login.html", context, 400)
        return self.redirect("/admin/")

    async def admin_dashboard(self, request: Request) -> Response:
        if not self.signed_in(request, OPERATOR):
            return self.redirect("/admin/login")

        def load(conn: Connection) -> dict[str, Any]:
            t, u = s.tenants, s.tenant_users
            count = conn.execute(select(func.count()).select_from(t)).scalar_one()
            pending = sum(
                int(
                    conn.execute(
                        select(func.count())
                        .select_from(g)
                        .where(g.c.status == 1, g.c.deleted.is_(False))
                    ).scalar_one()
                )
                for g in (s.signs, s.templates)
            )
            pending += int(
                conn.execute(
                    select(func.count()).select_from(s.identities).where(s.identities.c.status == 1)
                ).scalar_one()
            )
            emails = (
                select(func.min(u.c.email))
                .where(u.c.tenant_id == t.c.id)
                .correlate(t)
                .scalar_subquery()
            )
            rows = conn.execute(
                select(
                    t.c.id,
                    t.c.name,
                    t.c.account_type,
                    t.c.verified,
                    t.c.status,
                    t.c.created_at,
                    emails.label("email"),
                )
                .order_by(t.c.id.desc())
                .limit(500)
            ).all()
            return {"tenant_count": int(count), "pending": pending, "tenants": rows}

        data = await self.platform.db.read(load)
        context = {"area": "admin", "user": request.session, **data}
        return self.render(request, "admin/dashboard.html", context)


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
    post = console.posted
    tenant_routes = [
        Route("/", console.dashboard),
        Route("/signup", console.signup_page, methods=["GET"]),
        Route("/signup", post(console.signup), methods=["POST"]),
        Route("/login", console.login_page, methods=["GET"]),
        Route("/login", post(console.login), methods=["POST"]),
        Route("/logout", post(console.logout), methods=["POST"]),
        Route("/password", console.password_page, methods=["GET"]),
        Route("/password", post(console.change_password), methods=["POST"]),
        Route("/apps", post(console.create_app), methods=["POST"]),
        Route("/activate", post(console.activate), methods=["POST"]),
        Route("/apps/{sdk_app_id}", console.app_detail, methods=["GET"]),
    ]
    admin_routes = [
        Route("/", console.admin_dashboard),
        Route("/login", console.admin_login_page, methods=["GET"]),
        Route("/login", post(console.admin_login), methods=["POST"]),
        Route("/logout", post(console.logout), methods=["POST"]),
    ]
    for section in SECTIONS:  # each: (tenant routes, operator routes)
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
        Mount("/console", app=area(list(tenant_routes), "console", TENANT)),
        Mount("/admin", app=area(list(admin_routes), "admin", OPERATOR)),
        Mount("/static", app=StaticFiles(packages=[("smscloud.console", "static")]), name="static"),
    ]
