"""The home pages: the tenant's dashboard with its applications, and the operator's overview.

A tenant switches SMS on here once verified, and creates applications (each with its
SdkAppId and AppKey); the operator's home counts what waits for review.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console.forms import text as _field
from smscloud.console.guard import operator_page, tenant_id, tenant_page
from smscloud.services import identity
from smscloud.services.accounts import applications
from smscloud.services.accounts import tenants as accounts
from smscloud.services.billing import ledger, wallet
from smscloud.services.registry import listings
from smscloud.services.registry.voice_review import pending_voice_count

if TYPE_CHECKING:
    from smscloud.console.app import Console

OVERVIEW_TENANTS = 500  # the newest tenants listed on the operator's home


class HomePages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    # -- tenants ------------------------------------------------------------------------------
    @tenant_page
    async def dashboard(self, request: Request) -> Response:
        tid = tenant_id(request)

        def load(conn: Connection) -> dict[str, Any]:
            return {
                "tenant": accounts.tenant_profile(conn, tid),
                "balance": ledger.balances(conn, tid),
                "packages": wallet.packages_of(conn, tid),
                "apps": applications.tenant_apps(conn, tid),
                "pending_identity": identity.pending_by_tenant(conn, [tid]).get(tid),
            }

        data = await self.platform.db.read(load)
        context = {"area": "console", "user": request.session, "now": self.c.clock(), **data}
        return self.c.render(request, "console/dashboard.html", context)

    @tenant_page
    async def activate(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        changed = await self.platform.db.write(lambda c: accounts.activate_sms(c, tid))
        self.platform.catalog.forget("tenant", tid)
        if changed:
            self.c.flash(request, "activated", "ok")
        else:
            self.c.flash(request, "activate_first", "warn")
        return self.c.redirect("/console/")

    @tenant_page
    async def create_app(self, request: Request, form: FormData) -> Response:
        htmx = request.headers.get("hx-request") == "true"
        tid = tenant_id(request)
        name = _field(form, "name")
        error = "err_required" if not name else "err_too_long" if len(name) > 128 else None
        if not await self.platform.db.read(lambda c: accounts.sms_active(c, tid)):
            error = "activate_first"
        app = None
        if error is None:
            now = self.c.clock()
            app = await self.platform.db.write(lambda c: accounts.create_app(c, tid, name, now=now))
        context: dict[str, Any] = {
            "area": "console",
            "user": request.session,
            "app": app,
            "error": error,
        }
        context |= {"values": {"name": name}, "now": self.c.clock()}
        if htmx:
            return self.c.render(request, "console/_app_created.html", context)
        page = "console/app_created.html"
        return self.c.render(request, page, context, 400 if error else 200)

    @tenant_page
    async def app_detail(self, request: Request) -> Response:
        tid = tenant_id(request)
        sdk_app_id = request.path_params["sdk_app_id"]
        app = await self.platform.db.read(lambda c: applications.tenant_app(c, tid, sdk_app_id))
        if app is None:
            return self.c.not_found(request)
        context = {"area": "console", "user": request.session, "app": app}
        return self.c.render(request, "console/app.html", context)

    # -- operators ----------------------------------------------------------------------------
    @operator_page
    async def admin_dashboard(self, request: Request) -> Response:
        def load(conn: Connection) -> dict[str, Any]:
            return {
                "tenant_count": accounts.count_tenants(conn),
                "pending": listings.pending_count(conn) + identity.pending_count(conn),
                "pending_voice": pending_voice_count(conn),
                "tenants": (shown := accounts.tenant_summaries(conn, OVERVIEW_TENANTS)),
                "pending_identities": identity.pending_by_tenant(conn, [r.id for r in shown]),
            }

        data = await self.platform.db.read(load)
        context = {"area": "admin", "user": request.session, **data}
        return self.c.render(request, "admin/dashboard.html", context)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = HomePages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/", pages.dashboard),
        Route("/apps", post(pages.create_app), methods=["POST"]),
        Route("/activate", post(pages.activate), methods=["POST"]),
        Route("/apps/{sdk_app_id}", pages.app_detail, methods=["GET"]),
    ]
    admin: list[BaseRoute] = [Route("/", pages.admin_dashboard)]
    return tenant, admin
