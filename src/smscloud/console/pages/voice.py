"""Voice messages, the tenant's pages: voice templates, voice files, and sending a call.

The rules live in the services (``platform.voice_registry``, ``platform.voice``) and the
domain (``domain.voice_rules``, ``domain.voice_templates``, ``domain.audio_files``); these
pages collect input, judge it first with the same domain functions so that each problem is
shown beside its field in the page's language, and never read another tenant's rows
(``services.voice_records``). Calls and their recordings are ``voice_calls``; the operator's
review is ``admin_voice_reviews``.

Voice is for verified enterprise accounts only (``domain.rights``, Capability.VOICE): anyone
else gets the section's explanation instead of its forms, and the services refuse them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n, voice_words
from smscloud.console.forms import FORM_MAX, whole
from smscloud.console.forms import text as _text
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.domain.audio_files import CONTENT_LENGTH, MAX_FILE_BYTES, sniff_audio
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.domain.rights import AccountType, Capability, allows, denial_code
from smscloud.domain.templates import variable_indexes
from smscloud.domain.voice_rules import FREQUENCY_LIMIT, MAX_PLAY_TIMES, VoiceKind, check_code
from smscloud.domain.voice_templates import MAX_PARAM_CHARS, MAX_VOICE_CHARS, render_voice
from smscloud.services.accounts import tenants as accounts
from smscloud.services.accounts.tenants import TenantProfile
from smscloud.services.registry import voice_files, voice_templates
from smscloud.services.registry.voice_templates import NAME_MAX, REMARK_MAX
from smscloud.services.sending import voice as sending
from smscloud.services.sending.voice import VoiceRequest
from smscloud.services.voice_records import (
    VoiceChoices,
    own_voice_file,
    own_voice_templates,
    voice_choices,
)

if TYPE_CHECKING:
    from smscloud.console.app import Console

# An upload's body: the recording and the form's few fields. Past it the form is not read
# and the page says the file is too large (as the identity page does).
MAX_BODY = MAX_FILE_BYTES + FORM_MAX
UPLOADS = {"/console/voice/files": MAX_BODY}
DEFAULT_PLAY_TIMES = "1"  # the form's: a code heard once is usually enough

# A refusal of the send service -> (the field it belongs beside, what the page says).
SEND_REFUSALS = {
    sending.APP_NOT_FOUND: ("app", "vc_err_app"),
    sending.APP_NOT_OURS: ("app", "vc_err_app"),
    sending.APP_DISABLED: ("app", "vc_err_app"),
    sending.BAD_NUMBER: ("phone", "vc_err_phone"),
    sending.NOT_APPROVED: ("template", "vc_err_template"),
    sending.ARREARS: ("form", "vc_err_arrears"),
    FREQUENCY_LIMIT: ("phone", "vc_err_frequency"),
}
TEMPLATE_REFUSALS = {
    voice_templates.TEMPLATE_LIMIT: "vc_err_template_limit",
    voice_templates.ALREADY_APPROVED: "err_not_editable",
    voice_templates.MISSING_TO_MODIFY: "vc_err_gone",
    voice_templates.TEMPLATE_NOT_FOUND: "vc_err_gone",
}

i18n.STRINGS.update(voice_words.TENANT)


def voice_denial(tenant: TenantProfile) -> str | None:
    """Why this tenant may not use voice (a string key), or None when it may."""
    if not allows(AccountType(tenant.account_type), Capability.VOICE):
        return "vc_deny_individual"
    if not tenant.verified:
        return "vc_deny_unverified"
    return None


def voice_base(request: Request, tenant: TenantProfile) -> dict[str, Any]:
    """What every voice page's template needs: the area, the user, the tenant and, for a
    tenant that may not use voice, why (the page then shows that instead of its forms)."""
    return {
        "area": "console",
        "user": request.session,
        "tenant": tenant,
        "denial": voice_denial(tenant),
        "denial_code": denial_code(Capability.VOICE),
    }


def _params_of(content: str) -> int:
    return max(variable_indexes(content), default=0)


class VoicePages:
    """The tenant's voice templates, files and send page."""

    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    async def _tenant(self, tid: int) -> TenantProfile:
        return await self.platform.db.read(lambda c: accounts.tenant_profile(c, tid))

    @staticmethod
    def _item_id(request: Request) -> int:
        return int(request.path_params["item_id"])  # the ``id`` convertor matched it

    # -- templates --------------------------------------------------------------------------
    async def _templates_page(
        self,
        request: Request,
        tid: int,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
        editing: voice_templates.RegisteredVoiceTemplate | None = None,
        status: int = 200,
    ) -> Response:
        tenant = await self._tenant(tid)
        rows = await self.platform.db.read(lambda c: own_voice_templates(c, tid))
        if values is None:
            values = (
                {"name": editing.name, "content": editing.content, "remark": editing.remark}
                if editing is not None
                else {}
            )
        context = voice_base(request, tenant) | {
            "templates": rows,
            "values": values,
            "errors": errors or {},
            "editing": editing,
            "name_max": NAME_MAX,
            "remark_max": REMARK_MAX,
            "content_max": MAX_VOICE_CHARS,
        }
        return self.c.render(request, "console/voice_templates.html", context, status)

    @tenant_page
    async def templates(self, request: Request) -> Response:
        """The tenant's voice templates and the form to apply for one."""
        return await self._templates_page(request, tenant_id(request))

    @tenant_page
    async def template_edit(self, request: Request) -> Response:
        """The form to modify one of the tenant's voice templates."""
        tid = tenant_id(request)
        row = await self.platform.voice_registry.get_template(tid, self._item_id(request))
        if row is None:
            return self.c.not_found(request)
        return await self._templates_page(request, tid, editing=row)

    @tenant_page
    async def template_save(self, request: Request, form: FormData) -> Response:
        """Apply for a voice template, or modify one under review or rejected."""
        tid = tenant_id(request)
        registry = self.platform.voice_registry
        editing = None
        if "item_id" in request.path_params:
            editing = await registry.get_template(tid, self._item_id(request))
            if editing is None:
                return self.c.not_found(request)
        values = {
            "name": _text(form, "name"),
            "content": _text(form, "content"),
            "remark": _text(form, "remark"),
        }
        errors: dict[str, list[str]] = {}
        if not values["name"]:
            errors["name"] = ["err_required"]
        elif len(values["name"]) > NAME_MAX:
            errors["name"] = ["err_too_long"]
        if len(values["remark"]) > REMARK_MAX:
            errors["remark"] = ["err_too_long"]
        findings = voice_words.lint_keys(values["content"])
        if findings:
            errors["content"] = findings
        tenant = await self._tenant(tid)
        denial = voice_denial(tenant)
        if denial is not None:
            errors["form"] = [denial]
        if not errors:
            app = voice_templates.VoiceTemplateApplication(**values)
            try:
                if editing is None:
                    await registry.add_template(tid, app)
                else:
                    await registry.modify_template(tid, editing.id, app)
            except RuleViolation as e:
                errors["form"] = [TEMPLATE_REFUSALS.get(e.code, "vc_err_refused")]
        if errors:
            return await self._templates_page(
                request, tid, values=values, errors=errors, editing=editing, status=400
            )
        self.c.flash(request, "vc_template_created" if editing is None else "modified", "ok")
        return self.c.redirect("/console/voice/templates")

    @tenant_page
    async def template_delete(self, request: Request, form: FormData) -> Response:
        """Delete one of the tenant's voice templates, whatever its state."""
        tid = tenant_id(request)
        try:
            await self.platform.voice_registry.delete_template(tid, self._item_id(request))
        except RuleViolation:
            return self.c.not_found(request)
        self.c.flash(request, "deleted", "ok")
        return self.c.redirect("/console/voice/templates")

    # -- files ------------------------------------------------------------------------------
    async def _files_page(
        self, request: Request, tid: int, *, errors: dict[str, str] | None = None, status: int = 200
    ) -> Response:
        tenant = await self._tenant(tid)
        rows = await self.platform.voice_registry.list_files(tid, limit=voice_files.MAX_VOICE_FILES)
        context = voice_base(request, tenant) | {
            "files": rows,
            "errors": errors or {},
            "max_kb": MAX_FILE_BYTES // 1024,
            "max_seconds": int(self.platform.voice_registry.max_seconds),
        }
        return self.c.render(request, "console/voice_files.html", context, status)

    @tenant_page
    async def files(self, request: Request) -> Response:
        """The tenant's voice files and the upload form."""
        return await self._files_page(request, tenant_id(request))

    @tenant_page
    async def upload_too_large(self, request: Request) -> Response:
        """A recording over the route's limit: this page, the message beside the file field."""
        return await self._files_page(
            request, tenant_id(request), errors={"file": "vc_err_file_size"}, status=413
        )

    @tenant_page
    async def upload(self, request: Request, form: FormData) -> Response:
        """Upload a recording (through ``Console.posted``, like every form)."""
        tid = tenant_id(request)
        registry = self.platform.voice_registry
        upload = form.get("file")
        data = b""
        problem: str | None = None
        if not isinstance(upload, UploadFile) or not upload.filename:
            problem = "vc_err_file_missing"
        else:
            data = await upload.read(registry.max_bytes + 1)
            problem = _audio_problem(data, registry.max_bytes, registry.max_seconds)
        errors: dict[str, str] = {}
        if problem is not None:
            errors["file"] = problem
        else:
            denial = voice_denial(await self._tenant(tid))
            if denial is not None:
                errors["form"] = denial
            else:
                try:
                    await registry.upload_file(tid, data)
                except RuleViolation as e:
                    refused = e.code == voice_files.FILE_LIMIT
                    errors["form"] = "vc_err_file_limit" if refused else "vc_err_refused"
        if errors:
            status = 413 if errors.get("file") == "vc_err_file_size" else 400
            return await self._files_page(request, tid, errors=errors, status=status)
        self.c.flash(request, "vc_file_uploaded", "ok")
        return self.c.redirect("/console/voice/files")

    @tenant_page
    async def file_delete(self, request: Request, form: FormData) -> Response:
        """Delete one of the tenant's voice files (calls already accepted still play it)."""
        tid = tenant_id(request)
        item_id = self._item_id(request)
        row = await self.platform.db.read(lambda c: own_voice_file(c, tid, item_id))
        if row is None:
            return self.c.not_found(request)
        try:
            await self.platform.voice_registry.delete_file(tid, row.fid)
        except RuleViolation:  # deleted meanwhile
            return self.c.not_found(request)
        self.c.flash(request, "deleted", "ok")
        return self.c.redirect("/console/voice/files")

    # -- sending ----------------------------------------------------------------------------
    @staticmethod
    def _values(source: FormData | QueryParams) -> dict[str, Any]:
        def get(name: str, limit: int = 64) -> str:
            value = source.get(name)
            return value.strip()[:limit] if isinstance(value, str) else ""

        kind = get("kind")
        return {
            "kind": "template" if kind == VoiceKind.TEMPLATE.value else VoiceKind.CODE.value,
            "app": get("app"),
            "phone": get("phone", 32),
            "code": get("code", 32),
            "template": get("template", 20),
            "params": [str(p)[:200] for p in source.getlist("param")][:20],
            "play_times": get("play_times", 8) or DEFAULT_PLAY_TIMES,
        }

    async def _send_page(
        self,
        request: Request,
        tid: int,
        values: dict[str, Any],
        *,
        choices: VoiceChoices | None = None,
        errors: dict[str, Any] | None = None,
        accepted: str | None = None,
        status: int = 200,
    ) -> Response:
        if choices is None:
            choices = await self.platform.db.read(lambda c: voice_choices(c, tid))
        chosen = next((t for t in choices.templates if str(t.id) == values["template"]), None)
        if chosen is None and choices.templates:
            chosen = choices.templates[0]
        count = _params_of(chosen.content) if chosen is not None else 0
        params = list(values["params"])[:count]
        params += [""] * (count - len(params))
        context = voice_base(request, choices.tenant) | {
            "apps": choices.apps,
            "voice_templates": choices.templates,
            "chosen": chosen,
            "params": params,
            "values": values,
            "errors": errors or {},
            "accepted": accepted,
            "max_play_times": MAX_PLAY_TIMES,
            "param_max": MAX_PARAM_CHARS,
        }
        return self.c.render(request, "console/voice_send.html", context, status)

    @tenant_page
    async def home(self, request: Request) -> Response:
        """The section's entry: its send page."""
        return self.c.redirect("/console/voice/send")

    @tenant_page
    async def send_page(self, request: Request) -> Response:
        """The send page: a voice code, or a notification from an approved template."""
        tid = tenant_id(request)
        return await self._send_page(request, tid, self._values(request.query_params))

    @tenant_page
    async def send(self, request: Request, form: FormData) -> Response:
        """Place one call; each problem is shown beside its field and nothing is stored."""
        tid = tenant_id(request)
        values = self._values(form)
        choices = await self.platform.db.read(lambda c: voice_choices(c, tid))
        errors = _send_errors(values, choices)
        denial = voice_denial(choices.tenant)
        if denial is not None:
            errors = {"form": denial}
        if not errors:
            try:
                done = await self.platform.voice.send(_voice_request(tid, values))
            except RuleViolation as e:
                field, key = SEND_REFUSALS.get(e.code, ("form", ""))
                if not key:
                    country = e.code == sending.UNSUPPORTED and "not offered" in e.message
                    field, key = ("phone", "vc_err_country") if country else ("form", "")
                errors = {field: key or "vc_err_refused", "refusal_code": e.code}
            else:
                return await self._send_page(
                    request, tid, values, choices=choices, accepted=done.call_id
                )
        return await self._send_page(
            request, tid, values, choices=choices, errors=errors, status=400
        )


