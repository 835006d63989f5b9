"""The bodies of voice callbacks, in Tencent's formats (Tencent voice messaging: callback API;
the legacy v5 and VMS 2020-09-02 push the same bodies).

Each body is one JSON object with one wrapper key. Every value is a string except
``failure_code``; times are Unix seconds as strings. A verification-code call reports under
``voicecode_callback``, every other call under ``voiceprompt_callback``; a call that failed is
followed by a ``voice_failure_callback`` with the reason; each key pressed during a call makes
a ``voicekey_callback``.
"""

from __future__ import annotations

from typing import Any

from smscloud.domain.voice_failures import FAILURES, OTHER, SYSTEM_BUSY
from smscloud.domain.voice_rules import VoiceKind

__all__ = ["failure_body", "key_body", "status_body"]

ANSWERED, NOT_ANSWERED, CALL_ERROR = "0", "1", "2"  # ``result`` of a status callback
# The platform's own faults (the call never reached the phone, or we lost it): "call error".
_OUR_FAULTS = frozenset({SYSTEM_BUSY.code, OTHER.code})


def _mobile(phone: str, nation_code: str) -> str:
    """The national number of an E.164 ``phone``."""
    return phone[len(nation_code) + 1 :] if nation_code else phone.lstrip("+")


def _seconds(at: float | None) -> str:
    return str(int(at)) if at else "0"


def status_body(call: Any, caller: str = "") -> dict[str, Any]:
    """``voicecode_callback`` or ``voiceprompt_callback`` for an ended or failed call.

    ``call`` is a ``voice_calls`` row. ``start_calltime`` is when it was dialled (or, never
    dialled, accepted), ``accept_time`` when it was answered ("0" if never), ``fee`` the
    minutes billed.
    """
    if call.answered_at is not None:
        result = ANSWERED
    elif call.failure_code in _OUR_FAULTS:
        result = CALL_ERROR
    else:
        result = NOT_ANSWERED
    wrapper = "voicecode_callback" if call.kind == VoiceKind.CODE else "voiceprompt_callback"
    return {
        wrapper: {
            "result": result,
            "accept_time": _seconds(call.answered_at),
            "call_from": caller,
            "callid": call.call_id,
            "end_calltime": _seconds(call.ended_at),
            "fee": str(call.fee_minutes),
            "mobile": _mobile(call.phone, call.nation_code),
            "nationcode": call.nation_code,
            "start_calltime": _seconds(call.dialled_at or call.created_at),
        }
    }


def failure_body(call: Any, caller: str = "") -> dict[str, Any]:
    """``voice_failure_callback``: why a call failed, code and Chinese reason as Tencent's."""
    failure = FAILURES.get(call.failure_code, OTHER)
    return {
        "voice_failure_callback": {
            "call_from": caller,
            "callid": call.call_id,
            "failure_code": failure.code,
            "failure_reason": failure.reason,
            "mobile": _mobile(call.phone, call.nation_code),
            "nationcode": call.nation_code,
        }
    }


def key_body(call: Any, key: str, caller: str = "") -> dict[str, Any]:
    """``voicekey_callback``: one key the callee pressed."""
    return {
        "voicekey_callback": {
            "call_from": caller,
            "callid": call.call_id,
            "keypress": key,
            "mobile": _mobile(call.phone, call.nation_code),
            "nationcode": call.nation_code,
        }
    }
