"""Application settings and API keys; the operator's tenants, carriers and audit log.

Every tenant query filters by the session's tenant id (another tenant's application is a 404).
Every operator action writes an audit entry in the action's own transaction.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, update
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import text as _text
from smscloud.console.forms import whole
from smscloud.delivery.callbacks.client import PushClient
from smscloud.delivery.health import load_health
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.services import carrier_setup
from smscloud.services.accounts import audit, sessions
from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s

if TYPE_CHECKING:
    from smscloud.console.app import Console

TENANT, OPERATOR = "tenant", "operator"
MAX_ALLOWLIST = 300
MAX_FREQUENCY = 100_000
MAX_DAILY = 1_000_000_000
FREQ_FIELDS = ("freq_30s", "freq_hour", "freq_day", "freq_same_content_day")
UNMATCHED_SHOWN = 50  # the latest replies that matched no message, on the carriers page

i18n.STRINGS.update(
    {
        "settings_title": ("应用设置", "Application settings"),
        "callbacks": ("回调地址", "Callback URLs"),
        "status_callback_url": ("状态报告回调地址", "Status report callback URL"),
        "reply_callback_url": ("上行短信回调地址", "Reply callback URL"),
        "callback_hint": ("http:// 或 https:// 地址，留空表示不推送", "http(s) URL; empty: none"),
        "send_test_push": ("发送测试推送", "Send test push"),
        "test_push_result": ("测试推送结果", "Test push result"),
        "test_push_none": ("请先保存回调地址。", "Save a callback URL first."),
        "http_status": ("HTTP 状态", "HTTP status"),
        "response_body": ("响应内容", "Response body"),
        "push_failed": ("推送失败", "Push failed"),
        "push_accepted": ("接收方已确认（result 为 0）", 'Accepted ({"result": 0})'),
        "push_refused": ("接收方未确认", "Not accepted"),
        "push_blocked": ("未推送", "Not sent"),
        "frequency": ("频率限制", "Frequency limits"),
        "freq_30s": ("30 秒内同内容条数", "Same content per 30 s"),
        "freq_hour": ("每小时条数", "Per hour"),
        "freq_day": ("每自然日条数", "Per day"),
        "freq_same_content_day": ("每日同内容条数", "Same content per day"),
        "freq_hint": ("留空表示不限制", "Empty: no limit"),
        "freq_allowlist": ("频率限制白名单", "Frequency allow-list"),
        "freq_allowlist_hint": (
            "每行一个号码（E.164，如 +8613800138000），最多 300 个",
            "One number a line (E.164, e.g. +8613800138000), at most 300",
        ),
        "freq_individual": (
            "个人认证账号不能修改频率限制，请升级为企业认证。",
            "Individual accounts cannot change frequency limits; verify as an enterprise.",
        ),
        "daily_limits": ("每日发送上限", "Daily limits"),
        "daily_limit": ("全部短信", "All messages"),
        "mainland_daily_limit": ("国内短信", "Mainland messages"),
        "global_daily_limit": ("国际短信", "International messages"),
        "daily_hint": ("0 表示不限制", "0: no limit"),
        "app_key": ("AppKey", "AppKey"),
        "rotate_app_key": ("重置 AppKey", "Rotate AppKey"),
        "rotate_warning": (
            "重置后旧的 AppKey 立即失效。",
            "The old AppKey stops working at once.",
        ),
        "new_app_key": ("新的 AppKey（仅显示一次）", "New AppKey (shown only once)"),
        "settings_saved": ("设置已保存。", "Settings saved."),
        "err_number": ("须为 0 或正整数。", "Must be 0 or a positive whole number."),
        "err_positive": ("须为正整数或留空。", "Must be a positive whole number, or empty."),
        "err_allowlist_count": ("白名单最多 300 个号码。", "At most 300 numbers."),
        "err_allowlist_number": ("号码无效：", "Not a phone number: "),
        # keys
        "keys_title": ("API 密钥", "API keys"),
        "create_key": ("新建密钥", "Create key"),
        "no_keys": ("还没有密钥。", "No keys yet."),
        "new_key": (
            "新密钥（SecretKey 仅显示一次，请妥善保存）",
            "New key (the SecretKey is shown only once: keep it safe)",
        ),
        "disabled": ("停用", "Disabled"),
        "settings": ("设置", "Settings"),
        # operator
        "tenants_title": ("租户管理", "Tenants"),
        "suspend": ("暂停", "Suspend"),
        "reactivate": ("恢复", "Reactivate"),
        "tenant_suspended": ("租户已暂停。", "Tenant suspended."),
        "tenant_reactivated": ("租户已恢复。", "Tenant reactivated."),
        "carriers_title": ("通道与路由", "Carriers and routes"),
        "carriers": ("通道", "Carriers"),
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
        "audit_title": ("审计日志", "Audit log"),
        "no_audit": ("还没有记录。", "Nothing recorded yet."),
        "operator": ("操作人", "Operator"),
        "action": ("操作", "Action"),
        "target": ("对象", "Target"),
        "detail": ("详情", "Detail"),
        "time": ("时间", "Time"),
    }
)


def _count(raw: str, *, optional: bool) -> int | None:
    """A whole number from a form: None when empty (if optional); ValueError when bad."""
    if not raw and optional:
        return None
    value = whole(raw)
    if value is None:
        raise ValueError(raw)
    if optional and value == 0:
        raise ValueError(raw)
    return value


def sample_status(now: float, tz: ZoneInfo) -> list[dict[str, Any]]:
    """A status report push in Tencent's shape (§4.2), clearly a test."""
    return [
        {
            "user_receive_time": datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M:%S"),
            "nationcode": "86",
            "mobile": "13800138000",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": "test-" + secrets.token_hex(8),
            "ext": "test push",
        }
    ]