def _audio_problem(data: bytes, max_bytes: int, max_seconds: float) -> str | None:
    """What is wrong with an uploaded recording, as a string key; None if nothing."""
    if not data:
        return "vc_err_file_missing"
    if len(data) > max_bytes:
        return "vc_err_file_size"
    try:
        sniff_audio(data, max_bytes=max_bytes, max_seconds=max_seconds)
    except RuleViolation as e:
        return "vc_err_file_long" if e.code == CONTENT_LENGTH else "vc_err_file_format"
    return None


def _send_errors(values: dict[str, Any], choices: VoiceChoices) -> dict[str, Any]:
    """Each field's problem (string keys; ``params`` maps a position to its key), judged
    as the send service will judge it."""
    errors: dict[str, Any] = {}
    if values["app"] not in {a.sdk_app_id for a in choices.apps}:
        errors["app"] = "vc_err_app"
    if not values["phone"]:
        errors["phone"] = "err_required"
    else:
        try:
            parse_phone(values["phone"])
        except RuleViolation:
            errors["phone"] = "vc_err_phone"
    if whole(values["play_times"], lo=1, hi=MAX_PLAY_TIMES) is None:
        errors["play_times"] = "vc_err_play_times"
    if values["kind"] == VoiceKind.CODE:
        try:
            check_code(values["code"])
        except RuleViolation:
            errors["code"] = "vc_err_code"
        return errors
    template = next((t for t in choices.templates if str(t.id) == values["template"]), None)
    if template is None:
        errors["template"] = "vc_err_template"
        return errors
    params: list[str] = values["params"]
    wrong: dict[int, str] = {}
    for position in range(1, _params_of(template.content) + 1):
        value = params[position - 1] if position <= len(params) else ""
        if not value.strip():
            wrong[position] = "vc_err_param_empty"
        elif len(value) > MAX_PARAM_CHARS:
            wrong[position] = "vc_err_param_long"
    if wrong:
        errors["params"] = wrong
    else:
        try:
            render_voice(template.content, params[: _params_of(template.content)])
        except RuleViolation:
            errors["params_all"] = "vc_err_content_long"
    return errors


