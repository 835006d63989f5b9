"""Secrets at rest: everything the platform writes under its data directory is the service
user's alone (directories 0700, files 0600), whatever the umask it was started with.

The tests walk the whole data directory rather than checking a list of known files, so a file
kind added later without care fails them too.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from smscloud.carriers.smsc.runner import open_journal
from smscloud.cli import postpaid
from smscloud.cli.demo_data import CREDENTIALS_FILE, seed_demo
from smscloud.config import Settings
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form, signup
from tests.integration.console.test_identity import JPEG, apply
from tests.integration.console.test_registry import add_sign, tenant_user
from tests.integration.services.billing.test_postpaid import _parser
from tests.support.live import LiveServer, free_port
from tests.support.process import ServeProcess


@pytest.fixture(params=[0o000, 0o022], ids=["umask000", "umask022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The test runs under this umask (a permissive one and the usual one), restored after."""
    old = os.umask(request.param)
    try:
        yield int(request.param)
    finally:
        os.umask(old)


def loose_modes(root: Path) -> dict[str, str]:
    """Every path under ``root`` (and ``root``) whose mode is not 0700 (dirs) / 0600 (files)."""
    found: dict[str, str] = {}
    for path in [root, *root.rglob("*")]:
        try:
            info = path.lstat()
        except FileNotFoundError:  # a temporary file that went while we walked
            continue
        want = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        if stat.S_IMODE(info.st_mode) != want:
            found[str(path.relative_to(root))] = oct(stat.S_IMODE(info.st_mode))
    return found


def names(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_every_file_the_platform_writes_is_private(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data"
    settings = make_settings(tmp_path, "", data_dir=data)  # the default SQLite file
    with LiveServer(settings) as live:
        live.admin(lambda c: seed_demo(c, data))
        # A tenant's identity document and a signature's proof image, over HTTP.
        with httpx.Client(base_url=base(live)) as client:
            assert signup(client, "ann@example.com", account_type="individual").status_code == 303
            assert login(client, "ann@example.com").status_code == 303
            assert apply(client, document=("me.jpg", JPEG, "image/jpeg")).status_code == 303
        tenant_user(live, "bob@example.com", contact_emails="ops@example.com")
        with httpx.Client(base_url=base(live)) as client:
            login(client, "bob@example.com")
            assert add_sign(client, "安科技").status_code == 303
        # The operator's approval mails the tenant: with no SMTP server, into the outbox.
        live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
        with httpx.Client(base_url=base(live)) as op:
            r = post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
            assert r.status_code == 303
            i = s.identities
            ident = live.query(lambda c: c.execute(select(i.c.id)).scalar_one())
            token = csrf_of(op.get("/admin/identities").text)
            r = op.post(f"/admin/identities/{ident}/approve", data={"csrf_token": token})
            assert r.status_code == 303
        wait_for(lambda: any((data / "outbox").glob("*.eml")), "the approval email")
        # The simulator's undelivered receipts and an operator's exports.
        open_journal(data / "smsc-sim.state").close()
        export = postpaid.actions(
            _parser().parse_args(["price", "export", "--out", str(data / "exports" / "p.csv")]),
            Settings(data_dir=data),
        )[("price", "export")]
        live.admin(export)

        written = names(data)
        for expected in (
            "smscloud.db",
            "smscloud.db-wal",
            "smscloud.db-shm",
            "console-secret",
            CREDENTIALS_FILE,
            "smsc-sim.state",
            "exports/p.csv",
        ):
            assert expected in written
        for folder in ("uploads/identity", "uploads/signs", "outbox"):
            assert any(name.startswith(folder + "/") for name in written), folder
        assert loose_modes(data) == {}


def test_a_loose_data_directory_is_tightened_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    with LiveServer(make_settings(tmp_path, "", data_dir=data)):
        assert stat.S_IMODE(data.stat().st_mode) == 0o700


@pytest.mark.slow
def test_smscloud_serve_keeps_its_data_private(
    tmp_path: Path, umask: int, processes: Callable[..., ServeProcess]
) -> None:
    """The real ``serve`` with its worker and simulator children, demo seed included."""
    data = tmp_path / "data"
    serve = processes(data, free_port())
    serve.start()
    creds = serve.credentials()
    with httpx.Client(base_url=f"http://{serve.endpoint}") as client:
        r = login(client, creds["tenant"]["email"], creds["tenant"]["password"])
        assert r.status_code == 303
    running = names(data)
    assert {"smscloud.db", "smscloud.db-wal", "console-secret", CREDENTIALS_FILE} <= running
    assert loose_modes(data) == {}
    assert {"smsc-sim.state", "smsc-sim.account"} <= running  # its journal and account
    serve.stop()
    assert loose_modes(data) == {}
