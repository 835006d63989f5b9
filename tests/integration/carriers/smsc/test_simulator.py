"""The well-behaved SMSC simulator, driven by a real ESME session over TCP."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest

from smscloud.carriers.magic import REPLY_TEXT
from smscloud.carriers.smsc import SmscConfig, SmscSimulator
from smscloud.protocols.smpp import (
    BindTransmitterResp,
    CommandStatus,
    DeliverSm,
    EnquireLink,
    GenericNack,
    MessageState,
    SubmitSm,
    Tag,
    Unbind,
    join,
    parse_receipt,
    split,
)
from smscloud.protocols.smpp.udh import Concat, Part
from tests.peers.esme import Esme, is_receipt, run_async, until

S = CommandStatus
FAST = SmscConfig(receipt_delay=0.01)


@run_async
async def test_bind_kinds_and_refusals() -> None:
    config = SmscConfig(accounts={"a": "pw"}, max_binds=1)
    async with SmscSimulator(config) as sim:
        esmes = [await Esme.connect(sim.port) for _ in range(4)]
        try:
            ok = await esmes[0].bind("tx", "a", "pw")
            assert ok.command_status == 0 and ok.name == "bind_transmitter_resp"
            assert isinstance(ok, BindTransmitterResp) and ok.system_id == "SMSCSIM"
            wrong = await esmes[1].bind("rx", "a", "nope")
            assert (wrong.name, wrong.command_status) == ("bind_receiver_resp", S.ESME_RBINDFAIL)
            unknown = await esmes[2].bind("trx", "who", "pw")
            assert unknown.command_status == S.ESME_RINVSYSID
            too_many = await esmes[3].bind("trx", "a", "pw")
            assert too_many.command_status == S.ESME_RBINDFAIL
        finally:
            for esme in esmes:
                await esme.close()


@run_async
async def test_enquire_link_unbind_and_garbage() -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            early = await esme.response(esme.submit("8613800000000", raw=True))
            assert early.command_status == S.ESME_RINVBNDSTS  # §2.4: not bound yet
            await esme.bind()
            assert (await esme.response(esme.send(EnquireLink()))).name == "enquire_link_resp"
            esme.writer.write(bytes.fromhex("00000010 000000ff 00000000 00000063"))
            nack = await esme.wait_for(lambda p: isinstance(p, GenericNack))
            assert isinstance(nack, GenericNack)
            assert (nack.sequence_number, nack.command_status) == (0x63, S.ESME_RINVCMDID)
            assert (await esme.response(esme.send(Unbind()))).name == "unbind_resp"
            await asyncio.wait_for(esme.eof.wait(), 1)
        finally:
            await esme.close()


@pytest.mark.parametrize(
    ("suffix", "stat", "state", "err"),
    [
        ("0000000", "DELIVRD", MessageState.DELIVERED, 0),
        ("0000001", "UNDELIV", MessageState.UNDELIVERABLE, 1),
        ("0000002", "EXPIRED", MessageState.EXPIRED, 27),
        ("0000005", "REJECTD", MessageState.REJECTED, 11),
        ("0000007", "DELIVRD", MessageState.DELIVERED, 0),
    ],
)
@run_async
async def test_receipt_per_magic_number(suffix: str, stat: str, state: int, err: int) -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            message_id = await esme.message_id(esme.submit("861380" + suffix, b"hello world"))
            assert int(message_id, 16) >= 1
            receipt = await esme.receipt()
            assert receipt.esm_class == 0x04 and receipt.data_coding == 0
            assert (receipt.source_addr, receipt.destination_addr) == (
                "861380" + suffix,
                "smscloud",
            )
            parsed = parse_receipt(receipt.short_message)
            assert parsed is not None
            assert (parsed.id, parsed.stat, parsed.err, parsed.text) == (
                message_id,
                stat,
                f"{err:03d}",
                "hello world",
            )
            assert parsed.sub == 1 and parsed.dlvrd == (1 if stat == "DELIVRD" else 0)
            assert receipt.receipted_message_id == message_id
            assert receipt.delivery_state == state
            assert receipt.network_error_code == bytes((3,)) + err.to_bytes(2, "big")
            await asyncio.sleep(0.05)  # room for a second receipt, which must not come
            assert sum(1 for p in esme.history if is_receipt(p)) == 1
        finally:
            await esme.close()
        assert [r.message_id for r in sim.submitted] == [message_id]


@run_async
async def test_refused_and_silent_magic_numbers() -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            refused = await esme.response(esme.submit("8613800000003"))
            assert refused.command_status == S.ESME_RINVDSTADR
            silent = await esme.response(esme.submit("8613800000004"))
            assert silent.command_status == 0
            await asyncio.sleep(0.06)
            assert not any(isinstance(p, DeliverSm) for p in esme.history)
        finally:
            await esme.close()
        assert [r.status for r in sim.submitted] == [S.ESME_RINVDSTADR, 0]


@run_async
async def test_receipt_waits_for_a_receiver_and_submitted_records_fields() -> None:
    async with SmscSimulator(FAST) as sim:
        tx = await Esme.connect(sim.port)
        try:
            await tx.bind("tx")
            message_id = await tx.message_id(tx.submit("8613800000000", b"hi", source_addr="1069"))
            await asyncio.sleep(0.05)  # the receipt is due, but no receiver is bound
            assert not any(isinstance(p, DeliverSm) for p in tx.history)
            record = sim.submitted[0]
            assert record.system_id == "smscloud" and record.pdu.source_addr == "1069"
            assert (record.pdu.dest_addr_ton, record.pdu.short_message) == (1, b"hi")
            rx = await Esme.connect(sim.port)
            try:
                await rx.bind("rx")
                receipt = await rx.deliver()
                assert receipt.receipted_message_id == message_id
            finally:
                await rx.close()
        finally:
            await tx.close()


@run_async
async def test_unacknowledged_receipt_is_resent_on_the_next_bind() -> None:
    async with SmscSimulator(SmscConfig(receipt_delay=0.0, response_timeout=0.05)) as sim:
        first = await Esme.connect(sim.port)
        first.auto_ack = False
        try:
            await first.bind()
            await first.response(first.submit("8613800000000"))
            lost = await first.deliver()
            await asyncio.sleep(0.08)  # past the deliver_sm_resp timeout
        finally:
            await first.close()
        second = await Esme.connect(sim.port)
        try:
            await second.bind("rx")
            again = await second.deliver()
            assert again.short_message == lost.short_message
        finally:
            await second.close()


@run_async
async def test_throughput_cap_throttles_the_excess() -> None:
    async with SmscSimulator(SmscConfig(throughput=2, receipt_delay=1.0)) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            sent = [esme.submit(f"86138000001{i:02d}") for i in range(4)]
            statuses = [(await esme.response(p)).command_status for p in sent]
            assert statuses == [0, 0, S.ESME_RTHROTTLED, S.ESME_RTHROTTLED]
        finally:
            await esme.close()


@pytest.mark.parametrize("method", [Concat.UDH8, Concat.SAR])
@run_async
async def test_each_concatenated_part_is_its_own_message(method: Concat) -> None:
    parts = split("x" * 400, method=method, reference=7)
    assert len(parts) == 3
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            sent = [
                esme.submit("8613800000000", p.short_message, esm_class=p.esm_class, tlvs=p.tlvs)
                for p in parts
            ]
            ids = [await esme.message_id(p) for p in sent]
            assert len(set(ids)) == 3
            receipts = [await esme.receipt() for _ in ids]
            assert sorted(str(r.receipted_message_id) for r in receipts) == sorted(ids)
        finally:
            await esme.close()


@run_async
async def test_message_payload_submit() -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            pdu = SubmitSm(
                destination_addr="8613800000000",
                registered_delivery=1,
                tlvs=((Tag.MESSAGE_PAYLOAD, b"y" * 300),),
            )
            assert (await esme.response(esme.send(pdu))).command_status == 0
            receipt = await esme.deliver()
            assert receipt.short_message.endswith(b"text:" + b"y" * 20)
        finally:
            await esme.close()


def _as_part(p: DeliverSm) -> Part:
    return Part(short_message=p.short_message, data_coding=p.data_coding, esm_class=p.esm_class)


@run_async
async def test_magic_reply_is_a_ucs2_mo_from_the_handset() -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            await esme.response(esme.submit("8613800000007", source_addr="10690001"))
            mo = await esme.deliver(lambda p: not is_receipt(p))
            assert (mo.source_addr, mo.destination_addr) == ("8613800000007", "10690001")
            assert (mo.esm_class, mo.data_coding) == (0, 8)
            assert mo.short_message == REPLY_TEXT.encode("utf-16-be")
        finally:
            await esme.close()


@run_async
async def test_inject_mo_long_text_arrives_as_udh_parts_round_robin() -> None:
    async with SmscSimulator(FAST) as sim:
        a, b = await Esme.connect(sim.port), await Esme.connect(sim.port)
        try:
            await a.bind("rx")
            await b.bind("trx")
            text = "你好，世界" * 30  # 150 UCS-2 characters: three parts
            sim.inject_mo("8613900000000", "10690001", text)

            def delivered() -> list[DeliverSm]:
                return [p for e in (a, b) for p in e.history if isinstance(p, DeliverSm)]

            await until(lambda: len(delivered()) == 3, a, b)
            got = delivered()
            counts = sorted(sum(isinstance(p, DeliverSm) for p in e.history) for e in (a, b))
            assert counts == [1, 2]  # round robin over both receivers
            assert {(p.source_addr, p.destination_addr) for p in got} == {
                ("8613900000000", "10690001")
            }
            assert all(p.esm_class == 0x40 and p.data_coding == 8 for p in got)
            assert join([_as_part(p) for p in got]) == text
        finally:
            await a.close()
            await b.close()


@run_async
async def test_stop_leaves_nothing_running() -> None:
    sim = SmscSimulator(SmscConfig(receipt_delay=5.0, submit_latency=5.0))
    await sim.start()
    esme = await Esme.connect(sim.port)
    await esme.bind()
    esme.submit("8613800000000")  # its answer and receipt are still ahead when we stop
    await asyncio.sleep(0.02)
    await sim.stop()
    await asyncio.wait_for(esme.eof.wait(), 1)
    await esme.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert not sim.connections
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", sim.port)


@run_async
async def test_smsc_initiated_unbind_and_no_receipt_unless_requested() -> None:
    async with SmscSimulator(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            await esme.message_id(esme.submit("8613800000000", registered_delivery=0))
            await asyncio.sleep(0.04)  # past receipt_delay: §5.2.17 asked for none
            assert not any(isinstance(p, DeliverSm) for p in esme.history)
            sim.unbind("smscloud")
            await esme.wait_for(lambda p: isinstance(p, Unbind))
            await asyncio.wait_for(esme.eof.wait(), 1)  # closed once we answered
        finally:
            await esme.close()
        assert not sim.connections


@run_async
async def test_a_long_running_simulator_remembers_only_its_latest_submits() -> None:
    """``smsc-sim`` and ``serve``'s carrier run for days: a record kept per message would
    grow without end (100,000 messages cost ~70 MiB), so they keep none; tests keep all."""
    async with SmscSimulator(SmscConfig(receipt_delay=60, keep_submitted=2)) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            for n in range(5):
                await esme.message_id(esme.submit(f"86139000{n}1234", b"hi"))
        finally:
            await esme.close()
        assert [r.pdu.destination_addr for r in sim.submitted] == [
            "8613900031234",
            "8613900041234",
        ]
        assert sim.config.keep_submitted == 2


@run_async
async def test_a_window_of_submits_is_answered_in_one_write() -> None:
    """What one loop turn answers leaves in one write to the socket, in order."""
    async with SmscSimulator(SmscConfig(receipt_delay=60)) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            (conn,) = sim.connections
            with mock.patch.object(conn.writer, "write", wraps=conn.writer.write) as write:
                # Written in one go: the simulator reads them in one turn.
                submits = [esme.submit(f"8613912345{i:03d}") for i in range(10)]
                ids = [await esme.message_id(submit) for submit in submits]
            assert write.call_count == 1
            assert len(set(ids)) == 10
        finally:
            await esme.close()
