"""Kill -9 during voice calls; restart; no accepted call lost, none dialled twice, none billed
twice.

``serve`` runs the call worker in its delivery child, which dials the built-in phone network
it started in that same process. Calls are accepted through the VMS SDK, more than there are
lines, each long enough (a six-digit code read three times, some 20 s) that the kill lands
while every line holds an answered call and other calls still wait. Killed are either the
whole tree at the same instant (a machine crash: nothing ends the calls; the restarted worker
finds their leases run out and ends them, ``call_records.recover``), or ``serve`` alone (the
worker follows it with SIGTERM and ends its calls as it stops, ``call_records.interrupt``).
Either way a call that reached CALLING is never dialled again (Tencent: a hang-up is never
redialled), an answered call nobody saw end is ENDED unbilled, and the calls still waiting are
placed by the restarted worker. Every ``usage`` minute of product 'voice' is the fee of an
ENDED call, once.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, update
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.vms.v20200902 import models, vms_client

from smscloud.domain.billing.prices import VOICE
from smscloud.domain.call_states import FINAL, IN_CALL, CallState
from smscloud.domain.voice_failures import INTERRUPTED
from smscloud.store import schema as s
from tests.support.live import free_port
from tests.support.process import ServeProcess
from tests.support.voice import price_mainland_voice

pytestmark = pytest.mark.slow

vc, us = s.voice_calls, s.usage
LINES = 6  # calls the built-in network takes at once: fewer than the calls sent
# Ordinary numbers answer and listen until the caller hangs up (phone_numbers.py); none ends
# in a magic suffix 0000001-0000009. The first LINES hold the lines at the kill, the rest wait.
ANSWERING = [f"+8613800{i:04d}20" for i in range(LINES + 4)]
BUSY = ["+8613810000001", "+8613820000001"]  # 486 at once: FAILED, user busy (10)
USER_BUSY = 10
PLAY_TIMES = 3  # the code read three times: a call lasts some 20 s
DEADLINE = 120.0  # a bound for a busy machine, not an expected time
S = CallState
FINAL_STATES = {state.value for state in FINAL}


def _client(endpoint: str, creds: dict[str, Any]) -> vms_client.VmsClient:
    profile = ClientProfile(
        httpProfile=HttpProfile(endpoint=endpoint, protocol="http", reqTimeout=10)
    )
    return vms_client.VmsClient(
        credential.Credential(creds["secret_id"], creds["secret_key"]), "ap-guangzhou", profile
    )


def _voice_app(srv: ServeProcess, engine: Engine, tenant_id: int) -> str:
    """An application of the demo tenant with the voice limits and quiet hours off (so the
    test reads no clock), and the operator's Mainland voice price."""
    app = srv.admin("app", "create", "--tenant", str(tenant_id), "--name", "voice")
    a = s.applications
    with engine.begin() as conn:
        conn.execute(
            update(a)
            .where(a.c.sdk_app_id == app["sdk_app_id"])
            .values(
                voice_per_30s=None,
                voice_per_10min=None,
                voice_per_day=None,
                voice_quiet_start=0,
                voice_quiet_end=0,
            )
        )
        price_mainland_voice(conn)
    return str(app["sdk_app_id"])


