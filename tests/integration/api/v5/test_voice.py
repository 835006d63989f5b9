"""The legacy v5 voice commands, driven by the legacy official SDK (``qcloudsms_py``'s
``CodeVoiceSender``, ``PromptVoiceSender``, ``TtsVoiceSender``, ``FileVoiceSender``) and raw
requests, against a live server on SQLite and PostgreSQL.

As for VMS API 3.0 (``tc3/test_vms.py``), the server runs the API alone on a manual clock set
to a weekday morning in Shanghai, so an accepted call stays QUEUED and no quiet hour applies.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from qcloudsms_py import CodeVoiceSender, FileVoiceSender, PromptVoiceSender, TtsVoiceSender
from qcloudsms_py.httpclient import HTTPResponse
from sqlalchemy import Row, insert, select, update
from tencentcloud.vms.v20200902 import errorcodes

from smscloud.api.v5.voice import VOICE_RESULT, voice_result
from smscloud.domain.voice_templates import render_voice
from smscloud.protocols.auth.v5 import v5_sig
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, ManualClock
from tests.support.live import LiveServer, Tenant
from tests.support.voice import (
    NOTICE,
    PENDING,
    VoiceTenant,
    voice_file,
    voice_template,
    voice_tenant,
)

MOBILE = "13800138000"
FID = "c0ffee" + "0" * 34  # an uploaded file's SHA-1


@pytest.fixture(autouse=True)
def _json_on_python3(monkeypatch: pytest.MonkeyPatch) -> None:
    # qcloudsms_py 0.1.4 passes json.loads(encoding=...), removed in Python 3.9; the server
    # is not at fault, so only that client method is mended.
    monkeypatch.setattr(HTTPResponse, "json", lambda self: json.loads(self.body))


@dataclass
class Voice:
    live: LiveServer
    clock: ManualClock
    v: VoiceTenant

    def url(self, command: str) -> str:
        return f"http://{self.live.endpoint}/v5/tlsvoicesvr/{command}"


@pytest.fixture
def voice(tmp_path: Path, database_url: str) -> Iterator[Voice]:
    clock = ManualClock(DAYTIME)
    settings = make_settings(tmp_path, database_url)
    with LiveServer(settings, clock=clock, deliver=False) as live:
        yield Voice(live, clock, voice_tenant(live))


def raw(
    voice: Voice,
    command: str,
    body: dict[str, Any],
    *,
    t: Tenant | None = None,
    mobile: str | None = MOBILE,
    stamp: int | None = None,
) -> dict[str, Any]:
    """``body`` signed over ``mobile`` (the ``sig`` of every voice command) and posted."""
    t = t or voice.v.t
    rnd, now = str(random.randint(100000, 999999)), int(time.time()) if stamp is None else stamp
    mobiles = None if mobile is None else [mobile]
    body = body | {"time": now, "sig": v5_sig(t.app_key, rnd, now, mobiles=mobiles)}
    r = httpx.post(voice.url(command), params={"sdkappid": t.sdk_app_id, "random": rnd}, json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()  # type: ignore[no-any-return]


def tel(mobile: str = MOBILE, nationcode: str = "86") -> dict[str, str]:
    return {"nationcode": nationcode, "mobile": mobile}


def calls(live: LiveServer) -> list[Row[Any]]:
    vc = s.voice_calls
    return list(live.query(lambda c: c.execute(select(vc).order_by(vc.c.id)).all()))


def test_sendcvoice_with_the_legacy_sdk(voice: Voice) -> None:
    t = voice.v.t
    out = CodeVoiceSender(int(t.sdk_app_id), t.app_key).send(
        86, MOBILE, "5678", playtimes=3, ext="order-7", url=voice.url("sendcvoice")
    )
    assert (out["result"], out["errmsg"], out["ext"]) == (0, "OK", "order-7")
    [row] = calls(voice.live)
    assert (row.call_id, row.state, row.kind, row.text) == (out["callid"], "QUEUED", "code", "5678")
    assert (row.phone, row.play_times, row.source) == ("+86" + MOBILE, 3, "v5")
    assert (row.session_context, row.tenant_id, row.app_id) == ("order-7", t.id, t.app_id)


def test_sendvoice_is_the_older_name_and_codes_may_hold_letters(voice: Voice) -> None:
    # Legacy voice API: the verification-code command was first documented as sendvoice; its
    # msg takes digits or letters.
    out = raw(voice, "sendvoice", {"tel": tel(), "msg": "A1b2", "playtimes": 2, "ext": ""})
    assert (out["result"], out["errmsg"], out["ext"]) == (0, "OK", "")
    [row] = calls(voice.live)
    assert (row.call_id, row.kind, row.text) == (out["callid"], "code", "A1b2")


def test_sendvoiceprompt_plays_text_matching_an_approved_template(voice: Voice) -> None:
    t, template_id = voice.v.t, int(voice.v.template_id)
    sender = PromptVoiceSender(int(t.sdk_app_id), t.app_key)
    prompt = "您的订单A12345已发货，预计明天送达。"
    out = sender.send(86, MOBILE, 2, prompt, ext="p", url=voice.url("sendvoiceprompt"))
    assert (out["result"], out["errmsg"], out["ext"]) == (0, "OK", "p")
    [row] = calls(voice.live)
    assert (row.call_id, row.state, row.kind) == (out["callid"], "QUEUED", "prompt")
    assert (row.template_id, row.text, row.play_times) == (template_id, prompt, 2)
    other = sender.send(86, "13800138001", 2, "随便说点什么", url=voice.url("sendvoiceprompt"))
    assert other["result"] == 1014  # matches no approved template
    assert len(calls(voice.live)) == 1


def test_sendtvoice_with_the_legacy_sdk(voice: Voice) -> None:
    t, template_id = voice.v.t, int(voice.v.template_id)
    sender = TtsVoiceSender(int(t.sdk_app_id), t.app_key)
    out = sender.send(template_id, ["5,6,7,8", "明天"], MOBILE, url=voice.url("sendtvoice"))
    assert (out["result"], out["errmsg"], out["ext"]) == (0, "OK", "")
    [row] = calls(voice.live)
    assert (row.call_id, row.state, row.kind) == (out["callid"], "QUEUED", "template")
    assert (row.template_id, row.play_times) == (template_id, 2)
    assert row.text == render_voice(NOTICE, ["5,6,7,8", "明天"])


def test_sendfvoice_plays_an_approved_file(voice: Voice) -> None:
    live, t = voice.live, voice.v.t
    now = live.platform.clock()
    file_row = live.admin(lambda c: voice_file(c, t.id, FID, now=now))
    live.admin(lambda c: voice_file(c, t.id, "f" * 40, PENDING, now=now))
    sender = FileVoiceSender(int(t.sdk_app_id), t.app_key)
    out = sender.send(FID, MOBILE, playtimes=1, ext="f", url=voice.url("sendfvoice"))
    assert (out["result"], out["errmsg"], out["ext"]) == (0, "OK", "f")
    [row] = calls(live)
    assert (row.call_id, row.state, row.kind) == (out["callid"], "QUEUED", "file")
    assert (row.file_id, row.play_times) == (file_row, 1)
    for fid in ("f" * 40, "0" * 40):  # not approved; not uploaded
        out = sender.send(fid, "13800138001", url=voice.url("sendfvoice"))
        assert out["result"] == 1014
    assert len(calls(live)) == 1


def test_authentication(voice: Voice) -> None:
    t = voice.v.t
    wrong_key = CodeVoiceSender(int(t.sdk_app_id), "0" * 32)
    assert wrong_key.send(86, MOBILE, "1234", url=voice.url("sendcvoice"))["result"] == 1001
    body = {"tel": tel(), "msg": "1234"}
    assert raw(voice, "sendcvoice", body, mobile="13800138001")["result"] == 1001  # another number
    assert raw(voice, "sendcvoice", body, mobile=None)["result"] == 1001  # no number signed
    stale = raw(voice, "sendcvoice", body, stamp=int(time.time()) - 3600)
    assert stale["result"] == 1021  # "time" more than 10 minutes off
    nobody = CodeVoiceSender(1499999999, t.app_key)
    assert nobody.send(86, MOBILE, "1234", url=voice.url("sendcvoice"))["result"] == 1019
    assert raw(voice, "nosuch", body, mobile=None)["result"] == 1011  # its sig has no number
    assert raw(voice, "sendsms", body)["result"] == 1011  # an SMS command, not a voice one
    assert calls(voice.live) == []


def test_refusals_answer_the_legacy_numbers_and_store_nothing(voice: Voice) -> None:
    live, v = voice.live, voice.v
    now = live.platform.clock()
    pending = live.admin(lambda c: voice_template(c, v.t.id, "待审{1}", PENDING, now=now))
    other = voice_tenant(live)

    def send(command: str, t: Tenant = v.t, mobile: str | None = MOBILE, **fields: Any) -> int:
        body = {"tel": tel(mobile or ""), "playtimes": 2, "ext": ""} | fields
        body = {k: val for k, val in body.items() if val is not ...}
        return int(raw(voice, command, body, t=t, mobile=mobile)["result"])

    def tts(**fields: Any) -> int:
        defaults: dict[str, Any] = {"tpl_id": int(v.template_id), "params": ["1", "2"]}
        return send("sendtvoice", **(defaults | fields))

    # 1018: voice verification code format error.
    assert send("sendcvoice", msg="12-4") == 1018
    assert send("sendcvoice", msg="") == 1018
    assert send("sendcvoice", msg=...) == 1018
    # 3004: invalid parameters (play times, variables, types, prompt type).
    assert send("sendcvoice", msg="1234", playtimes=0) == 3004
    assert send("sendcvoice", msg="1234", playtimes=4) == 3004
    assert send("sendcvoice", msg="1234", playtimes="2") == 3004
    assert send("sendcvoice", msg="1234", tel=..., mobile=None) == 3004
    assert send("sendcvoice", msg="1234", tel={"nationcode": "86"}, mobile="") == 3004
    assert send("sendcvoice", msg="1234", ext="x" * 512) == 3004
    assert tts(params=["1"]) == 3004
    assert tts(params="1,2") == 3004
    assert tts(tpl_id=...) == 3004
    assert send("sendvoiceprompt", prompttype=3, promptfile="您的订单1已发货，预计2送达。") == 3004
    assert send("sendvoiceprompt", prompttype=2) == 3004  # no promptfile
    assert send("sendfvoice") == 3004  # no fid
    # 1014: template unapproved or content not matching.
    assert tts(tpl_id=999999) == 1014
    assert tts(tpl_id=pending, params=["1"]) == 1014
    assert tts(tpl_id=int(other.template_id)) == 1014
    # 1017: content too long (a variable over its limit).
    assert tts(params=["1" * 21, "2"]) == 1017
    # 1016: bad number.
    assert send("sendcvoice", msg="1234", mobile="123") == 1016
    # 1006: no permission: an individual account; a country the operator did not price.
    individual = voice_tenant(live, account_type="individual").t
    assert send("sendcvoice", t=individual, msg="1234") == 1006
    assert send("sendcvoice", msg="1234", tel=tel("4155550123", "1"), mobile="4155550123") == 1006
    assert calls(live) == []


def test_frequency_arrears_and_disabled_applications(voice: Voice) -> None:
    live, t = voice.live, voice.v.t
    body = {"tel": tel(), "msg": "1234"}
    assert raw(voice, "sendcvoice", body)["result"] == 0
    voice.clock.advance(10)
    assert raw(voice, "sendcvoice", body)["result"] == 1013  # 1 call per number per 30 s
    # 1033: a bill past its due date stops the (postpaid) service.
    now = live.platform.clock()
    live.admin(
        lambda c: c.execute(
            insert(s.bills).values(
                tenant_id=t.id,
                month="2026-05",
                total=1_000_000,
                lines="[]",
                issued_at=now - 20 * 86_400,
                due_at=now - 86_400,
            )
        )
    )
    live.platform.catalog.forget("arrears", t.id)
    other_number = {"tel": tel("13800138001"), "msg": "1234"}
    assert raw(voice, "sendcvoice", other_number, mobile="13800138001")["result"] == 1033
    # 1020: the application is disabled.
    apps = s.applications
    live.admin(lambda c: c.execute(update(apps).where(apps.c.id == t.app_id).values(status="x")))
    live.platform.catalog.forget("app", t.sdk_app_id)
    assert raw(voice, "sendcvoice", other_number, mobile="13800138001")["result"] == 1020
    assert len(calls(live)) == 1


def test_every_vms_code_has_a_legacy_number() -> None:
    # The SDK's list of VMS error codes (tencentcloud vms v20200902 errorcodes): each one the
    # service may raise answers a documented number, none the catch-all by accident.
    codes = {v for k, v in vars(errorcodes).items() if k.isupper() and isinstance(v, str)}
    assert codes <= set(VOICE_RESULT)
    assert voice_result("FailedOperation.ParametersOtherError") == 3001
    assert voice_result("NoSuch.Code") == 3001  # unknown error
    assert voice_result("LimitExceeded.DeliveryFrequencyLimit") == 1013
    assert voice_result("UnauthorizedOperation.ServiceSuspendDueToArrears") == 1033
