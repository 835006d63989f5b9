"""The legacy v5 voice commands under ``/v5/tlsvoicesvr/<command>?sdkappid=...&random=...``.

Four ways to place one call to one number (legacy voice API: sendcvoice, sendvoiceprompt,
sendtvoice, sendfvoice; qcloudsms_py ``CodeVoiceSender``, ``PromptVoiceSender``,
``TtsVoiceSender``, ``FileVoiceSender``). Every body carries ``tel`` {``nationcode``,
``mobile``}, ``playtimes`` (at most 3, default 2), ``ext`` (echoed), ``time`` and ``sig``;
the ``sig`` is the SHA-256 of ``appkey=..&random=..&time=..&mobile=<tel.mobile>``, checked
with the application's AppKey by ``routes.handle`` as for SMS. The answer is
``{"result": 0, "errmsg": "OK", "callid": ..., "ext": ...}``.

The calls are accepted by the same voice service as VMS API 3.0 (``services/sending/voice.py``),
so the rules are the same; its VMS error codes become the legacy numbers of
:data:`VOICE_RESULT`. ``uploadvoicefile`` (audio, not JSON) lives in ``voice_files.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from smscloud.api.v5.params import BAD_BODY, Fields, V5Error
from smscloud.api.v5.routes import Body, Command
from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_rules import VoiceKind, check_code
from smscloud.services.metadata.records import AppRec
from smscloud.services.sending.voice import VoiceRequest

if TYPE_CHECKING:
    from smscloud.platform import Platform

__all__ = ["BAD_CODE", "BAD_PARAMETERS", "COMMANDS", "VOICE_RESULT", "voice_result"]

COMMANDS: dict[str, Command] = {}

# Legacy voice result codes beside the SMS ones (Tencent voice messaging: error codes):
# 3001 unknown error, 3002 upstream error, 3003 invalid JSON, 3004 invalid parameters,
# 3011 upstream timeout, 3014 caller number not bought or expired; 1018 is the SMS table's
# "voice verification code format error" (legacy v5 API: error codes, 382/3771).
UNKNOWN_ERROR = 3001
BAD_PARAMETERS = 3004
BAD_CODE = 1018
# The prompt type of sendvoiceprompt: "always 2" (legacy voice API: sendvoiceprompt).
PROMPT_TYPE = 2

# VMS API 3.0 codes (tencentcloud vms v20200902 errorcodes) -> legacy ``result``, paired by
# their descriptions in the two code lists (Tencent publishes no such table).
VOICE_RESULT: dict[str, int] = {
    "Ok": 0,
    "InternalError.SigVerificationFail": 1001,
    "FailedOperation.ContainSensitiveWord": 1002,
    "FailedOperation.FailResolvePacket": 1004,
    "FailedOperation.JsonParseFail": 1004,
    # The voice service folds every "this account may not call there" into VMS's one
    # UnsupportedOperation: an individual, unverified or suspended account, or a country
    # with no voice price. The legacy API's word for the first three is "no permission".
    "UnsupportedOperation": 1006,
    "UnauthorizedOperation.VoiceSdkAppidVerifyFail": 1006,
    "InternalError.RestApiInterfaceNotExist": 1011,
    "LimitExceeded.DeliveryFrequencyLimit": 1013,  # quiet hours included
    "FailedOperation.TemplateIncorrectOrUnapproved": 1014,
    "InvalidParameterValue.CalledNumberVerifyFail": 1016,
    "InvalidParameterValue.ContentLengthLimit": 1017,
    "InvalidParameterValue.SdkAppidNotExist": 1019,
    "UnauthorizedOperation.SdkAppidIsDisabled": 1020,
    "InternalError.RequestTimeException": 1021,
    "FailedOperation.InsufficientBalanceInVoicePackage": 1031,
    "UnauthorizedOperation.ServiceSuspendDueToArrears": 1033,
    "FailedOperation.ParametersOtherError": UNKNOWN_ERROR,
    "InternalError.UpstreamError": 3002,
    "InternalError.SsoSendRecvFail": 3002,
    "FailedOperation.InvalidJsonParameters": 3003,
    "FailedOperation.InvalidParameters": BAD_PARAMETERS,
    "FailedOperation.AccessUpstreamTimeout": 3011,
    "InternalError.AccessUpstreamTimeout": 3011,
    "FailedOperation.PhonenumberUnappliedOrExpired": 3014,
}


def voice_result(code: str) -> int:
    """The legacy ``result`` for a VMS code; 3001 (unknown error) when there is none."""
    return VOICE_RESULT.get(code, UNKNOWN_ERROR)


def _command(*names: str) -> Callable[[Command], Command]:
    def register(fn: Command) -> Command:
        for name in names:
            COMMANDS[name] = fn
        return fn

    return register


@contextlib.contextmanager
def _parameters() -> Iterator[None]:
    """A field of the wrong type or missing, read by :class:`Fields` (1004 for SMS), is the
    voice API's "invalid parameters" (3004)."""
    try:
        yield
    except V5Error as exc:
        if exc.result != BAD_BODY:
            raise
        raise V5Error(BAD_PARAMETERS, exc.errmsg) from None


