"""The operator's tenants (suspend, reactivate) and the audit log of operator actions.

Every operator action writes its audit entry in the action's own transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.guard import operator_name, operator_page
from smscloud.services import identity
from smscloud.services.accounts import audit, sessions
from smscloud.services.accounts import tenants as accounts

if TYPE_CHECKING:
    from smscloud.console.app import Console

TENANTS_SHOWN = 1000  # the newest tenants listed

i18n.STRINGS.update(
    {
        "tenants_title": ("租户管理", "Tenants"),
        "suspend": ("暂停", "Suspend"),
        "reactivate": ("恢复", "Reactivate"),
        "tenant_suspended": ("租户已暂停。", "Tenant suspended."),
        "tenant_reactivated": ("租户已恢复。", "Tenant reactivated."),
        "audit_title": ("审计日志", "Audit log"),
        "no_audit": ("还没有记录。", "Nothing recorded yet."),
        "operator": ("操作人", "Operator"),
        "action": ("操作", "Action"),
        "target": ("对象", "Target"),
        "detail": ("详情", "Detail"),
        "time": ("时间", "Time"),
    }
)


class TenantAdminPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    # -- tenants -------------------------------------------------------------------------------
    @operator_page
    async def tenants(self, request: Request) -> Response:
        def load(conn: Connection) -> dict[str, Any]:
            rows = accounts.list_tenants(conn, TENANTS_SHOWN)
            pending = identity.pending_by_tenant(conn, [r.id for r in rows])
            return {"tenants": rows, "pending_identities": pending}

        data = await self.console.platform.db.read(load)
        context = {"area": "admin", "user": request.session, **data}
        return self.console.render(request, "admin/tenants.html", context)

    @operator_page
    async def suspend(self, request: Request, form: FormData) -> Response:
        return await self._set_status(request, "suspended")

    @operator_page
    async def reactivate(self, request: Request, form: FormData) -> Response:
        return await self._set_status(request, "active")

    async def _set_status(self, request: Request, status: str) -> Response:
        tenant_id = int(request.path_params["tenant_id"])
        operator, now = operator_name(request), self.console.clock()
        action = "tenant.suspend" if status == "suspended" else "tenant.reactivate"

        def change(conn: Connection) -> bool:
            name = accounts.set_status(conn, tenant_id, status)
            if name is None:
                return False
            if status == "suspended":  # its users are signed out everywhere, now
                sessions.end_tenant(conn, tenant_id)
            audit.record(conn, operator, action, f"tenant:{tenant_id}", name, now=now)
            return True

        if not await self.console.platform.db.write(change):
            return self.console.not_found(request)
        self.console.platform.catalog.forget()
        done = "tenant_suspended" if status == "suspended" else "tenant_reactivated"
        self.console.flash(request, done, "ok")
        return self.console.redirect("/admin/tenants")

    # -- audit log -----------------------------------------------------------------------------
    @operator_page
    async def audit_log(self, request: Request) -> Response:
        rows = await self.console.platform.db.read(audit.recent)
        context = {"area": "admin", "user": request.session, "entries": rows}
        return self.console.render(request, "admin/audit.html", context)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = TenantAdminPages(console)
    post = console.posted
    admin: list[BaseRoute] = [
        Route("/tenants", pages.tenants, methods=["GET"]),
        Route("/tenants/{tenant_id:id}/suspend", post(pages.suspend), methods=["POST"]),
        Route("/tenants/{tenant_id:id}/reactivate", post(pages.reactivate), methods=["POST"]),
        Route("/audit", pages.audit_log, methods=["GET"]),
    ]
    return [], admin
