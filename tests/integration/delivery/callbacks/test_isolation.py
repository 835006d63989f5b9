"""One tenant's receiver delays no one else: fair claims, lanes per destination, deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from bench.receiver import CallbackReceiver
from sqlalchemy import Connection, select, update

from smscloud.delivery.callbacks.client import PushClient
from smscloud.delivery.callbacks.pusher import PER_APP_REQUESTS, CallbackPusher, claim
from smscloud.domain.addresses import AllowedNetworks
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from smscloud.store.database import Database, run_many
from smscloud.store.messages import INSERT_MESSAGES, new_serial_no
from tests.conftest import make_settings
from tests.integration.delivery.callbacks.test_pusher import send
from tests.support.live import LiveServer
from tests.support.receivers import RawReceiver, answering, dripping, flooding, until

SHANGHAI = ZoneInfo("Asia/Shanghai")
LOOPBACK = AllowedNetworks.parse("127.0.0.0/8")
m = s.messages


def app_with(db: Database, url: str) -> int:
    """A new tenant's application whose status reports go to ``url``."""

    def make(conn: Connection) -> int:
        t = tenants.create_tenant(conn, f"T{time.time_ns()}", "enterprise", verified=True)
        app = tenants.create_app(
            conn, t.id, "a", allowed_networks=LOOPBACK, status_callback_url=url
        )
        return int(app.id)

    return db.write_sync(make)


def due_reports(db: Database, app_id: int, count: int, due_at: float) -> list[int]:
    """``count`` delivered messages of ``app_id`` whose status push is due from ``due_at``."""
    tenant = db.read_sync(
        lambda c: c.execute(select(s.applications.c.tenant_id).where(s.applications.c.id == app_id))
    ).scalar_one()
    serials = [new_serial_no(due_at) for _ in range(count)]

    def write(conn: Connection) -> list[int]:
        rows = [
            (serial, "r", tenant, app_id, f"+86139{i:08d}", "86", "CN", False, "s", 1, 2,
             "text", "k", 1, "", "", "", "", "DELIVERED", "Ok", due_at, None)
            for i, serial in enumerate(serials)
        ]  # fmt: skip
        run_many(conn, INSERT_MESSAGES, rows)
        ids = [
            int(i) for i in conn.execute(select(m.c.id).where(m.c.serial_no.in_(serials))).scalars()
        ]
        for n, row_id in enumerate(sorted(ids)):
            conn.execute(
                update(m)
                .where(m.c.id == row_id)
                .values(receipt_code="DELIVRD", callback_state=1, callback_next_at=due_at + n)
            )
        return sorted(ids)

    return db.write_sync(write)


def callback_rows(query: Any, app_id: int) -> list[tuple[int, int]]:
    """(callback_state, callback_attempts) of an application's messages."""
    q = select(m.c.callback_state, m.c.callback_attempts).where(m.c.app_id == app_id)
    return [(int(a), int(b)) for a, b in query(lambda c: c.execute(q).all())]


def test_a_claim_caps_each_application_and_skips_those_it_is_told_to(db: Database) -> None:
    busy, quiet = (app_with(db, f"http://127.0.0.1:{p}/cb") for p in (9, 10))
    now = 1_000_000.0
    backlog = due_reports(db, busy, 1500, now - 5000)
    quiet_ids = due_reports(db, quiet, 2, now - 10)
    share = PER_APP_REQUESTS * 100
    pushes = db.write_sync(lambda c: claim(c, now, 5000, SHANGHAI))
    assert [p.row_id for p in pushes] == backlog[:share] + quiet_ids
    rest = db.write_sync(lambda c: claim(c, now, 5000, SHANGHAI))
    assert [p.row_id for p in rest] == backlog[share : 2 * share]  # the others are leased
    later = now + 60  # every lease has run out
    again = db.write_sync(lambda c: claim(c, later, 5000, SHANGHAI, skip={"status": [busy]}))
    assert [p.row_id for p in again] == quiet_ids


def test_applications_take_turns_however_large_a_backlog(db: Database) -> None:
    """App X has 3,000 reports due, all older than Y's and Z's few: Y and Z are served by
    the second claim, not after X's backlog."""
    with CallbackReceiver() as rx:
        x, y, z = app_with(db, rx.url), app_with(db, rx.url), app_with(db, rx.url)
        now = [1_000_000.0]
        due_reports(db, x, 3000, now[0] - 10_000)
        ys, zs = due_reports(db, y, 2, now[0] - 10), due_reports(db, z, 3, now[0] - 5)

        async def scenario() -> list[set[int]]:
            pusher = CallbackPusher(db, SHANGHAI, allowed=LOOPBACK, clock=lambda: now[0])
            served = []
            try:
                for _ in range(2):
                    await pusher.push_once()
                    await pusher.settle()
                    served.append({r["sid"] for r in rx.statuses()})
            finally:
                await pusher.stop()
            return served

        first, second = asyncio.run(scenario())
    rows = db.read_sync(lambda c: c.execute(select(m.c.id, m.c.serial_no)).all())
    sid = {row_id: serial for row_id, serial in rows}
    assert len(first) == PER_APP_REQUESTS * 100  # X's share, all of it X's
    assert {sid[i] for i in ys + zs} <= second
    assert callback_rows(db.read_sync, x).count((1, 0)) == 3000 - PER_APP_REQUESTS * 100


