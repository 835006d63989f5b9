"""The platform against every misbehaving SMSC: nothing lost, nothing left unfinished.

Each message ends in a final state: delivered, or failed/rejected (and refunded) once the
SMSC has refused it or the attempts ran out. None stays queued, leased or submitted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from smscloud.carriers.smpp import SmppCarrier
from smscloud.carriers.smpp.config import SmppConfig
from smscloud.carriers.smsc import misbehaviour as bad
from smscloud.carriers.smsc.config import SmscConfig
from smscloud.carriers.smsc.simulator import SmscSimulator
from smscloud.delivery.dispatcher import Dispatcher
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.services.sending.sms import SendRequest
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.peers.simulator import SimulatorThread
from tests.support.live import FINAL, approved_sign, approved_template

pytestmark = pytest.mark.slow
FAST = SmscConfig(receipt_delay=0.01)
SMSCS: dict[str, Callable[[], SmscSimulator]] = {
    "never answers": lambda: bad.NeverAnswers(FAST),
    "generic nack": lambda: bad.NacksSubmits(FAST),
    "unbind on submit": lambda: bad.UnbindsOnSubmit(FAST),
    "refuses binds": lambda: bad.RefusesBinds(FAST),
    "bad command length": lambda: bad.BadCommandLength(FAST),
    "receipt before resp": lambda: bad.ReceiptBeforeResp(FAST),
    "throttles every 3rd": lambda: bad.ThrottlesEveryNth(FAST, every=3),
    "drops mid-window": lambda: bad.DropsMidWindow(FAST, after=3),
    "queue full": lambda: bad.QueueFull(FAST, count=3),
}


@pytest.mark.parametrize("kind", list(SMSCS), ids=list(SMSCS))
def test_every_message_ends_final_whatever_the_smsc_does(tmp_path: Path, kind: str) -> None:
    with SimulatorThread(SMSCS[kind]()) as smsc:
        config = SmppConfig(
            system_id="smscloud",
            password="password",
            port=smsc.sim.port,
            response_timeout=0.3,
            bind_wait=0.2,
            reconnect_min=0.05,
            reconnect_max=0.2,
            throttle_pause=0.05,
        )
        carrier = SmppCarrier("sim", config)
        p = Platform(
            make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", lease_seconds=2),
            carrier=carrier,
        )
        p.dispatcher = Dispatcher(
            p.db, carrier, poll_interval=0.02, max_attempts=3, lease_seconds=2
        )
        p.sender.on_accepted = p.dispatcher.notify

        async def main() -> tuple[dict[str, int], int, int]:
            await p.start()
            try:

                def arrange(conn: Connection) -> tuple[int, str, str]:
                    t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
                    app = tenants.create_app(conn, t.id, "a")
                    wallet.grant_package(conn, t.id, 100)
                    approved_sign(conn, t.id, "签名")
                    return (
                        t.id,
                        app.sdk_app_id,
                        str(approved_template(conn, t.id, "码{1}")),
                    )

                tenant, app, tpl = p.db.write_sync(arrange)
                phones = [f"+8613800138{i:03d}" for i in range(100, 110)]
                await p.sender.send(SendRequest(tenant, app, phones, tpl, "签名", ["1234"]))
                m = s.messages
                deadline = time.time() + 30
                while True:
                    states = dict(
                        p.db.read_sync(
                            lambda c: c.execute(
                                select(m.c.state, func.count()).group_by(m.c.state)
                            ).all()
                        )
                    )
                    if set(states) <= FINAL or time.time() > deadline:
                        break
                    await asyncio.sleep(0.05)
                used = p.db.read_sync(lambda c: c.execute(select(s.packages.c.used)).scalar_one())
                billed = p.db.read_sync(
                    lambda c: c.execute(
                        select(func.coalesce(func.sum(m.c.parts), 0)).where(m.c.refunded.is_(False))
                    ).scalar_one()
                )
                return states, int(used), int(billed)
            finally:
                await p.stop()

        states, used, billed = asyncio.run(main())
    assert set(states) <= FINAL, states  # nothing queued, leased or waiting for a receipt
    assert sum(states.values()) == 10  # nothing lost
    assert used == billed  # refunds match what was never taken
