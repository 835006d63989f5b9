"""The platform keeps one time: every time it stores comes from its clock, not the machine's.

The platform runs years away from the machine's clock; a send goes the whole way (accepted,
billed, delivered, refused and refunded, replied to, pushed, pulled, converted, metered), then
every time column of every table is read back. One value near the machine's time would be a
rule that read the wall clock on its own, and would disagree with the others at a boundary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from bench.receiver import CallbackReceiver
from sqlalchemy import Connection, Float, select
from tencentcloud.sms.v20210111 import models

from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import SHANGHAI, running_from
from tests.support.live import LiveServer

FAR = datetime(2031, 3, 3, 10, 0, tzinfo=SHANGHAI)  # years from any machine running this
# Stored times may point ahead (a package's expiry: a year), never years back or forward.
SPAN = 400 * 86400
NOT_TIMES = {("carrier_health", "submits_per_s")}


@pytest.fixture
def far_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, database_url, callback_retry_s=0.2)
    with LiveServer(settings, clock=running_from(FAR)) as live:
        yield live


def call(client: Any, action: str, body: dict[str, Any]) -> Any:
    req = getattr(models, f"{action}Request")()
    req.from_json_string(json.dumps(body))
    return getattr(client, action)(req)


def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def stored_times(conn: Connection) -> list[tuple[str, str, float]]:
    """Every non-null value of every time column: (table, column, value)."""
    found = []
    for table in s.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, Float) or (table.name, column.name) in NOT_TIMES:
                continue
            for (value,) in conn.execute(select(column).where(column.is_not(None))):
                found.append((table.name, column.name, float(value)))
    return found


def test_every_time_the_platform_stores_is_its_own(far_server: LiveServer) -> None:
    live = far_server
    with CallbackReceiver() as rx:
        t = live.tenant(status_callback_url=rx.url, reply_callback_url=rx.url)
        c = live.client(t)
        # Delivered, replied to by the handset, refused by the carrier (refunded).
        phones = ["+8613800138000", "+8613800000007", "+8613800000003"]
        body = {
            "PhoneNumberSet": phones,
            "SmsSdkAppId": t.sdk_app_id,
            "TemplateId": t.template_id,
            "SignName": t.sign_name,
            "TemplateParamSet": ["1234"],
        }
        out = call(c, "SendSms", body).SendStatusSet
        assert [o.Code for o in out] == ["Ok"] * 3
        live.wait_final(o.SerialNo for o in out)
        until(lambda: len(rx.replies()) == 1 and len(rx.statuses()) == 3)
        pull = {"SmsSdkAppId": t.sdk_app_id, "Limit": 100}
        assert call(c, "PullSmsReplyStatus", pull).PullSmsReplyStatusSet
        assert call(c, "PullSmsSendStatus", pull).PullSmsSendStatusSet
        conversion = {"SmsSdkAppId": t.sdk_app_id, "SerialNo": out[0].SerialNo}
        call(c, "ReportConversion", conversion)
        world = live.tenant(template="Your code is {1}", international=1, sign=None)
        item = {"PhoneNumber": "+60198890000", "TemplateId": world.template_id}
        multi = {
            "SmsSdkAppId": world.sdk_app_id,
            "MultiSmsInfoSet": [item | {"TemplateParamSet": ["12"]}],
        }
        sent = call(live.client(world), "SendMultiGlobalSms", multi).SendMultiStatusSet
        assert sent[0].Code == "Ok"
        live.wait_final([sent[0].SerialNo])

    values = live.query(stored_times)
    written = {table for table, _, _ in values}
    assert {"messages", "packages", "ledger", "replies", "conversions", "usage"} <= written
    now = live.platform.clock()
    wrong = [(t, c, v) for t, c, v in values if not FAR.timestamp() - SPAN < v < now + SPAN]
    assert wrong == []
