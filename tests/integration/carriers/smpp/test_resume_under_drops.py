"""Long messages over real SMPP when binds drop between their parts.

The SMSC must take each part exactly once, all under one concatenation reference, whatever
drops: the platform resends only the parts the SMSC has not taken, in this worker or in
another one started later on the same database, and the message ends delivered and billed
once. ``parts_resent`` (in /metrics) stays 0.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from smscloud.carriers.smpp import SmppCarrier
from smscloud.carriers.smpp.config import SmppConfig
from smscloud.carriers.smsc import (
    DropsAfterAccepting,
    DropsAfterFirstPart,
    SmscConfig,
    SmscConnection,
    SmscSimulator,
    Submitted,
)
from smscloud.delivery import counters
from smscloud.delivery.dispatcher import Dispatcher
from smscloud.platform import Platform
from smscloud.protocols.smpp import CommandStatus, Pdu
from smscloud.protocols.smpp.udh import ESM_UDHI, Part, concat_of
from smscloud.services.accounts import tenants
from smscloud.services.billing import ledger, wallet
from smscloud.services.sending.sms import SendRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.peers.simulator import SimulatorThread
from tests.support.live import FINAL, approved_sign, approved_template

pytestmark = pytest.mark.slow
FAST = SmscConfig(receipt_delay=0.01)
# 【签名】 + 166 characters, not all GSM: three UCS-2 parts of 67 (billed as 3).
TEMPLATE = "您的订单{1}已发货，" + "感谢您的惠顾与支持" * 17
PARTS = 3


@dataclass
class Seen:
    """What the SMSC took of the messages to one number."""

    refs: set[int]
    parts: list[int]  # part numbers, once per acceptance


def accepted(sim: SmscSimulator) -> dict[str, Seen]:
    out: dict[str, Seen] = defaultdict(lambda: Seen(set(), []))
    for rec in list(sim.submitted):
        if rec.status != 0:
            continue  # never answered (the connection was closing) or refused: not taken
        pdu = rec.pdu
        part = Part(
            short_message=pdu.short_message,
            data_coding=pdu.data_coding,
            esm_class=pdu.esm_class & ESM_UDHI,
            tlvs=pdu.tlvs,
        )
        info = concat_of(part)
        assert info is not None and info[1] == PARTS
        seen = out[pdu.destination_addr]
        seen.refs.add(info[0])
        seen.parts.append(info[2])
    return out


def carrier(port: int) -> SmppCarrier:
    config = SmppConfig(
        system_id="smscloud",
        password="password",
        port=port,
        # A part whose answer is late is not known to be taken, and goes again: generous, so
        # a loaded machine never makes that happen here.
        response_timeout=30.0,
        bind_wait=0.5,
        reconnect_min=0.02,
        reconnect_max=0.1,
    )
    return SmppCarrier("sim", config)


def platform(tmp_path: Path, database_url: str, port: int, **dispatch: float) -> Platform:
    smpp = carrier(port)
    p = Platform(make_settings(tmp_path, database_url), carrier=smpp)
    p.dispatcher = Dispatcher(p.db, smpp, poll_interval=0.02, **dispatch)  # type: ignore[arg-type]
    p.sender.on_accepted = p.dispatcher.notify
    return p


def arrange(p: Platform) -> tuple[int, str, str]:
    def make(conn: Connection) -> tuple[int, str, str]:
        t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
        app = tenants.create_app(conn, t.id, "a", freq_30s=None, freq_hour=None)
        wallet.grant_package(conn, t.id, 1000)
        approved_sign(conn, t.id, "签名")
        return t.id, app.sdk_app_id, str(approved_template(conn, t.id, TEMPLATE, 2))

    return p.db.write_sync(make)


async def until_final(p: Platform, count: int, within: float = 60.0) -> dict[str, str]:
    m = s.messages
    deadline = time.monotonic() + within
    while True:
        rows = p.db.read_sync(lambda c: c.execute(select(m.c.phone, m.c.state)).all())
        states = {phone: state for phone, state in rows}
        if len(states) == count and set(states.values()) <= FINAL:
            return states
        assert time.monotonic() < deadline, states
        await asyncio.sleep(0.05)


Billing = tuple[int, int, list[str]]


def billing(p: Platform) -> Billing:
    """(units used, units of messages not refunded, ledger problems)."""
    m = s.messages

    def read(conn: Connection) -> Billing:
        used = conn.execute(select(func.sum(s.packages.c.used))).scalar_one()
        billed = conn.execute(
            select(func.coalesce(func.sum(m.c.parts), 0)).where(m.c.refunded.is_(False))
        ).scalar_one()
        return int(used), int(billed), ledger.check(conn)

    return p.db.read_sync(read)


def test_a_dropped_bind_between_parts_resends_only_the_missing_ones(
    tmp_path: Path, database_url: str
) -> None:
    with SimulatorThread(DropsAfterFirstPart(FAST)) as smsc:
        p = platform(tmp_path, database_url, smsc.sim.port)

        async def main() -> tuple[dict[str, str], dict[str, int], Billing]:
            await p.start()
            try:
                tenant, app, tpl = arrange(p)
                await p.sender.send(
                    SendRequest(tenant, app, ["+8613800138000"], tpl, "签名", ["A1"])
                )
                states = await until_final(p, 1)
                return states, p.db.read_sync(counters.load), billing(p)
            finally:
                await p.stop()

        states, counted, billed = asyncio.run(main())
        seen = accepted(smsc.sim)
    assert states == {"+8613800138000": "DELIVERED"}
    assert smsc.sim.drops == 1  # part 1 went once: every acceptance of a part 1 drops the bind
    assert sorted(seen["8613800138000"].parts) == [1, 2, 3]  # each part taken once
    assert len(seen["8613800138000"].refs) == 1  # under one reference
    assert billed == (PARTS, PARTS, [])  # billed once, not refunded
    assert counted[counters.PARTS_RESENT] == 0
    assert counted[counters.PARTS_RESUMED] >= 1


class DropsThenRefusesBinds(DropsAfterFirstPart):
    """Drops the bind after a first part, then refuses binds until ``open`` is set again:
    the worker that had the message cannot finish it, another one started later must."""

    def __init__(self, config: SmscConfig) -> None:
        super().__init__(config)
        self.open = True

    def drops_after(self, record: Submitted) -> bool:
        dropped = super().drops_after(record)
        self.open = self.open and not dropped
        return dropped

    def bind_status(self, conn: SmscConnection, pdu: Pdu) -> int:
        if not self.open:
            return CommandStatus.ESME_RBINDFAIL
        return super().bind_status(conn, pdu)


def test_another_worker_resumes_from_what_the_database_holds(
    tmp_path: Path, database_url: str
) -> None:
    sim = DropsThenRefusesBinds(FAST)
    m = s.messages
    with SimulatorThread(sim) as smsc:
        first = platform(tmp_path, database_url, smsc.sim.port, lease_seconds=1, max_attempts=100)

        async def until_part_one_is_kept() -> None:
            await first.start()
            try:
                tenant, app, tpl = arrange(first)
                await first.sender.send(
                    SendRequest(tenant, app, ["+8613800138000"], tpl, "签名", ["A1"])
                )
                deadline = time.monotonic() + 30
                while not first.db.read_sync(
                    lambda c: c.execute(select(func.count()).select_from(s.message_parts)).scalar()
                ):
                    assert time.monotonic() < deadline
                    await asyncio.sleep(0.02)
            finally:
                await first.stop()

        asyncio.run(until_part_one_is_kept())
        assert not sim.open
        sim.open = True
        # A new worker: its own carrier and dispatcher, nothing shared but the database.
        second = platform(tmp_path / "2", database_url, smsc.sim.port)

        async def finish() -> tuple[dict[str, str], dict[str, int], Billing, int]:
            await second.start()
            try:
                states = await until_final(second, 1)
                attempts = second.db.read_sync(
                    lambda c: c.execute(select(m.c.attempts)).scalar_one()
                )
                return states, second.db.read_sync(counters.load), billing(second), attempts
            finally:
                await second.stop()

        states, counted, billed, attempts = asyncio.run(finish())
        seen = accepted(smsc.sim)
    assert states == {"+8613800138000": "DELIVERED"}
    assert sorted(seen["8613800138000"].parts) == [1, 2, 3]
    assert len(seen["8613800138000"].refs) == 1
    assert counted[counters.PARTS_RESENT] == 0
    assert billed == (PARTS, PARTS, [])
    assert attempts >= 2


def test_many_long_messages_under_repeated_drops_never_resend_a_taken_part(
    tmp_path: Path, database_url: str
) -> None:
    """120 messages of 3 parts (360 parts); the SMSC drops the bind after every 7th part
    it takes, whatever is in flight."""
    phones = [f"+86138001{i:05d}" for i in range(120)]
    with SimulatorThread(DropsAfterAccepting(FAST, every=7)) as smsc:
        p = platform(tmp_path, database_url, smsc.sim.port, max_attempts=1000)

        async def main() -> tuple[dict[str, str], dict[str, int], Billing]:
            await p.start()
            try:
                tenant, app, tpl = arrange(p)
                await p.sender.send(SendRequest(tenant, app, phones, tpl, "签名", ["A1"]))
                states = await until_final(p, len(phones), within=120)
                return states, p.db.read_sync(counters.load), billing(p)
            finally:
                await p.stop()

        states, counted, billed = asyncio.run(main())
        seen = accepted(smsc.sim)
        drops = smsc.sim.drops
    assert set(states.values()) == {"DELIVERED"}
    assert drops >= 360 // 7
    taken_twice = {n: sv.parts for n, sv in seen.items() if sorted(sv.parts) != [1, 2, 3]}
    assert taken_twice == {}  # every part of every message taken exactly once
    assert {n for n, sv in seen.items() if len(sv.refs) != 1} == set()
    assert counted[counters.PARTS_RESENT] == 0
    assert counted[counters.PARTS_RESUMED] > 0
    assert billed == (360, 360, [])
