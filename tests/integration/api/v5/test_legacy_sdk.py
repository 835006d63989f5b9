"""The legacy v5 API, driven by the legacy official SDK (``qcloudsms_py``) and raw requests."""

from __future__ import annotations

import base64
import json
import random
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from qcloudsms_py import SmsMultiSender, SmsSingleSender, SmsStatusPuller
from qcloudsms_py.httpclient import HTTPResponse

from smscloud.protocols.auth.v5 import v5_sig
from tests.support.live import LiveServer, Tenant


@pytest.fixture(autouse=True)
def _json_on_python3(monkeypatch: pytest.MonkeyPatch) -> None:
    # qcloudsms_py 0.1.4 passes json.loads(encoding=...), removed in Python 3.9; the server
    # is not at fault, so only that client method is mended.
    monkeypatch.setattr(HTTPResponse, "json", lambda self: json.loads(self.body))


def url(live: LiveServer, command: str) -> str:
    return f"http://{live.endpoint}/v5/tlssmssvr/{command}"


def raw(
    live: LiveServer,
    t: Tenant,
    command: str,
    body: dict[str, Any],
    *,
    mobiles: list[str] | None = None,
    tel: str | None = None,
) -> dict[str, Any]:
    rnd, now = str(random.randint(100000, 999999)), int(time.time())
    body = body | {"time": now, "sig": v5_sig(t.app_key, rnd, now, mobiles=mobiles, tel=tel)}
    r = httpx.post(url(live, command), params={"sdkappid": t.sdk_app_id, "random": rnd}, json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    return r.json()  # type: ignore[no-any-return]


def test_template_send_and_pull_with_the_legacy_sdk(server: LiveServer) -> None:
    t = server.tenant()
    sender = SmsSingleSender(int(t.sdk_app_id), t.app_key)
    out = sender.send_with_param(
        86,
        "13800138000",
        int(t.template_id),
        ["1234"],
        sign=t.sign_name,
        ext="order-7",
        url=url(server, "sendsms"),
    )
    assert (out["result"], out["errmsg"], out["fee"], out["ext"]) == (0, "OK", 1, "order-7")
    server.wait_final([out["sid"]])
    pulled = SmsStatusPuller(int(t.sdk_app_id), t.app_key).pull_callback(
        10, url=url(server, "pullstatus")
    )
    assert pulled["result"] == 0 and pulled["count"] == 1
    item = pulled["data"][0]
    assert (item["sid"], item["mobile"], item["nationcode"]) == (out["sid"], "13800138000", "86")
    assert (item["report_status"], item["errmsg"]) == ("SUCCESS", "DELIVRD")
    assert len(item["user_receive_time"]) == 19


def test_content_mode_finds_the_template_and_the_signature(server: LiveServer) -> None:
    t = server.tenant()
    sender = SmsSingleSender(int(t.sdk_app_id), t.app_key)
    out = sender.send(
        0,
        86,
        "13800138000",
        "【测试签名】您的验证码是5678，5分钟内有效。",
        url=url(server, "sendsms"),
    )
    assert out["result"] == 0 and out["sid"]
    records = server.states([out["sid"]])
    assert records  # stored as a normal message of that template
    out = sender.send(0, 86, "13800138001", "【测试签名】随便写的内容", url=url(server, "sendsms"))
    assert out["result"] == 1014


def test_legacy_errors(server: LiveServer) -> None:
    t = server.tenant()
    wrong = SmsSingleSender(int(t.sdk_app_id), "0" * 32)
    assert (
        wrong.send_with_param(
            86, "13800138000", int(t.template_id), ["1"], url=url(server, "sendsms")
        )["result"]
        == 1001
    )
    good = SmsSingleSender(int(t.sdk_app_id), t.app_key)
    assert (
        good.send_with_param(86, "123", int(t.template_id), ["1"], url=url(server, "sendsms"))[
            "result"
        ]
        == 1016
    )
    assert (
        good.send_with_param(86, "13800138000", 99999, ["1"], url=url(server, "sendsms"))["result"]
        == 1014
    )
    nobody = SmsSingleSender(1499999999, t.app_key)
    assert (
        nobody.send_with_param(86, "13800138000", 1, ["1"], url=url(server, "sendsms"))["result"]
        == 1019
    )
    assert raw(server, t, "nosuch", {})["result"] == 1011
    assert (
        raw(
            server,
            t,
            "sendsms",
            {"tel": {"nationcode": "86", "mobile": "13800138000"}},
            mobiles=["13800138001"],
        )["result"]
        == 1001
    )  # sig over another number
    stale = httpx.post(
        url(server, "pullstatus"),
        params={"sdkappid": t.sdk_app_id, "random": "1"},
        json={"time": int(time.time()) - 3600, "sig": "x", "type": 0, "max": 1},
    )
    assert stale.json()["result"] == 1021


def test_multi_send_reports_each_number(server: LiveServer) -> None:
    t = server.tenant(units=1)
    out = SmsMultiSender(int(t.sdk_app_id), t.app_key).send_with_param(
        86,
        ["13800138000", "13800138001"],
        int(t.template_id),
        ["42"],
        sign=t.sign_name,
        url=url(server, "sendmultisms2"),
    )
    assert out["result"] == 0
    assert [(d["mobile"], d["result"], d["fee"]) for d in out["detail"]] == [
        ("13800138000", 0, 1),
        ("13800138001", 1031, 0),
    ]  # the package held one


def test_international_statistics_and_management(server: LiveServer) -> None:
    t = server.tenant(template="Your code is {1}", international=1, sign="Acme")
    out = raw(
        server,
        t,
        "sendisms",
        {"tel": "+60198890000", "tpl_id": int(t.template_id), "params": ["99"], "sign": "Acme"},
        tel="+60198890000",
    )
    assert (out["result"], out["nationcode"], out["fee"]) == (0, "60", 1)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    hours = {
        "begin_date": int((now - timedelta(hours=1)).strftime("%Y%m%d%H")),
        "end_date": int(now.strftime("%Y%m%d%H")),
    }
    stats = raw(server, t, "pullsendstatus", hours)
    assert stats["data"] == {"bill_number": 1, "request": 1, "success": 1}

    added = raw(
        server,
        t,
        "add_template",
        {
            "title": "通知",
            "text": "您的订单{1}已发货",
            "remark": "物流",
            "type": 0,
            "international": 0,
        },
    )
    assert added["result"] == 0 and added["data"]["status"] == 1
    tid = added["data"]["id"]
    server.approve("template", tid)
    got = raw(server, t, "get_template", {"tpl_id": [tid]})
    assert [(d["id"], d["status"], d["text"], d["type"]) for d in got["data"]] == [
        (tid, 0, "您的订单{1}已发货", 0)
    ]
    page = raw(server, t, "get_template", {"tpl_page": {"max": 10, "offset": 0}})
    assert page["total"] == 2
    assert (
        raw(server, t, "mod_template", {"tpl_id": tid, "text": "改", "type": 0})["result"] == 1007
    )
    assert raw(server, t, "del_template", {"tpl_id": [tid]})["result"] == 0

    pic = base64.b64encode(b"\x89PNG\r\n\x1a\n licence").decode()  # a PNG by its bytes
    sign = raw(server, t, "add_sign", {"text": "新品牌", "pic": pic, "international": 0})
    assert sign["result"] == 0 and sign["data"]["text"] == "新品牌"
    listed = raw(server, t, "get_sign", {"sign_id": [sign["data"]["id"]]})
    assert [(d["text"], d["status"]) for d in listed["data"]] == [("新品牌", 1)]
