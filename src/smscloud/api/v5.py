"""The legacy v5 SMS API under ``/v5/tlssmssvr/<command>?sdkappid=...&random=...`` (§5).

Applications authenticate with their AppKey: ``sig`` is the SHA-256 of
``appkey=..&random=..&time=..[&mobile=..]`` (no HMAC). Answers are always HTTP 200 JSON with a
numeric ``result`` (0 = success) and ``errmsg``; API 3.0 codes map to the legacy numbers of
§5.6. The commands reuse the same services as API 3.0, so the rules are the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson

from smscloud.api.legacy_codes import legacy_result
from smscloud.clock import system_clock
from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import match_rendered
from smscloud.protocols.v5sig import verify_v5
from smscloud.services.accept import Candidate
from smscloud.services.records import AppRec
from smscloud.services.registry import (
    approved_templates,
    default_sign,
)
from smscloud.services.reports import push_reply_item, push_status_item
from smscloud.services.sending import SendRequest

if TYPE_CHECKING:
    from smscloud.platform import Platform

MAX_SKEW = 600  # §5.1: more than 10 minutes off -> 1021
Body = dict[str, Any]
Command = Callable[["Platform", AppRec, Body], Awaitable[Body]]
COMMANDS: dict[str, Command] = {}


class V5Error(Exception):
    def __init__(self, result: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.result = result
        self.errmsg = errmsg


def command(name: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        COMMANDS[name] = fn
        return fn

    return register


def _sig_subject(name: str, body: Body) -> dict[str, Any]:
    """What goes into the ``sig`` besides appkey/random/time, per command (§5.1)."""
    tel = body.get("tel")
    if name == "sendisms":
        return {"tel": str(tel or "")}
    if name == "sendsms" and isinstance(tel, dict):
        return {"mobiles": [str(tel.get("mobile", ""))]}
    if name == "sendmultisms2" and isinstance(tel, list):
        return {"mobiles": [str(t.get("mobile", "")) for t in tel if isinstance(t, dict)]}
    return {}


async def handle(platform: Platform, name: str, query: dict[str, str], raw: bytes) -> Body:
    """Authenticate and run one command; always returns the JSON body to send."""
    try:
        try:
            body = orjson.loads(raw) if raw.strip() else {}
        except orjson.JSONDecodeError:
            raise V5Error(1004, "request body could not be parsed") from None
        if not isinstance(body, dict):
            raise V5Error(1004, "request body must be a JSON object")
        app = await platform.catalog.app(query.get("sdkappid", ""))
        if app is None:
            raise V5Error(1019, "sdkappid does not exist")
        if not app.active:
            raise V5Error(1020, "sdkappid is disabled")
        stamp = body.get("time")
        # The caller's clock against the machine's, not the platform's: a request's age is
        # a fact of the outside world.
        if not isinstance(stamp, int) or abs(system_clock() - stamp) > MAX_SKEW:
            raise V5Error(1021, "request time is more than 10 minutes off")
        sig = body.get("sig")
        if not isinstance(sig, str) or not sig:
            raise V5Error(1003, "sig is missing")
        random = query.get("random", "")
        if not verify_v5(sig, app.app_key, random, stamp, **_sig_subject(name, body)):
            raise V5Error(1001, "sig verification failed")
        handler = COMMANDS.get(name)
        if handler is None:
            raise V5Error(1011, f"REST interface {name} does not exist")
        return {"result": 0, "errmsg": "OK"} | await handler(platform, app, body)
    except RuleViolation as exc:
        return {"result": legacy_result(exc.code), "errmsg": exc.message}
    except V5Error as exc:
        return {"result": exc.result, "errmsg": exc.errmsg}


# -- sending ---------------------------------------------------------------------------------
def _strs(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise V5Error(1004, "params must be an array")
    return [str(v) for v in value]


async def _resolve(
    platform: Platform, app: AppRec, body: Body, intl: bool
) -> tuple[str, str, list[str]]:
    """(template id, sign, params) from template mode, or from content mode's final text."""
    sign = str(body.get("sign") or "")
    if "tpl_id" in body:
        if not sign:
            sign = await default_sign(platform.db, app.tenant_id, int(intl))
        return str(body["tpl_id"]), sign, _strs(body.get("params"))
    msg = str(body.get("msg") or "")
    if not msg:
        raise V5Error(1004, "either tpl_id or msg is required")
    text = msg
    if msg.startswith("【") and "】" in msg:  # content mode names its signature in the text
        sign, text = msg[1 : msg.index("】")], msg[msg.index("】") + 1 :]
    elif not sign:
        sign = await default_sign(platform.db, app.tenant_id, int(intl))
    for tid, content, international in await approved_templates(platform.db, app.tenant_id):
        params = match_rendered(text, content) if international == int(intl) else None
        if params is not None:
            return str(tid), sign, params
    raise V5Error(1014, "the content does not match any approved template")


