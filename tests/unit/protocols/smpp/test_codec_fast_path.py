"""The inlined body reader (codec._read_body) reads exactly what the general one does, and
the generated body writers (codec.body_writer) write exactly what the general one does.

For any bytes after a header, of any command, both readers give the same fields, leave the
reader at the same place, or fail with the same command_status and message. For any PDU of
any command, both writers give the same bytes.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.protocols.smpp import SubmitSm, codec
from smscloud.protocols.smpp.base import body_fields
from smscloud.protocols.smpp.commands import COMMANDS

from .strategies import pdus

CLASSES = sorted(COMMANDS.values(), key=lambda c: c.command_id)


def _general(buf: bytes, cls: type) -> tuple[object, ...]:
    reader = codec._Reader(buf, cls.command_id, 1)
    try:
        values = {name: reader.field(wire) for name, wire in body_fields(cls)}
    except codec.PduError as exc:
        return ("error", exc.status, str(exc))
    return ("ok", values, reader.pos)


def _inlined(buf: bytes, cls: type) -> tuple[object, ...]:
    reader = codec._Reader(buf, cls.command_id, 1)
    try:
        values = codec._read_body(reader, codec._plan(cls))
    except codec.PduError as exc:
        return ("error", exc.status, str(exc))
    return ("ok", values, reader.pos)


# Bodies made of the pieces fields are made of, so that whole PDUs decode often, not only
# the first field's failure.
PIECES = st.one_of(
    st.binary(max_size=3),
    st.builds(lambda s: s + b"\0", st.binary(max_size=24).map(lambda b: b.replace(b"\0", b"a"))),
    st.builds(lambda n, b: bytes([n]) + b, st.integers(0, 255), st.binary(max_size=40)),
)


@settings(max_examples=600)
@given(cls=st.sampled_from(CLASSES), body=st.lists(PIECES, max_size=24).map(b"".join))
def test_inlined_reader_agrees_with_the_general_one(cls: type, body: bytes) -> None:
    buf = bytes(codec.HEADER_LENGTH) + body
    assert _inlined(buf, cls) == _general(buf, cls)


def test_a_submit_sm_with_every_kind_of_field_reads_the_same() -> None:
    pdu = SubmitSm(
        service_type="CMT",
        source_addr="10690088",
        destination_addr="8613800138000",
        schedule_delivery_time="000001000000000R",  # a fixed-length time: the general path
        short_message="验证码 123456".encode("utf-16-be"),
        data_coding=8,
        registered_delivery=1,
    )
    wire = codec.encode(pdu.with_sequence(9))
    assert _inlined(wire, SubmitSm) == _general(wire, SubmitSm)
    assert codec.decode(wire) == pdu.with_sequence(9)


@settings(max_examples=600)
@given(data=st.data(), cls=st.sampled_from(CLASSES))
def test_generated_writer_agrees_with_the_general_one(data: st.DataObject, cls: type) -> None:
    pdu = data.draw(pdus(cls))
    general, generated = bytearray(), bytearray()
    codec.write_body_general(general, pdu)
    codec.body_writer(cls)(generated, pdu)
    assert generated == general
