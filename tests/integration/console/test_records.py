"""Sending, records, replies and statistics in the console over real HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection

from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login
from tests.support.live import LiveServer, Tenant


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server


def user_of(live: LiveServer, email: str, **options: object) -> Tenant:
    tenant = live.tenant(**options)  # type: ignore[arg-type]

    def make(conn: Connection) -> None:
        tenants.create_tenant_user(conn, tenant.id, email, PASSWORD)

    live.admin(make)
    return tenant


def send(client: httpx.Client, tenant: Tenant, phone: str, *params: str) -> httpx.Response:
    token = csrf_of(client.get("/console/send").text)
    data = {"csrf_token": token, "app": tenant.sdk_app_id, "sign": tenant.sign_name}
    data |= {"template": tenant.template_id, "phone": phone}
    return client.post("/console/send", data={**data, "param": list(params)})


def serial_of(html: str) -> str:
    found = re.search(r'id="send-serial" href="/console/records/([^"]+)"', html)
    assert found, html
    return found.group(1)


def poll_rows(client: httpx.Client, serial: str, state: str, query: str = "") -> str:
    deadline = time.time() + 15
    while True:
        r = client.get(f"/console/records/rows{query}", headers={"HX-Request": "true"})
        assert r.status_code == 200
        row = re.search(rf'id="record-{serial}">.*?</tr>', r.text, re.S)
        if row and f'data-state="{state}"' in row.group(0):
            return r.text
        assert time.time() < deadline, r.text
        time.sleep(0.1)


def test_send_then_follow_the_record_to_delivered(live: LiveServer) -> None:
    tenant = user_of(live, "ann@example.com")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "ann@example.com")
        page = client.get("/console/send")
        assert page.status_code == 200 and tenant.sdk_app_id in page.text
        assert "测试签名" in page.text and 'name="param"' in page.text
        assert "【测试签名】" in page.text  # the first preview shows the signature already chosen
        # The live preview shows the final text and billed parts.
        token = csrf_of(page.text)
        data = {"app": tenant.sdk_app_id, "sign": "测试签名", "template": tenant.template_id}
        r = client.post(
            "/console/send/preview",
            data={**data, "param": "1234"},
            headers={"HX-Request": "true", "X-CSRF-Token": token},
        )
        assert r.status_code == 200
        assert "【测试签名】您的验证码是1234，5分钟内有效。" in r.text
        assert 'id="preview-parts">1<' in r.text
        # Without the token the post is refused and nothing is sent.
        r = client.post("/console/send", data={**data, "phone": "+8613800138000"})
        assert r.status_code == 403
        assert live.query(lambda c: c.execute(s.messages.select()).all()) == []

        r = send(client, tenant, "+8613800138000", "1234")
        assert r.status_code == 200 and 'id="send-code">Ok<' in r.text
        # The outcome in the page's language (Chinese by default), the code beside it.
        assert 'id="send-outcome">已受理<' in r.text and "send success" not in r.text
        serial = serial_of(r.text)
        records = client.get("/console/records")
        assert (
            'hx-trigger="every 10s"' in records.text
            and 'hx-get="/console/records/rows?' in records.text
        )
        assert f'id="record-{serial}"' in records.text
        rows = poll_rows(client, serial, "DELIVERED")
        assert "【测试签名】您的验证码是1234，5分钟内有效。" in rows
        detail = client.get(f"/console/records/{serial}")
        assert detail.status_code == 200
        assert (
            'id="carrier-msg-id">' in detail.text and 'id="final-state">DELIVERED<' in detail.text
        )
        assert 'id="receipt-code">DELIVRD<' in detail.text

        # Every field's problem at once, beside its field, what was typed kept, nothing sent.
        before = live.query(lambda c: c.execute(s.messages.select()).all())
        token = csrf_of(client.get("/console/send").text)
        r = client.post(
            "/console/send",
            data={"csrf_token": token, "app": tenant.sdk_app_id, "sign": "别人的签名",
                  "template": tenant.template_id, "phone": "12345", "param": "abc"},
        )  # fmt: skip
        assert r.status_code == 400 and 'id="send-fix"' in r.text
        assert re.search(r'id="e-sign">请从列表中选择', r.text)
        assert re.search(
            r'id="e-phone">手机号码格式不正确 <code[^>]*>[^<]*IncorrectPhoneNumber', r.text
        )
        assert 'id="e-param_1">验证码模板的参数只能是 0 至 6 位数字' in r.text
        assert 'id="e-app"' not in r.text and 'id="e-template"' not in r.text
        assert 'value="12345"' in r.text and 'value="abc"' in r.text
        assert 'id="send-serial"' not in r.text
        assert live.query(lambda c: c.execute(s.messages.select()).all()) == before
        # A template or application that is not the tenant's, and no number at all.
        r = client.post(
            "/console/send",
            data={"csrf_token": token, "app": "1400000000", "sign": tenant.sign_name,
                  "template": "999999", "phone": ""},
        )  # fmt: skip
        assert r.status_code == 400
        assert {"e-app", "e-template", "e-phone"} <= set(re.findall(r'id="(e-[a-z_0-9]+)"', r.text))
        assert 'id="e-phone">此项必填。<' in r.text
        # On the English page, in English, with no Chinese words.
        client.get("/console/send?lang=en")  # the language is kept in a cookie
        r = send(client, tenant, "12345", "1234")
        assert r.status_code == 400
        assert re.search(r'id="e-phone">Not a valid phone number <code', r.text)
        assert "手机号码格式不正确" not in r.text and "incorrect phone number format" not in r.text
        assert live.query(lambda c: c.execute(s.messages.select()).all()) == before


def test_failures_filters_stats_and_isolation(live: LiveServer) -> None:
    tenant = user_of(live, "bob@example.com")
    user_of(live, "eve@example.com")
    with httpx.Client(base_url=base(live)) as client, httpx.Client(base_url=base(live)) as eve:
        login(client, "bob@example.com")
        login(eve, "eve@example.com")
        good = serial_of(send(client, tenant, "+8613800138000", "1111").text)
        bad = serial_of(send(client, tenant, "+8613900000001", "2222").text)
        replied = serial_of(send(client, tenant, "+8613700000007", "3333").text)
        assert live.wait_final([good, bad, replied]) == {
            good: "DELIVERED", bad: "UNDELIVERED", replied: "DELIVERED"
        }  # fmt: skip

        # Filters: status, phone (national or E.164), time range.
        rows = poll_rows(client, bad, "UNDELIVERED", "?state=UNDELIVERED")
        assert f'id="record-{good}"' not in rows
        # The receipt in words, its carrier code on hover.
        assert 'class="receipt" title="UNDELIV">空号或号码不存在<' in rows
        rows = client.get("/console/records/rows?phone=13800138000").text
        assert f'id="record-{good}"' in rows and f'id="record-{bad}"' not in rows
        rows = client.get("/console/records/rows?begin=2001-01-01T00:00&end=2001-01-02T00:00").text
        assert 'id="no-records"' in rows
        page = client.get("/console/records?begin=2001-01-01T00:00&end=2001-03-01T00:00")
        assert "时间范围最多 7 天" in page.text
        detail = client.get(f"/console/records/{bad}").text
        assert 'id="final-state">UNDELIVERED<' in detail and 'id="receipt-code">UNDELIV<' in detail

        # Statistics: counts, parts, success rate and the failure reason; SVG charts.
        stats = client.get("/console/stats")
        assert stats.status_code == 200
        assert '<svg id="chart-hours"' in stats.text and '<svg id="chart-days"' in stats.text
        reasons = re.search(r'id="reasons">.*?</table>', stats.text, re.S)
        assert reasons
        assert '空号或号码不存在 <code class="muted small">UNDELIV</code>' in reasons.group(0)
        days = re.search(r'id="table-days">.*?</table>', stats.text, re.S)
        assert days
        last = re.findall(r"<tr>(.*?)</tr>", days.group(0), re.S)[-1]
        nums = re.findall(r'class="num">([^<]+)<', last)
        assert nums == ["3", "2", "1", "3", "66.7%"]

        # The reply to the magic number shows on the replies page.
        deadline = time.time() + 10
        while "收到" not in (replies := client.get("/console/replies").text):
            assert time.time() < deadline, replies
            time.sleep(0.1)

        # Another tenant sees none of it.
        assert eve.get(f"/console/records/{good}").status_code == 404
        assert f'id="record-{good}"' not in eve.get("/console/records").text
        assert "收到" not in eve.get("/console/replies").text
        assert 'id="no-failures"' in eve.get("/console/stats").text


def test_an_unverified_tenant_is_told_why(live: LiveServer) -> None:
    tenant = user_of(live, "new@example.com", verified=False)
    with httpx.Client(base_url=base(live)) as client:
        login(client, "new@example.com")
        page = client.get("/console/send")
        assert 'id="unverified"' in page.text
        r = send(client, tenant, "+8613800138000", "1234")
        assert r.status_code == 400
        assert "UnauthorizedOperation.RequestPermissionDeny" in r.text
        assert 'id="send-error-words">账号尚未完成实名认证<' in r.text
    with httpx.Client(base_url=base(live), follow_redirects=False) as anon:
        assert anon.get("/console/records").headers["location"] == "/console/login"
