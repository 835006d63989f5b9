"""Signatures and templates: the tenant's pages (the operator's review is ``admin_reviews``).

The rules live in the services (``platform.registry``) and the domain
(``domain.templates``, ``domain.segments``, ``domain.rights``); these pages only collect
input, show what the rules say, and never query another tenant's rows.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import FORM_MAX, whole
from smscloud.console.forms import text as _text
from smscloud.console.guard import tenant_id, tenant_page
from smscloud.domain.errors import RuleViolation
from smscloud.domain.images import MAX_IMAGE_BYTES, image_suffix
from smscloud.domain.rights import (
    MARKETING_TEMPLATE_DENIAL_CODE,
    AccountType,
    Capability,
    allows,
    denial_code,
    require,
)
from smscloud.domain.segments import billed_parts, international_segmentation
from smscloud.domain.signatures import (
    ALLOWED_DOCUMENTS,
    DocumentType,
    SignType,
    offered_sign_types,
)
from smscloud.domain.templates import SmsType, compose, lint_template, render, variable_indexes
from smscloud.private_files import private_dir, write_private
from smscloud.services.accounts import tenants as accounts
from smscloud.services.accounts.tenants import TenantProfile
from smscloud.services.registry import SignApplication, TemplateApplication, listings
from smscloud.services.registry.listings import SignChoice, SignEntry, TemplateEntry

if TYPE_CHECKING:
    from smscloud.console.app import Console


i18n.STRINGS.update(
    {
        "err_sign_type_offered": (
            "请选择适用于您账号的签名类型",
            "Choose a signature type your account may use",
        ),
        "err_sign_document": (
            "请选择适用于该签名类型的证明类型",
            "Choose a document that proves this type",
        ),
        "signs": ("签名管理", "Signatures"),
        "templates": ("模板管理", "Templates"),
        "sign_name": ("签名名称", "Signature"),
        "sign_type": ("签名类型", "Signature type"),
        "document_type": ("证明类型", "Proof document"),
        "purpose": ("签名用途", "Purpose"),
        "purpose_0": ("自用", "Own use"),
        "purpose_1": ("他用", "On behalf of others"),
        "proof_image": ("证明材料（PNG/JPEG，≤5 MB）", "Proof image (PNG/JPEG, ≤ 5 MB)"),
        "commission_image": ("委托授权书（他用时必填）", "Power of attorney (for others)"),
        "keep_image": ("不上传则保留原图片。", "Leave empty to keep the current image."),
        "international": ("国际/港澳台", "International"),
        "mainland": ("国内", "Mainland"),
        "remark": ("备注", "Remark"),
        "reason": ("审核意见", "Reviewer's reason"),
        "actions": ("操作", "Actions"),
        "submit": ("提交审核", "Submit for review"),
        "modify": ("修改", "Modify"),
        "delete": ("删除", "Delete"),
        "st_0": ("已通过", "Approved"),
        "st_1": ("待审核", "Pending"),
        "st_-1": ("未通过", "Rejected"),
        "new_sign": ("申请签名", "Apply for a signature"),
        "edit_sign": ("修改签名", "Modify signature"),
        "new_template": ("申请模板", "Apply for a template"),
        "edit_template": ("修改模板", "Modify template"),
        "template_name": ("模板名称", "Template name"),
        "content": ("模板内容", "Content"),
        "sms_type": ("短信类型", "SMS type"),
        "sms_type_1": ("营销短信", "Marketing"),
        "sms_type_2": ("通知短信", "Notification"),
        "sms_type_3": ("验证码", "Verification code"),
        "no_signs": ("暂无签名。", "No signatures yet."),
        "no_templates": ("暂无模板。", "No templates yet."),
        "preview": ("预览", "Preview"),
        "chars": ("字数", "Characters"),
        "encoding": ("编码", "Encoding"),
        "parts": ("计费条数", "Billed parts"),
        "lint_ok": ("格式检查通过。", "No format problems found."),
        "lint": ("格式检查", "Format check"),
        "sign_created": ("签名已提交审核。", "The signature was submitted for review."),
        "template_created": ("模板已提交审核。", "The template was submitted for review."),
        "modified": ("已修改并重新提交审核。", "Modified and submitted for review again."),
        "deleted": ("已删除。", "Deleted."),
        "err_image_missing": ("请上传证明材料图片。", "Upload the proof image."),
        "err_image_type": ("图片须为 PNG 或 JPEG 格式。", "The image must be a PNG or JPEG."),
        "err_image_size": ("图片不能超过 5 MB。", "The image may be at most 5 MB."),
        "err_not_editable": ("已通过的内容不能修改。", "An approved item cannot be modified."),
        "deny_marketing": (
            "个人认证用户不能申请营销短信模板。",
            "Individual accounts may not apply for marketing templates.",
        ),
        "deny_international": (
            "国际/港澳台短信需要企业认证。",
            "International SMS requires an enterprise-verified account.",
        ),
    }
)

DOCUMENT_TYPES = [int(x) for x in DocumentType]
# Names of signature and document types, one language per page (i18n keys).
SIGN_TYPE_NAMES = {k: f"sign_type_{k}" for k in (0, 1, 4, 5)}
DOCUMENT_NAMES = {k: f"document_type_{k}" for k in (0, 1, 2, 3, 4, 7)}
i18n.STRINGS.update(
    {
        "sign_type_0": ("公司", "Company"),
        "sign_type_1": ("APP", "App"),
        "sign_type_4": ("商标", "Trademark"),
        "sign_type_5": ("政府/机关", "Government body"),
        "document_type_0": ("三证合一", "Three-in-one licence"),
        "document_type_1": ("营业执照", "Business licence"),
        "document_type_2": ("组织机构代码证", "Organization code certificate"),
        "document_type_3": ("社会信用代码证", "Social credit code certificate"),
        "document_type_4": ("应用后台截图", "App backend screenshot"),
        "document_type_7": ("商标注册书", "Trademark registration certificate"),
    }
)


# A signature's form carries two images (the proof and the commission letter).
MAX_BODY = 2 * MAX_IMAGE_BYTES + FORM_MAX
UPLOADS = {"/console/signs": MAX_BODY, "/console/signs/{item_id:id}": MAX_BODY}


def _int(form: FormData, name: str, default: int = -99) -> int:
    """A number field; ``default`` (which no rule accepts) when it is not a whole number."""
    number = whole(_text(form, name))
    return default if number is None else number


def _account(tenant: Any) -> AccountType:
    return AccountType(str(tenant.account_type))


def _sign_types(tenant: Any) -> list[int]:
    """The signature types the console offers this tenant: never the withdrawn app type (it
    stays available to the API for international signatures), no company type for an
    individual."""
    individual = _account(tenant) is AccountType.INDIVIDUAL
    return [int(k) for k in offered_sign_types(individual=individual, international=False)]


class RegistryPages:
    def __init__(self, console: Console) -> None:
        self.c = console
        self.platform = console.platform

    # -- helpers ----------------------------------------------------------------------------
    async def _tenant(self, tid: int) -> TenantProfile:
        return await self.platform.db.read(lambda c: accounts.tenant_profile(c, tid))

    async def _own_sign(self, tid: int, item_id: int) -> SignEntry | None:
        return await self.platform.db.read(lambda c: listings.own_sign(c, tid, item_id))

    async def _own_template(self, tid: int, item_id: int) -> TemplateEntry | None:
        return await self.platform.db.read(lambda c: listings.own_template(c, tid, item_id))

    @staticmethod
    def _item_id(request: Request) -> int:
        return int(request.path_params["item_id"])  # the ``id`` convertor matched it

    def _rights(self, tenant: Any) -> dict[str, Any]:
        account = _account(tenant)
        return {
            "can_marketing": allows(account, Capability.MARKETING_SMS),
            "can_international": allows(account, Capability.INTERNATIONAL_SMS),
            "marketing_code": MARKETING_TEMPLATE_DENIAL_CODE,
            "international_code": denial_code(Capability.INTERNATIONAL_SMS),
        }

    async def _image(self, form: FormData, field: str) -> tuple[str | None, str | None]:
        """(base64 data, error key) of an uploaded image; (None, None) when none was sent."""
        upload = form.get(field)
        if not isinstance(upload, UploadFile) or not upload.filename:
            return None, None
        raw = await upload.read(MAX_IMAGE_BYTES + 1)
        if not raw:
            return None, None
        if len(raw) > MAX_IMAGE_BYTES:
            return None, "err_image_size"
        ext = image_suffix(raw)
        if ext is None:
            return None, "err_image_type"
        folder = private_dir(Path(self.platform.settings.data_dir) / "uploads" / "signs")
        path = folder / f"{hashlib.sha256(raw).hexdigest()}.{ext}"
        if not path.exists():
            write_private(path, raw)
        return base64.b64encode(raw).decode(), None

    # -- signatures -------------------------------------------------------------------------
    async def _signs_page(
        self,
        request: Request,
        tid: int,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        editing: Any = None,
        status: int = 200,
    ) -> Response:
        rows = await self.platform.db.read(lambda c: listings.own_signs(c, tid))
        tenant = await self._tenant(tid)
        if values is None:
            values = (
                {
                    "name": editing.name,
                    "sign_type": editing.sign_type,
                    "document_type": editing.document_type,
                    "purpose": editing.purpose,
                    "international": editing.international,
                    "remark": editing.remark,
                }
                if editing is not None
                else {"sign_type": None, "document_type": None, "purpose": 0, "international": 0}
            )
        offered = _sign_types(tenant)
        context = {
            "area": "console",
            "user": request.session,
            "tenant": tenant,
            "signs": rows,
            "values": values,
            "errors": errors or {},
            "editing": editing,
            "sign_types": offered,
            "document_types": DOCUMENT_TYPES,
            "sign_type_names": SIGN_TYPE_NAMES,
            "document_names": DOCUMENT_NAMES,
            # Which documents prove which type: the form offers only those of the chosen type.
            "allowed_documents": {
                int(k): sorted(int(d) for d in v)
                for k, v in ALLOWED_DOCUMENTS.items()
                if int(k) in offered
            },
            "document_fits": {
                int(d): " ".join(
                    str(int(k)) for k in offered if d in ALLOWED_DOCUMENTS[SignType(k)]
                )
                for d in DocumentType
            },
            **self._rights(tenant),
        }
        return self.c.render(request, "console/signs.html", context, status)

    @tenant_page
    async def signs(self, request: Request) -> Response:
        tid = tenant_id(request)
        return await self._signs_page(request, tid)

    @tenant_page
    async def sign_edit(self, request: Request) -> Response:
        tid = tenant_id(request)
        item_id = self._item_id(request)
        row = await self._own_sign(tid, item_id)
        if row is None:
            return self.c.not_found(request)
        return await self._signs_page(request, tid, editing=row)

    @tenant_page
    async def sign_save(self, request: Request, form: FormData) -> Response:
        try:
            return await self._sign_save(request, form)
        finally:
            await form.close()  # the uploads' spooled files

    async def _sign_save(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        editing = None
        if "item_id" in request.path_params:
            item_id = self._item_id(request)
            editing = await self._own_sign(tid, item_id)
            if editing is None:
                return self.c.not_found(request)
        tenant = await self._tenant(tid)
        values: dict[str, Any] = {
            "name": _text(form, "name"),
            "sign_type": _int(form, "sign_type"),
            "document_type": _int(form, "document_type"),
            "purpose": _int(form, "purpose"),
            "international": 1 if _text(form, "international") == "1" else 0,
            "remark": _text(form, "remark")[:500],
        }
        if editing is not None:
            values["international"] = int(editing.international)  # never changes region
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = "err_required"
        if values["sign_type"] not in _sign_types(tenant):
            errors["sign_type"] = "err_sign_type_offered"
        elif values["document_type"] not in {
            int(d) for d in ALLOWED_DOCUMENTS[SignType(values["sign_type"])]
        }:
            errors["document_type"] = "err_sign_document"
        proof, problem = await self._image(form, "proof_image")
        if problem:
            errors["proof_image"] = problem
        elif proof is None:
            if editing is not None:
                proof = str(editing.proof_image)
            else:
                errors["proof_image"] = "err_image_missing"
        commission, problem = await self._image(form, "commission_image")
        if problem:
            errors["commission_image"] = problem
        elif commission is None and editing is not None:
            commission = str(editing.commission_image)
        if not errors:
            app = SignApplication(
                name=values["name"],
                sign_type=values["sign_type"],
                document_type=values["document_type"],
                international=values["international"],
                purpose=values["purpose"],
                proof_image=proof or "",
                commission_image=commission or "",
                remark=values["remark"],
            )
            registry = self.platform.registry
            try:
                if values["international"]:
                    require(_account(tenant), Capability.INTERNATIONAL_SMS)
                if editing is None:
                    await registry.add_sign(tid, app, via_api=False)
                else:
                    await registry.modify_sign(tid, int(editing.id), app, via_api=False)
            except RuleViolation as e:
                errors["rule"], errors["rule_message"] = e.code, e.message
        if errors:
            return await self._signs_page(
                request, tid, values=values, errors=errors, editing=editing, status=400
            )
        self.c.flash(request, "sign_created" if editing is None else "modified", "ok")
        return self.c.redirect("/console/signs")

    @tenant_page
    async def sign_delete(self, request: Request, form: FormData) -> Response:
        return await self._delete(request, "signs")

    async def _delete(self, request: Request, page: str) -> Response:
        tid = tenant_id(request)
        item_id = self._item_id(request)
        own = self._own_sign if page == "signs" else self._own_template
        row = await own(tid, item_id)
        if row is None:
            return self.c.not_found(request)
        registry = self.platform.registry
        try:
            if page == "signs":
                await registry.delete_sign(tid, int(row.id), via_api=False)
            else:
                await registry.delete_template(tid, int(row.id), via_api=False)
        except RuleViolation as e:
            request.session.setdefault("flash", []).append(["error", f"{e.code}: {e.message}"])
            return self.c.redirect(f"/console/{page}")
        self.c.flash(request, "deleted", "ok")
        return self.c.redirect(f"/console/{page}")

    # -- templates --------------------------------------------------------------------------
    async def _templates_page(
        self,
        request: Request,
        tid: int,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        editing: Any = None,
        status: int = 200,
    ) -> Response:
        def load(conn: Connection) -> tuple[list[TemplateEntry], list[SignChoice]]:
            return listings.own_templates(conn, tid), listings.sign_choices(conn, tid)

        rows, signs = await self.platform.db.read(load)
        tenant = await self._tenant(tid)
        if values is None:
            values = (
                {
                    "name": editing.name,
                    "content": editing.content,
                    "sms_type": editing.sms_type,
                    "international": editing.international,
                    "remark": editing.remark,
                }
                if editing is not None
                else {"sms_type": 2, "international": 0, "content": ""}
            )
        context = {
            "area": "console",
            "user": request.session,
            "tenant": tenant,
            "templates": rows,
            "signs": signs,
            "values": values,
            "errors": errors or {},
            "editing": editing,
            "preview": self._preview(
                str(values.get("content") or ""),
                int(values.get("sms_type") or 2),
                int(values.get("international") or 0),
                signs[0].name if signs else "",
                _account(tenant),
            ),
            **self._rights(tenant),
        }
        return self.c.render(request, "console/templates.html", context, status)

    @tenant_page
    async def templates(self, request: Request) -> Response:
        tid = tenant_id(request)
        return await self._templates_page(request, tid)

    @tenant_page
    async def template_edit(self, request: Request) -> Response:
        tid = tenant_id(request)
        item_id = self._item_id(request)
        row = await self._own_template(tid, item_id)
        if row is None:
            return self.c.not_found(request)
        return await self._templates_page(request, tid, editing=row)

    @tenant_page
    async def template_save(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        editing = None
        if "item_id" in request.path_params:
            item_id = self._item_id(request)
            editing = await self._own_template(tid, item_id)
            if editing is None:
                return self.c.not_found(request)
        tenant = await self._tenant(tid)
        values: dict[str, Any] = {
            "name": _text(form, "name")[:128],
            "content": _text(form, "content"),
            "sms_type": _int(form, "sms_type"),
            "international": 1 if _text(form, "international") == "1" else 0,
            "remark": _text(form, "remark")[:500],
        }
        if editing is not None:
            values["international"] = int(editing.international)
        errors: dict[str, str] = {}
        if not values["name"]:
            errors["name"] = "err_required"
        if not errors:
            app = TemplateApplication(
                name=values["name"],
                content=values["content"],
                sms_type=values["sms_type"],
                international=values["international"],
                remark=values["remark"],
            )
            registry = self.platform.registry
            try:
                if values["international"]:
                    require(_account(tenant), Capability.INTERNATIONAL_SMS)
                if editing is None:
                    await registry.add_template(tid, app, via_api=False)
                else:
                    await registry.modify_template(tid, int(editing.id), app, via_api=False)
            except RuleViolation as e:
                errors["rule"], errors["rule_message"] = e.code, e.message
        if errors:
            if values["sms_type"] not in (1, 2, 3):
                values["sms_type"] = 2
            return await self._templates_page(
                request, tid, values=values, errors=errors, editing=editing, status=400
            )
        self.c.flash(request, "template_created" if editing is None else "modified", "ok")
        return self.c.redirect("/console/templates")

    @tenant_page
    async def template_delete(self, request: Request, form: FormData) -> Response:
        return await self._delete(request, "templates")

    @staticmethod
    def _preview(
        content: str, sms_type: int, international: int, sign: str, account: AccountType
    ) -> dict[str, Any]:
        """What the final message looks like with sample parameters, and what lint says."""
        problems: list[tuple[str, str]] = []
        if sms_type not in (1, 2, 3):
            sms_type = 2
        kind = SmsType(sms_type)
        if kind is SmsType.MARKETING and not allows(account, Capability.MARKETING_SMS):
            problems.append((MARKETING_TEMPLATE_DENIAL_CODE, "deny_marketing"))
        if international and not allows(account, Capability.INTERNATIONAL_SMS):
            problems.append((denial_code(Capability.INTERNATIONAL_SMS), "deny_international"))
        findings = (
            lint_template(content, kind, international=bool(international)) if content else []
        )
        count = max(variable_indexes(content), default=0)
        sample = [
            "1234" if kind is SmsType.VERIFICATION else f"示例{n}" for n in range(1, count + 1)
        ]
        if international and kind is not SmsType.VERIFICATION:
            sample = [f"sample{n}" for n in range(1, count + 1)]
        try:
            body = render(content, sample, sms_type=kind, max_param_length=None)
        except RuleViolation:
            body = content
        final = compose(sign or "签名", body, international=bool(international))
        return {
            "final": final,
            "chars": len(final),
            "encoding": international_segmentation(final).encoding.value,
            "parts": billed_parts(final, mainland=not international),
            "findings": [(f.code, f.message) for f in findings],  # worded by the page
            "denials": problems,
            "empty": not content,
        }

    @tenant_page
    async def template_preview(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        tenant = await self._tenant(tid)
        preview = self._preview(
            _text(form, "content")[:5000],
            _int(form, "sms_type", 2),
            1 if _text(form, "international") == "1" else 0,
            _text(form, "sign")[:64],
            _account(tenant),
        )
        context = {"area": "console", "user": request.session, "preview": preview}
        return self.c.render(request, "console/templates_preview.html", context)


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = RegistryPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/signs", pages.signs, methods=["GET"]),
        Route("/signs", post(pages.sign_save), methods=["POST"]),
        Route("/signs/{item_id:id}", pages.sign_edit, methods=["GET"]),
        Route("/signs/{item_id:id}", post(pages.sign_save), methods=["POST"]),
        Route("/signs/{item_id:id}/delete", post(pages.sign_delete), methods=["POST"]),
        Route("/templates", pages.templates, methods=["GET"]),
        Route("/templates", post(pages.template_save), methods=["POST"]),
        Route("/templates/preview", post(pages.template_preview), methods=["POST"]),
        Route("/templates/{item_id:id}", pages.template_edit, methods=["GET"]),
        Route("/templates/{item_id:id}", post(pages.template_save), methods=["POST"]),
        Route("/templates/{item_id:id}/delete", post(pages.template_delete), methods=["POST"]),
    ]
    return tenant, []