def _rows(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {r.call_id: r for r in conn.execute(select(vc))}


def _recordings(data: Path, phone: str) -> set[str]:
    """The built-in network's WAVs of calls to ``phone`` (named after the callee)."""
    national = phone.removeprefix("+86")
    folder = data / "voice-recordings"
    return (
        {p.name for p in folder.glob("*.wav") if national in p.name} if folder.exists() else set()
    )


@pytest.mark.parametrize("kill", ["tree", "serve"])
def test_kill_during_calls_loses_none_dials_none_twice_bills_once(
    processes: Callable[..., ServeProcess], tmp_path: Path, database_url: str, kill: str
) -> None:
    data = tmp_path / "data"
    url = database_url if database_url.startswith("postgresql") else ""
    srv = processes(
        data,
        free_port(),
        url,
        # A dead worker's calls are recovered once their leases run out: 2 s after renewal.
        SMSCLOUD_LEASE_SECONDS="2",
        SMSCLOUD_VOICE_LINES=str(LINES),
        SMSCLOUD_VOICE_RING_MS="200",
    )
    srv.start()
    engine = create_engine(
        srv.env["SMSCLOUD_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
        or f"sqlite:///{data / 'smscloud.db'}"
    )
    try:
        creds = srv.credentials()
        app = _voice_app(srv, engine, creds["tenant"]["id"])
        client = _client(srv.endpoint, creds)
        accepted: dict[str, str] = {}  # CallId -> number
        for phone in [*ANSWERING, *BUSY]:
            req = models.SendCodeVoiceRequest()
            req.from_json_string(
                json.dumps(
                    {
                        "CalledNumber": phone,
                        "VoiceSdkAppid": app,
                        "CodeMessage": "625841",
                        "PlayTimes": PLAY_TIMES,
                    }
                )
            )
            accepted[client.SendCodeVoice(req).SendStatus.CallId] = phone

        # Kill once every line holds an answered call and calls still wait for a line.
        answered = select(func.count()).where(vc.c.state == S.ANSWERED.value)
        waiting = select(func.count()).where(vc.c.state.in_([S.QUEUED.value, S.CLAIMED.value]))
        deadline = time.monotonic() + DEADLINE
        while True:
            with engine.connect() as conn:
                n_answered, n_waiting = (
                    conn.execute(answered).scalar_one(),
                    conn.execute(waiting).scalar_one(),
                )
            if n_answered == LINES and n_waiting:
                break
            assert time.monotonic() < deadline, (n_answered, n_waiting)
            time.sleep(0.05)
        talking = {cid for cid, r in _rows(engine).items() if r.state == S.ANSWERED.value}
        workers = srv.children()
        if kill == "tree":
            srv.kill_tree()
        else:
            srv.kill()  # the worker follows its parent: SIGTERM, and stops
            gone = time.monotonic() + 30
            while any(Path(f"/proc/{pid}").exists() for pid in workers):
                assert time.monotonic() < gone, "the worker outlived serve"
                time.sleep(0.05)

        # The store as the crash left it: what had been dialled, and what still waited.
        at_kill = _rows(engine)
        dialled = {cid for cid, r in at_kill.items() if r.dialled_at is not None}
        queued = {cid for cid, r in at_kill.items() if r.dialled_at is None}
        in_call = {cid for cid, r in at_kill.items() if r.state in {x.value for x in IN_CALL}}
        heard = {cid: _recordings(data, accepted[cid]) for cid in dialled}
        assert set(at_kill) == set(accepted)  # every accepted call was stored before its answer
        assert talking <= dialled and len(talking) == LINES
        assert queued >= {cid for cid, phone in accepted.items() if phone in BUSY}
        if kill == "tree":
            assert in_call >= talking  # nobody ended them: the crash left them in a call
        else:
            assert in_call == set()  # the stopping worker ended its calls

        srv.start()  # the same data directory and database
        deadline = time.monotonic() + DEADLINE
        while True:
            rows = _rows(engine)
            stuck = {cid: r.state for cid, r in rows.items() if r.state not in FINAL_STATES}
            if not stuck or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        with engine.connect() as conn:
            usage = conn.execute(
                select(
                    func.coalesce(func.sum(us.c.quantity), 0),
                    func.coalesce(func.sum(us.c.amount), 0),
                ).where(us.c.product == VOICE)
            ).one()
        print(
            f"\nkill {kill}: {len(accepted)} accepted, {len(in_call)} in a call and"
            f" {len(queued)} waiting at the kill; states after the restart"
            f" {sorted(r.state for r in rows.values())}; usage {int(usage[0])} min"
        )

        # None lost, none left half way.
        assert set(rows) == set(accepted)
        assert stuck == {}
        # Never dialled twice: a call dialled before the kill kept its dial, its attempts and
        # its recording, and the phone network the restart started never heard it.
        for cid in dialled:
            before, after = at_kill[cid], rows[cid]
            assert (after.dialled_at, after.attempts, after.carrier) == (
                before.dialled_at,
                before.attempts,
                before.carrier,
            ), cid
            assert after.recording == before.recording, cid
            assert _recordings(data, accepted[cid]) == heard[cid], cid
        # A call answered when the kill came was heard to its end by nobody: ENDED, unbilled.
        for cid in talking:
            assert (rows[cid].state, rows[cid].fee_minutes) == (S.ENDED.value, 0), cid
        for cid in in_call - talking:  # dialled, not answered yet (none, mostly)
            assert rows[cid].state == S.FAILED.value, cid
            assert rows[cid].failure_code == INTERRUPTED.code, cid
        # The calls still waiting at the kill were placed after the restart.
        for cid in queued:
            row = rows[cid]
            assert row.dialled_at is not None, cid
            if accepted[cid] in BUSY:
                assert (row.state, row.failure_code, row.fee_minutes) == (
                    S.FAILED.value,
                    USER_BUSY,
                    0,
                ), cid
            else:  # answered and played to the end: 20 s, one started minute
                assert (row.state, row.fee_minutes) == (S.ENDED.value, 1), cid
                assert len(_recordings(data, accepted[cid])) == 1, cid
        # Billed once: the usage meter holds exactly the fees of the ENDED calls.
        ended = [r for r in rows.values() if r.state == S.ENDED.value]
        assert usage[0] == sum(r.fee_minutes for r in ended) >= len(queued) - len(BUSY)
        assert usage[1] == sum(r.fee_minutes * r.unit_price for r in ended)
    finally:
        engine.dispose()
        srv.stop()
