"""Application settings, API keys and the operator's tenants, carriers and audit log, over HTTP."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from bench.receiver import CallbackReceiver
from sqlalchemy import Connection, select

from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.api.tc3.test_send_sdk import sdk_error, send
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form
from tests.support.live import LiveServer, Tenant


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server


def user(live: LiveServer, email: str, account_type: str = "enterprise") -> Tenant:
    tenant = live.tenant(account_type=account_type)
    live.admin(lambda c: accounts.create_tenant_user(c, tenant.id, email, PASSWORD))
    return tenant


def app_row(live: LiveServer, sdk_app_id: str) -> dict[str, object]:
    a = s.applications
    return dict(
        live.query(
            lambda c: c.execute(select(a).where(a.c.sdk_app_id == sdk_app_id)).mappings().one()
        )
    )


def test_application_settings_and_keys(live: LiveServer) -> None:
    t = user(live, "ann@example.com")
    other = user(live, "bob@example.com", "individual")
    settings = f"/console/apps/{t.sdk_app_id}/settings"
    with httpx.Client(base_url=base(live)) as client, CallbackReceiver() as rx:
        login(client, "ann@example.com")
        # Another tenant's application is not found, to read or to change.
        assert client.get(f"/console/apps/{other.sdk_app_id}/settings").status_code == 404
        token = csrf_of(client.get(settings).text)
        r = client.post(
            f"/console/apps/{other.sdk_app_id}/settings/rotate-key", data={"csrf_token": token}
        )
        assert r.status_code == 404 and app_row(live, other.sdk_app_id)["app_key"] == other.app_key
        # CSRF is required.
        r = client.post(settings + "/rotate-key", data={})
        assert r.status_code == 403 and app_row(live, t.sdk_app_id)["app_key"] == t.app_key

        # Callback URLs: every bad one refused beside its field in the page's words, what was
        # typed kept, nothing saved; a good one saved.
        data = {"csrf_token": token, "status_callback_url": "ftp://x", "reply_callback_url": ""}
        data |= {"voice_callback_url": "http://10.0.0.1/voice"}  # a private address
        r = client.post(settings + "/callbacks", data=data)
        assert r.status_code == 400
        assert (
            'id="e-status_callback_url">回调地址须以 http:// 或 https:// 开头：ftp://x<' in r.text
        )
        assert 'id="e-voice_callback_url">回调地址指向内网地址（10.0.0.1）' in r.text
        assert "callback URL" not in r.text and 'value="ftp://x"' in r.text
        assert app_row(live, t.sdk_app_id)["status_callback_url"] == ""
        assert app_row(live, t.sdk_app_id)["voice_callback_url"] == ""
        r = client.post(settings + "/callbacks?lang=en", data=data)
        assert 'id="e-voice_callback_url">The callback URL points to a private address' in r.text
        client.get(settings + "?lang=zh")  # the language is kept in a cookie: back to Chinese
        data |= {"status_callback_url": rx.url, "reply_callback_url": rx.url}
        data |= {"voice_callback_url": rx.url + "/voice"}
        r = client.post(settings + "/callbacks", data=data)
        assert r.status_code == 303
        assert app_row(live, t.sdk_app_id)["status_callback_url"] == rx.url
        assert app_row(live, t.sdk_app_id)["voice_callback_url"] == rx.url + "/voice"
        # The test push reaches the receiver in Tencent's format; its answer is shown.
        r = client.post(settings + "/test-push", data={"csrf_token": token, "kind": "status"})
        assert r.status_code == 200 and 'id="push-status">200<' in r.text
        assert "errmsg" in r.text and "OK" in r.text
        (report,) = rx.statuses()
        assert report["report_status"] == "SUCCESS" and report["nationcode"] == "86"
        r = client.post(settings + "/test-push", data={"csrf_token": token, "kind": "reply"})
        assert r.status_code == 200 and rx.replies()[0]["text"]
        # A push that reached nothing says why in the page's words.
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            nowhere = f"http://127.0.0.1:{closed.getsockname()[1]}/x"
        r = client.post(settings + "/callbacks", data=data | {"status_callback_url": nowhere})
        assert r.status_code == 303
        r = client.post(settings + "/test-push", data={"csrf_token": token, "kind": "status"})
        assert 'id="push-failure">推送失败: 无法连接接收方：' in r.text
        r = client.post(settings + "/callbacks", data=data)
        assert r.status_code == 303

        # Frequency policy: saved, and the API applies it at once.
        first = send(live, t, ["+8613800138000"])
        assert first[0].Code == "Ok"
        policy = {"freq_30s": "", "freq_hour": "1", "freq_day": "10", "freq_same_content_day": ""}
        r = client.post(
            settings + "/frequency",
            data={"csrf_token": token, "freq_allowlist": "+8613800000099\nbad"} | policy,
        )
        assert r.status_code == 400 and "号码无效" in r.text
        r = client.post(
            settings + "/frequency",
            data={"csrf_token": token, "freq_allowlist": "+8613800000099"} | policy,
        )
        assert r.status_code == 303
        row = app_row(live, t.sdk_app_id)
        assert (row["freq_30s"], row["freq_hour"], row["freq_day"]) == (None, 1, 10)
        assert row["freq_allowlist"] == "+8613800000099"
        again = send(live, t, ["+8613800138000"])
        assert again[0].Code == "LimitExceeded.PhoneNumberOneHourLimit"

        # Daily limits.
        limits = {"daily_limit": "100", "mainland_daily_limit": "50", "global_daily_limit": "x"}
        r = client.post(settings + "/limits", data={"csrf_token": token} | limits)
        assert r.status_code == 400
        limits["global_daily_limit"] = "0"
        r = client.post(settings + "/limits", data={"csrf_token": token} | limits)
        assert r.status_code == 303 and app_row(live, t.sdk_app_id)["daily_limit"] == 100

        # Voice limits per number and quiet hours: every bad field named, nothing stored.
        voice = {"voice_per_30s": "0", "voice_per_10min": "", "voice_per_day": "5"}
        voice |= {"voice_quiet_start": "25:00", "voice_quiet_end": "08:00"}
        r = client.post(settings + "/voice", data={"csrf_token": token} | voice)
        assert r.status_code == 400 and 'id="e-voice_per_30s"' in r.text
        assert 'id="e-voice_quiet_start"' in r.text and 'value="25:00"' in r.text
        assert app_row(live, t.sdk_app_id)["voice_per_day"] == 3  # Tencent's default, kept
        voice |= {"voice_per_30s": "", "voice_quiet_start": "23:30", "voice_quiet_end": "07:00"}
        r = client.post(settings + "/voice", data={"csrf_token": token} | voice)
        assert r.status_code == 303
        row = app_row(live, t.sdk_app_id)
        assert (row["voice_per_30s"], row["voice_per_10min"], row["voice_per_day"]) == (
            None,
            None,
            5,
        )
        assert (row["voice_quiet_start"], row["voice_quiet_end"]) == (23 * 60 + 30, 7 * 60)
        assert 'value="23:30"' in client.get(settings).text

        # Rotate AppKey: shown once, stored.
        r = client.post(settings + "/rotate-key", data={"csrf_token": token})
        found = re.search(r'id="new-app-key">([0-9a-f]{32})<', r.text)
        assert r.status_code == 200 and found
        assert app_row(live, t.sdk_app_id)["app_key"] == found.group(1) != t.app_key
        assert found.group(1) not in client.get(settings).text

        # API keys: the SecretKey is shown once, then listed without it.
        r = client.post("/console/keys", data={"csrf_token": token})
        secret_id = re.search(r'id="new-secret-id">(AKID\w+)<', r.text)
        secret_key = re.search(r'id="new-secret-key">(\w+)<', r.text)
        assert r.status_code == 200 and secret_id and secret_key
        page = client.get("/console/keys").text
        assert secret_id.group(1) in page and t.secret_id in page
        assert secret_key.group(1) not in page and other.secret_id not in page

    with httpx.Client(base_url=base(live)) as client:
        login(client, "bob@example.com")
        path = f"/console/apps/{other.sdk_app_id}/settings"
        page = client.get(path).text
        assert 'id="freq-disabled"' in page and '<fieldset class="field" disabled>' in page
        token = csrf_of(page)
        r = client.post(path + "/frequency", data={"csrf_token": token, "freq_hour": "99"})
        assert r.status_code == 403 and app_row(live, other.sdk_app_id)["freq_hour"] is None


def audit_actions(live: LiveServer) -> list[str]:
    a = s.audit_log
    return list(
        live.query(lambda c: c.execute(select(a.c.action).order_by(a.c.id)).scalars().all())
    )


def test_operator_tenants_carriers_and_audit(live: LiveServer) -> None:
    t = live.tenant()
    live.admin(lambda c: accounts.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as op:
        r = post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303
        page = op.get("/admin/tenants")
        assert f'id="tenant-{t.id}"' in page.text
        token = csrf_of(page.text)
        assert op.post(f"/admin/tenants/{t.id}/suspend", data={}).status_code == 403
        assert send(live, t, ["+8613800138000"])[0].Code == "Ok"
        r = op.post(f"/admin/tenants/{t.id}/suspend", data={"csrf_token": token})
        assert r.status_code == 303
        error = sdk_error(send, live, t, ["+8613800138001"])
        assert error.code == "UnauthorizedOperation.RequestPermissionDeny"
        r = op.post(f"/admin/tenants/{t.id}/reactivate", data={"csrf_token": token})
        assert r.status_code == 303
        assert send(live, t, ["+8613800138002"])[0].Code == "Ok"

        # Carriers: a bad one refused, an SMPP one added (its password never shown), removed.
        data = {"csrf_token": token, "name": "bad name!", "host": "h", "port": "2775"}
        r = op.post("/admin/carriers", data=data | {"system_id": "s"})
        assert r.status_code == 400 and 'id="carrier-error"' in r.text
        data |= {"name": "cmpp1", "system_id": "sys", "password": "hunter22", "binds": "2"}
        r = op.post("/admin/carriers", data=data)
        assert r.status_code == 303
        page = op.get("/admin/carriers").text
        assert 'id="carrier-cmpp1"' in page and "hunter22" not in page
        # Routes: added, listed, removed.
        r = op.post(
            "/admin/carriers/routes",
            data={"csrf_token": token, "carriers": "cmpp1:1", "nation_code": "86",
                  "prefix": "", "sms_type": "marketing", "priority": "5"},
        )  # fmt: skip
        assert r.status_code == 303
        routes = live.query(lambda c: c.execute(select(s.routes.c.id)).scalars().all())
        route_id = max(routes)
        assert f'id="route-{route_id}"' in op.get("/admin/carriers").text
        r = op.post(f"/admin/carriers/routes/{route_id}/remove", data={"csrf_token": token})
        assert (
            r.status_code == 303 and f'id="route-{route_id}"' not in op.get("/admin/carriers").text
        )
        r = op.post("/admin/carriers/cmpp1/remove", data={"csrf_token": token})
        assert r.status_code == 303

        expected = [
            "tenant.suspend",
            "tenant.reactivate",
            "carrier.add",
            "route.add",
            "route.remove",
            "carrier.remove",
        ]
        assert audit_actions(live) == expected
        page = op.get("/admin/audit").text
        shown = re.findall(r"<code>([a-z.]+)</code>", page)
        assert shown == expected[::-1]  # newest first
        assert "root" in page and "hunter22" not in page

    # The audit log is for operators only.
    with httpx.Client(base_url=base(live)) as anon:
        r = anon.get("/admin/audit")
        assert r.status_code == 303 and r.headers["location"] == "/admin/login"


def test_audit_service_writes_in_the_callers_transaction(live: LiveServer) -> None:
    from smscloud.services.accounts import audit

    def act(conn: Connection) -> None:
        audit.record(conn, "root", "x.y", "t:1", "d")

    live.admin(act)
    assert audit_actions(live) == ["x.y"]
