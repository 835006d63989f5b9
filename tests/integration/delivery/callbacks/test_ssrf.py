"""Callbacks cannot reach the operator's own network: refused when saved (console, CLI,
services), refused again at connect time (pusher and the console's test push)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from smscloud.domain.addresses import NO_NETWORKS
from smscloud.domain.errors import RuleViolation
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import base, csrf_of, login
from tests.integration.console.test_settings import app_row, user
from tests.integration.delivery.callbacks.test_isolation import callback_rows
from tests.integration.delivery.callbacks.test_pusher import send
from tests.support.live import LiveServer
from tests.support.receivers import RawReceiver, answering, until

SECRET = b'{"result": 0, "AccessKeyId": "AKIDsecretFromTheMetadataService"}'
# What a tenant might type to reach the operator's network.
INSIDE = [
    ("http://169.254.169.254/latest/meta-data/", "link-local address (169.254.169.254)"),
    ("http://10.1.2.3:8080/cb", "private address (10.1.2.3)"),
    ("http://127.0.0.1:8080/cb", "loopback address (127.0.0.1)"),
    ("http://[::1]:8080/cb", "loopback address (::1)"),
    ("http://[::ffff:127.0.0.1]/cb", "loopback address"),
    ("http://localhost:8080/cb", "loopback address (127.0.0.1)"),
    ("http://2130706433/cb", "unusual form"),
    ("http://0x7f.1/cb", "unusual form"),
    ("http://example.com@127.0.0.1/cb", "user name or password"),
    ("gopher://127.0.0.1:6379/_", "must start with http:// or https://"),
]


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[LiveServer]:
    """A server with the default policy: no network re-opened."""
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'ssrf.db'}",
        callback_allowed_networks=NO_NETWORKS,
        callback_retry_s=0.2,
    )
    with LiveServer(settings) as server:
        yield server


def set_url(live: LiveServer, app_id: int, url: str, column: str = "status_callback_url") -> None:
    """A URL stored as it was before these rules (or by a DNS name that later changed)."""
    a = s.applications
    live.admin(lambda c: c.execute(update(a).where(a.c.id == app_id).values({column: url})))
    live.platform.catalog.forget()


def test_urls_into_the_operators_network_are_refused_when_saved(closed: LiveServer) -> None:
    t = user(closed, "ann@example.com")
    settings = f"/console/apps/{t.sdk_app_id}/settings"
    with httpx.Client(base_url=base(closed)) as client:
        login(client, "ann@example.com")
        token = csrf_of(client.get(settings).text)
        data = {"csrf_token": token, "status_callback_url": INSIDE[0][0], "reply_callback_url": ""}
        r = client.post(settings + "/callbacks", data=data)  # the page's language: Chinese
        assert r.status_code == 400 and "回调地址指向链路本地地址（169.254.169.254）" in r.text
        client.get(settings + "?lang=en")  # kept in a cookie: the English words name the rule
        for url, message in INSIDE:
            data = {"csrf_token": token, "status_callback_url": url, "reply_callback_url": ""}
            r = client.post(settings + "/callbacks", data=data)
            assert r.status_code == 400 and message in r.text, url
            assert app_row(closed, t.sdk_app_id)["status_callback_url"] == ""
    for url, message in INSIDE:
        with pytest.raises(RuleViolation, match=message.replace("(", r"\(").replace(")", r"\)")):
            closed.admin(
                lambda c, url=url: tenants.create_app(c, t.id, "b", reply_callback_url=url)
            )


def test_the_cli_refuses_them_unless_the_operator_allows_the_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCLOUD_")}
    env |= {"SMSCLOUD_DATA_DIR": str(tmp_path), "SMSCLOUD_LOG_LEVEL": "warning"}

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "smscloud.cli.main", "admin", *args],
            env=env | extra,
            capture_output=True,
            text=True,
            check=False,
        )

    made = cli("tenant", "create", "--name", "T", "--type", "enterprise", "--json")
    tenant = made.stdout.split('"id": ')[1].split(",")[0]
    create = ("app", "create", "--tenant", tenant, "--name", "a")
    refused = cli(*create, "--status-callback", "http://10.1.2.3:8080/cb")
    assert refused.returncode == 1
    assert (
        "private address (10.1.2.3)" in refused.stderr and "InvalidParameterValue" in refused.stderr
    )
    allowed = cli(
        *create,
        "--status-callback",
        "http://10.1.2.3:8080/cb",
        SMSCLOUD_CALLBACK_ALLOWED_NETWORKS="10.1.0.0/16",
    )
    assert allowed.returncode == 0, allowed.stderr
    malformed = cli(*create, SMSCLOUD_CALLBACK_ALLOWED_NETWORKS="10.1.2.3/16")
    assert malformed.returncode != 0 and "SMSCLOUD_CALLBACK_ALLOWED_NETWORKS" in malformed.stderr


def test_the_test_push_sends_nothing_to_a_blocked_address(closed: LiveServer) -> None:
    t = user(closed, "ann@example.com")
    settings = f"/console/apps/{t.sdk_app_id}/settings"
    with RawReceiver(answering("200 OK", SECRET)) as rx, httpx.Client(base_url=base(closed)) as c:
        login(c, "ann@example.com")
        token = csrf_of(c.get(settings).text)
        for url in (rx.url, f"http://localhost:{rx.port}/", f"http://[::ffff:127.0.0.1]:{rx.port}"):
            set_url(closed, t.app_id, url)
            r = c.post(settings + "/test-push", data={"csrf_token": token, "kind": "status"})
            assert r.status_code == 200 and 'id="push-blocked"' in r.text, url
            assert "本机回环地址" in r.text  # a loopback address, in the page's words
            assert "AKIDsecret" not in r.text and 'id="push-status"' not in r.text
        assert rx.requests == 0


def test_the_test_push_shows_a_short_excerpt_of_an_allowed_answer(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")
    page = b"<html>" + b"x" * 5000 + b"</html>"
    with (
        LiveServer(settings) as live,
        RawReceiver(answering("500 Internal Server Error", page)) as rx,
        httpx.Client(base_url=base(live)) as client,
    ):
        t = user(live, "ann@example.com")
        set_url(live, t.app_id, rx.url)
        path = f"/console/apps/{t.sdk_app_id}/settings"
        login(client, "ann@example.com")
        token = csrf_of(client.get(path).text)
        r = client.post(path + "/test-push", data={"csrf_token": token, "kind": "status"})
        assert r.status_code == 200 and 'id="push-status">500<' in r.text
        assert 'id="push-verdict"' in r.text and "HTTP 500" in r.text
        shown = r.text.split('id="push-body">')[1].split("</code>")[0]
        assert shown.startswith("&lt;html&gt;xxx") and len(shown) <= 300 + len("&lt;html&gt;")


def test_pushes_to_blocked_addresses_fail_with_a_logged_reason(
    closed: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    """URLs saved before these rules, or names that resolve into the network, are refused
    at connect time: failed attempts, retried and given up like any other, nothing sent."""
    with RawReceiver(answering("200 OK", SECRET)) as rx:
        literal, named = closed.tenant(), closed.tenant()
        set_url(closed, literal.app_id, rx.url)
        set_url(closed, named.app_id, f"http://localhost:{rx.port}/cb")
        send(closed, literal, ["+8613800138000"])
        send(closed, named, ["+8613800138000"])
        for t in (literal, named):
            until(lambda t=t: callback_rows(closed.query, t.app_id)[0][1] >= 2)
            assert callback_rows(closed.query, t.app_id)[0][0] == 1  # failed, to be retried
        assert rx.requests == 0
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert any(f"127.0.0.1:{rx.port}" in m and "loopback address" in m for m in refused)
    assert any(f"localhost:{rx.port}" in m and "loopback address" in m for m in refused)
