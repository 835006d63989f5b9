"""Legacy v5 signature and template management, over the same registry as API 3.0.

Legacy v5 API: add_sign, mod_sign, del_sign, get_sign and add/mod/del/get_template.

These answers carry ``msg`` (the docs' name) and ``errmsg`` (what clients were seen to read).
Template ``type``: 0 ordinary (notification), 1 marketing, 2 verification code.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from smscloud.api.v5.routes import Body, Fields, V5Error, command
from smscloud.services.metadata.records import AppRec
from smscloud.services.registry import (
    RegisteredSign,
    RegisteredTemplate,
    SignApplication,
    TemplateApplication,
)

if TYPE_CHECKING:
    from smscloud.platform import Platform

V5_TO_SMS_TYPE = {0: 2, 1: 1, 2: 3}
SMS_TO_V5_TYPE = {v: k for k, v in V5_TO_SMS_TYPE.items()}
V5_STATUS = {0: 0, 1: 1, -1: 2}  # approved, pending, rejected


def _ok(extra: Body | None = None) -> Body:
    return {"msg": "OK"} | (extra or {})


def _clock(platform: Platform, ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, platform.settings.tz).strftime("%Y-%m-%d %H:%M:%S")


def _template(body: Fields) -> TemplateApplication:
    kind = body.integer("type", 0)
    if kind not in V5_TO_SMS_TYPE:
        raise V5Error(1004, "type must be 0, 1 or 2")
    return TemplateApplication(
        name=body.text("title") or "template",
        content=body.text("text"),
        sms_type=V5_TO_SMS_TYPE[kind],
        international=body.integer("international", 0),
        remark=body.text("remark"),
    )


def _template_item(platform: Platform, r: RegisteredTemplate) -> Body:
    return {
        "id": r.id,
        "status": V5_STATUS.get(r.status, 1),
        "reply": r.review_reply,
        "text": r.content,
        "type": SMS_TO_V5_TYPE.get(r.sms_type, 0),
        "international": r.international,
        "title": r.name,
        "apply_time": _clock(platform, r.created_at),
        "reply_time": _clock(platform, r.reviewed_at),
    }


@command("add_template")
async def add_template(platform: Platform, app: AppRec, body: Fields) -> Body:
    tid = await platform.registry.add_template(app.tenant_id, _template(body))
    rows = await platform.registry.describe_templates(app.tenant_id, international=None, ids=[tid])
    return _ok({"data": _template_item(platform, rows[0])})


@command("mod_template")
async def mod_template(platform: Platform, app: AppRec, body: Fields) -> Body:
    tid = body.first_id("tpl_id")
    await platform.registry.modify_template(app.tenant_id, tid, _template(body))
    rows = await platform.registry.describe_templates(app.tenant_id, international=None, ids=[tid])
    return _ok({"data": _template_item(platform, rows[0])})


@command("del_template")
async def del_template(platform: Platform, app: AppRec, body: Fields) -> Body:
    for tid in body.ids("tpl_id"):
        await platform.registry.delete_template(app.tenant_id, tid)
    return _ok()


@command("get_template")
async def get_template(platform: Platform, app: AppRec, body: Fields) -> Body:
    if body.has("tpl_id"):
        rows = await platform.registry.describe_templates(
            app.tenant_id, international=None, ids=body.ids("tpl_id")
        )
        total = len(rows)
    else:
        page = body.object("tpl_page", optional=True)
        limit, offset = page.integer("max", 50), page.integer("offset", 0)
        if not 0 < limit <= 50:
            raise V5Error(1004, "tpl_page.max must be 1 to 50")
        everything = await platform.registry.describe_templates(
            app.tenant_id, international=None, limit=100, offset=0
        )
        total, rows = len(everything), everything[offset : offset + limit]
    data = [_template_item(platform, r) for r in rows]
    return _ok({"total": total, "count": len(data), "data": data})


def _sign(body: Fields) -> SignApplication:
    # v5 knows no sign or document types: a company signature with a business licence.
    return SignApplication(
        name=body.text("text"),
        sign_type=0,
        document_type=1,
        international=body.integer("international", 0),
        purpose=0,
        proof_image=body.text("pic"),
        remark=body.text("remark"),
    )


def _sign_item(platform: Platform, r: RegisteredSign) -> Body:
    return {
        "id": r.id,
        "status": V5_STATUS.get(r.status, 1),
        "reply": r.review_reply,
        "text": r.name,
        "international": r.international,
        "apply_time": _clock(platform, r.created_at),
        "reply_time": _clock(platform, r.reviewed_at),
    }


@command("add_sign")
async def add_sign(platform: Platform, app: AppRec, body: Fields) -> Body:
    sid = await platform.registry.add_sign(app.tenant_id, _sign(body))
    rows = await platform.registry.describe_signs(app.tenant_id, international=None, ids=[sid])
    item = _sign_item(platform, rows[0])
    return _ok({"data": {k: item[k] for k in ("id", "international", "status", "text")}})


@command("mod_sign")
async def mod_sign(platform: Platform, app: AppRec, body: Fields) -> Body:
    sid = body.first_id("sign_id")
    await platform.registry.modify_sign(app.tenant_id, sid, _sign(body))
    rows = await platform.registry.describe_signs(app.tenant_id, international=None, ids=[sid])
    item = _sign_item(platform, rows[0])
    return _ok({"data": {k: item[k] for k in ("id", "international", "status", "text")}})


@command("del_sign")
async def del_sign(platform: Platform, app: AppRec, body: Fields) -> Body:
    for sid in body.ids("sign_id"):
        await platform.registry.delete_sign(app.tenant_id, sid)
    return _ok()


@command("get_sign")
async def get_sign(platform: Platform, app: AppRec, body: Fields) -> Body:
    rows = await platform.registry.describe_signs(
        app.tenant_id, international=None, ids=body.ids("sign_id")
    )
    data = [_sign_item(platform, r) for r in rows]
    return _ok({"count": len(data), "data": data})
