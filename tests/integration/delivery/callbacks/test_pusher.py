"""Status and reply callbacks pushed to a real local HTTP receiver; replies and opt-outs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from bench.receiver import CallbackReceiver
from sqlalchemy import select
from tencentcloud.sms.v20210111 import models

from smscloud.carriers.base import Reply
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, Tenant, approved_template


@pytest.fixture
def fast_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, database_url, callback_retry_s=0.2)
    with LiveServer(settings) as live:
        yield live


@pytest.fixture
def daytime_fast_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """For marketing sends: the platform's clock reads a morning, whatever the machine's."""
    settings = make_settings(tmp_path, database_url, callback_retry_s=0.2)
    with LiveServer(settings, clock=running_from(DAYTIME)) as live:
        yield live


def send(
    live: LiveServer,
    t: Tenant,
    phones: list[str],
    template_id: str | None = None,
    params: list[str] | None = None,
    ctx: str = "",
) -> list[Any]:
    req = models.SendSmsRequest()
    req.from_json_string(
        json.dumps(
            {
                "PhoneNumberSet": phones,
                "SmsSdkAppId": t.sdk_app_id,
                "SignName": t.sign_name,
                "TemplateId": template_id or t.template_id,
                "TemplateParamSet": ["1234"] if params is None else params,
                "SessionContext": ctx,
            }
        )
    )
    return list(live.client(t).SendSms(req).SendStatusSet)


def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.time() + timeout
    while not check():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_status_reports_are_pushed_in_tencents_format(fast_server: LiveServer) -> None:
    with CallbackReceiver() as rx:
        t = fast_server.tenant(status_callback_url=rx.url)
        out = send(
            fast_server, t, ["+8613800138000", "+8613800000001", "+8613800000003"], ctx="order-1"
        )
        until(lambda: len(rx.statuses()) == 3)
        by_sid = {item["sid"]: item for item in rx.statuses()}
        ok, undeliv, refused = (by_sid[o.SerialNo] for o in out)
        assert ok == {
            "user_receive_time": ok["user_receive_time"],
            "nationcode": "86",
            "mobile": "13800138000",
            "report_status": "SUCCESS",
            "errmsg": "DELIVRD",
            "description": "用户短信送达成功",
            "sid": out[0].SerialNo,
            "ext": "order-1",
        }
        assert len(ok["user_receive_time"]) == 19
        assert (undeliv["report_status"], undeliv["errmsg"]) == ("FAIL", "UNDELIV")
        assert (refused["report_status"], refused["errmsg"]) == ("FAIL", "REJECTD")
        assert rx.requests <= 3  # batched: reports that are final together go together


def test_failed_pushes_are_retried_until_accepted(fast_server: LiveServer) -> None:
    with CallbackReceiver(fail_first=2) as rx:
        t = fast_server.tenant(status_callback_url=rx.url)
        out = send(fast_server, t, ["+8613800138000"])
        until(lambda: len(rx.statuses()) == 1)
        assert rx.statuses()[0]["sid"] == out[0].SerialNo
        m = s.messages

        def recorded() -> tuple[int, int]:
            row = fast_server.query(
                lambda c: c.execute(select(m.c.callback_state, m.c.callback_attempts)).one()
            )
            return int(row[0]), int(row[1])

        # The receiver may see the push a moment before the pusher records its answer.
        until(lambda: recorded()[0] == 2)
        assert recorded() == (2, 2)  # two failures, then accepted: done


def test_no_callback_url_means_no_push(fast_server: LiveServer) -> None:
    t = fast_server.tenant()
    out = send(fast_server, t, ["+8613800138000"])
    fast_server.wait_final([out[0].SerialNo])
    m = s.messages
    assert fast_server.query(lambda c: c.execute(select(m.c.callback_state)).scalar()) == 0


def test_replies_are_pushed_and_opt_outs_honoured(daytime_fast_server: LiveServer) -> None:
    live = daytime_fast_server
    with CallbackReceiver() as rx:
        t = live.tenant(reply_callback_url=rx.url)
        marketing = str(
            live.admin(lambda c: approved_template(c, t.id, "新品上市{1}，拒收请回复R", sms_type=1))
        )
        phone = "+8613800138000"
        first = send(live, t, [phone], marketing, ["A"])
        assert first[0].Code == "Ok"
        live.wait_final([first[0].SerialNo])
        # The handset answers "TD" through the carrier.
        reply = Reply(phone, "td", live.platform.clock())
        live.call(lambda: live.platform.dispatcher.replies([reply]))  # in the server's loop
        until(lambda: len(rx.replies()) == 1)
        assert rx.replies()[0] == {
            "extend": "",
            "mobile": "13800138000",
            "nationcode": "86",
            "sign": t.sign_name,
            "text": "td",
            "time": int(reply.received_at),
        }
        again = send(live, t, [phone, "+8613800138001"], marketing, ["B"])
        assert [o.Code for o in again] == ["FailedOperation.PhoneNumberInBlacklist", "Ok"]
        # Opting out of marketing does not stop notifications (a verification code here).
        assert send(live, t, [phone])[0].Code == "Ok"
