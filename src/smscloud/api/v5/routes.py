"""The legacy v5 SMS API under ``/v5/tlssmssvr/<command>?sdkappid=...&random=...``.

Applications authenticate with their AppKey: ``sig`` is the SHA-256 of
``appkey=..&random=..&time=..[&mobile=..]`` (no HMAC). Answers are always HTTP 200 JSON with a
numeric ``result`` (0 = success) and ``errmsg``; API 3.0 codes map to the legacy numbers
(legacy v5 API: error codes, cloud.tencent.com/document/product/382/3771). The commands reuse
the same services as API 3.0, so the rules are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

from smscloud.api.v5 import shapes
from smscloud.api.v5.codes import OTHER_ERROR, legacy_result
from smscloud.api.v5.params import BAD_BODY, Fields, V5Error
from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import match_rendered
from smscloud.protocols.auth.v5 import verify_v5
from smscloud.services.metadata.records import AppRec
from smscloud.services.registry import (
    approved_templates,
    default_sign,
)
from smscloud.services.sending.accept import Candidate
from smscloud.services.sending.sms import SendRequest

if TYPE_CHECKING:
    from smscloud.platform import Platform

log = logging.getLogger(__name__)
MAX_SKEW = 600  # legacy v5 API, every command's ``time``: more than 10 minutes off -> 1021
Body = dict[str, Any]
Command = Callable[["Platform", AppRec, Fields], Awaitable[Body]]
COMMANDS: dict[str, Command] = {}
# Commands whose ``sig`` covers the one ``tel.mobile`` (legacy v5 API: sendsms; legacy voice:
# sendcvoice, its older name sendvoice, sendvoiceprompt, sendtvoice, sendfvoice).
SIGNS_ONE_MOBILE = frozenset(
    {"sendsms", "sendcvoice", "sendvoice", "sendvoiceprompt", "sendtvoice", "sendfvoice"}
)
__all__ = ["COMMANDS", "Body", "Command", "Fields", "V5Error", "command", "handle"]


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


def _sig_subject(name: str, body: Body) -> dict[str, Any]:
    """What goes into the ``sig`` besides appkey/random/time, per command.

    Each command's page gives it (legacy v5 API: sendsms, sendisms, pullstatus...).
    """
    tel = body.get("tel")
    if name == "sendisms":
        return {"tel": str(tel or "")}
    if name in SIGNS_ONE_MOBILE and isinstance(tel, dict):
        return {"mobiles": [str(tel.get("mobile", ""))]}
    if name == "sendmultisms2" and isinstance(tel, list):
        return {"mobiles": [str(t.get("mobile", "")) for t in tel if isinstance(t, dict)]}
    return {}


async def handle(
    platform: Platform,
    name: str,
    query: dict[str, str],
    raw: bytes,
    commands: Mapping[str, Command] = COMMANDS,
) -> Body:
    """Authenticate and run one command of ``commands`` (SMS's by default; the voice ones are
    ``api.v5.voice.COMMANDS``); always returns the JSON body to send."""
    try:
        return await _handle(platform, name, Fields(query), raw, commands)
    except RuleViolation as exc:
        return {"result": legacy_result(exc.code), "errmsg": exc.message}
    except V5Error as exc:
        return {"result": exc.result, "errmsg": exc.errmsg}
    except Exception:  # a bug: no request can cause one, so say so and keep the details
        log.exception("v5 command %s failed", name[:64])
        return {"result": OTHER_ERROR, "errmsg": "internal error"}


async def _handle(
    platform: Platform, name: str, query: Fields, raw: bytes, commands: Mapping[str, Command]
) -> Body:
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise V5Error(BAD_BODY, "request body could not be parsed") from None
    if not isinstance(body, dict):
        raise V5Error(BAD_BODY, "request body must be a JSON object")
    app = await platform.catalog.app(query.text("sdkappid"))
    if app is None:
        raise V5Error(1019, "sdkappid does not exist")
    if not app.active:
        raise V5Error(1020, "sdkappid is disabled")
    stamp = body.get("time")
    # The caller's clock against the machine's, not the platform's: a request's age is a fact
    # of the outside world.
    if (
        isinstance(stamp, bool)
        or not isinstance(stamp, int)
        or not abs(system_clock() - stamp) <= MAX_SKEW
    ):
        raise V5Error(1021, "request time is more than 10 minutes off")
    sig = body.get("sig")
    if not isinstance(sig, str) or not sig:
        raise V5Error(1003, "sig is missing")
    random = query.text("random")
    if not verify_v5(sig, app.app_key, random, stamp, **_sig_subject(name, body)):
        raise V5Error(1001, "sig verification failed")
    handler = commands.get(name)
    if handler is None:
        raise V5Error(1011, f"REST interface {name} does not exist")
    return {"result": 0, "errmsg": "OK"} | await handler(platform, app, Fields(body))


# -- sending ---------------------------------------------------------------------------------
async def _resolve(
    platform: Platform, app: AppRec, body: Fields, intl: bool
) -> tuple[str, str, list[str]]:
    """(template id, sign, params) from template mode, or from content mode's final text."""
    sign = body.text("sign")
    if body.has("tpl_id"):
        template_id = body.text("tpl_id")
        params = body.texts("params")
        if not sign:
            sign = await default_sign(platform.db, app.tenant_id, int(intl))
        return template_id, sign, params
    msg = body.text("msg")
    if not msg:
        raise V5Error(BAD_BODY, "either tpl_id or msg is required")
    text = msg
    if msg.startswith("【") and "】" in msg:  # content mode names its signature in the text
        sign, text = msg[1 : msg.index("】")], msg[msg.index("】") + 1 :]
    elif not sign:
        sign = await default_sign(platform.db, app.tenant_id, int(intl))
    for tid, content, international in await approved_templates(platform.db, app.tenant_id):
        found = match_rendered(text, content) if international == int(intl) else None
        if found is not None:
            return str(tid), sign, found
    raise V5Error(1014, "the content does not match any approved template")