def _voice_request(tid: int, values: dict[str, Any]) -> VoiceRequest:
    """The call the form asks for (its values already judged)."""
    kind = VoiceKind(values["kind"])
    return VoiceRequest(
        tenant_id=tid,
        sdk_app_id=values["app"],
        phone=values["phone"],
        kind=kind,
        code=values["code"] if kind is VoiceKind.CODE else "",
        template_id=values["template"] if kind is VoiceKind.TEMPLATE else "",
        params=values["params"] if kind is VoiceKind.TEMPLATE else (),
        play_times=whole(values["play_times"], lo=1, hi=MAX_PLAY_TIMES),
        source="console",
    )


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = VoicePages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/voice", pages.home, methods=["GET"]),
        Route("/voice/send", pages.send_page, methods=["GET"]),
        Route("/voice/send", post(pages.send), methods=["POST"]),
        Route("/voice/templates", pages.templates, methods=["GET"]),
        Route("/voice/templates", post(pages.template_save), methods=["POST"]),
        Route("/voice/templates/{item_id:id}", pages.template_edit, methods=["GET"]),
        Route("/voice/templates/{item_id:id}", post(pages.template_save), methods=["POST"]),
        Route(
            "/voice/templates/{item_id:id}/delete", post(pages.template_delete), methods=["POST"]
        ),
        Route("/voice/files", pages.files, methods=["GET"]),
        Route(
            "/voice/files",
            post(pages.upload, max_files=1, max_fields=8, too_large=pages.upload_too_large),
            methods=["POST"],
        ),
        Route("/voice/files/{item_id:id}/delete", post(pages.file_delete), methods=["POST"]),
    ]
    return tenant, []
