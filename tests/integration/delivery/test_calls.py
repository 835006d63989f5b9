"""Voice calls end to end in one platform: ACCEPT, the call worker, the SIP trunk, the built-in
phone network (its magic numbers), billing and the pushed callbacks. Real espeak-ng speech,
real SIP and RTP over loopback."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, insert, select, update

from smscloud.domain.billing.prices import VOICE
from smscloud.domain.call_states import CallState
from smscloud.domain.voice_rules import VoiceKind
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.sending.voice import VoiceRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, running_from
from tests.support.receivers import RawReceiver, answering

pytestmark = pytest.mark.slow

vc, us = s.voice_calls, s.usage
PRICE = 120_000
DEADLINE = 60.0  # a busy machine renders speech and plays a few seconds of it well within this

Body = Callable[[Platform, int, str, RawReceiver], Awaitable[None]]


def on_platform(body: Body, **overrides: Any) -> Callable[[Path], None]:
    """Runs ``body(platform, tenant, sdk app id, receiver)`` on SQLite with delivery on: the
    built-in phone network answers, and the app's voice callbacks go to ``receiver``."""

    def test(tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'calls.db'}"
        settings = make_settings(tmp_path, url, voice_ring_ms=200, **overrides)

        async def main() -> None:
            with RawReceiver(answering("200 OK", b'{"result": 0, "errmsg": "OK"}')) as rx:
                p = Platform(settings, clock=running_from(DAYTIME))
                await p.start()
                try:

                    def make(conn: Connection) -> tuple[int, str]:
                        t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
                        app = tenants.create_app(conn, t.id, "a")
                        conn.execute(
                            update(s.applications)
                            .where(s.applications.c.id == app.id)
                            .values(voice_callback_url=rx.url)
                        )
                        conn.execute(
                            insert(s.prices).values(
                                product=VOICE, iso_code="CN", nation_code="86", unit_price=PRICE
                            )
                        )
                        return t.id, app.sdk_app_id

                    tenant, app = await p.db.write(make)
                    await body(p, tenant, app, rx)
                finally:
                    await p.stop()

        asyncio.run(main())

    return test


async def final(p: Platform, call_id: str) -> Any:
    """The call's row once it is ENDED or FAILED (polled, with a deadline)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        row = await p.db.read(lambda c: c.execute(select(vc).where(vc.c.call_id == call_id)).one())
        if row.state in (CallState.ENDED, CallState.FAILED):
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_id} still {row.state}")


async def pushed(rx: RawReceiver, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + DEADLINE
    # The receiver is a thread of its own: there is no event to await, so poll it.
    while rx.requests < count and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return [orjson.loads(seen.body) for seen in rx.seen]


def code_call(tenant: int, app: str, phone: str) -> VoiceRequest:
    return VoiceRequest(tenant, app, phone, VoiceKind.CODE, code="2468", play_times=1)


@on_platform
async def test_a_code_is_read_to_the_phone_billed_and_reported(
    p: Platform, tenant: int, app: str, rx: RawReceiver
) -> None:
    accepted = await p.voice.send(code_call(tenant, app, "+8613800138000"))
    row = await final(p, accepted.call_id)
    assert row.state == CallState.ENDED and row.hung_up_by == "us"
    assert row.answered_at is not None and row.ringing_at <= row.answered_at
    assert row.fee_minutes == 1  # a few seconds of talk: one started minute
    usage = await p.db.read(
        lambda c: c.execute(select(us.c.quantity, us.c.amount).where(us.c.product == VOICE)).all()
    )
    assert [tuple(u) for u in usage] == [(1, PRICE)]
    [report] = await pushed(rx, 1)
    body = report["voicecode_callback"]
    assert body["callid"] == accepted.call_id and body["result"] == "0" and body["fee"] == "1"
    assert int(body["start_calltime"]) <= int(body["accept_time"]) <= int(body["end_calltime"])
    # The built-in network kept what it heard: the prompt, as long as the talk. Its file is
    # written once the call is over, and noted on the call after that: poll for it.
    deadline = time.monotonic() + DEADLINE
    while not row.recording and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        row = await final(p, accepted.call_id)
    recording = Path(row.recording)
    with wave.open(str(recording)) as heard:
        seconds = heard.getnframes() / heard.getframerate()
    assert 1.0 < seconds <= row.ended_at - row.answered_at + 1.0


@on_platform
async def test_busy_and_missing_numbers_fail_free_with_their_reasons(
    p: Platform, tenant: int, app: str, rx: RawReceiver
) -> None:
    busy = await p.voice.send(code_call(tenant, app, "+8613800000001"))
    missing = await p.voice.send(code_call(tenant, app, "+8613900000003"))
    rows = [await final(p, c.call_id) for c in (busy, missing)]
    assert [(r.state, r.sip_status, r.failure_code) for r in rows] == [
        (CallState.FAILED, 486, 10),
        (CallState.FAILED, 404, 8),
    ]
    assert all(r.fee_minutes == 0 for r in rows)
    bodies = await pushed(rx, 4)
    failures = {
        b["voice_failure_callback"]["callid"]: b["voice_failure_callback"]["failure_reason"]
        for b in bodies
        if "voice_failure_callback" in b
    }
    assert failures == {busy.call_id: "用户正忙", missing.call_id: "空号"}
    results = [b["voicecode_callback"]["result"] for b in bodies if "voicecode_callback" in b]
    assert results == ["1", "1"]


@on_platform
async def test_a_pressed_key_is_kept_and_pushed(
    p: Platform, tenant: int, app: str, rx: RawReceiver
) -> None:
    accepted = await p.voice.send(code_call(tenant, app, "+8613800000008"))
    row = await final(p, accepted.call_id)
    assert row.state == CallState.ENDED and row.keys == "1"
    bodies = await pushed(rx, 2)
    keys = [b["voicekey_callback"]["keypress"] for b in bodies if "voicekey_callback" in b]
    assert keys == ["1"]


@on_platform
async def test_a_call_that_cannot_start_in_time_fails_cleanly(
    p: Platform, tenant: int, app: str, rx: RawReceiver
) -> None:
    # No line at all (no carrier): the call waits, then fails as "system busy", reported.
    await p.calls.stop()
    p.calls.carriers, p.calls.start_deadline = {}, 0.5
    await p.calls.start()
    accepted = await p.voice.send(code_call(tenant, app, "+8613800138000"))
    row = await final(p, accepted.call_id)
    assert (row.state, row.failure_code, row.dialled_at) == (CallState.FAILED, 22, None)
    bodies = {key: value for b in await pushed(rx, 2) for key, value in b.items()}
    assert bodies["voicecode_callback"]["result"] == "2"  # each body is its own push,
    assert bodies["voice_failure_callback"]["failure_reason"] == "系统正忙"  # in any order