def _outcome(c: Candidate, ext: str) -> Body:
    return {
        "result": legacy_result(c.code),
        "errmsg": "OK" if c.code == "Ok" else c.message,
        "ext": ext,
        "sid": c.serial_no,
        "fee": c.fee,
    }


async def _send(
    platform: Platform, app: AppRec, phones: list[str], body: Fields
) -> list[Candidate]:
    intl = bool(phones) and not phones[0].startswith("+86")
    session_context, extend_code = body.text("ext"), body.text("extend")
    tpl, sign, params = await _resolve(platform, app, body, intl)
    req = SendRequest(
        tenant_id=app.tenant_id,
        sdk_app_id=app.sdk_app_id,
        phones=phones,
        template_id=tpl,
        sign_name=sign,
        params=params,
        session_context=session_context,
        extend_code=extend_code,
    )
    return (await platform.sender.send(req))[1]


def _number(tel: Fields) -> str:
    """``+<nationcode><mobile>`` of a ``tel`` object (legacy v5 API: sendsms)."""
    return f"+{tel.text('nationcode', '86')}{tel.text('mobile', required=True)}"


@command("sendsms")
async def sendsms(platform: Platform, app: AppRec, body: Fields) -> Body:
    out = (await _send(platform, app, [_number(body.object("tel"))], body))[0]
    return _outcome(out, body.text("ext"))


@command("sendisms")
async def sendisms(platform: Platform, app: AppRec, body: Fields) -> Body:
    out = (await _send(platform, app, [body.text("tel")], body))[0]
    return _outcome(out, body.text("ext")) | {"nationcode": out.nation_code}


@command("sendmultisms2")
async def sendmultisms2(platform: Platform, app: AppRec, body: Fields) -> Body:
    tels = body.objects("tel")
    outs = await _send(platform, app, [_number(t) for t in tels], body)
    detail = [
        {
            "result": legacy_result(c.code),
            "errmsg": "OK" if c.code == "Ok" else c.message,
            "mobile": t.text("mobile"),
            "nationcode": t.text("nationcode", "86"),
            "sid": c.serial_no,
            "fee": c.fee,
        }
        for t, c in zip(tels, outs, strict=True)
    ]
    return {"ext": body.text("ext"), "detail": detail}


# -- reports ---------------------------------------------------------------------------------
@command("pullstatus")
async def pullstatus(platform: Platform, app: AppRec, body: Fields) -> Body:
    kind, limit = body.integer("type", 0), body.integer("max", 100)
    tz = platform.settings.tz
    if kind == 0:
        items = await platform.reports.pull_status(app.id, limit)
        data = [shapes.status_report(i, tz) for i in items]
    else:
        data = [shapes.reply(i) for i in await platform.reports.pull_replies(app.id, limit)]
    return {"count": len(data), "data": data}


@command("pullstatus4mobile")
async def pullstatus4mobile(platform: Platform, app: AppRec, body: Fields) -> Body:
    kind, limit = body.integer("type", 0), body.integer("max", 100)
    phone = f"+{body.text('nationcode', '86')}{body.text('mobile')}"
    begin, end = body.integer("begin_time"), body.integer("end_time")
    if kind == 0:
        items = await platform.reports.status_by_phone(app.id, phone, begin, end, limit, 0)
        data = [shapes.status_report(i, platform.settings.tz) for i in items]
    else:
        found = await platform.reports.replies_by_phone(app.id, phone, begin, end, limit, 0)
        data = [shapes.reply(i) for i in found]
    return {"count": len(data), "data": data}


@command("pullsendstatus")
async def pullsendstatus(platform: Platform, app: AppRec, body: Fields) -> Body:
    begin, end = str(body.integer("begin_date")), str(body.integer("end_date"))
    st = await platform.statistics.send_statistics(app.id, begin, end)
    return {"data": shapes.send_counts(st)}


@command("pullcallbackstatus")
async def pullcallbackstatus(platform: Platform, app: AppRec, body: Fields) -> Body:
    begin, end = str(body.integer("begin_date")), str(body.integer("end_date"))
    st = await platform.statistics.callback_statistics(app.id, begin, end)
    return {"data": shapes.callback_counts(st)}
