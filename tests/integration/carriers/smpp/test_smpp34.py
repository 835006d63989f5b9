"""SmppCarrier against an independent SMSC: the smpp34 (Rust) server."""

from __future__ import annotations

import asyncio
import time

import smpp34

from smscloud.carriers.base import DELIVERED, EXPIRED, UNDELIVERED, Submission
from smscloud.protocols.smpp import parse_udh
from smscloud.protocols.smpp.status import CommandStatus
from tests.integration.carriers.smpp.support import Sink, config, run, started, until
from tests.peers.smscs import Seen, Smpp34Smsc

PHONE = "+8613800138000"


def test_transceiver_binds_and_clean_stop() -> None:
    async def main() -> None:
        async with Smpp34Smsc() as smsc:
            carrier = await started(config(smsc.port, binds=3), Sink())
            await until(lambda: carrier.health().bound == 3 and len(smsc.esmes) == 3)
            assert all(e.can_receive for e in smsc.esmes)
            [result] = await carrier.submit([Submission(1, PHONE, "hi")])
            assert result.carrier_msg_id == "msg000001" and not result.error
            await carrier.stop()
            assert carrier.health().bound == 0
            await until(lambda: smsc.unbound == 3)

    run(main())


def test_windowed_burst_keeps_many_in_flight() -> None:
    """The SMSC answers nothing until 2 binds x window 10 submits wait: a client sending one
    PDU per round trip would stall here."""
    peak = 0

    async def main() -> None:
        nonlocal peak
        async with Smpp34Smsc(policy=lambda seen: None) as smsc:
            carrier = await started(config(smsc.port, binds=2, window=10), Sink())
            await until(lambda: carrier.health().bound == 2)
            batch = [Submission(i, PHONE, f"burst {i}") for i in range(200)]
            task = asyncio.create_task(carrier.submit(batch))
            answered = 0
            while answered < 200:
                expect = min(20, 200 - answered)
                await until(lambda n=expect: len(smsc.held) == n)  # type: ignore[misc]
                peak = max(peak, carrier.health().window_in_use)
                for ev in smsc.held:
                    answered += 1
                    ev.accept(f"B{answered}")
                smsc.held.clear()
            results = await task
            assert [r.message_id for r in results] == list(range(200))
            assert all(r.carrier_msg_id for r in results)
            assert len({r.carrier_msg_id for r in results}) == 200
            assert carrier.health().submits_per_s > 0
            await carrier.stop()

    run(main())
    assert peak == 20


def test_submit_fields() -> None:
    async def main() -> list[Seen]:
        async with Smpp34Smsc() as smsc:
            carrier = await started(config(smsc.port, source_ton=0, source_npi=1), Sink())
            long_text = "您好" * 40  # 80 UCS-2 characters: two parts of at most 67
            results = await carrier.submit(
                [
                    Submission(1, PHONE, "Hello {world}", extend_code="88"),
                    Submission(2, PHONE, "验证码 1234", sender_id="106900"),
                    Submission(3, PHONE, "abc", sender_id="Brand"),
                    Submission(4, PHONE, long_text),
                ]
            )
            await carrier.stop()
            assert [bool(r.carrier_msg_id) for r in results] == [True] * 4
            # the four messages go out together, so part ids interleave with the others'
            first, second = results[3].part_ids
            assert results[3].carrier_msg_id == first and first != second
            assert results[0].part_ids == ()
            return smsc.seen

    seen = run(main())  # smpp34 may hand submits over out of order: find each by content
    by_source = {s.source_addr: s for s in seen if not s.esm_class}
    gsm, ucs, alpha = by_source["106988"], by_source["106900"], by_source["Brand"]
    parts = sorted((s for s in seen if s.esm_class), key=lambda s: s.short_message[5])
    assert (gsm.source_addr, gsm.source_addr_ton, gsm.source_addr_npi) == ("106988", 0, 1)
    assert (gsm.destination_addr, gsm.dest_addr_ton, gsm.dest_addr_npi) == ("8613800138000", 1, 1)
    assert (gsm.data_coding, gsm.registered_delivery, gsm.esm_class) == (0, 1, 0)
    assert gsm.short_message == b"Hello \x1b(world\x1b)"  # GSM 03.38 escapes, unpacked
    assert (ucs.source_addr, ucs.data_coding) == ("106900", 8)
    assert ucs.short_message == "验证码 1234".encode("utf-16-be")
    assert (alpha.source_addr, alpha.source_addr_ton, alpha.source_addr_npi) == ("Brand", 5, 0)
    assert len(parts) == 2
    refs = set()
    for seq, part in enumerate(parts, 1):
        assert (part.esm_class, part.data_coding) == (0x40, 8)
        ies, body = parse_udh(part.short_message)
        (iei, (ref, total, number)), *_ = ies
        assert (iei, total, number) == (0, 2, seq)
        refs.add(ref)
        assert len(body) == (134 if seq == 1 else 26)
    assert len(refs) == 1


