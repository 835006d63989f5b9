"""The dispatcher against carriers that misbehave in the ways real ones do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Connection, select

from smscloud.carriers.base import (
    DELIVERED,
    InFlight,
    Receipt,
    ReportSink,
    Submission,
    SubmitResult,
)
from smscloud.carriers.sandbox import SandboxCarrier
from smscloud.delivery import claims
from smscloud.delivery.dispatcher import Dispatcher, _CarrierSink
from smscloud.domain.routing import Route, parse_carriers
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.services.sending.sms import SendRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.live import FINAL, approved_sign, approved_template


class ScriptedCarrier:
    """Refuses temporarily ``busy`` times per message, refuses for good numbers ending in 9,
    and reports each receipt *before* returning from submit (the DLR-before-resp race)."""

    name = "scripted"

    def __init__(self, busy: int) -> None:
        self.busy = busy
        self.seen: dict[int, int] = {}
        self.sink: ReportSink | None = None

    async def start(self, sink: ReportSink) -> None:
        self.sink = sink

    async def resume(self, in_flight: Sequence[InFlight]) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        out = []
        receipts = []
        for sub in batch:
            self.seen[sub.message_id] = self.seen.get(sub.message_id, 0) + 1
            if sub.phone.endswith("9"):
                out.append(SubmitResult(sub.message_id, None, "ESME_RINVDSTADR", permanent=True))
            elif self.seen[sub.message_id] <= self.busy:
                out.append(SubmitResult(sub.message_id, None, "ESME_RTHROTTLED"))
            else:
                cid = f"ID{sub.message_id:X}"
                out.append(SubmitResult(sub.message_id, cid))
                receipts.append(Receipt(cid.lower(), DELIVERED, "DELIVRD", time.time()))
        if receipts and self.sink is not None:
            self.sink.receipts(receipts)  # before the submission is recorded
        return out


def _setup(p: Platform) -> tuple[int, str, str]:
    def make(conn: Connection) -> tuple[int, str, str]:
        t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
        app = tenants.create_app(conn, t.id, "a")
        wallet.grant_package(conn, t.id, 100)
        approved_sign(conn, t.id, "签名")
        return t.id, app.sdk_app_id, str(approved_template(conn, t.id, "验证码{1}"))

    return p.db.write_sync(make)


def _states(p: Platform) -> dict[str, tuple[str, int, bool]]:
    m = s.messages
    rows = p.db.read_sync(
        lambda c: c.execute(select(m.c.phone, m.c.state, m.c.attempts, m.c.refunded)).all()
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _used(p: Platform) -> int:
    return int(p.db.read_sync(lambda c: c.execute(select(s.packages.c.used)).scalar_one()))


Outcome = tuple[dict[str, tuple[str, int, bool]], int]


async def _run(p: Platform, phones: list[str], wait_for: int) -> Outcome:
    """Send, wait until ``wait_for`` messages are final; return their states and units used."""
    tenant, app, tpl = _setup(p)
    await p.sender.send(SendRequest(tenant, app, phones, tpl, "签名", ["1234"]))
    deadline = time.time() + 15
    while time.time() < deadline:
        states = _states(p)
        if sum(1 for v in states.values() if v[0] in FINAL) >= wait_for:
            return states, _used(p)
        await asyncio.sleep(0.05)
    raise AssertionError(_states(p))


def test_throttled_then_taken_refused_refunded_and_early_receipts_matched(
    tmp_path: Path, database_url: str
) -> None:
    carrier = ScriptedCarrier(busy=2)
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    p.dispatcher = Dispatcher(p.db, carrier, poll_interval=0.02, max_attempts=5)
    p.sender.on_accepted = p.dispatcher.notify

    async def main() -> Outcome:
        await p.start()
        try:
            return await _run(p, ["+8613800138000", "+8613800138009"], wait_for=2)
        finally:
            await p.stop()

    states, used = asyncio.run(main())
    # Taken on the third attempt; the receipt came before the record and was matched anyway,
    # although the carrier wrote its id in another case.
    assert states["+8613800138000"] == ("DELIVERED", 3, False)
    assert states["+8613800138009"] == ("REJECTED", 1, True)
    assert p.dispatcher.stats.unmatched == 0
    assert used == 1


def test_giving_up_after_max_attempts_fails_and_refunds(tmp_path: Path, database_url: str) -> None:
    carrier = ScriptedCarrier(busy=100)
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    p.dispatcher = Dispatcher(p.db, carrier, poll_interval=0.02, max_attempts=3)
    p.sender.on_accepted = p.dispatcher.notify

    async def main() -> Outcome:
        await p.start()
        try:
            return await _run(p, ["+8613800138000"], wait_for=1)
        finally:
            await p.stop()

    states, used = asyncio.run(main())
    assert states["+8613800138000"] == ("FAILED", 3, True)
    assert used == 0


def test_sandbox_replays_receipts_for_messages_in_flight_after_a_restart() -> None:
    got: list[Receipt] = []

    class Sink:
        async def receipts(self, receipts: Sequence[Receipt]) -> None:
            got.extend(receipts)

        async def replies(self, replies: Sequence[object]) -> None:
            pass

    async def main() -> None:
        sandbox = SandboxCarrier(delay=0.01)
        await sandbox.start(Sink())
        await sandbox.resume(
            [
                InFlight("a1", "+8613800138000"),
                InFlight("a2", "+8613800000001"),
                InFlight("a3", "+8613800000004"),
            ]
        )
        await asyncio.sleep(0.2)
        await sandbox.stop()

    asyncio.run(main())
    assert sorted((r.carrier_msg_id, r.code) for r in got) == [("a1", "DELIVRD"), ("a2", "UNDELIV")]


def test_sandbox_offers_a_report_again_until_it_is_stored() -> None:
    """Like an SMSC refused for now: a receipt the sink could not store comes again."""
    offered: list[list[Receipt]] = []
    again = asyncio.Event()

    class FailingOnceSink:
        def receipts(self, receipts: Sequence[Receipt]) -> asyncio.Future[None]:
            offered.append(list(receipts))
            stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            if len(offered) == 1:
                stored.set_exception(OSError("disk full"))
            else:
                stored.set_result(None)
                again.set()
            return stored

        def replies(self, replies: Sequence[object]) -> asyncio.Future[None]:
            raise AssertionError("no reply expected")

    async def main() -> None:
        sandbox = SandboxCarrier(delay=0.01, retry=0.01)
        await sandbox.start(FailingOnceSink())
        try:
            [taken] = await sandbox.submit([Submission(1, "+8613800138000", "hi")])
            async with asyncio.timeout(10):
                await again.wait()
        finally:
            await sandbox.stop()
        assert [[r.carrier_msg_id for r in batch] for batch in offered] == [
            [taken.carrier_msg_id],
            [taken.carrier_msg_id],
        ]

    asyncio.run(main())


class PartsCarrier(ScriptedCarrier):
    """Takes long messages as three parts, each with its own receipt; the second part of a
    number ending in 1 is undelivered."""

    name = "parts"

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        out = []
        receipts = []
        for sub in batch:
            ids = tuple(f"P{sub.message_id}-{n}" for n in range(1, 4))
            out.append(SubmitResult(sub.message_id, ids[0], part_ids=ids))
            for n, pid in enumerate(ids, start=1):
                bad = sub.phone.endswith("1") and n == 2
                state, code = ("UNDELIVERED", "UNDELIV") if bad else (DELIVERED, "DELIVRD")
                receipts.append(Receipt(pid, state, code, time.time()))
        if self.sink is not None:
            # Receipts arrive late and out of order; the message waits for all its parts.
            await asyncio.sleep(0.05)
            self.sink.receipts(list(reversed(receipts))[:-1])
            self.sink.receipts(list(reversed(receipts))[-1:])
        return out


def test_a_long_message_is_final_when_all_its_parts_are(tmp_path: Path, database_url: str) -> None:
    carrier = PartsCarrier(busy=0)
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    p.dispatcher = Dispatcher(p.db, carrier, poll_interval=0.02)
    p.sender.on_accepted = p.dispatcher.notify

    async def main() -> Outcome:
        await p.start()
        try:
            return await _run(p, ["+8613800138000", "+8613800138001"], wait_for=2)
        finally:
            await p.stop()

    states, _ = asyncio.run(main())
    assert states["+8613800138000"][0] == "DELIVERED"
    assert states["+8613800138001"][0] == "UNDELIVERED"  # one part failed: the message did


def test_routes_fail_over_to_the_next_carrier_in_the_same_round(
    tmp_path: Path, database_url: str
) -> None:
    busy, spare = ScriptedCarrier(busy=100), ScriptedCarrier(busy=0)
    busy.name, spare.name = "busy", "spare"  # type: ignore[misc]
    p = Platform(make_settings(tmp_path, database_url), carrier=busy)
    routes = [
        Route(1, parse_carriers("busy:1,spare:1"), nation_code="86", priority=1),
        Route(2, parse_carriers("busy"), nation_code="60"),
    ]
    p.dispatcher = Dispatcher(
        p.db, {"busy": busy, "spare": spare}, routes=routes, poll_interval=0.02
    )
    p.sender.on_accepted = p.dispatcher.notify

    m = s.messages

    async def main() -> tuple[Outcome, list[str]]:
        await p.start()
        try:
            # None ending in 9: the scripted carrier refuses those for good.
            phones = [f"+8613800138{i:03d}" for i in range(100, 200) if i % 10 != 9][:20]
            outcome = await _run(p, phones, wait_for=20)
            q = select(m.c.carrier).distinct()
            return outcome, p.db.read_sync(lambda c: list(c.execute(q).scalars()))
        finally:
            await p.stop()

    (states, used), taken_by = asyncio.run(main())
    assert {v[0] for v in states.values()} == {"DELIVERED"}
    # The busy carrier was primary for some (weights 1:1) and refused them for the moment;
    # those failed over at once, so every message was taken by the spare one.
    assert len(busy.seen) >= 1
    assert len(spare.seen) == 20
    assert used == 20
    assert taken_by == ["spare"]


class TakesOnePartThenDrops(ScriptedCarrier):
    """A long message's first attempt: part 1 taken, then a temporary failure. A retry that
    hands part 1 back gets the other two; one that does not sends part 1 again."""

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        out = []
        for sub in batch:
            self.seen[sub.message_id] = self.seen.get(sub.message_id, 0) + 1
            first = f"{self.name}-{sub.message_id}-1"
            if self.seen[sub.message_id] == 1:
                taken = ((1, first),)
                out.append(SubmitResult(sub.message_id, None, "lost", taken=taken, parts=3))
                continue
            start = f"{self.name}-again" if sub.taken != ((1, first),) or sub.parts != 3 else first
            ids = (start, f"{self.name}-{sub.message_id}-2", f"{self.name}-{sub.message_id}-3")
            out.append(SubmitResult(sub.message_id, ids[0], part_ids=ids))
        return out


def test_a_carrier_holding_parts_keeps_the_message(tmp_path: Path, database_url: str) -> None:
    """No failover to another carrier once parts are taken: the spare could not continue
    the first carrier's concatenation, and the handset would get part 1 twice."""
    first, spare = TakesOnePartThenDrops(busy=0), ScriptedCarrier(busy=0)
    first.name, spare.name = "first", "spare"  # type: ignore[misc]
    p = Platform(make_settings(tmp_path, database_url), carrier=first)
    p.dispatcher = Dispatcher(p.db, {"first": first, "spare": spare}, poll_interval=0.02)
    p.sender.on_accepted = p.dispatcher.notify
    mp = s.message_parts

    async def main() -> list[tuple[str, str, int]]:
        await p.start()
        try:
            tenant, app, tpl = _setup(p)
            await p.sender.send(SendRequest(tenant, app, ["+8613800138000"], tpl, "签名", ["1"]))
            deadline = time.time() + 15
            while time.time() < deadline:
                rows = p.db.read_sync(
                    lambda c: c.execute(
                        select(mp.c.carrier, mp.c.carrier_msg_id, mp.c.part_no).order_by(
                            mp.c.part_no
                        )
                    ).all()
                )
                if len(rows) == 3:
                    return [tuple(r) for r in rows]  # type: ignore[misc]
                await asyncio.sleep(0.05)
            raise AssertionError(rows)
        finally:
            await p.stop()

    parts = asyncio.run(main())
    assert spare.seen == {}
    assert first.seen == {1: 2}
    # Part 1 was handed back on the retry (not sent again), so it kept its id.
    assert parts == [
        ("first", "first-1-1", 1),
        ("first", "first-1-2", 2),
        ("first", "first-1-3", 3),
    ]


