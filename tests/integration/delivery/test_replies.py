"""Replies over real SMPP: the handset's number is read by its TON/NPI and the carrier's
country, and a reply that answers no message is kept and shown to the operator (CLI,
console, /metrics), never dropped. The carrier's country is set by ``admin carrier`` and
the console, checked as it is set."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tencentcloud.sms.v20210111 import models

from smscloud.cli import main
from smscloud.services import carrier_setup as carriers
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade
from tests.conftest import make_settings
from tests.integration.carriers.smpp.test_end_to_end import send
from tests.integration.console.test_http import PASSWORD, base, csrf_of, post_form
from tests.peers.simulator import SimulatorThread
from tests.support.live import LiveServer, Tenant

pytestmark = pytest.mark.slow
SENDER = "10690088"
Smpp = tuple[LiveServer, SimulatorThread, str]


@pytest.fixture
def smpp(tmp_path: Path, database_url: str) -> Iterator[Smpp]:
    """The platform with one SMPP carrier ``sim`` (default country: 86) on the simulator."""
    with SimulatorThread() as smsc:
        db = Database(database_url)
        try:
            upgrade(db.engine)
            with db.connect() as conn:
                settings = {"port": smsc.sim.port, "system_id": "smscloud", "password": "password"}
                carriers.add_carrier(conn, "sim", "smpp", settings | {"source_addr": SENDER})
                carriers.add_route(conn, "sim", nation_code="86")
        finally:
            db.close()
        with LiveServer(make_settings(tmp_path, database_url)) as live:
            yield live, smsc, database_url


def mo(smsc: SimulatorThread, source: str, text: str, ton: int, npi: int = 1) -> None:
    """A handset's message, as the SMSC delivers it (on the SMSC's own event loop)."""

    async def inject() -> None:
        smsc.sim.inject_mo(source, SENDER, text, source_ton=ton, source_npi=npi)

    asyncio.run_coroutine_threadsafe(inject(), smsc.loop).result(5)


def poll(fetch: Callable[[], list[Any]], count: int, within: float = 15.0) -> list[Any]:
    deadline = time.monotonic() + within
    got: list[Any] = []
    while len(got) < count:
        assert time.monotonic() < deadline, got
        got += fetch()
        time.sleep(0.05)
    return got


def pulled_replies(live: LiveServer, t: Tenant) -> Callable[[], list[Any]]:
    def fetch() -> list[Any]:
        req = models.PullSmsReplyStatusRequest()
        req.from_json_string(json.dumps({"SmsSdkAppId": t.sdk_app_id, "Limit": 10}))
        return list(live.client(t).PullSmsReplyStatus(req).PullSmsReplyStatusSet)

    return fetch


def test_a_national_number_reply_reaches_the_tenant_that_wrote_to_it(smpp: Smpp) -> None:
    live, smsc, _ = smpp
    t = live.tenant()
    [out] = send(live, t, ["+8613800138004"], ["1234"])
    assert live.wait_final([out.SerialNo], timeout=30) == {out.SerialNo: "DELIVERED"}
    # The SMSC writes the handset as a national number (TON 2), without the country code.
    mo(smsc, "13800138004", "好的", ton=2)
    mo(smsc, "+8613800138004", "谢谢", ton=0, npi=0)
    replies = poll(pulled_replies(live, t), 2)
    assert sorted((r.PhoneNumber, r.ReplyContent) for r in replies) == [
        ("+8613800138004", "好的"),
        ("+8613800138004", "谢谢"),
    ]


def test_a_reply_that_answers_no_message_is_kept_and_shown(
    smpp: Smpp, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    live, smsc, database_url = smpp
    mo(smsc, "8613900000042", "who is this?", ton=1)  # nobody wrote to this number
    mo(smsc, "Alipay", "alphanumeric", ton=5, npi=0)  # not a phone number at all
    u = s.unmatched_replies

    def stored() -> set[tuple[str, str, str, str]]:
        rows = live.query(lambda c: c.execute(select(u)).all())
        return {(r.carrier, r.phone, r.destination, r.content) for r in rows}

    poll(lambda: list(stored()), 2)
    assert stored() == {
        ("sim", "+8613900000042", SENDER, "who is this?"),
        ("sim", "Alipay", SENDER, "alphanumeric"),
    }
    assert live.query(lambda c: c.execute(select(s.replies)).all()) == []
    # An SMSC may deliver an MO again when our answer was late (SMPP §2.7): count the rows.
    kept = live.query(lambda c: c.execute(select(func.count()).select_from(u)).scalar_one())

    # The operator sees them: CLI ...
    monkeypatch.setenv("SMSCLOUD_DATABASE_URL", database_url)
    assert main.main(["admin", "reply", "unmatched", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == kept
    assert {(r["phone"], r["content"]) for r in listed} == {
        ("+8613900000042", "who is this?"),
        ("Alipay", "alphanumeric"),
    }
    assert main.main(["admin", "reply", "unmatched", "--limit", "1"]) == 0
    assert capsys.readouterr().out.count("content=") == 1
    # ... the console ...
    live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as op:
        post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
        page = op.get("/admin/carriers").text
    assert page.count('class="unmatched-reply"') == kept and "who is this?" in page
    # ... and /metrics, counted in the transactions that kept them.
    metrics = httpx.get(f"{base(live)}/metrics").text
    assert f"smscloud_replies_unmatched_total {kept}" in metrics.splitlines()


def test_the_carriers_country_is_set_and_checked_by_cli_and_console(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    monkeypatch.setenv("SMSCLOUD_DATABASE_URL", url)

    def country(name: str) -> str | None:
        c = s.carriers
        with LiveDb(url) as db:
            raw = db.read_sync(
                lambda conn: conn.execute(select(c.c.settings).where(c.c.name == name)).scalar()
            )
        return json.loads(raw).get("nation_code") if raw else None

    add = ["admin", "carrier", "add", "--name", "uk", "--system-id", "x"]
    assert main.main([*add, "--country", "44"]) == 0
    assert country("uk") == "44"
    assert main.main(["admin", "carrier", "set", "--name", "uk", "--country", "852"]) == 0
    assert country("uk") == "852"
    capsys.readouterr()
    for bad in ("999", "+44", "UK"):
        assert main.main(["admin", "carrier", "set", "--name", "uk", "--country", bad]) == 1
        assert "not a country calling code" in capsys.readouterr().err
    assert country("uk") == "852"  # unchanged
    assert main.main([*add[:4], "fr", "--system-id", "x", "--country", "0"]) == 1
    assert country("fr") is None  # not added
    assert main.main(["admin", "carrier", "set", "--name", "nope", "--country", "44"]) == 1
    assert "no carrier named nope" in capsys.readouterr().err
    assert (
        main.main(["admin", "carrier", "set", "--name", "uk", "--setting", "nation_code=33"]) == 0
    )
    assert country("uk") == "33"

    with LiveServer(make_settings(tmp_path, url, delivery="none")) as live:
        live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
        with httpx.Client(base_url=base(live)) as op:
            post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
            token = csrf_of(op.get("/admin/carriers").text)
            r = op.post(
                "/admin/carriers/uk/country", data={"csrf_token": token, "nation_code": "7"}
            )
            assert r.status_code == 303
            bad = {"csrf_token": token, "nation_code": "86x"}
            r = op.post("/admin/carriers/uk/country", data=bad)
            assert r.status_code == 400 and "not a country calling code" in r.text
            r = op.post(
                "/admin/carriers/none/country", data={"csrf_token": token, "nation_code": "7"}
            )
            assert r.status_code == 404
            form = {"csrf_token": token, "name": "jp", "host": "h", "port": "2775",
                    "system_id": "s", "password": "p", "nation_code": "81"}  # fmt: skip
            assert op.post("/admin/carriers", data=form).status_code == 303
            r = op.post("/admin/carriers", data=form | {"name": "kr", "nation_code": "082"})
            assert r.status_code == 400 and 'id="carrier-error"' in r.text
    assert (country("uk"), country("jp"), country("kr")) == ("7", "81", None)


class LiveDb:
    """A Database opened for a few reads and closed again."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    def __enter__(self) -> Database:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()
