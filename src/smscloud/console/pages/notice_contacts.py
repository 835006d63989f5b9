"""The tenant's notification contacts (通知联系人): add a phone or an email (a code is sent
to it), verify it with the code, choose the notices it gets, send a new code, delete it.

The rules are ``domain/notice_contacts.py``, the rows ``services/notice_contacts.py``; this
page collects input and shows every problem beside its field, with what was typed kept and
nothing stored. Another tenant's contact is a 404, to read or to change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import text as _text
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.domain.notice_contacts import (
    CODE_LIFETIME,
    EMAIL,
    MAX_ATTEMPTS,
    NOTICE_KINDS,
    SMS,
    CodeCheck,
    normalise_address,
)
from smscloud.services import notice_contacts as contacts

if TYPE_CHECKING:
    from smscloud.console.app import Console

i18n.STRINGS.update(
    {
        "nc_title": ("通知联系人", "Notification contacts"),
        "nc_intro": (
            "添加接收通知的手机和邮箱。每个联系人须先输入发给它的验证码完成验证，之后只接收所勾选的通知。"
            "套餐包页的告警联系人和账号邮箱照常接收通知。",
            "Add the phones and emails that receive notices. Each contact must first be "
            "verified with the code sent to it; then it receives only the notices it chose. "
            "The alarm contacts on the packages page and the account's users are told as before.",
        ),
        "nc_none": ("还没有通知联系人。", "No notification contacts yet."),
        "nc_add": ("添加联系人", "Add a contact"),
        "nc_channel": ("类型", "Type"),
        "nc_channel_email": ("邮箱", "Email"),
        "nc_channel_sms": ("手机", "Phone"),
        "nc_address": ("邮箱地址或手机号码", "Email address or phone number"),
        "nc_address_hint": (
            "手机号码可写 11 位国内号码或 +国家码 的国际号码",
            "A phone may be an 11-digit Mainland number or +country code and number",
        ),
        "nc_add_submit": ("添加并发送验证码", "Add and send a code"),
        "nc_contact": ("联系人", "Contact"),
        "nc_state": ("状态", "State"),
        "nc_verified": ("已验证", "Verified"),
        "nc_unverified": ("待验证", "Unverified"),
        "nc_unverified_note": (
            "验证前不接收任何通知。验证码 {minutes} 分钟内有效，最多可输错 {attempts} 次。",
            "Receives nothing until verified. A code is valid for {minutes} minutes and may "
            "be mistyped {attempts} times.",
        ),
        "nc_code": ("验证码", "Code"),
        "nc_verify": ("验证", "Verify"),
        "nc_resend": ("重新发送验证码", "Send a new code"),
        "nc_kinds": ("接收的通知", "Notices it gets"),
        "nc_save_kinds": ("保存选择", "Save choice"),
        "nc_delete": ("删除", "Delete"),
        "nc_added": (
            "已添加，验证码已发送，请在下方输入。",
            "Added: a code was sent to it; enter it below.",
        ),
        "nc_verified_ok": ("联系人已验证。", "The contact is verified."),
        "nc_resent": ("新的验证码已发送。", "A new code was sent."),
        "nc_kinds_saved": ("已保存接收的通知。", "The notices it gets are saved."),
        "nc_deleted": ("联系人已删除。", "The contact was deleted."),
        "nc_err_channel": ("请选择邮箱或手机。", "Choose email or phone."),
        "nc_err_email": ("请输入有效的邮箱地址。", "Enter a valid email address."),
        "nc_err_phone": ("请输入有效的手机号码。", "Enter a valid phone number."),
        "nc_err_duplicate": ("该联系人已添加。", "This contact is already added."),
        "nc_err_too_many": ("最多添加 20 个联系人。", "At most 20 contacts."),
        "nc_err_code_format": ("验证码为 6 位数字。", "The code is 6 digits."),
        "nc_err_code_wrong": ("验证码不正确。", "The code is not right."),
        "nc_err_code_expired": (
            "验证码已过期，请重新发送。",
            "The code has expired: send a new one.",
        ),
        "nc_err_code_exhausted": (
            "输错次数过多，请重新发送验证码。",
            "Too many wrong codes: send a new one.",
        ),
        "nc_err_resend_wait": (
            "验证码刚刚发送过，请一分钟后再试。",
            "A code was just sent: try again in a minute.",
        ),
    }
)

_CODE_ERRORS = {
    CodeCheck.MALFORMED: "nc_err_code_format",
    CodeCheck.WRONG: "nc_err_code_wrong",
    CodeCheck.EXPIRED: "nc_err_code_expired",
    CodeCheck.EXHAUSTED: "nc_err_code_exhausted",
}


class ContactPages:
    def __init__(self, console: Console) -> None:
        self.c = console

    async def _page(self, request: Request, status: int = 200, **extra: Any) -> Response:
        tid = tenant_id(request)
        rows = await self.c.platform.db.read(lambda c: contacts.contacts(c, tid))
        context: dict[str, Any] = {
            "area": "console",
            "user": request.session,
            "contacts": rows,
            "kinds": NOTICE_KINDS,
            "minutes": int(CODE_LIFETIME // 60),
            "max_attempts": MAX_ATTEMPTS,
            "errors": {},
            "values": {},
            "error_contact": None,
        }
        return self.c.render(request, "console/contacts.html", context | extra, status)

    def _done(self, request: Request, key: str) -> Response:
        self.c.flash(request, key, "ok")
        return self.c.redirect("/console/contacts")

    @tenant_page
    async def index(self, request: Request) -> Response:
        return await self._page(request)

    @tenant_page
    async def add(self, request: Request, form: FormData) -> Response:
        tid, now = tenant_id(request), self.c.clock()
        values = {"channel": _text(form, "channel"), "address": _text(form, "address")}
        errors: dict[str, str] = {}
        address = None
        if values["channel"] not in (EMAIL, SMS):
            errors["channel"] = "nc_err_channel"
        if not values["address"]:
            errors["address"] = "err_required"
        elif values["channel"] in (EMAIL, SMS):
            address = normalise_address(values["channel"], values["address"])
            if address is None:
                errors["address"] = "nc_err_email" if values["channel"] == EMAIL else "nc_err_phone"
        if errors or address is None:
            return await self._page(request, 400, errors=errors, values=values)
        channel, found = values["channel"], address
        try:
            await self.c.platform.db.write(lambda c: contacts.add(c, tid, channel, found, now))
        except contacts.ContactRefusedError as refused:
            errors["address"] = f"nc_err_{refused.reason}"
            return await self._page(request, 400, errors=errors, values=values)
        return self._done(request, "nc_added")

    @tenant_page
    async def verify(self, request: Request, form: FormData) -> Response:
        tid, contact_id, now = tenant_id(request), request.path_params["item_id"], self.c.clock()
        typed = _text(form, "code")
        outcome = await self.c.platform.db.write(
            lambda c: contacts.verify(c, tid, contact_id, typed, now)
        )
        if outcome is None:
            return self.c.not_found(request)
        if outcome is CodeCheck.OK:
            return self._done(request, "nc_verified_ok")
        return await self._page(
            request,
            400,
            errors={"code": _CODE_ERRORS[outcome]},
            values={"code": typed[:32]},
            error_contact=contact_id,
        )

    @tenant_page
    async def resend(self, request: Request, form: FormData) -> Response:
        tid, contact_id, now = tenant_id(request), request.path_params["item_id"], self.c.clock()
        sent = await self.c.platform.db.write(lambda c: contacts.resend(c, tid, contact_id, now))
        if sent is None:
            return self.c.not_found(request)
        if not sent:
            return await self._page(
                request, 429, errors={"code": "nc_err_resend_wait"}, error_contact=contact_id
            )
        return self._done(request, "nc_resent")

    @tenant_page
    async def kinds(self, request: Request, form: FormData) -> Response:
        tid, contact_id = tenant_id(request), request.path_params["item_id"]
        chosen = [str(k) for k in form.getlist("kinds")]
        found = await self.c.platform.db.write(
            lambda c: contacts.set_kinds(c, tid, contact_id, chosen)
        )
        if not found:
            return self.c.not_found(request)
        return self._done(request, "nc_kinds_saved")

    @tenant_page
    async def delete(self, request: Request, form: FormData) -> Response:
        tid, contact_id = tenant_id(request), request.path_params["item_id"]
        found = await self.c.platform.db.write(lambda c: contacts.remove(c, tid, contact_id))
        if not found:
            return self.c.not_found(request)
        return self._done(request, "nc_deleted")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = ContactPages(console)
    post = console.posted
    one = "/contacts/{item_id:id}"
    tenant: list[BaseRoute] = [
        Route("/contacts", pages.index, methods=["GET"]),
        Route("/contacts", post(pages.add), methods=["POST"]),
        Route(one + "/verify", post(pages.verify), methods=["POST"]),
        Route(one + "/resend", post(pages.resend), methods=["POST"]),
        Route(one + "/kinds", post(pages.kinds), methods=["POST"]),
        Route(one + "/delete", post(pages.delete), methods=["POST"]),
    ]
    return tenant, []