def test_a_dead_destination_is_probed_once_while_it_backs_off(db: Database) -> None:
    """Two applications share a receiver that fails. Once it has failed, one push at a time
    goes to it (a probe); the other fails at once, without a request, as an attempt."""
    with RawReceiver(answering("503 Service Unavailable", b"")) as rx:
        first, second = app_with(db, rx.url), app_with(db, rx.url)
        now = [1_000_000.0]
        due_reports(db, first, 1, now[0] - 1)
        due_reports(db, second, 1, now[0] - 1)

        async def scenario() -> list[int]:
            pusher = CallbackPusher(
                db, SHANGHAI, allowed=LOOPBACK, retry_s=0.001, clock=lambda: now[0]
            )
            sent = []
            try:
                for step in (0.0, 10.0, 10.0):  # each step past every back-off so far
                    now[0] += step
                    assert await pusher.push_once() == 2
                    await pusher.settle()
                    sent.append(rx.requests)
            finally:
                await pusher.stop()
            return sent

        assert asyncio.run(scenario()) == [2, 3, 4]
    rows = callback_rows(db.read_sync, first) + callback_rows(db.read_sync, second)
    assert rows == [(1, 3), (1, 3)]


def test_a_saturated_destination_holds_back_its_applications(db: Database) -> None:
    """Apps A and B share a receiver that drips; with one connection per destination, A's push
    holds it. B's report is handed back rather than queued behind it (and B is held back from
    claims while that lasts); C's, elsewhere, goes at once."""
    with RawReceiver(dripping(0.5)) as drip, CallbackReceiver() as normal:
        a_app, b_app = app_with(db, drip.url), app_with(db, drip.url)
        c_app = app_with(db, normal.url)
        now = [1_000_000.0]
        due_reports(db, a_app, 1, now[0] - 1)
        (b_id,) = due_reports(db, b_app, 1, now[0] + 5)
        due_reports(db, c_app, 1, now[0] + 5)

        async def scenario() -> tuple[int, int]:
            client = PushClient(LOOPBACK, deadline=60.0, per_destination=1)
            pusher = CallbackPusher(db, SHANGHAI, client=client, clock=lambda: now[0])
            try:
                first = await pusher.push_once()  # A's: the receiver starts dripping
                await asyncio.to_thread(until, lambda: drip.requests == 1)
                now[0] += 10
                second = await pusher.push_once()
                await asyncio.to_thread(until, lambda: len(normal.statuses()) == 1)
                return first, second
            finally:
                await pusher.stop()

        assert asyncio.run(scenario()) == (1, 1)  # A's, then C's alone
        assert drip.requests == 1  # B's report was handed back, not queued behind A's
    q = select(m.c.callback_state, m.c.callback_attempts).where(m.c.id == b_id)
    assert tuple(db.read_sync(lambda c: c.execute(q).one())) == (1, 0)  # due, never attempted


@pytest.fixture
def live(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, database_url, callback_retry_s=0.2)) as server:
        yield server


def test_a_dripping_receiver_delays_no_one_else(live: LiveServer) -> None:
    """App X's receiver drips a byte every 2 s; app Y's reports arrive meanwhile."""
    live.platform.callbacks.client.deadline = 60.0  # X's push stays open the whole test
    with RawReceiver(dripping(2.0)) as drip, CallbackReceiver() as normal:
        x = live.tenant(status_callback_url=drip.url)
        y = live.tenant(status_callback_url=normal.url)
        send(live, x, ["+8613800138000", "+8613800138001"])
        until(lambda: drip.requests >= 1)
        out = send(live, y, ["+8613800138000", "+8613800138001", "+8613800138002"])
        until(lambda: len(normal.statuses()) == 3)
        assert {r["sid"] for r in normal.statuses()} == {o.SerialNo for o in out}
        # ...while X's receiver is still dripping the answer to its first push.
        assert drip.open >= 1 and drip.closed_by_client == 0
        assert all(state == 1 for state, _ in callback_rows(live.query, x.app_id))


def test_a_dripping_push_fails_at_its_deadline(live: LiveServer) -> None:
    live.platform.callbacks.client.deadline = 0.5
    with RawReceiver(dripping(0.1)) as drip:
        x = live.tenant(status_callback_url=drip.url)
        send(live, x, ["+8613800138000"])
        until(lambda: callback_rows(live.query, x.app_id)[0][1] >= 1)
        assert callback_rows(live.query, x.app_id)[0][0] == 1  # failed, to be tried again
        until(lambda: drip.closed_by_client >= 1)


def test_an_oversized_answer_fails_the_push(live: LiveServer) -> None:
    """``{"result": 0, "pad": "xxx…"}`` of 16 MB is not read whole, so it is not accepted."""
    total = 16 * 1024 * 1024
    with RawReceiver(flooding(total)) as rx:
        x = live.tenant(status_callback_url=rx.url)
        send(live, x, ["+8613800138000"])
        until(lambda: callback_rows(live.query, x.app_id)[0] in ((1, 1), (2, 0)))
        assert callback_rows(live.query, x.app_id)[0][0] == 1  # failed, not pushed (2)
        until(lambda: rx.closed_by_client >= 1)
        assert rx.bytes_sent < total