def _outcome(c: Candidate, ext: str) -> Body:
    return {
        "result": legacy_result(c.code),
        "errmsg": "OK" if c.code == "Ok" else c.message,
        "ext": ext,
        "sid": c.serial_no,
        "fee": c.fee,
    }


async def _send(platform: Platform, app: AppRec, phones: list[str], body: Body) -> list[Candidate]:
    intl = bool(phones) and not phones[0].startswith("+86")
    tpl, sign, params = await _resolve(platform, app, body, intl)
    req = SendRequest(
        tenant_id=app.tenant_id,
        sdk_app_id=app.sdk_app_id,
        phones=phones,
        template_id=tpl,
        sign_name=sign,
        params=params,
        session_context=str(body.get("ext") or ""),
        extend_code=str(body.get("extend") or ""),
    )
    return (await platform.sender.send(req))[1]


def _number(tel: Any) -> str:
    if not isinstance(tel, dict) or "mobile" not in tel:
        raise V5Error(1004, "tel must be {nationcode, mobile}")
    return f"+{tel.get('nationcode', '86')}{tel['mobile']}"


@command("sendsms")
async def sendsms(platform: Platform, app: AppRec, body: Body) -> Body:
    out = (await _send(platform, app, [_number(body.get("tel"))], body))[0]
    return _outcome(out, str(body.get("ext") or ""))


@command("sendisms")
async def sendisms(platform: Platform, app: AppRec, body: Body) -> Body:
    out = (await _send(platform, app, [str(body.get("tel") or "")], body))[0]
    return _outcome(out, str(body.get("ext") or "")) | {"nationcode": out.nation_code}


@command("sendmultisms2")
async def sendmultisms2(platform: Platform, app: AppRec, body: Body) -> Body:
    tels = body.get("tel")
    if not isinstance(tels, list):
        raise V5Error(1004, "tel must be an array")
    outs = await _send(platform, app, [_number(t) for t in tels], body)
    detail = [
        {
            "result": legacy_result(c.code),
            "errmsg": "OK" if c.code == "Ok" else c.message,
            "mobile": str(t.get("mobile", "")),
            "nationcode": str(t.get("nationcode", "86")),
            "sid": c.serial_no,
            "fee": c.fee,
        }
        for t, c in zip(tels, outs, strict=True)
    ]
    return {"ext": str(body.get("ext") or ""), "detail": detail}


# -- reports ---------------------------------------------------------------------------------
def _int(body: Body, name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise V5Error(1004, f"{name} must be an integer")
    return value


@command("pullstatus")
async def pullstatus(platform: Platform, app: AppRec, body: Body) -> Body:
    kind, limit = _int(body, "type", 0), _int(body, "max", 100)
    tz = platform.settings.tz
    if kind == 0:
        items = await platform.reports.pull_status(app.id, limit)
        data = [push_status_item(i, tz) for i in items]
    else:
        data = [push_reply_item(i) for i in await platform.reports.pull_replies(app.id, limit)]
    return {"count": len(data), "data": data}


@command("pullstatus4mobile")
async def pullstatus4mobile(platform: Platform, app: AppRec, body: Body) -> Body:
    kind, limit = _int(body, "type", 0), _int(body, "max", 100)
    phone = f"+{body.get('nationcode', '86')}{body.get('mobile', '')}"
    begin, end = _int(body, "begin_time"), _int(body, "end_time")
    if kind == 0:
        items = await platform.reports.status_by_phone(app.id, phone, begin, end, limit, 0)
        data = [push_status_item(i, platform.settings.tz) for i in items]
    else:
        found = await platform.reports.replies_by_phone(app.id, phone, begin, end, limit, 0)
        data = [push_reply_item(i) for i in found]
    return {"count": len(data), "data": data}


@command("pullsendstatus")
async def pullsendstatus(platform: Platform, app: AppRec, body: Body) -> Body:
    begin, end = str(_int(body, "begin_date")), str(_int(body, "end_date"))
    st = await platform.statistics.send_statistics(app.id, begin, end)
    return {
        "data": {
            "bill_number": st["FeeCount"],
            "request": st["RequestCount"],
            "success": st["RequestSuccessCount"],
        }
    }


@command("pullcallbackstatus")
async def pullcallbackstatus(platform: Platform, app: AppRec, body: Body) -> Body:
    begin, end = str(_int(body, "begin_date")), str(_int(body, "end_date"))
    st = await platform.statistics.callback_statistics(app.id, begin, end)
    return {
        "data": {
            "success": st["RequestSuccessCount"],
            "status": st["CallbackCount"],
            "status_success": st["CallbackSuccessCount"],
            "status_fail": st["CallbackFailCount"],
            "status_fail_0": st["InternalErrorCount"],
            "status_fail_1": st["InvalidNumberCount"],
            "status_fail_2": st["ShutdownErrorCount"],
            "status_fail_3": st["BlackListCount"],
            "status_fail_4": st["FrequencyLimitCount"],
        }
    }