def test_only_the_carrier_holding_parts_is_tried_while_it_is_configured(tmp_path: Path) -> None:
    first, spare = ScriptedCarrier(busy=0), ScriptedCarrier(busy=0)
    p = Platform(make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}"), carrier=first)
    d = Dispatcher(p.db, {"first": first, "spare": spare})
    fresh = claims.Claimed(1, "+8613800138000", "x", "", "", 2)
    held = replace(fresh, held_by="spare", taken=((1, "s1"),), wire_parts=3)
    gone = replace(held, held_by="removed")
    try:
        assert d.order(fresh) == ["first", "spare"]
        assert d.order(held) == ["spare"]  # no failover: no one else can complete it
        assert d.order(gone) == ["first", "spare"]  # sent whole elsewhere (and counted)
    finally:
        p.db.close()


def test_a_busy_worker_takes_over_leases_that_ran_out(tmp_path: Path, database_url: str) -> None:
    """A worker whose claims keep finding messages claims again without asking whether any
    are due, and looks for leases that ran out once per ``EXPIRED_EVERY`` of its clock: a dead
    worker's messages are taken over while the load goes on."""
    carrier = ScriptedCarrier(busy=0)
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    now = [1000.0]
    d = Dispatcher(p.db, carrier, batch=2, lease_seconds=5, clock=lambda: now[0])
    m = s.messages

    async def main() -> list[set[str]]:
        await p.start(deliver=False)  # the schema, the writer; this test drives delivery
        try:
            tenant, app, tpl = _setup(p)
            await carrier.start(_CarrierSink(d, carrier.name))

            async def send(phone: str) -> None:
                await p.sender.send(SendRequest(tenant, app, [phone], tpl, "签名", ["1"]))

            await send("+8613800138000")
            # A worker that died holding the first message: its lease ends at 1005.
            dead = p.db.write_sync(lambda c: claims.claim(c, 10, now[0], 5))
            assert [c.phone for c in dead] == ["+8613800138000"]
            submitted = []
            for i, at in enumerate((1001.0, 1003.0, 1006.0)):
                now[0] = at
                await send(f"+861380013810{i}")
                seen = dict(carrier.seen)
                await d.dispatch_once()
                ids = [k for k, n in carrier.seen.items() if n > seen.get(k, 0)]
                q = select(m.c.phone).where(m.c.id.in_(ids))
                rows = p.db.read_sync(lambda c, q=q: c.execute(q).all())  # type: ignore[misc]
                submitted.append({r[0] for r in rows})
            return submitted
        finally:
            await p.stop()

    submitted = asyncio.run(main())
    assert submitted == [
        {"+8613800138100"},  # an idle worker's claim; the dead worker's lease still runs
        {"+8613800138101"},  # a busy worker's claim, its lease still running
        {"+8613800138102", "+8613800138000"},  # the lease ran out: taken over under load
    ]


