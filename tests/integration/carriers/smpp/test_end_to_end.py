"""End to end over SMPP: the official SDK sends, the platform routes to an SMPP carrier
(the real connector) bound to the SMSC simulator over loopback, receipts and replies come back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tencentcloud.sms.v20210111 import models

from smscloud.carriers.smsc.simulator import SmscSimulator
from smscloud.services import carrier_setup
from smscloud.store import schema as s
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade
from tests.conftest import make_settings
from tests.peers.simulator import SimulatorThread
from tests.support.live import LiveServer, Tenant

pytestmark = pytest.mark.slow


@pytest.fixture
def smpp_server(tmp_path: Path, database_url: str) -> Iterator[tuple[LiveServer, SmscSimulator]]:
    with SimulatorThread() as smsc:
        db = Database(database_url)
        try:
            upgrade(db.engine)
            with db.connect() as conn:
                carrier_setup.add_carrier(
                    conn,
                    "sim",
                    "smpp",
                    {
                        "port": smsc.sim.port,
                        "system_id": "smscloud",
                        "password": "password",
                        "source_addr": "10690088",
                        "response_timeout": 5.0,
                    },
                )
                carrier_setup.add_route(conn, "sim", nation_code="86")
        finally:
            db.close()
        with LiveServer(make_settings(tmp_path, database_url)) as live:
            yield live, smsc.sim


def send(live: LiveServer, t: Tenant, phones: list[str], params: list[str]) -> list[Any]:
    req = models.SendSmsRequest()
    req.from_json_string(
        json.dumps(
            {
                "PhoneNumberSet": phones,
                "SmsSdkAppId": t.sdk_app_id,
                "SignName": t.sign_name,
                "TemplateId": t.template_id,
                "TemplateParamSet": params,
            }
        )
    )
    return list(live.client(t).SendSms(req).SendStatusSet)


def test_sdk_to_smpp_and_back(smpp_server: tuple[LiveServer, SmscSimulator]) -> None:
    live, sim = smpp_server
    t = live.tenant(template="尊敬的客户，您的订单{1}已发货" + "，感谢惠顾" * 12, sms_type=2)
    phones = [
        "+8613800138000",
        "+8613800000001",
        "+8613800000002",
        "+8613800000003",
        "+8613800000007",
    ]
    out = send(live, t, phones, ["A123"])
    assert [o.Code for o in out] == ["Ok"] * 5
    assert {o.Fee for o in out} == {2}  # 【测试签名】 + 79 characters: two billed parts
    states = live.wait_final([o.SerialNo for o in out], timeout=30)
    assert [states[o.SerialNo] for o in out] == [
        "DELIVERED",
        "UNDELIVERED",
        "EXPIRED",
        "REJECTED",
        "DELIVERED",
    ]

    # What the SMSC received: UCS-2 parts with a concatenation UDH, to the right addresses.
    first = [x.pdu for x in sim.submitted if x.pdu.destination_addr == "8613800138000"]
    assert len(first) == 2  # one long message, two parts
    assert {
        (p.data_coding, p.esm_class & 0x40, p.dest_addr_ton, p.dest_addr_npi) for p in first
    } == {(8, 0x40, 1, 1)}
    assert {p.source_addr for p in first} == {"10690088"}

    # The long message's parts each had a receipt; it is final because both were delivered.
    m = s.messages
    wire = live.query(
        lambda c: c.execute(
            select(m.c.wire_parts).where(m.c.serial_no == out[0].SerialNo)
        ).scalar_one()
    )
    assert wire == 2
    # Refused by the SMSC before it took it: refunded.
    p = s.packages
    used = live.query(
        lambda c: c.execute(select(p.c.used).where(p.c.tenant_id == t.id)).scalar_one()
    )
    assert used == 8

    client = live.client(t)
    pull = models.PullSmsSendStatusRequest()
    pull.from_json_string(json.dumps({"SmsSdkAppId": t.sdk_app_id, "Limit": 100}))
    reports = {r.SerialNo: r for r in client.PullSmsSendStatus(pull).PullSmsSendStatusSet}
    assert reports[out[0].SerialNo].Description == "DELIVRD"
    assert reports[out[1].SerialNo].Description == "UNDELIV"

    # The handset behind 0000007 replied "收到" over SMPP (a UCS-2 deliver_sm).
    deadline = time.time() + 10
    replies: list[Any] = []
    while not replies and time.time() < deadline:
        req = models.PullSmsReplyStatusRequest()
        req.from_json_string(json.dumps({"SmsSdkAppId": t.sdk_app_id, "Limit": 10}))
        replies = client.PullSmsReplyStatus(req).PullSmsReplyStatusSet
        time.sleep(0.05)
    assert [(r.PhoneNumber, r.ReplyContent) for r in replies] == [("+8613800000007", "收到")]


def test_a_message_no_route_matches_is_refused_and_refunded(
    smpp_server: tuple[LiveServer, SmscSimulator],
) -> None:
    live, _ = smpp_server
    t = live.tenant(template="Your code is {1}", international=1, sign="Acme")
    out = send(live, t, ["+60198890000"], ["1234"])  # the only route is for +86
    assert out[0].Code == "Ok"
    assert live.wait_final([out[0].SerialNo]) == {out[0].SerialNo: "REJECTED"}
    m = s.messages
    code = live.query(
        lambda c: c.execute(
            select(m.c.receipt_code).where(m.c.serial_no == out[0].SerialNo)
        ).scalar_one()
    )
    assert code == "NOROUTE"


def test_carrier_health_reaches_metrics(smpp_server: tuple[LiveServer, SmscSimulator]) -> None:
    live, _ = smpp_server
    deadline = time.time() + 15
    text = ""
    bound: list[str] = []
    while not (bound and bound[0].endswith(" 1")) and time.time() < deadline:
        text = httpx.get(f"http://{live.endpoint}/metrics").text
        bound = [line for line in text.splitlines() if line.startswith("smscloud_carrier_bound{")]
        time.sleep(0.2)
    assert len(bound) == 1 and bound[0].endswith(" 1")  # one bind, bound
    assert 'smscloud_carrier_report_age_seconds{carrier="sim"' in text
    # Counters of every worker, from the database: a long message's part is never sent twice.
    lines = text.splitlines()
    assert "# TYPE smscloud_parts_resent_total counter" in lines
    assert "smscloud_parts_resent_total 0" in lines
    assert "smscloud_parts_resumed_total 0" in lines
    assert "smscloud_replies_unmatched_total 0" in lines
