"""A receipt or reply is acknowledged (deliver_sm_resp) only once the sink has stored it.

SmppCarrier against the simulator over loopback. The sink holds its answer, as a group commit
in progress does; the simulator shows what the carrier answered, and when. A submit on the
same bind serves as a barrier: an answer given at once would have gone out before it, and the
simulator reads in order. The barrier goes to the magic number that never gets a receipt.
"""

from __future__ import annotations

import asyncio

from smscloud.carriers.base import Submission
from smscloud.carriers.smsc import SmscConfig, SmscSimulator
from smscloud.protocols.smpp import CommandStatus, DeliverSm
from tests.integration.carriers.smpp.support import Sink, config, run, started, until

S = CommandStatus
ACCOUNT = {"esme": "secret"}
SILENT = "+8613800000004"  # no receipt ever


def _owed(sim: SmscSimulator) -> int:
    """deliver_sm the simulator sent and has not had answered."""
    return sum(
        isinstance(p, DeliverSm) for c in sim.connections for p, _ in c.session.outstanding.values()
    )


def test_deliver_sm_is_answered_only_once_the_sink_stored_it() -> None:
    async def main() -> None:
        cfg = SmscConfig(accounts=ACCOUNT, receipt_delay=0.0)
        async with SmscSimulator(cfg) as sim:
            sink = Sink(hold=True)
            carrier = await started(config(sim.port), sink)
            try:
                [taken] = await carrier.submit([Submission(1, "+8613800138000", "hi")])
                await until(lambda: len(sink.held) == 1)
                [barrier] = await carrier.submit([Submission(2, SILENT, "hi")])
                assert barrier.carrier_msg_id is not None
                assert sink.receipt_list[0].carrier_msg_id == taken.carrier_msg_id
                assert _owed(sim) == 1 and sum(sim.answered.values()) == 0
                sink.held[0].set_result(None)  # the commit holding it has committed
                await until(lambda: sim.answered[S.ESME_ROK] == 1)
                assert _owed(sim) == 0 and sim.queue.waiting("esme") == 0
            finally:
                await carrier.stop()

    run(main())


def test_what_could_not_be_stored_is_refused_for_now_and_sent_again() -> None:
    """§5.1.3 ESME_RX_T_APPN: the SMSC keeps the deliver_sm and retries it later."""

    async def main() -> None:
        cfg = SmscConfig(accounts=ACCOUNT, receipt_delay=0.0, retry_delay=0.05)
        async with SmscSimulator(cfg) as sim:
            sink = Sink(hold=True)
            carrier = await started(config(sim.port), sink)
            try:
                await carrier.submit([Submission(1, "+8613800138000", "hi")])
                await until(lambda: len(sink.held) == 1)
                sink.held[0].set_exception(OSError("disk full"))
                await until(lambda: sim.answered[S.ESME_RX_T_APPN] == 1)
                await until(lambda: len(sink.held) == 2)  # offered again
                sink.held[1].set_result(None)
                await until(lambda: sim.answered[S.ESME_ROK] == 1)
                first, again = sink.receipt_list
                assert first.carrier_msg_id == again.carrier_msg_id
                assert _owed(sim) == 0 and not sim.pending()
            finally:
                await carrier.stop()

    run(main())


def test_a_reply_waits_for_its_store_too_and_an_unreadable_receipt_does_not() -> None:
    async def main() -> None:
        cfg = SmscConfig(accounts=ACCOUNT)
        async with SmscSimulator(cfg) as sim:
            sink = Sink(hold=True)
            carrier = await started(config(sim.port), sink)
            try:
                # A receipt without a readable id or state: answered ESME_ROK at once, or the
                # SMSC would send it for ever.
                sim.deliver("esme", [DeliverSm(esm_class=0x04, short_message=b"garbage")])
                await until(lambda: sim.answered[S.ESME_ROK] == 1)
                assert carrier.health().errors["bad_receipt"] == 1
                sim.inject_mo("8613800138000", "1069", "TD", system_id="esme")
                await until(lambda: len(sink.held) == 1)
                assert [r.text for r in sink.reply_list] == ["TD"]
                [barrier] = await carrier.submit([Submission(1, SILENT, "hi")])
                assert barrier.carrier_msg_id is not None
                assert _owed(sim) == 1 and sim.answered[S.ESME_ROK] == 1
                sink.held[0].set_result(None)
                await until(lambda: sim.answered[S.ESME_ROK] == 2)
            finally:
                await carrier.stop()

    run(main())


def test_stop_answers_what_is_stored_before_it_unbinds() -> None:
    async def main() -> None:
        cfg = SmscConfig(accounts=ACCOUNT, receipt_delay=0.0)
        async with SmscSimulator(cfg) as sim:
            sink = Sink(hold=True)
            carrier = await started(config(sim.port, unbind_timeout=5.0), sink)
            await carrier.submit([Submission(1, "+8613800138000", "hi")])
            await until(lambda: len(sink.held) == 1)
            stopping = asyncio.ensure_future(carrier.stop())
            await asyncio.sleep(0.05)  # time enough to unbind, if it did not wait
            sink.held[0].set_result(None)
            await stopping
            assert sim.answered[S.ESME_ROK] == 1 and not sim.pending()

    run(main())