async def _queued(p: Platform, carrier: ScriptedCarrier, d: Dispatcher, phones: list[str]) -> None:
    """Start the store and its writer (the test drives delivery), let ``carrier`` report to
    ``d``, and queue one message for each of ``phones``."""
    await p.start(deliver=False)
    tenant, app, tpl = _setup(p)
    await carrier.start(_CarrierSink(d, carrier.name))
    await p.sender.send(SendRequest(tenant, app, phones, tpl, "签名", ["1"]))


class GatedCarrier(ScriptedCarrier):
    """Takes the first batch it is handed at once and holds every later one until ``gate``
    opens, as a bind does with the end of a claim while its window is full."""

    def __init__(self) -> None:
        super().__init__(busy=0)
        self.gate = asyncio.Event()
        self.calls: list[list[int]] = []

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        self.calls.append([sub.message_id for sub in batch])
        if len(self.calls) > 1:
            await self.gate.wait()
        return await super().submit(batch)


def test_each_slice_of_a_claim_is_recorded_when_its_own_answers_are_in(
    tmp_path: Path, database_url: str
) -> None:
    """A receipt that comes before its submission's record becomes an orphan (a write to
    keep it, another to match it): the first slice of a claim is recorded while the carrier
    still holds the rest, so its receipts find their messages at once."""
    carrier = GatedCarrier()
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    d = Dispatcher(p.db, carrier, batch=10, record_every=2)
    m = s.messages

    def states() -> dict[int, str]:
        q = select(m.c.id, m.c.state)
        return dict(p.db.read_sync(lambda c: c.execute(q).all()))  # type: ignore[arg-type]

    async def main() -> tuple[list[list[int]], dict[int, str], dict[int, str], list[object]]:
        try:
            await _queued(p, carrier, d, [f"+86138001381{i:02d}" for i in range(5)])
            claim = asyncio.create_task(d.dispatch_once())
            deadline = time.monotonic() + 15
            while "SUBMITTED" not in states().values():
                assert time.monotonic() < deadline, states()
                assert not claim.done()
                await asyncio.sleep(0.01)
            while_held = states()
            carrier.gate.set()
            assert await claim == 5
            await d.flush_reports()
            orphans = p.db.read_sync(lambda c: c.execute(select(s.orphan_receipts.c.id)).all())
            return carrier.calls, while_held, states(), list(orphans)
        finally:
            await p.stop()

    calls, while_held, after, orphans = asyncio.run(main())
    assert sorted(len(c) for c in calls) == [1, 2, 2]
    first = calls[0]
    assert {i: while_held[i] for i in first} == dict.fromkeys(first, "SUBMITTED")
    held = [i for c in calls[1:] for i in c]
    assert {i: while_held[i] for i in held} == dict.fromkeys(held, "SENDING")
    # Every receipt found its message: none was kept to match later.
    assert set(after.values()) == {"DELIVERED"}
    assert d.stats.unmatched == 0
    assert orphans == []


