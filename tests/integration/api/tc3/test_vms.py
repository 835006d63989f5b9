"""VMS API 3.0 (SendCodeVoice, SendTtsVoice) through the official Tencent VMS SDK, against a
live server on SQLite and PostgreSQL.

The server runs the API alone (no delivery loops), so an accepted call stays as ACCEPT left
it, and on a manual clock set to a weekday morning in Shanghai: quiet hours (22:00-08:00)
refuse verification-code calls, and the frequency limits count seconds of the platform's time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Row, select
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vms.v20200902 import models, vms_client

from smscloud.domain.voice_templates import render_voice
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, ManualClock
from tests.support.live import LiveServer, Tenant
from tests.support.voice import (
    MAINLAND_PRICE,
    NOTICE,
    PENDING,
    VoiceTenant,
    voice_template,
    voice_tenant,
)

PHONE = "+8613800138000"


@dataclass
class Voice:
    live: LiveServer
    clock: ManualClock
    v: VoiceTenant


@pytest.fixture
def voice(tmp_path: Path, database_url: str) -> Iterator[Voice]:
    clock = ManualClock(DAYTIME)
    settings = make_settings(tmp_path, database_url)
    with LiveServer(settings, clock=clock, deliver=False) as live:
        yield Voice(live, clock, voice_tenant(live))


def client(live: LiveServer, t: Tenant, *, method: str = "POST") -> vms_client.VmsClient:
    http = HttpProfile(endpoint=live.endpoint, protocol="http", reqMethod=method)
    return vms_client.VmsClient(
        credential.Credential(t.secret_id, t.secret_key),
        "ap-guangzhou",
        ClientProfile(httpProfile=http),
    )


def code_voice(
    live: LiveServer, t: Tenant, *, method: str = "POST", **fields: Any
) -> models.SendCodeVoiceResponse:
    body = {"CodeMessage": "8253", "CalledNumber": PHONE, "VoiceSdkAppid": t.sdk_app_id}
    req = models.SendCodeVoiceRequest()
    req.from_json_string(json.dumps(_merge(body, fields)))
    return client(live, t, method=method).SendCodeVoice(req)


def tts_voice(
    live: LiveServer, v: VoiceTenant, *, method: str = "POST", **fields: Any
) -> models.SendTtsVoiceResponse:
    body = {
        "TemplateId": v.template_id,
        "CalledNumber": PHONE,
        "VoiceSdkAppid": v.t.sdk_app_id,
        "TemplateParamSet": ["A12345", "明天"],
    }
    req = models.SendTtsVoiceRequest()
    req.from_json_string(json.dumps(_merge(body, fields)))
    return client(live, v.t, method=method).SendTtsVoice(req)


def _merge(body: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``body`` with ``fields`` set over it; a field set to ``...`` is left out."""
    merged = body | fields
    return {k: val for k, val in merged.items() if val is not ...}


def error_code(fn: Any) -> str:
    with pytest.raises(TencentCloudSDKException) as info:
        fn()
    return str(info.value.code)


def calls(live: LiveServer) -> list[Row[Any]]:
    vc = s.voice_calls
    return list(live.query(lambda c: c.execute(select(vc).order_by(vc.c.id)).all()))


def test_send_code_voice_queues_one_call(voice: Voice) -> None:
    live, t = voice.live, voice.v.t
    out = code_voice(live, t, PlayTimes=3, SessionContext="sc-1")
    status = out.SendStatus
    assert uuid.UUID(status.CallId) and status.SessionContext == "sc-1"
    [row] = calls(live)
    assert (row.call_id, row.request_id) == (status.CallId, out.RequestId)
    assert (row.state, row.kind, row.text, row.play_times) == ("QUEUED", "code", "8253", 3)
    assert (row.phone, row.nation_code, row.iso_code) == (PHONE, "86", "CN")
    assert (row.tenant_id, row.app_id, row.source) == (t.id, t.app_id, "vms")
    assert (row.session_context, row.unit_price) == ("sc-1", MAINLAND_PRICE)
    assert row.template_id is None and row.file_id is None


def test_send_tts_voice_renders_the_template_with_its_params(voice: Voice) -> None:
    live, v = voice.live, voice.v
    out = tts_voice(live, v)
    assert out.SendStatus.SessionContext == ""  # none given, none echoed
    [row] = calls(live)
    assert (row.call_id, row.state, row.kind) == (out.SendStatus.CallId, "QUEUED", "template")
    assert row.template_id == int(v.template_id) and row.play_times == 2  # Tencent's default
    assert row.text == render_voice(NOTICE, ["A12345", "明天"])
    assert "A1，2，3，4，5" in row.text  # a value's digits are read one by one


def test_a_template_without_variables_takes_no_params(voice: Voice) -> None:
    live, v = voice.live, voice.v
    now = live.platform.clock()
    plain = live.admin(lambda c: voice_template(c, v.t.id, "系统将于今晚维护。", now=now))
    tts_voice(live, v, TemplateId=str(plain), TemplateParamSet=...)
    tts_voice(live, v, TemplateId=str(plain), TemplateParamSet=[], CalledNumber="+8613800138001")
    assert [r.text for r in calls(live)] == ["系统将于今晚维护。"] * 2


