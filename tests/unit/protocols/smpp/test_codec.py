"""Codec: exact bytes, every PDU type round-trips, malformed input only raises PduError."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.protocols.smpp import (
    ALL_PDUS,
    BindTransmitter,
    BindTransmitterResp,
    CommandStatus,
    DeliverSm,
    DeliverSmResp,
    DestAddress,
    DistributionList,
    EnquireLink,
    EnquireLinkResp,
    GenericNack,
    Pdu,
    PduError,
    QuerySmResp,
    SubmitMulti,
    SubmitMultiResp,
    SubmitSm,
    SubmitSmResp,
    Tag,
    UnsuccessSme,
    decode,
    encode,
)
from smscloud.protocols.smpp.codec import MAX_COMMAND_LENGTH
from smscloud.protocols.smpp.tlv import encode_tlv

from .strategies import pdus

S = CommandStatus


def test_every_command_is_declared() -> None:
    ids = {cls.command_id for cls in ALL_PDUS}
    requests = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0B, 0x15, 0x21}
    assert ids == requests | {i | 0x80000000 for i in requests - {0x0B}} | {
        0x80000000,
        0x102,
        0x103,
        0x80000103,
    }
    assert SubmitSm.name == "submit_sm" and GenericNack.name == "generic_nack"


def test_wikipedia_submit_sm_example() -> None:
    # The 60-octet submit_sm "Hello wikipedia" from Wikipedia's "Short Message Peer-to-Peer"
    # article (also on smppserver.org), field by field against SMPP 3.4 §4.4.1.
    wire = bytes.fromhex(
        "0000003C000000040000000000000005"
        "00020835353500010135353535353535353500000000000000000000"
        "0F48656C6C6F2077696B697065646961"
    )
    pdu = SubmitSm(
        sequence_number=5,
        source_addr_ton=2,
        source_addr_npi=8,
        source_addr="555",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="555555555",
        short_message=b"Hello wikipedia",
    )
    assert encode(pdu) == wire
    assert decode(wire) == pdu


def test_ucs2_submit_sm_of_a_chinese_otp() -> None:
    # A typical 118-octet Chinese OTP submit_sm, laid out by hand (SMPP 3.4 §4.4.1); other SMPP
    # libraries encode the very same bytes.
    body = "【腾讯云】您的验证码是123456，5分钟内有效，请勿泄露。".encode("utf-16-be")
    pdu = SubmitSm(
        sequence_number=1,
        source_addr_npi=1,
        source_addr="106900001234",
        dest_addr_ton=1,
        dest_addr_npi=1,
        destination_addr="8613800138000",
        registered_delivery=1,
        data_coding=8,
        short_message=body,
    )
    expected = (
        struct.pack("!IIII", 118, 4, 0, 1)
        + b"\x00"  # service_type
        + b"\x00\x01106900001234\x00"
        + b"\x01\x018613800138000\x00"
        + b"\x00\x00\x00"  # esm_class, protocol_id, priority_flag
        + b"\x00\x00"  # schedule_delivery_time, validity_period
        + b"\x01\x00\x08\x00"  # registered_delivery, replace, data_coding, default_msg_id
        + bytes((60,))
        + body
    )
    assert encode(pdu) == expected
    assert decode(expected) == pdu


def test_enquire_link_pair() -> None:
    # §4.11: header only; sequence 357911 as in OpenMarket's published example.
    assert encode(EnquireLink(sequence_number=357911)).hex() == "00000010000000150000000000057617"
    resp = decode(bytes.fromhex("00000010800000150000000000057617"))
    assert resp == EnquireLinkResp(sequence_number=357911)


def test_bind_transmitter_bytes() -> None:
    pdu = BindTransmitter(
        sequence_number=1, system_id="smppclient1", password="password", interface_version=0x34
    )
    expected = (
        struct.pack("!IIII", 16 + 12 + 9 + 1 + 3 + 1, 2, 0, 1)
        + b"smppclient1\x00password\x00\x00\x34\x00\x00\x00"
    )
    assert encode(pdu) == expected
    assert decode(expected) == pdu


def test_deliver_sm_receipt_tlvs() -> None:
    pdu = DeliverSm(
        esm_class=0x04,
        short_message=b"id:1 stat:DELIVRD",
        tlvs=(encode_tlv(Tag.RECEIPTED_MESSAGE_ID, "1A"), encode_tlv(Tag.MESSAGE_STATE, 2)),
    )
    wire = encode(pdu)
    assert wire.endswith(b"\x00\x1e\x00\x031A\x00\x04\x27\x00\x01\x02")
    got = decode(wire)
    assert got.receipted_message_id == "1A"
    assert got.delivery_state == 2
    assert got.network_error_code is None and got.sar is None


def test_error_response_without_body() -> None:
    # §4.4.2: "The submit_sm_resp PDU Body is not returned if command_status is non-zero".
    wire = struct.pack("!IIII", 16, 0x80000004, S.ESME_RTHROTTLED, 9)
    pdu = decode(wire)
    assert pdu == SubmitSmResp(sequence_number=9, command_status=S.ESME_RTHROTTLED)
    assert encode(pdu) == wire
    assert decode(struct.pack("!IIII", 16, 0x80000002, S.ESME_RBINDFAIL, 1)) == (
        BindTransmitterResp(sequence_number=1, command_status=S.ESME_RBINDFAIL)
    )
    # A body that is present is still decoded.
    with_id = SubmitSmResp(sequence_number=9, command_status=S.ESME_RSYSERR, message_id="x")
    assert decode(encode(with_id)) == with_id


def test_submit_multi_lists() -> None:
    pdu = SubmitMulti(
        dest_addresses=(DestAddress(ton=1, npi=1, address="123"), DistributionList("friends")),
        short_message=b"hi",
    )
    wire = encode(pdu)
    assert b"\x02\x01\x01\x01123\x00\x02friends\x00" in wire
    assert decode(wire) == pdu
    resp = SubmitMultiResp(
        message_id="m1", unsuccess_smes=(UnsuccessSme(address="9", error_status_code=0x0B),)
    )
    assert encode(resp)[16:] == b"m1\x00\x01\x00\x009\x00\x00\x00\x00\x0b"
    assert decode(encode(resp)) == resp


def _raw(command_id: int, body: bytes, status: int = 0, seq: int = 7) -> bytes:
    return struct.pack("!IIII", 16 + len(body), command_id, status, seq) + body


SM_HEAD = b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("wire", "status"),
    [
        (b"\x00\x00\x00\x10\x00\x00", S.ESME_RINVCMDLEN),
        (struct.pack("!IIII", 17, 0x15, 0, 1), S.ESME_RINVCMDLEN),
        (struct.pack("!IIII", 16, 0x77, 0, 1), S.ESME_RINVCMDID),
        (_raw(0x04, b"CMTXXXX\x00"), S.ESME_RINVSERTYP),  # service_type > 6 octets
        (_raw(0x04, b"\x00\x00\x00" + b"1" * 21 + b"\x00"), S.ESME_RINVSRCADR),
        (_raw(0x02, b"x" * 16 + b"\x00"), S.ESME_RINVSYSID),
        (_raw(0x02, b"abc"), S.ESME_RINVCMDLEN),  # C-string without NUL
        (_raw(0x04, SM_HEAD + b"\x05ab"), S.ESME_RINVMSGLEN),  # sm_length past the end
        (_raw(0x04, SM_HEAD + b"\xffab"), S.ESME_RINVMSGLEN),  # sm_length 255 > 254
        (_raw(0x04, bytes(10) + b"11111\x00"), S.ESME_RINVSCHED),
        (_raw(0x15, b"\x04\x27\x00\x05\x01"), S.ESME_RINVOPTPARSTREAM),  # TLV overrun
        (_raw(0x15, b"\x04\x27\x00"), S.ESME_RINVOPTPARSTREAM),  # truncated TLV header
        (_raw(0x15, b"\x04\x27\x00\x02\x01\x02"), S.ESME_RINVPARLEN),  # message_state 2 oct
        (_raw(0x21, b"\x00\x00\x00\x00\x00"), S.ESME_RINVNUMDESTS),
        (_raw(0x21, b"\x00\x00\x00\x00\x01\x03"), S.ESME_RINVDESTFLAG),
    ],
)
def test_malformed(wire: bytes, status: int) -> None:
    with pytest.raises(PduError) as info:
        decode(wire)
    assert info.value.status == status


def test_error_carries_header() -> None:
    with pytest.raises(PduError) as info:
        decode(struct.pack("!IIII", 16, 0x77, 0, 42))
    assert (info.value.command_id, info.value.sequence_number) == (0x77, 42)


def test_invalid_values_rejected_on_creation() -> None:
    with pytest.raises(ValueError):
        SubmitSm(source_addr="1" * 21)
    with pytest.raises(ValueError):
        SubmitSm(schedule_delivery_time="short")
    with pytest.raises(ValueError):
        SubmitSm(short_message=b"x" * 255)
    with pytest.raises(ValueError):
        QuerySmResp(message_state=256)
    with pytest.raises(ValueError):
        EnquireLink(tlvs=((Tag.MESSAGE_STATE, b"\x01\x02"),))
    with pytest.raises(ValueError):
        EnquireLink(sequence_number=-1)


def test_too_long_to_encode() -> None:
    big = EnquireLink(tlvs=((0x1400, b"x" * 0xFFFF), (0x1401, b"x" * 0x1000)))
    with pytest.raises(ValueError):
        encode(big)
    assert MAX_COMMAND_LENGTH >= 0x10000


@pytest.mark.parametrize("cls", ALL_PDUS, ids=lambda c: c.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip(cls: type[Pdu], data: st.DataObject) -> None:
    pdu = data.draw(pdus(cls))
    wire = encode(pdu)
    assert len(wire) == int.from_bytes(wire[:4], "big")
    assert decode(wire) == pdu


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decode_raises_only_pdu_error(blob: bytes) -> None:
    wire = struct.pack("!I", 4 + len(blob)) + blob  # a consistent length gets past framing
    with contextlib.suppress(PduError):
        decode(wire)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_PDUS).flatmap(pdus), st.binary(min_size=1, max_size=8), st.data())
def test_fuzz_mutations(pdu: Pdu, junk: bytes, data: st.DataObject) -> None:
    wire = bytearray(encode(pdu))
    at = data.draw(st.integers(16, len(wire)))
    wire[at : at + len(junk)] = junk
    wire[:4] = len(wire).to_bytes(4, "big")
    with contextlib.suppress(PduError):
        decode(bytes(wire))


def test_bare_header_response_with_ok_status() -> None:
    # Seen from real ESMEs: deliver_sm_resp without even the NUL of its unused message_id.
    assert decode(struct.pack("!IIII", 16, 0x80000005, 0, 3)) == DeliverSmResp(sequence_number=3)


def test_public_api_is_complete() -> None:
    import smscloud.protocols.smpp as smpp

    assert len(set(smpp.__all__)) == len(smpp.__all__)  # ruff RUF022 keeps it sorted
    assert all(hasattr(smpp, name) for name in smpp.__all__)
    assert {cls.__name__ for cls in ALL_PDUS} <= set(smpp.__all__)
