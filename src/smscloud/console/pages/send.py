"""Sending one message from the console: the form, its live preview and the result.

The form is checked field by field before anything is sent, so that every problem shows at
once beside its field (an unknown choice, a missing or malformed number, each parameter that
breaks the template's rules). Only a form without field problems reaches ``SendService``, whose
refusals (limits, billing, the account's rights) are about the request, not a field.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.domain.segments import billed_parts
from smscloud.domain.templates import (
    SmsType,
    compose,
    param_problems,
    render,
    variable_indexes,
)
from smscloud.services.sending.choices import SendingChoices, sending_choices
from smscloud.services.sending.sms import SendRequest

if TYPE_CHECKING:
    from smscloud.console.app import Console

i18n.STRINGS.update(
    {
        "nav_send": ("发送短信", "Send"),
        "send_title": ("发送短信", "Send a message"),
        "send_app": ("应用", "Application"),
        "send_template": ("模板", "Template"),
        "send_params": ("模板参数", "Template parameters"),
        "send_no_params": ("该模板没有参数。", "This template has no parameters."),
        "send_phone": ("手机号码", "Phone number"),
        "send_button": ("发送", "Send"),
        "send_final": ("最终内容", "Final text"),
        "send_result": ("发送结果", "Result"),
        "send_outcome": ("结果", "Outcome"),
        "send_missing": (
            "需要一个应用、一个已通过的签名和一个已通过的模板才能发送。",
            "Sending needs an application, an approved signature and an approved template.",
        ),
        "send_refused": ("请求被拒绝", "The request was refused"),
        "send_fix_fields": (
            "请修正下面标出的问题，未发送任何短信。",
            "Nothing was sent: correct the problems marked below.",
        ),
        "err_send_choice": (
            "请从列表中选择（所选项不存在或未通过审核）。",
            "Choose one from the list (what was sent does not exist or is not approved).",
        ),
    }
)


def choices_context(choices: SendingChoices) -> dict[str, Any]:
    """The sending choices as a page's context: tenant, apps, signs, templates."""
    return {f.name: getattr(choices, f.name) for f in fields(choices)}


def form_values(source: Any) -> dict[str, Any]:
    """What the send form posted (or the page's query asked for), trimmed to the fields' sizes."""

    def get(name: str) -> str:
        value = source.get(name)
        return value.strip() if isinstance(value, str) else ""

    return {
        "app": get("app"),
        "sign": get("sign")[:64],
        "template": get("template"),
        "phone": get("phone")[:32],
        "params": [str(p)[:500] for p in source.getlist("param")][:20],
    }


def choice_problems(values: dict[str, Any], choices: dict[str, Any]) -> dict[str, str]:
    """The application, signature and template chosen (a send's or a bulk task's) that are
    not among the tenant's usable ones, by field name (``err_send_choice``)."""
    errors: dict[str, str] = {}
    if not any(a.sdk_app_id == values["app"] for a in choices["apps"]):
        errors["app"] = "err_send_choice"
    if values["sign"] and not any(g.name == values["sign"] for g in choices["signs"]):
        errors["sign"] = "err_send_choice"
    if not any(str(m.id) == values["template"] for m in choices["templates"]):
        errors["template"] = "err_send_choice"
    return errors


def field_problems(values: dict[str, Any], choices: dict[str, Any]) -> dict[str, str]:
    """Every field of the send form that cannot be sent as it is, by field name.

    A value is a string key of the page (``err_...``) or a Tencent code, which the page puts
    in words; parameters are ``param_N`` (N from 1). Empty when the form may be sent.
    """
    errors = choice_problems(values, choices)
    chosen = next((m for m in choices["templates"] if str(m.id) == values["template"]), None)
    if not values["phone"]:
        errors["phone"] = "err_required"
    else:
        try:
            parse_phone(values["phone"])
        except RuleViolation as e:
            errors["phone"] = e.code
    if chosen is not None:
        count = max(variable_indexes(chosen.content), default=0)
        params = (list(values["params"]) + [""] * count)[:count]
        found = param_problems(params, sms_type=SmsType(chosen.sms_type), max_param_length=None)
        for position, problem in found.items():
            errors[f"param_{position}"] = problem.code
    return errors


class SendPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    async def _choices(self, tid: int) -> dict[str, Any]:
        return choices_context(await self.platform.db.read(lambda c: sending_choices(c, tid)))

    @staticmethod
    def _preview(template: Any, sign: str, params: list[str]) -> dict[str, Any]:
        international = bool(template.international)
        error = ""
        try:
            body = render(
                template.content, params, sms_type=SmsType(template.sms_type), max_param_length=None
            )
        except RuleViolation as e:
            body, error = template.content, e.code  # the page explains it in its language
        final = compose(sign or None, body, international=international)
        return {
            "final": final,
            "chars": len(final),
            "parts": billed_parts(final, mainland=not international),
            "error": error,
        }

    async def _send_page(
        self,
        request: Request,
        values: dict[str, Any],
        *,
        data: dict[str, Any] | None = None,
        result: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
        fragment: bool = False,
    ) -> Response:
        if data is None:
            data = await self._choices(tenant_id(request))
        templates = data["templates"]
        chosen = next((t for t in templates if str(t.id) == values.get("template")), None)
        if chosen is None and templates:
            chosen = templates[0]
        count = max(variable_indexes(chosen.content), default=0) if chosen is not None else 0
        params = list(values.get("params") or [])[:count]
        params += [""] * (count - len(params))
        # Before a choice, the page shows the first signature: the preview must show it too.
        sign = values.get("sign") or (data["signs"][0].name if data["signs"] else "")
        preview = self._preview(chosen, sign, params) if chosen else None
        context = {"area": "console", "user": request.session} | data
        context |= {
            "values": values,
            "chosen": chosen,
            "params": params,
            "preview": preview,
            "result": result,
            "errors": errors or {},
        }
        page = "console/send_preview.html" if fragment else "console/send.html"
        return self.c.render(request, page, context, status)

    @tenant_page
    async def send_page(self, request: Request) -> Response:
        return await self._send_page(request, form_values(request.query_params))

    @tenant_page
    async def send_preview(self, request: Request, form: FormData) -> Response:
        return await self._send_page(request, form_values(form), fragment=True)

    @tenant_page
    async def send(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        values = form_values(form)
        data = await self._choices(tid)
        errors = field_problems(values, data)
        if errors:
            return await self._send_page(request, values, data=data, errors=errors, status=400)
        try:
            request_id, candidates = await self.platform.sender.send(
                SendRequest(
                    tenant_id=tid,
                    sdk_app_id=values["app"],
                    phones=[values["phone"]],
                    template_id=values["template"],
                    sign_name=values["sign"],
                    params=values["params"],
                )
            )
        except RuleViolation as e:
            refused = {"code": e.code, "message": e.message}
            return await self._send_page(request, values, data=data, result=refused, status=400)
        sent = {"request_id": request_id, "rows": candidates}
        return await self._send_page(request, values, data=data, result=sent)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = SendPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/send", pages.send_page, methods=["GET"]),
        Route("/send", post(pages.send), methods=["POST"]),
        Route("/send/preview", post(pages.send_preview), methods=["POST"]),
    ]
    return tenant, []
