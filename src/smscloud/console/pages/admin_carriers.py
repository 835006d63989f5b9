"""The operator's carriers and routes: SMPP carriers with their health, the routes that
pick them, and the replies that matched no message.

Every change writes its audit entry in the change's own transaction; delivery workers apply
carrier changes when they restart.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import text as _text
from smscloud.console.forms import whole
from smscloud.console.guard import operator_name, operator_page
from smscloud.delivery.health import load_health
from smscloud.domain.errors import RuleViolation
from smscloud.services import carrier_setup
from smscloud.services.accounts import audit

if TYPE_CHECKING:
    from smscloud.console.app import Console

UNMATCHED_SHOWN = 50  # the latest replies that matched no message

i18n.STRINGS.update(
    {
        "carriers_title": ("通道与路由", "Carriers and routes"),
        "carriers": ("通道", "Carriers"),
        "route_type_verification": ("验证码", "Verification code"),
        "route_type_notification": ("通知", "Notification"),
        "route_type_marketing": ("营销", "Marketing"),
        "carrier_name": ("名称", "Name"),
        "kind": ("类型", "Kind"),
        "health": ("健康状况", "Health"),
        "no_health": ("暂无数据", "No data yet"),
        "add_smpp_carrier": ("添加 SMPP 通道", "Add an SMPP carrier"),
        "host": ("主机", "Host"),
        "port": ("端口", "Port"),
        "system_id": ("system_id", "system_id"),
        "binds": ("连接数", "Binds"),
        "source_addr": ("源地址", "Source address"),
        "remove": ("删除", "Remove"),
        "routes": ("路由", "Routes"),
        "route_carriers": ("通道（名称:权重,...）", "Carriers (name:weight,...)"),
        "nation_code": ("国家码", "Country code"),
        "prefix": ("号段前缀", "Prefix"),
        "any": ("任意", "Any"),
        "priority": ("优先级", "Priority"),
        "add_route": ("添加路由", "Add a route"),
        "carrier_nation_code": ("本国号码的国家码", "Country code of its national numbers"),
        "carrier_nation_code_hint": (
            "通道以国内格式（TON 2）上报的号码按此国家补全，如 86",
            "Numbers it sends in national form (TON 2) are of this country, e.g. 86",
        ),
        "save": ("保存", "Save"),
        "carrier_changed": (
            "通道设置已保存，投递进程重启后生效。",
            "Saved; delivery workers apply it when they restart.",
        ),
        "unmatched_replies": ("未匹配的上行短信", "Replies that matched no message"),
        "unmatched_hint": (
            "这些上行短信的号码没有收到过任何租户的短信，未归属任何应用。",
            "No tenant has sent to these numbers: the replies belong to no application.",
        ),
        "no_unmatched": ("没有未匹配的上行短信。", "None."),
        "reply_from": ("号码", "From"),
        "reply_to": ("接收号码", "To"),
        "reply_content": ("内容", "Text"),
        "carrier_added": ("通道已添加。", "Carrier added."),
        "carrier_removed": ("通道已删除。", "Carrier removed."),
        "route_added": ("路由已添加。", "Route added."),
        "route_removed": ("路由已删除。", "Route removed."),
    }
)


class CarrierPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def _carriers(self, request: Request, status: int = 200, **extra: Any) -> Response:
        def load(conn: Connection) -> dict[str, Any]:
            health: dict[str, list[Any]] = {}
            for row in load_health(conn):
                health.setdefault(row.carrier, []).append(row)
            return {
                "carriers": carrier_setup.list_carriers(conn),
                "routes": carrier_setup.list_routes(conn),
                "health": health,
                "unmatched": carrier_setup.unmatched_replies(conn, UNMATCHED_SHOWN),
            }

        data = await self.console.platform.db.read(load)
        context: dict[str, Any] = {"area": "admin", "user": request.session, "values": {}}
        context |= data | extra
        return self.console.render(request, "admin/carriers.html", context, status)

    @operator_page
    async def carriers(self, request: Request) -> Response:
        return await self._carriers(request)

    @operator_page
    async def add_carrier(self, request: Request, form: FormData) -> Response:
        keys = ("name", "host", "port", "system_id", "password", "binds", "source_addr")
        values = {k: _text(form, k) for k in (*keys, "nation_code")}
        name = values["name"]
        settings: dict[str, Any] = {
            "host": values["host"],
            "system_id": values["system_id"],
            "password": values["password"],
        }
        for key in ("source_addr", "nation_code"):
            if values[key]:
                settings[key] = values[key]
        try:
            for key in ("port", "binds"):
                if values[key]:
                    number = whole(values[key], hi=65535)  # ports and binds are that small
                    if number is None:
                        raise RuleViolation("InvalidParameter", f"{key} must be a whole number")
                    settings[key] = number
            operator, now = operator_name(request), self.console.clock()

            def add(conn: Connection) -> dict[str, Any]:
                added = carrier_setup.add_carrier(conn, name, "smpp", settings, now=now)
                shown = {k: v for k, v in settings.items() if k != "password"}
                audit.record(
                    conn, operator, "carrier.add", f"carrier:{name}", json.dumps(shown), now=now
                )
                return added

            await self.console.platform.db.write(add)
        except RuleViolation as exc:
            values.pop("password")
            error = f"{exc.code}: {exc.message}"
            return await self._carriers(request, 400, carrier_error=error, values=values)
        self.console.flash(request, "carrier_added", "ok")
        return self.console.redirect("/admin/carriers")

    @operator_page
    async def change_country(self, request: Request, form: FormData) -> Response:
        """The country of the national numbers a carrier sends (SmppConfig.nation_code)."""
        name = request.path_params["name"]
        changes = {"nation_code": _text(form, "nation_code")}
        operator = operator_name(request)

        def change(conn: Connection) -> None:
            carrier_setup.change_carrier(conn, name, changes)
            audit.record(conn, operator, "carrier.change", f"carrier:{name}", json.dumps(changes))

        try:
            await self.console.platform.db.write(change)
        except RuleViolation as exc:
            if exc.code == "ResourceNotFound":
                return self.console.not_found(request)
            error = f"{exc.code}: {exc.message}"
            return await self._carriers(request, 400, carrier_error=error)
        self.console.flash(request, "carrier_changed", "ok")
        return self.console.redirect("/admin/carriers")

    @operator_page
    async def remove_carrier(self, request: Request, form: FormData) -> Response:
        name = request.path_params["name"]
        operator, now = operator_name(request), self.console.clock()

        def remove(conn: Connection) -> None:
            carrier_setup.remove_carrier(conn, name)
            audit.record(conn, operator, "carrier.remove", f"carrier:{name}", now=now)

        try:
            await self.console.platform.db.write(remove)
        except RuleViolation:
            return self.console.not_found(request)
        self.console.flash(request, "carrier_removed", "ok")
        return self.console.redirect("/admin/carriers")

    @operator_page
    async def add_route(self, request: Request, form: FormData) -> Response:
        keys = ("carriers", "nation_code", "prefix", "sms_type", "priority")
        values = {k: _text(form, k) for k in keys}
        operator, now = operator_name(request), self.console.clock()
        try:
            # The column is a 32-bit INTEGER on PostgreSQL.
            priority = whole(values["priority"] or "0", lo=-(2**31), hi=2**31 - 1)
            if priority is None:
                raise RuleViolation("InvalidParameter", "priority must be a whole number")

            def add(conn: Connection) -> dict[str, Any]:
                route = carrier_setup.add_route(
                    conn,
                    values["carriers"],
                    nation_code=values["nation_code"],
                    prefix=values["prefix"],
                    sms_type=values["sms_type"] or None,
                    priority=priority,
                    now=now,
                )
                target, detail = f"route:{route['id']}", json.dumps(route)
                audit.record(conn, operator, "route.add", target, detail, now=now)
                return route

            await self.console.platform.db.write(add)
        except RuleViolation as exc:
            error = f"{exc.code}: {exc.message}"
            return await self._carriers(request, 400, route_error=error, route_values=values)
        self.console.flash(request, "route_added", "ok")
        return self.console.redirect("/admin/carriers")

    @operator_page
    async def remove_route(self, request: Request, form: FormData) -> Response:
        route_id = int(request.path_params["route_id"])
        operator, now = operator_name(request), self.console.clock()

        def remove(conn: Connection) -> None:
            carrier_setup.remove_route(conn, route_id)
            audit.record(conn, operator, "route.remove", f"route:{route_id}", now=now)

        try:
            await self.console.platform.db.write(remove)
        except RuleViolation:
            return self.console.not_found(request)
        self.console.flash(request, "route_removed", "ok")
        return self.console.redirect("/admin/carriers")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = CarrierPages(console)
    post = console.posted
    admin: list[BaseRoute] = [
        Route("/carriers", pages.carriers, methods=["GET"]),
        Route("/carriers", post(pages.add_carrier), methods=["POST"]),
        Route("/carriers/{name}/country", post(pages.change_country), methods=["POST"]),
        Route("/carriers/{name}/remove", post(pages.remove_carrier), methods=["POST"]),
        Route("/carriers/routes", post(pages.add_route), methods=["POST"]),
        Route("/carriers/routes/{route_id:id}/remove", post(pages.remove_route), methods=["POST"]),
    ]
    return [], admin