def test_query_parameters_work_as_the_json_body_does(voice: Voice) -> None:
    # A GET carries every value as text (PlayTimes "2") and arrays flattened
    # (TemplateParamSet.0): Tencent Cloud API 3.0, request structure.
    live, v = voice.live, voice.v
    out = tts_voice(live, v, method="GET", PlayTimes=1)
    [row] = calls(live)
    assert (row.call_id, row.play_times) == (out.SendStatus.CallId, 1)
    assert row.text == render_voice(NOTICE, ["A12345", "明天"])


def test_bad_input_is_refused_and_stores_nothing(voice: Voice) -> None:
    live, v = voice.live, voice.v
    now = live.platform.clock()
    pending = live.admin(lambda c: voice_template(c, v.t.id, "待审{1}", PENDING, now=now))
    other = voice_tenant(live)
    individual = voice_tenant(live, account_type="individual")
    invalid = "FailedOperation.InvalidParameters"
    unapproved = "FailedOperation.TemplateIncorrectOrUnapproved"

    def code(t: Tenant = v.t, **fields: Any) -> str:
        return error_code(lambda: code_voice(live, t, **fields))

    def tts(who: VoiceTenant = v, **fields: Any) -> str:
        return error_code(lambda: tts_voice(live, who, **fields))

    # What the SDK's models let through but the API types otherwise (VMS 2020-09-02 field
    # tables; Tencent Cloud API 3.0 common error codes).
    assert code(CodeMessage=...) == "MissingParameter"
    assert code(CalledNumber=...) == "MissingParameter"
    assert code(VoiceSdkAppid=...) == "MissingParameter"
    assert tts(TemplateId=...) == "MissingParameter"
    assert code(CodeMessage=8253) == "InvalidParameter"  # a String
    assert code(PlayTimes="two") == "InvalidParameter"
    assert code(PlayTimes=-1) == "InvalidParameterValue"  # Integer(uint64)
    assert tts(TemplateParamSet="A12345") == "InvalidParameter"  # Array of String
    # SendCodeVoice: "digits only"; PlayTimes "at most 3".
    assert code(CodeMessage="82a3") == invalid
    assert code(CodeMessage="") == invalid
    assert code(PlayTimes=0) == invalid
    assert code(PlayTimes=4) == invalid
    # SendTtsVoice: an approved template of the caller's, its variables filled.
    assert tts(TemplateId="999999") == unapproved
    assert tts(TemplateId="not a number") == unapproved
    assert tts(TemplateId=str(pending), TemplateParamSet=["x"]) == unapproved
    assert tts(TemplateId=other.template_id) == unapproved
    assert tts(TemplateParamSet=["A12345"]) == invalid
    assert tts(TemplateParamSet=["A12345", "明天", "多余"]) == invalid
    assert tts(TemplateParamSet=["A" * 21, "明天"]) == "InvalidParameterValue.ContentLengthLimit"
    # The number, and where voice may go: the operator prices voice per country.
    assert code(CalledNumber="+86123") == "InvalidParameterValue.CalledNumberVerifyFail"
    assert code(CalledNumber="hello") == "InvalidParameterValue.CalledNumberVerifyFail"
    assert code(CalledNumber="+14155550123") == "UnsupportedOperation"  # no US voice price
    # Who may call: enterprise accounts, with their own applications.
    assert code(individual.t, VoiceSdkAppid=individual.t.sdk_app_id) == "UnsupportedOperation"
    assert code(VoiceSdkAppid=other.t.sdk_app_id) == (
        "UnauthorizedOperation.VoiceSdkAppidVerifyFail"
    )
    assert code(VoiceSdkAppid="1499999999") == "InvalidParameterValue.SdkAppidNotExist"
    assert code(SessionContext="x" * 512) == invalid
    assert calls(live) == []


def test_a_second_call_within_30_seconds_is_refused(voice: Voice) -> None:
    # Tencent voice messaging, product rules: 1 call per number per 30 s, 2 per 10 minutes.
    live, t = voice.live, voice.v.t
    first = code_voice(live, t).SendStatus.CallId
    voice.clock.advance(29)
    assert error_code(lambda: code_voice(live, t)) == "LimitExceeded.DeliveryFrequencyLimit"
    other_number = code_voice(live, t, CalledNumber="+8613800138001").SendStatus.CallId
    voice.clock.advance(2)  # 31 s after the first call
    second = code_voice(live, t).SendStatus.CallId
    assert [r.call_id for r in calls(live)] == [first, other_number, second]


def test_unknown_actions_and_versions(voice: Voice) -> None:
    live, t = voice.live, voice.v.t
    c = client(live, t)
    assert error_code(lambda: c.call("SendSms", {})) == "InvalidAction"
    assert error_code(lambda: c.call("SendVoice", {})) == "InvalidAction"
    c._apiVersion = "2020-09-03"
    assert error_code(lambda: c.call("SendCodeVoice", {})) == "NoSuchVersion"
    assert calls(live) == []
