"""A long message cut short by a dropped bind: the retry sends only the parts not taken,
under the same concatenation reference (SmppCarrier against the simulator's family)."""

from __future__ import annotations

from collections import Counter

from smscloud.carriers.base import Submission
from smscloud.carriers.smsc import DropsAfterFirstPart, SmscConfig, SmscSimulator
from smscloud.carriers.smsc.misbehaviour import part_number
from smscloud.protocols.smpp import Concat
from smscloud.protocols.smpp.udh import ESM_UDHI, Part, concat_of
from tests.integration.carriers.smpp.support import Sink, config, run, started, until

PHONE = "+8613800138000"
LONG = "0123456789" * 40  # GSM, 400 characters: three parts of 153
FAST = SmscConfig(receipt_delay=0.01, accounts={"esme": "secret"})


def _concat(sim: SmscSimulator) -> list[tuple[int, int, int]]:
    """(reference, total, part) of every part the SMSC accepted, in order."""
    out = []
    for rec in sim.submitted:
        if rec.status == 0:
            pdu = rec.pdu
            part = Part(
                short_message=pdu.short_message,
                data_coding=pdu.data_coding,
                esm_class=pdu.esm_class & ESM_UDHI,
                tlvs=pdu.tlvs,
            )
            info = concat_of(part)
            assert info is not None
            out.append(info)
    return out


def test_a_retry_sends_only_the_parts_not_taken_under_the_same_reference() -> None:
    async def main() -> None:
        async with DropsAfterFirstPart(FAST) as sim:
            carrier = await started(config(sim.port), Sink())
            [first] = await carrier.submit([Submission(300, PHONE, LONG)])
            # Part 1 was taken, then the bind dropped: a temporary failure naming it.
            assert first.carrier_msg_id is None and not first.permanent
            assert first.parts == 3 and [no for no, _ in first.taken] == [1]
            await until(lambda: carrier.health().bound == 1)
            retry = Submission(300, PHONE, LONG, taken=first.taken, parts=first.parts)
            [done] = await carrier.submit([retry])
            await carrier.stop()
            assert done.carrier_msg_id == first.taken[0][1]
            assert done.part_ids[0] == first.taken[0][1] and len(done.part_ids) == 3
            accepted = _concat(sim)
            assert sorted(seq for _, _, seq in accepted) == [1, 2, 3]  # each part once
            assert {(ref, total) for ref, total, _ in accepted} == {(300 % 256, 3)}

    run(main())


def test_sar_parts_keep_the_reference_across_attempts() -> None:
    async def main() -> None:
        async with DropsAfterFirstPart(FAST) as sim:
            carrier = await started(config(sim.port, long_method=Concat.SAR), Sink())
            [first] = await carrier.submit([Submission(70_000, PHONE, LONG)])
            await until(lambda: carrier.health().bound == 1)
            retry = Submission(70_000, PHONE, LONG, taken=first.taken, parts=first.parts)
            [done] = await carrier.submit([retry])
            await carrier.stop()
            assert len(done.part_ids) == 3
            accepted = _concat(sim)
            assert Counter(seq for _, _, seq in accepted) == {1: 1, 2: 1, 3: 1}
            assert {ref for ref, _, _ in accepted} == {70_000 % 65536}

    run(main())


def test_parts_taken_under_another_split_are_not_continued() -> None:
    """Taken parts that do not fit the message as now built (the carrier's settings changed
    between attempts) cannot be completed: the message goes whole."""

    async def main() -> None:
        async with SmscSimulator(FAST) as sim:
            carrier = await started(config(sim.port), Sink())
            stale = Submission(5, PHONE, LONG, taken=((1, "old1"), (2, "old2")), parts=4)
            [done] = await carrier.submit([stale])
            await carrier.stop()
            assert len(done.part_ids) == 3 and "old1" not in done.part_ids
            assert [part_number(r.pdu) for r in sim.submitted] == [1, 2, 3]

    run(main())