class FailingCarrier(ScriptedCarrier):
    """Takes the first batch it is handed; fails on every later one (a carrier bug)."""

    def __init__(self) -> None:
        super().__init__(busy=0)
        self.calls = 0

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        self.calls += 1
        if self.calls > 1:
            raise RuntimeError("carrier broke")
        return await super().submit(batch)


def test_a_slice_that_fails_leaves_the_others_recorded(tmp_path: Path, database_url: str) -> None:
    """The failure still reaches the dispatch loop (which logs it); its slice stays leased
    for another claim when the lease runs out, and the slices that succeeded are kept."""
    carrier = FailingCarrier()
    p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
    d = Dispatcher(p.db, carrier, batch=10, record_every=2)
    m = s.messages

    async def main() -> tuple[str, list[str]]:
        try:
            await _queued(p, carrier, d, [f"+86138001382{i:02d}" for i in range(4)])
            try:
                await d.dispatch_once()
            except RuntimeError as exc:
                error = str(exc)
            q = select(m.c.state).order_by(m.c.id)
            return error, [r[0] for r in p.db.read_sync(lambda c: c.execute(q).all())]
        finally:
            await p.stop()

    error, states = asyncio.run(main())
    assert error == "carrier broke"
    assert states == ["SUBMITTED", "SUBMITTED", "SENDING", "SENDING"]
