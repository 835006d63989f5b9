"""Bind slots of a carrier are leased through the database: never bound by two workers."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select
from tencentcloud.sms.v20210111 import models

from smscloud.carriers.smsc import SmscConfig, SmscSimulator
from smscloud.carriers.smsc.simulator import _BOUND
from smscloud.delivery import slots
from smscloud.services import carrier_setup
from smscloud.store import schema as s
from smscloud.store.database import Database
from tests.integration.test_scale_out import _client
from tests.peers.simulator import SimulatorThread
from tests.support import postgres
from tests.support.live import free_port
from tests.support.process import ServeProcess


def _alive(conn: Connection, worker: str, now: float) -> None:
    h = s.carrier_health
    conn.execute(
        insert(h).values(
            carrier="c", worker=worker, updated_at=now, binds=3, bound=0, window_in_use=0,
            window_size=0, submits_per_s=0.0, reconnects=0, errors="{}",
        )
    )  # fmt: skip


def test_workers_share_the_slots_and_take_over_a_dead_ones(db: Database) -> None:
    now = 1_000_000.0

    def sync(worker: str, at: float) -> set[int]:
        return db.write_sync(lambda c: slots.sync(c, "c", 3, worker, at))

    # Alone, a worker takes one slot per round up to all three.
    assert [len(sync("a", now + i)) for i in range(4)] == [1, 2, 3, 3]
    # A second worker appears: no slot is free, so it waits while the first gives one back.
    db.write_sync(lambda c: _alive(c, "a", now + 4))
    db.write_sync(lambda c: _alive(c, "b", now + 4))
    assert sync("b", now + 4) == set()
    assert len(sync("a", now + 5)) == 2
    b = sync("b", now + 6)
    assert len(b) == 1
    a = sync("a", now + 7)
    assert len(a) == 2 and not a & b  # shared, never twice
    # ``a`` stalls past its leases: ``b`` takes over its slots, and ``a`` learns it lost them.
    later = now + 7 + slots.LEASE_SECONDS + 1
    db.write_sync(
        lambda c: c.execute(s.carrier_health.delete().where(s.carrier_health.c.worker == "a"))
    )
    assert [len(sync("b", later + i)) for i in range(3)] == [2, 3, 3]
    assert sync("a", later + 3) == set()
    rows = db.read_sync(slots.holders)
    assert [(r[1], r[2]) for r in rows] == [(0, "b"), (1, "b"), (2, "b")]
    # A clean stop frees them at once.
    db.write_sync(lambda c: slots.release(c, "b", ["c"]))
    assert {r[2] for r in db.read_sync(slots.holders)} == {""}


@pytest.mark.slow
def test_two_workers_never_bind_a_slot_twice(
    processes: Callable[..., ServeProcess], tmp_path: Path, pg_cluster: postgres.Cluster
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    # The SMSC refuses a fourth bind, so a slot bound twice would show as a refused bind.
    with SimulatorThread(SmscSimulator(SmscConfig(receipt_delay=0.02, max_binds=3))) as smsc:
        api = processes(tmp_path / "a", free_port(), url, command="api")
        workers = [
            processes(tmp_path / f"w{i}", free_port(), url, command="worker") for i in range(2)
        ]
        for d in ("a", "w0", "w1"):
            (tmp_path / d).mkdir()
        peak = 0
        watching = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not watching.is_set():
                conns = list(smsc.sim.connections)
                peak = max(peak, sum(1 for c in conns if c.session.state in _BOUND))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        db = Database(url)
        try:
            api.start()  # migrates the empty database and seeds the demo tenant
            db.start()
            config = {"host": "127.0.0.1", "port": smsc.sim.port, "system_id": "smscloud"}
            config |= {"password": "password", "binds": 3, "reconnect_min": 0.05}
            db.write_sync(lambda c: carrier_setup.add_carrier(c, "sim", "smpp", config))
            for w in workers:
                w.start()
            creds = api.credentials()
            serials: list[str] = []
            for batch in range(5):
                req = models.SendSmsRequest()
                req.from_json_string(
                    json.dumps(
                        {
                            "PhoneNumberSet": [f"+86139{batch:04d}{j:04d}" for j in range(10, 50)],
                            "SmsSdkAppId": creds["sdk_app_id"],
                            "TemplateId": creds["template_id"],
                            "SignName": creds["sign_name"],
                            "TemplateParamSet": ["1234", "5"],
                        }
                    )
                )
                out = _client(api.endpoint, creds).SendSms(req).SendStatusSet
                serials += [o.SerialNo for o in out]
                time.sleep(0.5)
            m = s.messages
            deadline = time.time() + 30
            states: dict[str, str] = {}
            while time.time() < deadline:
                states = dict(
                    db.read_sync(lambda c: c.execute(select(m.c.serial_no, m.c.state)).all())
                )
                if set(states.values()) == {"DELIVERED"} and len(states) == len(serials):
                    break
                time.sleep(0.2)
            # Both workers came to hold slots (the second takes its share within a few rounds).
            deadline = time.time() + 20
            holders: set[str] = set()
            while len(holders) < 2 and time.time() < deadline:
                holders = {r[2] for r in db.read_sync(slots.holders) if r[2]}
                time.sleep(0.2)
        finally:
            db.close()
            watching.set()
            watcher.join()
            for w in workers:
                w.stop()
            api.stop()
    assert len(states) == 200 and set(states.values()) == {"DELIVERED"}
    assert len(holders) == 2
    assert 1 <= peak <= 3
    refused = [n for n in range(2) if "ESME_RBINDFAIL" in _log(tmp_path, workers[n])]
    assert refused == []


def _log(tmp_path: Path, proc: ServeProcess) -> str:
    return (proc.data_dir.parent / f"serve-{proc.port}.log").read_text()
