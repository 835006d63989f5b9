"""A call's life in the store (``delivery/call_records``): claims, the moves of
``domain/call_states``, billing once, recovery after a dead worker, and the callbacks each end
queues. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, insert, select, update

from smscloud.carriers.voice.base import CallOutcome
from smscloud.delivery import call_records
from smscloud.domain.billing.prices import VOICE
from smscloud.domain.call_states import CallState
from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_rules import VoiceKind
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.sending.voice import VoiceRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, ManualClock

vc, vp, us = s.voice_calls, s.voice_pushes, s.usage
PRICE = 120_000  # micro-yuan a minute
URL = "https://hooks.example.com/voice"

Body = Callable[[Platform, ManualClock, int, str], Awaitable[None]]


def on_platform(body: Body) -> Callable[[Path, str], None]:
    """Runs ``body(platform, clock, tenant id, sdk app id)`` on a platform that places no
    call, with an enterprise tenant, its application (voice callback URL set) and a CN price."""

    def test(tmp_path: Path, database_url: str) -> None:
        async def main() -> None:
            clock = ManualClock(DAYTIME)
            p = Platform(make_settings(tmp_path, database_url), clock=clock)
            await p.start(deliver=False)
            try:

                def make(conn: Connection) -> tuple[int, str]:
                    t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
                    app = tenants.create_app(conn, t.id, "a")
                    conn.execute(
                        update(s.applications)
                        .where(s.applications.c.id == app.id)
                        .values(voice_callback_url=URL)
                    )
                    conn.execute(
                        insert(s.prices).values(
                            product=VOICE, iso_code="CN", nation_code="86", unit_price=PRICE
                        )
                    )
                    return t.id, app.sdk_app_id

                tenant, app = await p.db.write(make)
                await body(p, clock, tenant, app)
            finally:
                await p.stop()

        asyncio.run(main())

    return test


async def send(p: Platform, tenant: int, app: str, phone: str = "+8613800138000") -> int:
    accepted = await p.voice.send(
        VoiceRequest(tenant, app, phone, VoiceKind.CODE, code="123456", play_times=1)
    )
    return accepted.row_id


def outcome(answered: bool, start: float, talk: float = 0.0, status: int = 200) -> CallOutcome:
    return CallOutcome(
        call_id="x",
        answered=answered,
        dialled_at=start,
        ringing_at=start + 1,
        answered_at=start + 2 if answered else None,
        ended_at=start + 2 + talk,
        sip_status=status,
        failure_code=0 if answered else 10,
        hung_up_by="us" if answered else "",
    )


async def row(p: Platform, row_id: int) -> Any:
    return await p.db.read(lambda c: c.execute(select(vc).where(vc.c.id == row_id)).one())


async def bodies(p: Platform) -> list[dict[str, Any]]:
    rows = await p.db.read(lambda c: c.execute(select(vp.c.body).order_by(vp.c.id)).scalars())
    return [orjson.loads(b) for b in rows]


async def usage_rows(p: Platform) -> list[tuple[int, int, int]]:
    return await p.db.read(
        lambda c: [
            tuple(r)
            for r in c.execute(
                select(us.c.quantity, us.c.unit_price, us.c.amount).where(us.c.product == VOICE)
            )
        ]
    )


@on_platform
async def test_an_answered_call_is_billed_once_per_started_minute(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    rid = await send(p, tenant, app)
    now = clock()
    [claimed] = await p.db.write(lambda c: call_records.claim(c, now, 5, lease=30, per_tenant=5))
    assert claimed.row_id == rid and claimed.text == "123456"
    assert await p.db.write(lambda c: call_records.dialled(c, rid, "sim", now, 30))
    await p.db.write(lambda c: call_records.ringing(c, rid, now + 1))
    await p.db.write(lambda c: call_records.answered(c, rid, now + 2))
    done = outcome(True, now, talk=61.0)
    assert await p.db.write(lambda c: call_records.end(c, rid, done, now + 63))
    # The same end seen twice (a retry, a recovering worker): nothing more is billed.
    assert not await p.db.write(lambda c: call_records.end(c, rid, done, now + 64))
    assert not await p.db.write(lambda c: call_records.interrupt(c, rid, now + 64))
    r = await row(p, rid)
    assert (r.state, r.fee_minutes, r.unit_price) == (CallState.ENDED, 2, PRICE)
    assert await usage_rows(p) == [(2, PRICE, 2 * PRICE)]
    [status] = await bodies(p)
    report = status["voicecode_callback"]
    assert report["result"] == "0" and report["fee"] == "2"
    assert report["mobile"] == "13800138000" and report["nationcode"] == "86"


@on_platform
async def test_a_refused_call_is_free_and_reports_its_failure(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    rid = await send(p, tenant, app)
    now = clock()
    await p.db.write(lambda c: call_records.claim(c, now, 5, lease=30, per_tenant=5))
    await p.db.write(lambda c: call_records.dialled(c, rid, "sim", now, 30))
    busy = outcome(False, now, status=486)
    assert await p.db.write(lambda c: call_records.end(c, rid, busy, now + 3))
    r = await row(p, rid)
    assert (r.state, r.failure_code, r.fee_minutes) == (CallState.FAILED, 10, 0)
    assert await usage_rows(p) == []
    status, failure = await bodies(p)
    assert status["voicecode_callback"]["result"] == "1"
    assert failure["voice_failure_callback"]["failure_code"] == 10
    assert failure["voice_failure_callback"]["failure_reason"] == "用户正忙"


@on_platform
async def test_a_dead_workers_calls_end_once_and_are_never_dialled_again(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    ringing_call = await send(p, tenant, app, "+8613800138001")
    talking_call = await send(p, tenant, app, "+8613800138002")
    waiting_call = await send(p, tenant, app, "+8613800138003")
    now = clock()
    await p.db.write(lambda c: call_records.claim(c, now, 5, lease=30, per_tenant=5))
    for rid in (ringing_call, talking_call):
        await p.db.write(lambda c, r=rid: call_records.dialled(c, r, "sim", now, 30))
    await p.db.write(lambda c: call_records.ringing(c, ringing_call, now + 1))
    await p.db.write(lambda c: call_records.answered(c, talking_call, now + 2))
    # The worker dies; its leases run out.
    later = now + 31
    assert await p.db.write(lambda c: call_records.recover(c, later)) == 2
    assert await p.db.write(lambda c: call_records.recover(c, later)) == 0
    r1, r2, r3 = [await row(p, rid) for rid in (ringing_call, talking_call, waiting_call)]
    assert (r1.state, r1.failure_code) == (CallState.FAILED, 11)
    assert (r2.state, r2.fee_minutes) == (CallState.ENDED, 0)
    assert r3.state == CallState.CLAIMED
    assert await usage_rows(p) == []
    # The undialled call is claimed again; the other two never are.
    again = await p.db.write(lambda c: call_records.claim(c, later, 5, lease=30, per_tenant=5))
    assert [c.row_id for c in again] == [waiting_call]
    r3 = await row(p, waiting_call)
    assert r3.attempts == 2


@on_platform
async def test_claims_respect_the_tenants_cap_and_hand_backs_requeue(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    ids = [await send(p, tenant, app, f"+86138001380{i:02d}") for i in range(4)]
    now = clock()
    first = await p.db.write(lambda c: call_records.claim(c, now, 10, lease=30, per_tenant=3))
    assert [c.row_id for c in first] == ids[:3]
    assert await p.db.write(lambda c: call_records.claim(c, now, 10, lease=30, per_tenant=3)) == []
    await p.db.write(lambda c: call_records.hand_back(c, [ids[0]]))
    assert (await row(p, ids[0])).state == CallState.QUEUED
    second = await p.db.write(lambda c: call_records.claim(c, now, 10, lease=30, per_tenant=3))
    assert [c.row_id for c in second] == [ids[0]]


@on_platform
async def test_a_call_claimed_too_late_fails_as_system_busy(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    rid = await send(p, tenant, app)
    now = clock()
    await p.db.write(lambda c: call_records.claim(c, now, 5, lease=30, per_tenant=5))
    assert await p.db.write(lambda c: call_records.expire_too_late(c, rid, now))
    assert not await p.db.write(lambda c: call_records.dialled(c, rid, "sim", now, 30))
    r = await row(p, rid)
    assert (r.state, r.failure_code) == (CallState.FAILED, 22)
    status, failure = await bodies(p)
    assert status["voicecode_callback"]["result"] == "2"
    assert failure["voice_failure_callback"]["failure_reason"] == "系统正忙"


@on_platform
async def test_keys_are_kept_and_pushed(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    rid = await send(p, tenant, app)
    now = clock()
    await p.db.write(lambda c: call_records.claim(c, now, 5, lease=30, per_tenant=5))
    await p.db.write(lambda c: call_records.dialled(c, rid, "sim", now, 30))
    await p.db.write(lambda c: call_records.answered(c, rid, now + 1))
    for key in "1#":
        await p.db.write(lambda c, k=key: call_records.key_pressed(c, rid, k, now + 2))
    assert (await row(p, rid)).keys == "1#"
    pressed = [b["voicekey_callback"]["keypress"] for b in await bodies(p)]
    assert pressed == ["1", "#"]


@on_platform
async def test_frequency_limits_refuse_and_store_nothing(
    p: Platform, clock: ManualClock, tenant: int, app: str
) -> None:
    await send(p, tenant, app)
    with pytest.raises(RuleViolation) as refused:
        await send(p, tenant, app)
    assert refused.value.code == "LimitExceeded.DeliveryFrequencyLimit"
    clock.advance(31)
    await send(p, tenant, app)
    clock.advance(31)
    with pytest.raises(RuleViolation):  # a third within 10 minutes
        await send(p, tenant, app)
    count = await p.db.read(lambda c: len(c.execute(select(vc.c.id)).all()))
    assert count == 2