def test_receipts_text_and_tlv_forms() -> None:
    sink = Sink()

    async def main() -> None:
        async with Smpp34Smsc() as smsc:
            carrier = await started(config(smsc.port), sink)
            [res] = await carrier.submit([Submission(1, PHONE, "hi")])
            assert res.carrier_msg_id is not None
            esme = smsc.receiver()
            text = (
                f"id:{res.carrier_msg_id.upper()} sub:001 dlvrd:001 submit date:2401011200 "
                "done date:2401011201 stat:DELIVRD err:000 text:hi"
            )
            resp = await esme.deliver_sm("1069", text.encode(), source_addr="8613800138000",
                                         esm_class=4)  # fmt: skip
            assert resp.command_status == 0
            tlvs = [
                smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, b"ABC123\0"),
                smpp34.Tlv(smpp34.TLV_MESSAGE_STATE, b"\x05"),
            ]
            await esme.deliver_sm("1069", b"", source_addr="86138", esm_class=4, tlvs=tlvs)
            # receipted_message_id without the receipt bit, and a text stat
            tlvs = [smpp34.Tlv(smpp34.TLV_RECEIPTED_MESSAGE_ID, b"X9\0")]
            await esme.deliver_sm("1069", b"id:X9 stat:EXPIRED", source_addr="86138", tlvs=tlvs)
            await esme.deliver_sm("1069", b"id:X10 stat:ENROUTE", source_addr="8", esm_class=4)
            await until(lambda: len(sink.receipt_list) == 3)
            await carrier.stop()

    run(main())
    first, second, third = sink.receipt_list
    assert (first.carrier_msg_id, first.state, first.code) == ("msg000001", DELIVERED, "DELIVRD")
    assert abs(first.done_at - time.time()) < 30
    assert (second.carrier_msg_id, second.state, second.code) == ("abc123", UNDELIVERED, "UNDELIV")
    assert (third.carrier_msg_id, third.state, third.code) == ("x9", EXPIRED, "EXPIRED")


def test_mo_single_and_concatenated() -> None:
    sink = Sink()

    async def main() -> None:
        async with Smpp34Smsc() as smsc:
            carrier = await started(config(smsc.port), sink)
            await until(lambda: bool(smsc.esmes))
            esme = smsc.receiver()
            await esme.deliver_sm("106988", b"STOP", source_addr="8613900139000")
            await esme.deliver_sm("1069", b"caf\xe9", source_addr="8613", data_coding=3)
            whole = "回复内容" * 20  # 80 UCS-2 characters, sent as 2 UDH parts
            data = whole.encode("utf-16-be")
            for seq, chunk in ((2, data[134:]), (1, data[:134])):  # out of order on purpose
                udh = bytes((5, 0, 3, 0x2A, 2, seq))
                await esme.deliver_sm("1069", udh + chunk, source_addr="8613700137000",
                                      esm_class=0x40, data_coding=8)  # fmt: skip
            await until(lambda: len(sink.reply_list) == 3)
            await carrier.stop()

    run(main())
    stop, latin, long = sink.reply_list
    assert (stop.phone, stop.text, stop.destination) == ("+8613900139000", "STOP", "106988")
    assert latin.text == "café"
    assert (long.phone, long.text) == ("+8613700137000", "回复内容" * 20)


def test_throttled_parts_are_retried_after_a_pause() -> None:
    refused = 0

    def policy(seen: Seen) -> str | int:
        nonlocal refused
        if refused < 5:
            refused += 1
            return CommandStatus.ESME_RTHROTTLED.value
        return "OK" + seen.short_message.decode()

    async def main() -> None:
        async with Smpp34Smsc(policy=policy) as smsc:
            carrier = await started(config(smsc.port, throttle_retries=5), Sink())
            t0 = time.monotonic()
            results = await carrier.submit([Submission(i, PHONE, str(i)) for i in range(3)])
            assert time.monotonic() - t0 >= 0.05  # paused at least once
            assert [r.carrier_msg_id for r in results] == ["ok0", "ok1", "ok2"]
            assert carrier.health().errors["throttled"] == 5
            await carrier.stop()

    run(main())


def test_throttled_too_often_is_temporary() -> None:
    async def main() -> None:
        policy = lambda seen: CommandStatus.ESME_RMSGQFUL.value  # noqa: E731
        async with Smpp34Smsc(policy=policy) as smsc:
            carrier = await started(config(smsc.port, throttle_retries=2), Sink())
            [res] = await carrier.submit([Submission(7, PHONE, "x")])
            assert (res.carrier_msg_id, res.error, res.permanent) == (None, "ESME_RMSGQFUL", False)
            assert len(smsc.seen) == 3
            await carrier.stop()

    run(main())


def test_permanent_and_temporary_statuses() -> None:
    answers = {
        "a": CommandStatus.ESME_RINVDSTADR.value,
        "b": CommandStatus.ESME_RSYSERR.value,
        "c": CommandStatus.ESME_RINVSRCADR.value,
    }

    async def main() -> None:
        policy = lambda seen: answers.get(seen.short_message.decode(), "fine")  # noqa: E731
        async with Smpp34Smsc(policy=policy) as smsc:
            carrier = await started(config(smsc.port), Sink())
            results = await carrier.submit(
                [Submission(i, PHONE, t) for i, t in enumerate("abcd")]
                + [Submission(9, "+86abc", "d"), Submission(10, PHONE, "d", sender_id="x" * 21)]
            )
            got = [(r.carrier_msg_id, r.error, r.permanent) for r in results]
            assert got == [
                (None, "ESME_RINVDSTADR", True),
                (None, "ESME_RSYSERR", False),
                (None, "ESME_RINVSRCADR", True),
                ("fine", "", False),
                (None, "ESME_RINVDSTADR", True),  # refused before sending
                (None, "ESME_RINVSRCADR", True),
            ]
            assert carrier.health().errors == {"permanent": 4, "temporary": 1}
            await carrier.stop()

    run(main())


def test_rebinds_after_smsc_unbind() -> None:
    async def main() -> None:
        async with Smpp34Smsc() as smsc:
            carrier = await started(config(smsc.port), Sink())
            await until(lambda: len(smsc.esmes) == 1)
            await smsc.esmes[0].unbind()
            await until(lambda: len(smsc.esmes) == 2 and carrier.health().bound == 1)
            assert carrier.health().reconnects == 1
            [res] = await carrier.submit([Submission(1, PHONE, "again")])
            assert res.carrier_msg_id
            await carrier.stop()

    run(main())
