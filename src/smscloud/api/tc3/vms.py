"""The ``vms`` service, version 2020-09-02: Tencent Voice Messaging Service API 3.0.

Two actions exist (tencentcloud-sdk-python-vms ``v20200902``; Tencent VMS API documents
``SendCodeVoice`` and ``SendTtsVoice``, cloud.tencent.com/document/product/1128/51558): a
verification code read aloud, or an approved voice template played with its parameters. Both
place one call to one number and answer ``SendStatus`` {``CallId``, ``SessionContext``}.

Parameters are read through :class:`Params`, so a missing one is ``MissingParameter`` and a
wrongly typed one ``InvalidParameter`` (Tencent Cloud API 3.0: common error codes). What a
well-typed value may hold (digits of the code, PlayTimes 1 to 3, the template, the number) is
the voice service's rule, refused with the VMS codes (``services/sending/voice.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from smscloud.api.tc3.params import Params
from smscloud.domain.voice_rules import VoiceKind
from smscloud.services.sending.voice import VoiceAccepted, VoiceRequest

if TYPE_CHECKING:
    from smscloud.platform import Platform

__all__ = ["ACTIONS", "VERSION", "Handler"]

VERSION = "2020-09-02"
Handler = Callable[["Platform", int, Params, str], Awaitable[dict[str, Any]]]
ACTIONS: dict[str, Handler] = {}


def _action(fn: Handler) -> Handler:
    ACTIONS[fn.__name__] = fn
    return fn


def _play_times(a: Params) -> int | None:
    """PlayTimes: ``Integer(uint64)``, optional. Any uint64 is read here; the service holds
    it to "at most 3" (and at least 1), with VMS's FailedOperation.InvalidParameters."""
    return a.integer("PlayTimes") if a.has("PlayTimes") else None


def _send_status(accepted: VoiceAccepted) -> dict[str, Any]:
    """The response of both actions: ``SendStatus`` {CallId, SessionContext}."""
    return {"SendStatus": {"CallId": accepted.call_id, "SessionContext": accepted.session_context}}


@_action
async def SendCodeVoice(  # noqa: N802 (the action's name)
    p: Platform, tenant_id: int, a: Params, request_id: str
) -> dict[str, Any]:
    """A verification code read aloud. VMS SendCodeVoice: CodeMessage (digits only; the call
    says "your verification code is" first), CalledNumber (E.164), VoiceSdkAppid (note the
    lower-case "d"), PlayTimes (at most 3, default 2), SessionContext (echoed)."""
    req = VoiceRequest(
        tenant_id=tenant_id,
        sdk_app_id=a.text("VoiceSdkAppid", required=True),
        phone=a.text("CalledNumber", required=True),
        kind=VoiceKind.CODE,
        code=a.text("CodeMessage", required=True),
        play_times=_play_times(a),
        session_context=a.text("SessionContext"),
        source="vms",
    )
    return _send_status(await p.voice.send(req, request_id))


@_action
async def SendTtsVoice(  # noqa: N802 (the action's name)
    p: Platform, tenant_id: int, a: Params, request_id: str
) -> dict[str, Any]:
    """An approved voice template played with its parameters. VMS SendTtsVoice: TemplateId
    (a String), CalledNumber, VoiceSdkAppid, TemplateParamSet (Array of String; absent or empty
    when the template has no variable), PlayTimes, SessionContext."""
    req = VoiceRequest(
        tenant_id=tenant_id,
        sdk_app_id=a.text("VoiceSdkAppid", required=True),
        phone=a.text("CalledNumber", required=True),
        kind=VoiceKind.TEMPLATE,
        template_id=a.text("TemplateId", required=True),
        params=a.texts("TemplateParamSet"),
        play_times=_play_times(a),
        session_context=a.text("SessionContext"),
        source="vms",
    )
    return _send_status(await p.voice.send(req, request_id))
