"""Each misbehaving SMSC misbehaves observably, and only in its own way."""

from __future__ import annotations

import asyncio

from smscloud.carriers.smsc import (
    BadCommandLength,
    DropsAfterAccepting,
    DropsAfterFirstPart,
    DropsMidWindow,
    NacksSubmits,
    NeverAnswers,
    QueueFull,
    ReceiptBeforeResp,
    RefusesBinds,
    SmscConfig,
    ThrottlesEveryNth,
    UnbindsOnSubmit,
)
from smscloud.protocols.smpp import (
    CommandStatus,
    Concat,
    GenericNack,
    Pdu,
    PduError,
    SubmitSmResp,
    split,
)
from tests.peers.esme import Esme, run_async

S = CommandStatus
FAST = SmscConfig(receipt_delay=0.01)


@run_async
async def test_never_answers() -> None:
    async with NeverAnswers(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            esme.submit("8613800000000")
            await asyncio.sleep(0.05)
            assert [type(p).__name__ for p in esme.history] == ["BindTransceiverResp"]
            assert len(sim.submitted) == 1 and sim.submitted[0].status is None
        finally:
            await esme.close()


@run_async
async def test_nacks_every_submit() -> None:
    async with NacksSubmits(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            sent = esme.submit("8613800000000")
            nack = await esme.wait_for(lambda p: isinstance(p, GenericNack))
            assert isinstance(nack, GenericNack)
            assert (nack.sequence_number, nack.command_status) == (
                sent.sequence_number,
                S.ESME_RSYSERR,
            )
        finally:
            await esme.close()


@run_async
async def test_unbinds_on_first_submit() -> None:
    async with UnbindsOnSubmit(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            esme.submit("8613800000000")
            unbind = await esme.wait_for(lambda p: isinstance(p, Pdu) and p.name == "unbind")
            assert isinstance(unbind, Pdu)
            await asyncio.wait_for(esme.eof.wait(), 1)  # closed after our unbind_resp
            assert not any(isinstance(p, SubmitSmResp) for p in esme.history)
        finally:
            await esme.close()


@run_async
async def test_refuses_every_bind() -> None:
    async with RefusesBinds(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            assert (await esme.bind()).command_status == S.ESME_RBINDFAIL
        finally:
            await esme.close()


@run_async
async def test_bad_command_length_after_bind() -> None:
    async with BadCommandLength(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            assert (await esme.bind()).command_status == 0
            error = await esme.wait_for(lambda p: isinstance(p, PduError))
            assert isinstance(error, PduError) and error.status == S.ESME_RINVCMDLEN
        finally:
            await esme.close()


@run_async
async def test_receipt_arrives_before_the_submit_resp() -> None:
    async with ReceiptBeforeResp(FAST) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            sent = esme.submit("8613800000000")
            message_id = await esme.message_id(sent)
            receipt = await esme.receipt()
            kinds = [type(p) for p in esme.history]
            assert esme.history.index(receipt) < kinds.index(SubmitSmResp)
            assert receipt.receipted_message_id == message_id
        finally:
            await esme.close()


@run_async
async def test_throttles_every_third_submit() -> None:
    async with ThrottlesEveryNth(FAST, every=3) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            sent = [esme.submit(f"86138000001{i:02d}") for i in range(6)]
            statuses = [(await esme.response(p)).command_status for p in sent]
            t = S.ESME_RTHROTTLED
            assert statuses == [0, 0, t, 0, 0, t]
        finally:
            await esme.close()


@run_async
async def test_drops_the_connection_mid_window() -> None:
    async with DropsMidWindow(FAST, after=3) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            for i in range(3):
                esme.submit(f"86138000001{i:02d}")
            await asyncio.wait_for(esme.eof.wait(), 1)
            assert len(sim.submitted) == 3
            assert not any(isinstance(p, SubmitSmResp) for p in esme.history)
        finally:
            await esme.close()


@run_async
async def test_queue_full_for_a_while() -> None:
    async with QueueFull(FAST, count=2) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            sent = [esme.submit("8613800000000") for _ in range(3)]
            statuses = [(await esme.response(p)).command_status for p in sent]
            assert statuses == [S.ESME_RMSGQFUL, S.ESME_RMSGQFUL, 0]
        finally:
            await esme.close()


@run_async
async def test_drops_after_answering_every_nth_accepted_submit() -> None:
    async with DropsAfterAccepting(FAST, every=2) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            first, second = esme.submit("8613800000100"), esme.submit("8613800000101")
            assert (await esme.response(first)).command_status == 0
            assert (await esme.response(second)).command_status == 0  # answered, then closed
            await asyncio.wait_for(esme.eof.wait(), 1)
            assert sim.drops == 1
        finally:
            await esme.close()


@run_async
async def test_drops_after_the_first_part_of_a_long_message() -> None:
    async with DropsAfterFirstPart(FAST) as sim:
        parts = split("x" * 400, method=Concat.UDH8, reference=7)
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            whole = esme.submit("8613800000100")
            assert (await esme.response(whole)).command_status == 0  # not a part: kept open
            first = esme.submit("8613800000100", parts[0].short_message, esm_class=0x40)
            assert (await esme.response(first)).command_status == 0
            await asyncio.wait_for(esme.eof.wait(), 1)
        finally:
            await esme.close()
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            rest = [
                esme.submit("8613800000100", p.short_message, esm_class=0x40) for p in parts[1:]
            ]
            assert [(await esme.response(p)).command_status for p in rest] == [0, 0]
            assert sim.drops == 1
        finally:
            await esme.close()