def sample_reply(now: float) -> dict[str, Any]:
    """A reply push in Tencent's shape (§4.3)."""
    return {
        "extend": "",
        "mobile": "13800138000",
        "nationcode": "86",
        "sign": "测试",
        "text": "测试推送",
        "time": int(now),
    }


class SettingsPages:
    def __init__(self, console: Console) -> None:
        self.console = console

    # -- tenant: application settings ------------------------------------------------------
    def _guard(self, request: Request, realm: str) -> Response | None:
        if self.console.signed_in(request, realm):
            return None
        return self.console.redirect("/admin/login" if realm == OPERATOR else "/console/login")

    async def _load_app(self, request: Request) -> tuple[Any, Any] | None:
        tid = int(request.session["tid"])
        sdk_app_id = request.path_params["sdk_app_id"]

        def load(conn: Connection) -> tuple[Any, Any] | None:
            a, t = s.applications, s.tenants
            app = conn.execute(
                select(a).where(a.c.tenant_id == tid, a.c.sdk_app_id == sdk_app_id)
            ).first()
            if app is None:
                return None
            return app, conn.execute(select(t).where(t.c.id == tid)).one()

        return await self.console.platform.db.read(load)

    async def _settings(self, request: Request, status: int = 200, **extra: Any) -> Response:
        found = await self._load_app(request)
        if found is None:
            return self.console.not_found(request)
        app, tenant = found
        context: dict[str, Any] = {
            "area": "console",
            "user": request.session,
            "app": app,
            "tenant": tenant,
            "can_frequency": tenant.account_type == "enterprise",
            "errors": {},
            "values": {},
        }
        context |= extra
        return self.console.render(request, "console/settings.html", context, status)

    async def settings(self, request: Request) -> Response:
        return self._guard(request, TENANT) or await self._settings(request)

    async def _owned(self, request: Request) -> Any | None:
        found = await self._load_app(request)
        return None if found is None else found[0]

    async def _store(self, app_id: int, values: dict[str, Any]) -> None:
        """Write application settings; the caches see them at the next read."""
        a = s.applications
        await self.console.platform.db.write(
            lambda c: c.execute(update(a).where(a.c.id == app_id).values(**values))
        )
        self.console.platform.catalog.forget()

    def _saved(self, request: Request) -> Response:
        self.console.platform.catalog.forget()  # set_daily_limits writes without _store
        self.console.flash(request, "settings_saved", "ok")
        sdk_app_id = request.path_params["sdk_app_id"]
        return self.console.redirect(f"/console/apps/{sdk_app_id}/settings")

    async def save_callbacks(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        values = {k: _text(form, k) for k in ("status_callback_url", "reply_callback_url")}
        allowed = self.console.platform.settings.callback_allowed_networks
        errors: dict[str, str] = {}
        for key, url in values.items():
            if len(url) > 2000:
                errors[key] = "err_too_long"
                continue
            try:
                accounts.check_callback_url(url, allowed)
            except RuleViolation as exc:
                errors[key] = f"{exc.code}: {exc.message}"
        if errors:
            return await self._settings(request, 400, errors=errors, values=values)
        await self._store(app.id, values)
        return self._saved(request)

    async def test_push(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        kind = "reply" if _text(form, "kind") == "reply" else "status"
        url = app.reply_callback_url if kind == "reply" else app.status_callback_url
        if not url:
            return await self._settings(
                request, 400, push={"kind": kind, "error": "test_push_none"}
            )
        now, tz = self.console.clock(), self.console.platform.settings.tz
        body: Any = sample_reply(now) if kind == "reply" else sample_status(now, tz)
        push: dict[str, Any] = {"kind": kind, "url": url}
        # The pusher's own client: the same address rules, deadline and bounded answer. A push
        # that was not sent (a blocked address) shows its reason and nothing else.
        client = PushClient(self.console.platform.settings.callback_allowed_networks)
        try:
            outcome = await client.post(url, json.dumps(body, ensure_ascii=False).encode())
        finally:
            await client.aclose()
        push["outcome"] = outcome
        return await self._settings(request, push=push)

    async def save_frequency(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        found = await self._load_app(request)
        if found is None:
            return self.console.not_found(request)
        app, tenant = found
        if tenant.account_type != "enterprise":
            return await self._settings(request, 403, errors={"frequency": "freq_individual"})
        values = {k: _text(form, k) for k in (*FREQ_FIELDS, "freq_allowlist")}
        errors: dict[str, str] = {}
        update_values: dict[str, Any] = {}
        for key in FREQ_FIELDS:
            try:
                number = _count(values[key], optional=True)
            except ValueError:
                errors[key] = "err_positive"
                continue
            if number is not None and number > MAX_FREQUENCY:
                errors[key] = "err_positive"
            update_values[key] = number
        numbers: list[str] = []
        for raw in values["freq_allowlist"].split():
            try:
                e164 = parse_phone(raw).e164
            except RuleViolation:
                errors["freq_allowlist"] = "err_allowlist_number"
                errors["freq_allowlist_number"] = raw[:32]
                break
            if e164 not in numbers:
                numbers.append(e164)
        if len(numbers) > MAX_ALLOWLIST:
            errors["freq_allowlist"] = "err_allowlist_count"
        if errors:
            return await self._settings(request, 400, errors=errors, values=values)
        update_values["freq_allowlist"] = "\n".join(numbers)
        await self._store(app.id, update_values)
        return self._saved(request)

    async def save_limits(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        keys = ("daily_limit", "mainland_daily_limit", "global_daily_limit")
        values = {k: _text(form, k) or "0" for k in keys}
        errors: dict[str, str] = {}
        numbers: list[int] = []
        for key in keys:
            try:
                number = _count(values[key], optional=False) or 0
            except ValueError:
                errors[key] = "err_number"
                continue
            if number > MAX_DAILY:
                errors[key] = "err_number"
            numbers.append(number)
        if errors:
            return await self._settings(request, 400, errors=errors, values=values)
        total, mainland, international = numbers
        await self.console.platform.db.write(
            lambda c: accounts.set_daily_limits(c, app.sdk_app_id, total, mainland, international)
        )
        return self._saved(request)

    async def rotate_key(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        new_key = secrets.token_hex(16)
        await self._store(app.id, {"app_key": new_key})
        return await self._settings(request, new_app_key=new_key)

    # -- tenant: API keys --------------------------------------------------------------------
    async def _keys(self, request: Request, new_key: accounts.NewKey | None = None) -> Response:
        tid = int(request.session["tid"])
        k = s.api_keys
        rows = await self.console.platform.db.read(
            lambda c: c.execute(
                select(k.c.secret_id, k.c.status, k.c.created_at)
                .where(k.c.tenant_id == tid)
                .order_by(k.c.created_at.desc())
            ).all()
        )
        context = {"area": "console", "user": request.session, "keys": rows, "new_key": new_key}
        return self.console.render(request, "console/keys.html", context)

    async def keys(self, request: Request) -> Response:
        return self._guard(request, TENANT) or await self._keys(request)

    async def create_key(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, TENANT)) is not None:
            return guard
        tid = int(request.session["tid"])
        now = self.console.clock()
        key = await self.console.platform.db.write(lambda c: accounts.create_key(c, tid, now=now))
        return await self._keys(request, key)

    # -- operator: tenants ---------------------------------------------------------------------
    def _operator(self, request: Request) -> str:
        return str(request.session.get("username", "?"))

    async def tenants(self, request: Request) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        t = s.tenants
        rows = await self.console.platform.db.read(
            lambda c: c.execute(select(t).order_by(t.c.id.desc()).limit(1000)).all()
        )
        context = {"area": "admin", "user": request.session, "tenants": rows}
        return self.console.render(request, "admin/tenants.html", context)

    async def suspend(self, request: Request, form: FormData) -> Response:
        return await self._set_status(request, "suspended")

    async def reactivate(self, request: Request, form: FormData) -> Response:
        return await self._set_status(request, "active")

    async def _set_status(self, request: Request, status: str) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        tenant_id = int(request.path_params["tenant_id"])
        operator, now = self._operator(request), self.console.clock()
        action = "tenant.suspend" if status == "suspended" else "tenant.reactivate"

        def change(conn: Connection) -> bool:
            t = s.tenants
            row = conn.execute(select(t.c.name).where(t.c.id == tenant_id)).first()
            if row is None:
                return False
            conn.execute(update(t).where(t.c.id == tenant_id).values(status=status))
            if status == "suspended":  # its users are signed out everywhere, now
                sessions.end_tenant(conn, tenant_id)
            audit.record(conn, operator, action, f"tenant:{tenant_id}", row.name, now=now)
            return True

        if not await self.console.platform.db.write(change):
            return self.console.not_found(request)
        self.console.platform.catalog.forget()
        done = "tenant_suspended" if status == "suspended" else "tenant_reactivated"
        self.console.flash(request, done, "ok")
        return self.console.redirect("/admin/tenants")

    # -- operator: carriers and routes -----------------------------------------------------------
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

    async def carriers(self, request: Request) -> Response:
        return self._guard(request, OPERATOR) or await self._carriers(request)

    async def add_carrier(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
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
            operator, now = self._operator(request), self.console.clock()

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

    async def change_country(self, request: Request, form: FormData) -> Response:
        """The country of the national numbers a carrier sends (SmppConfig.nation_code)."""
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        name = request.path_params["name"]
        changes = {"nation_code": _text(form, "nation_code")}
        operator = self._operator(request)

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

    async def remove_carrier(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        name = request.path_params["name"]
        operator, now = self._operator(request), self.console.clock()

        def remove(conn: Connection) -> None:
            carrier_setup.remove_carrier(conn, name)
            audit.record(conn, operator, "carrier.remove", f"carrier:{name}", now=now)

        try:
            await self.console.platform.db.write(remove)
        except RuleViolation:
            return self.console.not_found(request)
        self.console.flash(request, "carrier_removed", "ok")
        return self.console.redirect("/admin/carriers")

    async def add_route(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        keys = ("carriers", "nation_code", "prefix", "sms_type", "priority")
        values = {k: _text(form, k) for k in keys}
        operator, now = self._operator(request), self.console.clock()
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

    async def remove_route(self, request: Request, form: FormData) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        route_id = int(request.path_params["route_id"])
        operator, now = self._operator(request), self.console.clock()

        def remove(conn: Connection) -> None:
            carrier_setup.remove_route(conn, route_id)
            audit.record(conn, operator, "route.remove", f"route:{route_id}", now=now)

        try:
            await self.console.platform.db.write(remove)
        except RuleViolation:
            return self.console.not_found(request)
        self.console.flash(request, "route_removed", "ok")
        return self.console.redirect("/admin/carriers")

    # -- operator: audit log ----------------------------------------------------------------------
    async def audit_log(self, request: Request) -> Response:
        if (guard := self._guard(request, OPERATOR)) is not None:
            return guard
        rows = await self.console.platform.db.read(audit.recent)
        context = {"area": "admin", "user": request.session, "entries": rows}
        return self.console.render(request, "admin/audit.html", context)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = SettingsPages(console)
    post = console.posted
    app = "/apps/{sdk_app_id}/settings"
    tenant: list[BaseRoute] = [
        Route(app, pages.settings, methods=["GET"]),
        Route(app + "/callbacks", post(pages.save_callbacks), methods=["POST"]),
        Route(app + "/test-push", post(pages.test_push), methods=["POST"]),
        Route(app + "/frequency", post(pages.save_frequency), methods=["POST"]),
        Route(app + "/limits", post(pages.save_limits), methods=["POST"]),
        Route(app + "/rotate-key", post(pages.rotate_key), methods=["POST"]),
        Route("/keys", pages.keys, methods=["GET"]),
        Route("/keys", post(pages.create_key), methods=["POST"]),
    ]
    admin: list[BaseRoute] = [
        Route("/tenants", pages.tenants, methods=["GET"]),
        Route("/tenants/{tenant_id:id}/suspend", post(pages.suspend), methods=["POST"]),
        Route("/tenants/{tenant_id:id}/reactivate", post(pages.reactivate), methods=["POST"]),
        Route("/carriers", pages.carriers, methods=["GET"]),
        Route("/carriers", post(pages.add_carrier), methods=["POST"]),
        Route("/carriers/{name}/country", post(pages.change_country), methods=["POST"]),
        Route("/carriers/{name}/remove", post(pages.remove_carrier), methods=["POST"]),
        Route("/carriers/routes", post(pages.add_route), methods=["POST"]),
        Route("/carriers/routes/{route_id:id}/remove", post(pages.remove_route), methods=["POST"]),
        Route("/audit", pages.audit_log, methods=["GET"]),
    ]
    return tenant, admin
