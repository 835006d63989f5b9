"""Callbacks cannot reach the operator's own network: refused when saved (console, CLI,
services)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from smscloud.domain.addresses import NO_NETWORKS
from smscloud.domain.errors import RuleViolation
from smscloud.services import accounts
from tests.conftest import make_settings
from tests.integration.test_console_http import base, csrf_of, login
from tests.integration.test_console_settings import app_row, user
from tests.support.live import LiveServer

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


def test_urls_into_the_operators_network_are_refused_when_saved(closed: LiveServer) -> None:
    t = user(closed, "ann@example.com")
    settings = f"/console/apps/{t.sdk_app_id}/settings"
    with httpx.Client(base_url=base(closed)) as client:
        login(client, "ann@example.com")
        token = csrf_of(client.get(settings).text)
        for url, message in INSIDE:
            data = {"csrf_token": token, "status_callback_url": url, "reply_callback_url": ""}
            r = client.post(settings + "/callbacks", data=data)
            assert r.status_code == 400 and message in r.text, url
            assert app_row(closed, t.sdk_app_id)["status_callback_url"] == ""
    for url, message in INSIDE:
        with pytest.raises(RuleViolation, match=message.replace("(", r"\(").replace(")", r"\)")):
            closed.admin(
                lambda c, url=url: accounts.create_app(c, t.id, "b", reply_callback_url=url)
            )


def test_the_cli_refuses_them_unless_the_operator_allows_the_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMSCLOUD_")}
    env |= {"SMSCLOUD_DATA_DIR": str(tmp_path), "SMSCLOUD_LOG_LEVEL": "warning"}

    def cli(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "smscloud.cli", "admin", *args],
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
