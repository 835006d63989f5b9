"""The web console: ``/console`` for tenants, ``/admin`` for operators, ``/static`` assets.

Server-rendered pages (Jinja2) with htmx for the live parts. Each area has its own signed
session cookie (its own name, path and key), so an operator session and a tenant session
never stand in for each other. Every tenant query filters by the session's tenant id.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection, func, insert, select, update
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles

from smscloud.clock import Clock
from smscloud.console import (
    auth,
    billing_pages,
    csrf,
    i18n,
    identity,
    records_pages,
    registry_pages,
    settings_pages,
    task_pages,
)
from smscloud.console.forms import text as _field
from smscloud.platform import Platform
from smscloud.services import accounts, ledger
from smscloud.store import schema as s

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, FormData], Awaitable[Response]]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PASSWORD = 1024
TENANT, OPERATOR = "tenant", "operator"


class EmailTakenError(Exception):
    pass


def _secret(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


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
    """The pages of both areas, sharing one template environment and one rate limiter."""

    def __init__(self, platform: Platform, *, clock: Clock | None = None) -> None:
        self.platform = platform
        self.clock = clock or platform.clock
        self.limiter = auth.RateLimiter(clock=self.clock)
        self.env = Environment(
            loader=PackageLoader("smscloud.console", "templates"),
            autoescape=select_autoescape(default=True),
        )
        self.env.filters["dt"] = self._format_time

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

    # -- guards -----------------------------------------------------------------------------
    def posted(self, handler: FormHandler) -> Handler:
        """A POST handler, run only with the session's CSRF token (else a 403 page)."""

        async def run(request: Request) -> Response:
            form = await request.form()
            if not csrf.valid(request, form):
                return self.render(request, "csrf.html", {"area": self._area(request)}, 403)
            return await handler(request, form)

        return run

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
        session = request.session
        if session.get("realm") != realm:
            return False
        if auth.touch(session, self.clock()):
            return True
        self.flash(request, "expired", "warn")
        return False

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
        ip = self.ip(request)
        context: dict[str, Any] = {"area": "console", "values": {"email": email}}
        if self.limiter.blocked(email, ip):
            return self.render(request, "console/login.html", context | {"error": "err_rate"}, 429)
        u = s.tenant_users
        row = await self.platform.db.read(
            lambda c: c.execute(
                select(u.c.id, u.c.tenant_id, u.c.password_hash).where(u.c.email == email)
            ).first()
        )
        verdict = await auth.verify_password(password, row.password_hash if row else None)
        if row is None or not verdict.ok:
            self.limiter.fail(email, ip)
            return self.render(request, "console/login.html", context | {"error": "err_login"}, 400)
        self.limiter.reset(email, ip)
        if verdict.new_hash:
            await self._store_hash(u, int(row.id), verdict.new_hash)
        auth.sign_in(
            request.session,
            {"realm": TENANT, "uid": int(row.id), "tid": int(row.tenant_id), "email": email},
            self.clock(),
        )
        return self.redirect("/console/")

    async def _store_hash(self, table: Any, row_id: int, new_hash: str) -> None:
        await self.platform.db.write(
            lambda c: c.execute(
                update(table).where(table.c.id == row_id).values(password_hash=new_hash)
            )
        )

    async def logout(self, request: Request, form: FormData) -> Response:
        area = self._area(request)
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
        uid, email, ip = (
            int(request.session["uid"]),
            str(request.session["email"]),
            self.ip(request),
        )
        current, new, new2 = (_secret(form, k) for k in ("current", "password", "password2"))
        errors: dict[str, str] = {}
        status = 400
        u = s.tenant_users
        if self.limiter.blocked(email, ip):
            errors["current"], status = "err_rate", 429
        else:
            stored = await self.platform.db.read(
                lambda c: c.execute(select(u.c.password_hash).where(u.c.id == uid)).scalar()
            )
            if not (await auth.verify_password(current, stored)).ok:
                self.limiter.fail(email, ip)
                errors["current"] = "err_current_password"
        errors |= _password_errors(new, new2)
        if errors:
            context = {"area": "console", "user": request.session, "errors": errors}
            return self.render(request, "console/password.html", context, status)
        await self._store_hash(u, uid, await auth.hash_password(new))
        session = dict(request.session)
        auth.sign_in(request.session, session, self.clock())  # a new CSRF token
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
        ip = self.ip(request)
        context: dict[str, Any] = {"area": "admin", "values": {"username": username}}
        key = "operator:" + username
        if self.limiter.blocked(key, ip):
            return self.render(request, "admin/login.html", context | {"error": "err_rate"}, 429)
        o = s.operators
        row = await self.platform.db.read(
            lambda c: c.execute(
                select(o.c.id, o.c.password_hash).where(o.c.username == username)
            ).first()
        )
        verdict = await auth.verify_password(password, row.password_hash if row else None)
        if row is None or not verdict.ok:
            self.limiter.fail(key, ip)
            context["error"] = "err_admin_login"
            return self.render(request, "admin/login.html", context, 400)
        self.limiter.reset(key, ip)
        if verdict.new_hash:
            await self._store_hash(o, int(row.id), verdict.new_hash)
        auth.sign_in(
            request.session,
            {"realm": OPERATOR, "uid": int(row.id), "username": username},
            self.clock(),
        )
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
    for section in (
        identity,
        registry_pages,
        billing_pages,
        records_pages,
        settings_pages,
        task_pages,
    ):  # each: (tenant routes, operator routes)
        tenant_more, admin_more = section.routes(console)
        tenant_routes += tenant_more
        admin_routes += admin_more

    def area(routes: list[BaseRoute], name: str) -> SessionMiddleware:
        return SessionMiddleware(
            Router(routes=routes),
            secret_key=f"{secret}:{name}",  # a cookie of one area is no good in the other
            session_cookie=f"smscloud_{name}",
            max_age=auth.IDLE_SECONDS,
            path=f"/{name}",
            same_site="lax",
        )

    return [
        Mount("/console", app=area(list(tenant_routes), "console")),
        Mount("/admin", app=area(list(admin_routes), "admin")),
        Mount("/static", app=StaticFiles(packages=[("smscloud.console", "static")]), name="static"),
    ]
