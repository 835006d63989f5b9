"""The ledger records every grant, debit and refund, and ``billing check`` proves it."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from smscloud.services.billing import ledger, wallet
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.delivery.callbacks.test_pusher import send
from tests.support.live import LiveServer


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, database_url)) as server:
        yield server


def _kinds(live: LiveServer, tenant: int) -> dict[str, int]:
    lg = s.ledger
    rows = live.query(
        lambda c: c.execute(
            select(lg.c.kind, lg.c.units).where(lg.c.tenant_id == tenant).order_by(lg.c.id)
        ).all()
    )
    out: dict[str, int] = {}
    for kind, units in rows:
        out[kind] = out.get(kind, 0) + int(units)
    return out


def test_grants_debits_and_refunds_are_entries_that_agree(live: LiveServer) -> None:
    t = live.tenant(units=20)
    # 0000003 is refused at submission: billed at acceptance, then refunded.
    out = send(live, t, ["+8613800138000", "+8613800138001", "+8613800000003"])
    assert [o.Code for o in out] == ["Ok"] * 3
    live.wait_final([o.SerialNo for o in out])
    assert _kinds(live, t.id) == {"grant": 20, "debit": -3, "refund": 1}
    assert live.query(lambda c: ledger.balances(c, t.id)) == {"granted": 20, "used": 2, "left": 18}
    assert live.query(ledger.check) == []

    package = live.query(lambda c: c.execute(select(s.packages.c.id)).scalar_one())
    refunded = live.admin(lambda c: wallet.refund_package(c, package))
    assert refunded["refunded_units"] == 18
    assert live.query(lambda c: ledger.balances(c, t.id)) == {"granted": 2, "used": 2, "left": 0}
    assert live.query(ledger.check) == []
    later = send(live, t, ["+8613800138002"])
    assert later[0].Code == "FailedOperation.InsufficientBalanceInSmsPackage"


def test_the_check_finds_a_package_that_disagrees(live: LiveServer) -> None:
    t = live.tenant(units=10)
    send(live, t, ["+8613800138000"])
    p = s.packages
    live.admin(lambda c: c.execute(update(p).values(used=p.c.used + 1)))
    problems = live.query(ledger.check)
    assert len(problems) == 2 and all(x.startswith("package ") for x in problems)
    assert "but the ledger debits 1" in problems[0]
    assert "but billed messages hold 1" in problems[1]


def test_the_check_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    env = {"SMSCLOUD_DATABASE_URL": url, "SMSCLOUD_DATA_DIR": str(tmp_path)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "smscloud.cli.main", "admin", *args],
            env=env | {"PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )

    tenant = json.loads(
        cli("tenant", "create", "--name", "T", "--type", "enterprise", "--json").stdout
    )["id"]
    assert cli("package", "grant", "--tenant", str(tenant), "--units", "5").returncode == 0
    clean = cli("billing", "check")
    assert clean.returncode == 0 and "1 packages checked: clean" in clean.stdout
    with sqlite3.connect(tmp_path / "x.db") as db:
        db.execute("UPDATE packages SET amount = amount + 1")
    dirty = cli("billing", "check", "--json")
    assert dirty.returncode == 1
    assert json.loads(dirty.stdout)["problems"] == [
        f"package 1 (tenant {tenant}): amount 6 but the ledger grants 5"
    ]


def test_billing_commands_from_the_cli(tmp_path: Path) -> None:
    """The operator's way through: an offer, an order paid, alarms and limits, a clean check."""
    env = {
        "SMSCLOUD_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "SMSCLOUD_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }

    def cli(*args: str) -> Any:
        done = subprocess.run(
            [sys.executable, "-m", "smscloud.cli.main", "admin", *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    tenant = cli("tenant", "create", "--name", "T", "--type", "enterprise", "--verified")["id"]
    offer = cli("offer", "add", "--name", "10k", "--units", "10000", "--price", "450",
                "--validity-days", "365")  # fmt: skip
    assert offer["price_yuan"] == "450.00"
    order = cli("order", "create", "--tenant", str(tenant), "--offer", str(offer["id"]))
    assert order["state"] == "pending"
    paid = cli("order", "pay", "--id", str(order["id"]))
    assert paid["state"] == "paid" and paid["package_id"]
    alarm = cli("tenant", "alarm", "--tenant", str(tenant), "--threshold", "100",
                "--email", "ops@acme.test", "--phone", "13800138000")  # fmt: skip
    assert alarm["phones"] == ["+8613800138000"]
    app = cli("app", "create", "--tenant", str(tenant), "--name", "a")["sdk_app_id"]
    limits = cli("app", "limits", "--app", app, "--daily", "1000", "--international", "10")
    assert (limits["daily"], limits["mainland"], limits["international"]) == (1000, 0, 10)
    check = cli("billing", "check")
    assert check == {"packages": 1, "clean": True, "problems": []}
