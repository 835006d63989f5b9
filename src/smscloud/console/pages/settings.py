"""A tenant's application settings (callbacks, frequency limits, daily limits, AppKey) and
its API keys.

Every query is scoped to the session's tenant (another tenant's application is a 404).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.callback_words import callback_words
from smscloud.console.forms import text as _text
from smscloud.console.forms import whole
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.delivery.callbacks.client import PushClient
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.services.accounts import applications
from smscloud.services.accounts import tenants as accounts
from smscloud.services.accounts.applications import AppSettings
from smscloud.services.accounts.tenants import TenantProfile

if TYPE_CHECKING:
    from smscloud.console.app import Console

MAX_ALLOWLIST = 300
MAX_FREQUENCY = 100_000
MAX_DAILY = 1_000_000_000
FREQ_FIELDS = ("freq_30s", "freq_hour", "freq_day", "freq_same_content_day")

# Where each kind of push goes (voice: Tencent voice messaging, callback API).
VOICE_COUNTS = ("voice_per_30s", "voice_per_10min", "voice_per_day")
VOICE_QUIET = ("voice_quiet_start", "voice_quiet_end")
CALLBACK_FIELDS = ("status_callback_url", "reply_callback_url", "voice_callback_url")

i18n.STRINGS.update(
    {
        "settings_title": ("应用设置", "Application settings"),
        "callbacks": ("回调地址", "Callback URLs"),
        "status_callback_url": ("状态报告回调地址", "Status report callback URL"),
        "reply_callback_url": ("上行短信回调地址", "Reply callback URL"),
        "voice_callback_url": ("语音回调地址", "Voice callback URL"),
        "voice_limits": ("语音频率限制", "Voice call limits"),
        "voice_per_30s": ("同一号码 30 秒内呼叫次数", "Calls to one number per 30 s"),
        "voice_per_10min": ("同一号码 10 分钟内呼叫次数", "Calls to one number per 10 minutes"),
        "voice_per_day": ("同一号码每自然日呼叫次数", "Calls to one number per day"),
        "voice_quiet_start": ("免打扰开始", "Quiet hours start"),
        "voice_quiet_end": ("免打扰结束", "Quiet hours end"),
        "voice_quiet_hint": (
            "HH:MM；开始与结束相同表示不设免打扰（期间不拨验证码，每号码至多 1 次通知）",
            "HH:MM; the same start and end: no quiet hours (in them: no code calls, at most"
            " 1 notification per number)",
        ),
        "err_clock_time": ("请输入 00:00 到 23:59 之间的时间", "Enter a time from 00:00 to 23:59"),
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
    }
)


def _clock_minutes(raw: str) -> int | None:
    """Minutes after midnight of an ``HH:MM`` time, or None when it is not one."""
    hours, colon, minutes = raw.strip().partition(":")
    h, m = whole(hours), whole(minutes)
    if not colon or h is None or m is None or not (0 <= h < 24 and 0 <= m < 60):
        return None
    return h * 60 + m


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
    """A status report push in Tencent's shape, clearly a test.

    Tencent SMS docs: status report callback (cloud.tencent.com/document/product/382/59178).
    """
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
    """A reply push in Tencent's shape.

    Tencent SMS docs: reply callback (cloud.tencent.com/document/product/382/59179).
    """
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

    # -- application settings ---------------------------------------------------------------
    async def _load_app(self, request: Request) -> tuple[AppSettings, TenantProfile] | None:
        tid = tenant_id(request)
        sdk_app_id = request.path_params["sdk_app_id"]

        def load(conn: Connection) -> tuple[AppSettings, TenantProfile] | None:
            app = applications.app_settings(conn, tid, sdk_app_id)
            if app is None:
                return None
            return app, accounts.tenant_profile(conn, tid)

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

    @tenant_page
    async def settings(self, request: Request) -> Response:
        return await self._settings(request)

    async def _owned(self, request: Request) -> AppSettings | None:
        found = await self._load_app(request)
        return None if found is None else found[0]

    async def _store(self, app_id: int, values: dict[str, Any]) -> None:
        """Write application settings; the caches see them at the next read."""
        await self.console.platform.db.write(
            lambda c: applications.change_settings(c, app_id, values)
        )
        self.console.platform.catalog.forget()

    def _saved(self, request: Request) -> Response:
        self.console.platform.catalog.forget()  # set_daily_limits writes without _store
        self.console.flash(request, "settings_saved", "ok")
        sdk_app_id = request.path_params["sdk_app_id"]
        return self.console.redirect(f"/console/apps/{sdk_app_id}/settings")

    @tenant_page
    async def save_callbacks(self, request: Request, form: FormData) -> Response:
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        values = {k: _text(form, k) for k in CALLBACK_FIELDS}
        allowed = self.console.platform.settings.callback_allowed_networks
        # Each field's problem in the page's words: a refused URL names the part at fault.
        lang = i18n.pick(request)
        errors: dict[str, str] = {}
        for key, url in values.items():
            if len(url) > 2000:
                errors[key] = i18n.translator(lang)("err_too_long")
                continue
            try:
                accounts.check_callback_url(url, allowed)
            except RuleViolation as exc:
                errors[key] = callback_words(exc.message, lang)
        if errors:
            return await self._settings(request, 400, errors=errors, values=values)
        await self._store(app.id, values)
        return self._saved(request)

    @tenant_page
    async def test_push(self, request: Request, form: FormData) -> Response:
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
        push["reason"] = callback_words(outcome.reason, i18n.pick(request))
        return await self._settings(request, push=push)

    @tenant_page
    async def save_frequency(self, request: Request, form: FormData) -> Response:
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

    @tenant_page
    async def save_voice(self, request: Request, form: FormData) -> Response:
        """Voice limits per called number and quiet hours (Tencent voice messaging: product
        rules; defaults 1/30 s, 2/10 min, 3/day, quiet 22:00-08:00)."""
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        values = {k: _text(form, k) for k in (*VOICE_COUNTS, *VOICE_QUIET)}
        errors: dict[str, str] = {}
        update_values: dict[str, Any] = {}
        for key in VOICE_COUNTS:
            try:
                number = _count(values[key], optional=True)
            except ValueError:
                errors[key] = "err_positive"
                continue
            if number is not None and number > MAX_FREQUENCY:
                errors[key] = "err_positive"
            update_values[key] = number
        for key in VOICE_QUIET:
            minutes = _clock_minutes(values[key])
            if minutes is None:
                errors[key] = "err_clock_time"
            update_values[key] = minutes
        if errors:
            return await self._settings(request, 400, errors=errors, values=values)
        await self._store(app.id, update_values)
        return self._saved(request)

    @tenant_page
    async def save_limits(self, request: Request, form: FormData) -> Response:
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

    @tenant_page
    async def rotate_key(self, request: Request, form: FormData) -> Response:
        app = await self._owned(request)
        if app is None:
            return self.console.not_found(request)
        new_key = secrets.token_hex(16)
        await self._store(app.id, {"app_key": new_key})
        return await self._settings(request, new_app_key=new_key)

    # -- API keys ---------------------------------------------------------------------------
    async def _keys(self, request: Request, new_key: accounts.NewKey | None = None) -> Response:
        tid = tenant_id(request)
        rows = await self.console.platform.db.read(lambda c: accounts.tenant_keys(c, tid))
        context = {"area": "console", "user": request.session, "keys": rows, "new_key": new_key}
        return self.console.render(request, "console/keys.html", context)

    @tenant_page
    async def keys(self, request: Request) -> Response:
        return await self._keys(request)

    @tenant_page
    async def create_key(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        now = self.console.clock()
        key = await self.console.platform.db.write(lambda c: accounts.create_key(c, tid, now=now))
        return await self._keys(request, key)


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
        Route(app + "/voice", post(pages.save_voice), methods=["POST"]),
        Route(app + "/rotate-key", post(pages.rotate_key), methods=["POST"]),
        Route("/keys", pages.keys, methods=["GET"]),
        Route("/keys", post(pages.create_key), methods=["POST"]),
    ]
    return tenant, []
