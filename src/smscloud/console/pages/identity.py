"""Identity verification: the tenant's application and the operator's review.

The tenant's form carries a file: ``Console.posted`` reads it with one file and a few fields
at most, the body bounded as it arrives (``UPLOADS``); a form over the limit gets this page
with its message; then the CSRF token is checked like any other form.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from sqlalchemy import Connection
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from smscloud.console import i18n
from smscloud.console.forms import FORM_MAX
from smscloud.console.forms import text as _text
from smscloud.console.guard import operator_name, operator_page, tenant_id, tenant_page
from smscloud.domain import identity_numbers
from smscloud.domain.images import MAX_IMAGE_BYTES, image_suffix
from smscloud.domain.work_time import queue_key, review_wait
from smscloud.private_files import private_dir, write_private
from smscloud.services import identity as ident
from smscloud.services.accounts import tenants as accounts

if TYPE_CHECKING:
    from smscloud.console.app import Console

MAX_DOCUMENT = MAX_IMAGE_BYTES  # bytes of the image
MAX_BODY = MAX_DOCUMENT + FORM_MAX  # the whole multipart body: the image and the fields
UPLOADS = {"/console/identity": MAX_BODY}
DOCUMENT_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg)$")

i18n.STRINGS.update(
    {
        "identity_title": ("实名认证", "Identity verification"),
        "identity_status": ("认证状态", "Status"),
        "identity_none": ("尚未提交认证。", "No application yet."),
        "identity_pending": ("审核中", "Under review"),
        "identity_approved": ("已通过", "Approved"),
        "identity_rejected": ("未通过", "Rejected"),
        "identity_reason": ("驳回原因", "Reason for rejection"),
        "identity_pending_note": (
            "您的认证申请正在审核中，审核完成前不能重新提交。",
            "Your application is under review; it cannot be submitted again until decided.",
        ),
        "identity_upgrade_note": (
            "您已完成个人认证，可以申请升级为企业认证。",
            "You are verified as an individual; you may apply to upgrade to an enterprise.",
        ),
        "identity_done_note": ("您已完成企业认证。", "You are verified as an enterprise."),
        "idp_pending": ("认证审核中", "Verification under review"),
        "idp_pending_upgrade": ("企业认证审核中", "Enterprise verification under review"),
        "idp_upgrade_note": (
            "企业认证申请审核中。审核通过后，账号名称将改为营业执照上的企业名称：",
            "The enterprise verification is under review. Once approved, the account takes "
            "the company's name on its licence:",
        ),
        "idp_applied": ("申请", "applied for"),
        "identity_apply": ("提交认证", "Apply"),
        "identity_submitted": (
            "认证申请已提交，请等待审核。",
            "Your application was submitted; an operator will review it.",
        ),
        "identity_name": ("姓名或企业名称", "Person's or company's name"),
        "identity_name_hint": (
            "个人填写身份证上的姓名；企业填写营业执照上的名称",
            "An individual: the name on the ID card; an enterprise: the name on the licence",
        ),
        "id_number": ("证件号码", "Number"),
        "id_number_hint": (
            "个人填写 18 位身份证号；企业填写 18 位统一社会信用代码",
            "An individual: the 18-character ID card number; "
            "an enterprise: the 18-character unified social credit code",
        ),
        "document": ("证件图片", "Document image"),
        "document_hint": (
            "个人上传身份证照片，企业上传营业执照；PNG 或 JPEG，不超过 5 MB",
            "An individual: a photo of the ID card; an enterprise: the business licence; "
            "PNG or JPEG, at most 5 MB",
        ),
        "submitted_at": ("提交时间", "Submitted"),
        "err_id_card": (
            "身份证号无效（须为 18 位且校验位正确）。",
            "Not a valid ID card number (18 characters with a correct check digit).",
        ),
        "err_uscc": (
            "统一社会信用代码无效（须为 18 位且校验位正确）。",
            "Not a valid unified social credit code (18 characters, correct check character).",
        ),
        "err_document_type": (
            "只接受 PNG 或 JPEG 图片。",
            "Only PNG or JPEG images are accepted.",
        ),
        "err_document_big": ("文件不能超过 5 MB。", "The file must not exceed 5 MB."),
        "err_document_missing": ("请上传证件图片。", "Upload the document image."),
        "err_identity_pending": (
            "已有待审核的认证申请。",
            "An application is already under review.",
        ),
        "err_identity_verified": (
            "您已完成该类型的认证。",
            "You are already verified for this account type.",
        ),
        # operator
        "identities_title": ("实名认证审核", "Identity reviews"),
        "identities_none": ("没有待审核的认证申请。", "No application awaits review."),
        "tenant": ("租户", "Tenant"),
        "approve": ("通过", "Approve"),
        "reject": ("驳回", "Reject"),
        "reject_reason": ("驳回原因", "Reason"),
        "err_reason_required": ("驳回时必须填写原因。", "A reason is required to reject."),
        "identity_decided": ("已处理。", "Decision recorded."),
        "identity_gone": (
            "该申请已被处理或不存在。",
            "That application was already decided or does not exist.",
        ),
    }
)


class IdentityPages:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.folder = Path(console.platform.settings.data_dir) / "uploads" / "identity"

    # -- tenant ----------------------------------------------------------------------------------
    async def _tenant_context(self, request: Request) -> dict[str, Any]:
        tid = tenant_id(request)

        def load(conn: Connection) -> dict[str, Any]:
            tenant = accounts.tenant_profile(conn, tid)
            allowed = [k for k in identity_numbers.TYPES if ident.refusal(conn, tid, k) is None]
            return {"tenant": tenant, "last": ident.latest(conn, tid), "allowed": allowed}

        data = await self.console.platform.db.read(load)
        return {"area": "console", "user": request.session, **data}

    @tenant_page
    async def page(self, request: Request) -> Response:
        context = await self._tenant_context(request)
        first = context["allowed"][0] if context["allowed"] else "individual"
        context |= {"values": {"account_type": first}, "errors": {}}
        return self.console.render(request, "console/identity.html", context)

    @tenant_page
    async def submit_too_large(self, request: Request) -> Response:
        """A document over the route's limit: this page, the message beside its field."""
        context = await self._tenant_context(request)
        context |= {"values": {}, "errors": {"document": "err_document_big"}}
        return self.console.render(request, "console/identity.html", context, 413)

    @tenant_page
    async def submit(self, request: Request, form: FormData) -> Response:
        tid = tenant_id(request)
        values = {
            "account_type": _text(form, "account_type"),
            "name": _text(form, "name"),
            "id_number": _text(form, "id_number").upper(),
        }
        errors: dict[str, str] = {}
        kind = values["account_type"]
        if kind not in identity_numbers.TYPES:
            errors["account_type"] = "err_type"
        if not values["name"]:
            errors["name"] = "err_required"
        elif len(values["name"]) > 128:
            errors["name"] = "err_too_long"
        if not values["id_number"]:
            errors["id_number"] = "err_required"
        elif kind in identity_numbers.TYPES and not identity_numbers.valid_number(
            kind, values["id_number"]
        ):
            errors["id_number"] = "err_id_card" if kind == "individual" else "err_uscc"
        upload = form.get("document")
        data = b""
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors["document"] = "err_document_missing"
        else:
            data = await upload.read(MAX_DOCUMENT + 1)
            if len(data) > MAX_DOCUMENT:
                errors["document"] = "err_document_big"
            elif not data:
                errors["document"] = "err_document_missing"
            elif image_suffix(data) is None:
                errors["document"] = "err_document_type"
        status = 413 if errors.get("document") == "err_document_big" else 400
        if not errors:
            name = f"{secrets.token_hex(16)}.{image_suffix(data)}"
            path = self.folder / name
            await anyio.to_thread.run_sync(self._store, path, data)
            now = self.console.clock()
            try:
                await self.console.platform.db.write(
                    lambda c: ident.submit(
                        c, tid, kind, values["name"], values["id_number"], name, now
                    )
                )
            except ident.IdentityRefusedError as refused:
                path.unlink(missing_ok=True)
                errors["form"], status = refused.key, 409
            else:
                self.console.flash(request, "identity_submitted", "ok")
                return self.console.redirect("/console/identity")
        context = await self._tenant_context(request)
        context |= {"values": values, "errors": errors}
        return self.console.render(request, "console/identity.html", context, status)

    def _store(self, path: Path, data: bytes) -> None:
        private_dir(path.parent)
        write_private(path, data)

    # -- operator --------------------------------------------------------------------------------
    @operator_page
    async def queue(self, request: Request) -> Response:
        return await self._queue(request, {}, 200)

    async def _queue(self, request: Request, errors: dict[int, str], status: int) -> Response:
        rows = await self.console.platform.db.read(ident.pending)
        now, tz = self.console.clock(), self.console.platform.settings.tz
        # Overdue against the half-work-day promise first, then the longest wait.
        waits = {r.id: review_wait(float(r.created_at), now, tz) for r in rows}
        rows.sort(key=lambda r: (queue_key(waits[r.id], float(r.created_at)), r.id))
        context = {
            "area": "admin",
            "user": request.session,
            "items": rows,
            "waits": waits,
            "errors": errors,
        }
        return self.console.render(request, "admin/identities.html", context, status)

    @operator_page
    async def document(self, request: Request) -> Response:
        identity_id = int(request.path_params["identity_id"])
        row = await self.console.platform.db.read(lambda c: ident.get(c, identity_id))
        if row is None or not DOCUMENT_NAME.match(row.document):
            return self.console.not_found(request)
        path = self.folder / row.document
        try:
            data = await anyio.to_thread.run_sync(path.read_bytes)
        except FileNotFoundError:
            return self.console.not_found(request)
        media = "image/png" if row.document.endswith(".png") else "image/jpeg"
        headers = {
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'",
            "Content-Disposition": "inline",
        }
        return Response(data, media_type=media, headers=headers)

    @operator_page
    async def approve(self, request: Request, form: FormData) -> Response:
        return await self._decide(request, form, approve=True)

    @operator_page
    async def reject(self, request: Request, form: FormData) -> Response:
        return await self._decide(request, form, approve=False)

    async def _decide(self, request: Request, form: FormData, *, approve: bool) -> Response:
        identity_id = int(request.path_params["identity_id"])
        reason = "" if approve else _text(form, "reason")
        if not approve and not reason:
            return await self._queue(request, {identity_id: "err_reason_required"}, 400)
        if len(reason) > 500:
            return await self._queue(request, {identity_id: "err_too_long"}, 400)
        now, operator = self.console.clock(), operator_name(request)
        done = await self.console.platform.db.write(
            lambda c: ident.decide(c, identity_id, approve, reason, now, operator)
        )
        if done:  # the account's name and type are cached with the tenant: read them afresh
            tenant = await self.console.platform.db.read(lambda c: ident.get(c, identity_id))
            self.console.platform.catalog.forget("tenant", tenant.tenant_id)
        self.console.flash(request, "identity_decided" if done else "identity_gone",
                           "ok" if done else "warn")  # fmt: skip
        return self.console.redirect("/admin/identities")


def routes(console: Console) -> tuple[list[BaseRoute], list[BaseRoute]]:
    """(routes under /console, routes under /admin)."""
    pages = IdentityPages(console)
    post = console.posted
    tenant: list[BaseRoute] = [
        Route("/identity", pages.page, methods=["GET"]),
        Route(
            "/identity",
            post(pages.submit, max_files=1, max_fields=16, too_large=pages.submit_too_large),
            methods=["POST"],
        ),
    ]
    admin: list[BaseRoute] = [
        Route("/identities", pages.queue, methods=["GET"]),
        Route("/identities/{identity_id:id}/document", pages.document, methods=["GET"]),
        Route("/identities/{identity_id:id}/approve", post(pages.approve), methods=["POST"]),
        Route("/identities/{identity_id:id}/reject", post(pages.reject), methods=["POST"]),
    ]
    return tenant, admin
