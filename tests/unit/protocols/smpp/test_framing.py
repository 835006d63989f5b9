"""Framing: partial reads, many PDUs per chunk, bad command_length."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.protocols.smpp import (
    ALL_PDUS,
    CommandStatus,
    EnquireLink,
    Framer,
    Pdu,
    PduError,
    SubmitSm,
    encode,
)

from .strategies import pdus


def test_partial_then_complete() -> None:
    wire = encode(SubmitSm(sequence_number=3, short_message=b"hello"))
    framer = Framer()
    framer.feed(wire[:10])
    assert list(framer) == []
    framer.feed(wire[10:])
    assert list(framer) == [SubmitSm(sequence_number=3, short_message=b"hello")]
    assert framer.buffered == 0


def test_many_in_one_chunk() -> None:
    framer = Framer()
    framer.feed(b"".join(encode(EnquireLink(sequence_number=i)) for i in range(5)) + b"\x00")
    assert [p.sequence_number for p in framer] == [0, 1, 2, 3, 4]
    assert framer.buffered == 1


@pytest.mark.parametrize("length", [0, 15, 0x7FFFFFFF])
def test_bad_length_breaks_the_stream(length: int) -> None:
    framer = Framer()
    framer.feed(struct.pack("!IIII", length, 0x15, 0, 8))
    for _ in range(2):  # the error sticks: the frame boundary is lost for good
        with pytest.raises(PduError) as info:
            framer.next_pdu()
        assert info.value.status == CommandStatus.ESME_RINVCMDLEN
        assert info.value.sequence_number == 8


def test_bad_body_is_consumed() -> None:
    framer = Framer()
    framer.feed(struct.pack("!IIII", 16, 0x99, 0, 1) + encode(EnquireLink(sequence_number=2)))
    with pytest.raises(PduError) as info:
        framer.next_pdu()
    assert info.value.status == CommandStatus.ESME_RINVCMDID
    assert framer.next_pdu() == EnquireLink(sequence_number=2)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(ALL_PDUS).flatmap(pdus), min_size=1, max_size=6),
    st.lists(st.integers(1, 64), max_size=30),
)
def test_any_chunking_yields_the_same_pdus(items: list[Pdu], cuts: list[int]) -> None:
    stream = b"".join(encode(p) for p in items)
    framer, pos = Framer(), 0
    got: list[Pdu] = []
    for size in [*cuts, len(stream)]:
        framer.feed(stream[pos : pos + size])
        pos += size
        got.extend(framer)
    assert got == items