def _play_times(body: Fields) -> int | None:
    """``playtimes``: absent means the default (2); the service holds it to 1 to 3."""
    return body.integer("playtimes") if body.data.get("playtimes") is not None else None


def _phone(body: Fields) -> str:
    """``+<nationcode><mobile>`` of the ``tel`` object (nation code 86 when absent)."""
    tel = body.object("tel")
    return f"+{tel.text('nationcode', '86')}{tel.text('mobile', required=True)}"


async def _call(
    platform: Platform,
    app: AppRec,
    body: Fields,
    kind: VoiceKind,
    *,
    code: str = "",
    template_id: str = "",
    params: Sequence[str] = (),
    prompt: str = "",
    fid: str = "",
) -> Body:
    """Read the fields every command shares, accept the call, answer its ``callid``."""
    with _parameters():
        phone, play_times, ext = _phone(body), _play_times(body), body.text("ext")
    req = VoiceRequest(
        tenant_id=app.tenant_id,
        sdk_app_id=app.sdk_app_id,
        phone=phone,
        kind=kind,
        code=code,
        template_id=template_id,
        params=params,
        prompt=prompt,
        fid=fid,
        play_times=play_times,
        session_context=ext,
        source="v5",
        letters=kind is VoiceKind.CODE,  # sendcvoice reads letters too
    )
    try:
        accepted = await platform.voice.send(req)
    except RuleViolation as exc:
        raise V5Error(voice_result(exc.code), exc.message) from None
    return {"callid": accepted.call_id, "ext": accepted.session_context}


@_command("sendcvoice", "sendvoice")
async def sendcvoice(platform: Platform, app: AppRec, body: Fields) -> Body:
    """A verification code read aloud: ``msg`` is digits or letters (the call says "your
    verification code is" first). Legacy voice API: sendcvoice (its older name sendvoice)."""
    with _parameters():
        code = body.text("msg")
    try:
        check_code(code, letters=True)
    except RuleViolation as exc:  # 1018: voice verification code format error
        raise V5Error(BAD_CODE, exc.message) from None
    return await _call(platform, app, body, VoiceKind.CODE, code=code)


@_command("sendvoiceprompt")
async def sendvoiceprompt(platform: Platform, app: AppRec, body: Fields) -> Body:
    """A notification from text: ``promptfile`` (at most 100 characters) must match an
    approved voice template, ``prompttype`` is always 2. Legacy voice API: sendvoiceprompt."""
    with _parameters():
        prompt_type = body.integer("prompttype", PROMPT_TYPE)
        prompt = body.text("promptfile", required=True)
    if prompt_type != PROMPT_TYPE:
        raise V5Error(BAD_PARAMETERS, f"prompttype must be {PROMPT_TYPE}")
    return await _call(platform, app, body, VoiceKind.PROMPT, prompt=prompt)


@_command("sendtvoice")
async def sendtvoice(platform: Platform, app: AppRec, body: Fields) -> Body:
    """A notification from an approved voice template: ``tpl_id`` (a number) and ``params``
    (an array, empty when the template has no variable). Legacy voice API: sendtvoice."""
    with _parameters():
        template_id, params = body.text("tpl_id", required=True), body.texts("params")
    return await _call(
        platform, app, body, VoiceKind.TEMPLATE, template_id=template_id, params=params
    )


@_command("sendfvoice")
async def sendfvoice(platform: Platform, app: AppRec, body: Fields) -> Body:
    """An approved uploaded recording played: ``fid`` as uploadvoicefile returned it. Legacy
    voice API: sendfvoice."""
    with _parameters():
        fid = body.text("fid", required=True)
    return await _call(platform, app, body, VoiceKind.FILE, fid=fid)
