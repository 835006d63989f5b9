"""Receipts are acknowledged to the SMSC only once committed, on SQLite and PostgreSQL.

The real dispatcher and store, an SmppCarrier and the simulator over loopback. The writer is
held busy by a job of the test's own, as a slow commit would hold it; receipts for unknown ids
go to ``orphan_receipts`` in the same commit, so they need no message rows.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, select, text

from smscloud.carriers.base import Submission
from smscloud.carriers.smpp import SmppCarrier
from smscloud.carriers.smsc import SmscConfig, SmscSimulator
from smscloud.carriers.smsc.outcomes import receipt_pdu
from smscloud.platform import Platform
from smscloud.protocols.smpp import CommandStatus, DeliverSm, SubmitSm
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.carriers.smpp.support import config, until

S = CommandStatus
ACCOUNT = {"esme": "secret"}
SILENT = "+8613800000004"  # the magic number that never gets a receipt


def _receipt(message_id: str) -> DeliverSm:
    now = datetime.now(UTC)
    submit = SubmitSm(source_addr="1069", destination_addr="8613800138000", short_message=b"x")
    return receipt_pdu(submit, message_id, "DELIVRD", now, now)


def _owed(sim: SmscSimulator) -> int:
    return sum(
        isinstance(p, DeliverSm) for c in sim.connections for p, _ in c.session.outstanding.values()
    )


def _orphans(conn: Connection) -> list[str]:
    o = s.orphan_receipts
    return [r[0] for r in conn.execute(select(o.c.carrier_msg_id))]


async def _barrier(carrier: SmppCarrier) -> None:
    """Every PDU the carrier wrote before this returns has been read by the simulator: a
    submit's response comes after everything the simulator read before the submit."""
    [result] = await carrier.submit([Submission(0, SILENT, "barrier")])
    assert result.carrier_msg_id is not None


def test_a_receipt_is_answered_after_the_commit_that_stores_it(
    tmp_path: Path, database_url: str
) -> None:
    async def main() -> None:
        async with SmscSimulator(SmscConfig(accounts=ACCOUNT)) as sim:
            carrier = SmppCarrier("c", config(sim.port))
            p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
            await p.start()
            try:
                entered, release = threading.Event(), threading.Event()

                def busy(conn: Connection) -> None:
                    entered.set()
                    release.wait(30)

                held = asyncio.ensure_future(p.db.write(busy))
                await until(entered.is_set)
                sim.deliver("esme", [_receipt("beef01")])
                await _barrier(carrier)  # the carrier has read the receipt...
                await _barrier(carrier)  # ...and the simulator whatever it answered at once
                assert _owed(sim) == 1 and sum(sim.answered.values()) == 0
                release.set()
                await held
                await until(lambda: sim.answered[S.ESME_ROK] == 1, within=10)
                assert _owed(sim) == 0
                assert await p.db.read(_orphans) == ["beef01"]
            finally:
                release.set()
                await p.stop()

    asyncio.run(main())


def test_a_receipt_that_could_not_be_stored_is_refused_and_stored_when_sent_again(
    tmp_path: Path, database_url: str
) -> None:
    async def main() -> None:
        cfg = SmscConfig(accounts=ACCOUNT, retry_delay=0.05)
        async with SmscSimulator(cfg) as sim:
            carrier = SmppCarrier("c", config(sim.port))
            p = Platform(make_settings(tmp_path, database_url), carrier=carrier)
            await p.start()
            try:
                await p.db.write(
                    lambda c: c.execute(text("ALTER TABLE orphan_receipts RENAME TO away"))
                )
                sim.deliver("esme", [_receipt("beef02")])
                # SMPP 3.4 §5.1.3 ESME_RX_T_APPN, and the SMSC keeps it.
                await until(lambda: sim.answered[S.ESME_RX_T_APPN] >= 1, within=10)
                assert sim.answered[S.ESME_ROK] == 0
                await p.db.write(
                    lambda c: c.execute(text("ALTER TABLE away RENAME TO orphan_receipts"))
                )
                await until(lambda: sim.answered[S.ESME_ROK] == 1, within=10)
                assert not sim.pending()
                o = s.orphan_receipts
                count = await p.db.read(
                    lambda c: c.execute(select(func.count()).select_from(o)).scalar_one()
                )
                assert count == 1 and await p.db.read(_orphans) == ["beef02"]
            finally:
                await p.stop()

    asyncio.run(main())
