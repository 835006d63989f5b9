"""SmppCarrier against TinySmsc, for what smpp34 cannot do: drops, silence, refused binds,
working receiver binds, keepalive, SAR and message_payload."""

from __future__ import annotations

import asyncio
import time

from smscloud.carriers.base import DELIVERED, REJECTED, Submission
from smscloud.carriers.smpp import BindMode
from smscloud.protocols.smpp import Concat, DeliverSm, Tag
from tests.integration.carriers.smpp.support import Sink, config, run, started, until
from tests.peers.smscs import Seen, TinySmsc

PHONE = "+447700900123"


def test_transmitter_receiver_pair() -> None:
    sink = Sink()

    async def main() -> None:
        async with TinySmsc() as smsc:
            carrier = await started(config(smsc.port, bind_mode=BindMode.PAIR, binds=2), sink)
            await until(lambda: carrier.health().bound == 4)
            assert sorted(smsc.binds) == ["bind_receiver"] * 2 + ["bind_transmitter"] * 2
            results = await carrier.submit([Submission(i, PHONE, "x") for i in range(40)])
            assert all(r.carrier_msg_id for r in results)
            assert carrier.health().window_size == 20  # receivers take no submits
            text = b"id:T1 sub:001 dlvrd:001 stat:REJECTD err:000 text:"
            smsc.deliver(DeliverSm(source_addr="447700900123", esm_class=4, short_message=text))
            await until(lambda: bool(sink.receipt_list))
            await carrier.stop()

    run(main())
    [receipt] = sink.receipt_list
    assert (receipt.carrier_msg_id, receipt.state, receipt.code) == ("t1", REJECTED, "REJECTD")


def test_dropped_connection_fails_in_flight_as_temporary_and_reconnects() -> None:
    async def main() -> None:
        async with TinySmsc(policy=lambda seen: None) as smsc:  # never answers
            carrier = await started(config(smsc.port, response_timeout=5.0), Sink())
            task = asyncio.create_task(
                carrier.submit([Submission(i, PHONE, "x") for i in range(15)])
            )
            await until(lambda: len(smsc.seen) == 10)  # one window in flight
            smsc.drop()
            results = await task
            assert all(r.carrier_msg_id is None and not r.permanent for r in results)
            assert {r.error for r in results} <= {"connection lost", "unbound"}
            await until(lambda: carrier.health().bound == 1 and len(smsc.binds) == 2)
            smsc.policy = None
            [res] = await carrier.submit([Submission(99, PHONE, "back")])
            assert res.carrier_msg_id
            assert carrier.health().reconnects == 1
            await carrier.stop()

    run(main())


def test_response_timeout_is_temporary() -> None:
    async def main() -> None:
        async with TinySmsc(policy=lambda seen: None) as smsc:
            carrier = await started(config(smsc.port, response_timeout=0.2), Sink())
            t0 = time.monotonic()
            [res] = await carrier.submit([Submission(1, PHONE, "x")])
            assert 0.2 <= time.monotonic() - t0 < 1.0
            assert (res.carrier_msg_id, res.error, res.permanent) == (None, "timeout", False)
            assert carrier.health().errors["timeout"] == 1
            await carrier.stop()

    run(main())


def test_refused_bind_retries_and_submit_is_temporary() -> None:
    async def main() -> None:
        async with TinySmsc(password="other") as smsc:
            carrier = await started(config(smsc.port, bind_wait=0.2), Sink())
            await until(lambda: len(smsc.binds) >= 3)  # backoff, then bind again
            [res] = await carrier.submit([Submission(1, PHONE, "x")])
            assert (res.carrier_msg_id, res.error, res.permanent) == (None, "unbound", False)
            assert carrier.health().bound == 0
            await carrier.stop()

    run(main())


def test_no_smsc_at_all() -> None:
    async def main() -> None:
        smsc = TinySmsc()  # port chosen, never listening
        carrier = await started(config(smsc.port, bind_wait=0.1), Sink())
        [res] = await carrier.submit([Submission(1, PHONE, "x")])
        assert (res.error, res.permanent) == ("unbound", False)
        await carrier.stop()

    run(main())


def test_vendor_status_is_permanent_and_enquire_link_keeps_alive() -> None:
    async def main() -> None:
        async with TinySmsc(policy=lambda seen: 0x401) as smsc:
            carrier = await started(config(smsc.port, enquire_interval=0.05), Sink())
            [res] = await carrier.submit([Submission(1, PHONE, "x")])
            assert (res.error, res.permanent) == ("0x00000401", True)
            await until(lambda: smsc.enquire_links >= 3)
            assert carrier.health().bound == 1
            await carrier.stop()

    run(main())


def test_sar_and_payload_methods() -> None:
    long = "x" * 200

    async def submit(method: Concat) -> tuple[list[Seen], list[tuple[tuple[int, bytes], ...]]]:
        async with TinySmsc() as smsc:
            carrier = await started(config(smsc.port, long_method=method), Sink())
            [res] = await carrier.submit([Submission(1, PHONE, long)])
            await carrier.stop()
            assert res.carrier_msg_id == "t1"
            return smsc.seen, smsc.tlvs

    seen, tlvs = run(submit(Concat.SAR))
    assert [(s.esm_class, len(s.short_message)) for s in seen] == [(0, 160), (0, 40)]
    sar = [
        (d[Tag.SAR_MSG_REF_NUM], d[Tag.SAR_TOTAL_SEGMENTS], d[Tag.SAR_SEGMENT_SEQNUM])
        for d in map(dict, tlvs)
    ]
    assert sar[0][0] == sar[1][0] and [s[1:] for s in sar] == [(b"\2", b"\1"), (b"\2", b"\2")]
    seen, tlvs = run(submit(Concat.PAYLOAD))
    assert len(seen) == 1 and seen[0].short_message == b""
    assert dict(tlvs[0])[Tag.MESSAGE_PAYLOAD] == b"x" * 200


def test_tlv_receipt_on_transceiver_is_delivered() -> None:
    sink = Sink()

    async def main() -> None:
        async with TinySmsc() as smsc:
            carrier = await started(config(smsc.port), sink)
            tlvs = ((Tag.RECEIPTED_MESSAGE_ID, b"0A1B\0"), (Tag.MESSAGE_STATE, b"\x02"))
            for _ in range(5):
                smsc.deliver(DeliverSm(source_addr="1", esm_class=4, tlvs=tlvs))
            await until(lambda: len(sink.receipt_list) == 5)
            await carrier.stop()

    run(main())
    assert {(r.carrier_msg_id, r.state) for r in sink.receipt_list} == {("0a1b", DELIVERED)}
    assert sink.calls < 5  # coalesced per event-loop tick


def test_rate_limit_spaces_submits() -> None:
    async def main() -> None:
        async with TinySmsc() as smsc:
            carrier = await started(config(smsc.port, rate=50.0, burst=1, window=50), Sink())
            t0 = time.monotonic()
            results = await carrier.submit([Submission(i, PHONE, "x") for i in range(20)])
            assert time.monotonic() - t0 >= 19 / 50 * 0.9
            assert all(r.carrier_msg_id for r in results)
            await carrier.stop()

    run(main())
