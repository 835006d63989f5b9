"""TLV table and command_status classification."""

from __future__ import annotations

import pytest

from smscloud.protocols.smpp import CommandStatus, EnquireLink, Tag, is_temporary, is_throttling
from smscloud.protocols.smpp.tlv import TLV_TYPES, check_tlv, decode_tlv, encode_tlv

S = CommandStatus


def test_spec_tag_values() -> None:
    # SMPP 3.4 §5.3.2 Table 5-7: the receipt and SAR concatenation tags.
    assert [int(t) for t in (Tag.RECEIPTED_MESSAGE_ID, Tag.MESSAGE_STATE)] == [0x001E, 0x0427]
    assert int(Tag.NETWORK_ERROR_CODE) == 0x0423
    assert (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM) == (
        0x020C,
        0x020E,
        0x020F,
    )
    assert int(Tag.MESSAGE_PAYLOAD) == 0x0424
    assert (Tag.USER_MESSAGE_REFERENCE, Tag.SOURCE_PORT) == (0x0204, 0x020A)
    assert set(TLV_TYPES) == set(Tag)


def test_typed_values() -> None:
    assert encode_tlv(Tag.SAR_MSG_REF_NUM, 0x1234) == (0x020C, b"\x12\x34")
    assert encode_tlv(Tag.RECEIPTED_MESSAGE_ID, "abc") == (0x001E, b"abc\x00")
    assert decode_tlv(Tag.RECEIPTED_MESSAGE_ID, b"abc") == "abc"  # NUL left out: tolerated
    assert decode_tlv(Tag.USER_MESSAGE_REFERENCE, b"\x00\x07") == 7
    assert decode_tlv(0x1400, b"\x01") == b"\x01"
    check_tlv(Tag.ALERT_ON_MESSAGE_DELIVERY, b"")


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (Tag.MESSAGE_STATE, 256),
        (Tag.MESSAGE_STATE, "x"),
        (Tag.RECEIPTED_MESSAGE_ID, 1),
        (Tag.RECEIPTED_MESSAGE_ID, "x" * 65),
        (Tag.NETWORK_ERROR_CODE, b"1234"),
    ],
)
def test_bad_values(tag: int, value: int | str | bytes) -> None:
    with pytest.raises(ValueError):
        encode_tlv(tag, value)


def test_accessors() -> None:
    pdu = EnquireLink(
        tlvs=(
            encode_tlv(Tag.SAR_MSG_REF_NUM, 300),
            encode_tlv(Tag.SAR_TOTAL_SEGMENTS, 3),
            encode_tlv(Tag.SAR_SEGMENT_SEQNUM, 2),
            encode_tlv(Tag.NETWORK_ERROR_CODE, b"\x03\x00\x01"),
            encode_tlv(Tag.MESSAGE_PAYLOAD, b"long"),
        )
    )
    assert pdu.sar == (300, 3, 2)
    assert pdu.network_error_code == b"\x03\x00\x01"
    assert pdu.message_payload == b"long"
    assert pdu.tlv_int(Tag.MESSAGE_PAYLOAD) is None
    assert pdu.tlv_str(Tag.SAR_MSG_REF_NUM) is None


def test_status_codes() -> None:
    assert (S.ESME_RINVMSGLEN, S.ESME_RINVCMDLEN, S.ESME_RINVCMDID) == (1, 2, 3)
    assert (S.ESME_RMSGQFUL, S.ESME_RTHROTTLED, S.ESME_RUNKNOWNERR) == (0x14, 0x58, 0xFF)


@pytest.mark.parametrize(
    "status", [S.ESME_RTHROTTLED, S.ESME_RMSGQFUL, S.ESME_RSYSERR, S.ESME_RX_T_APPN]
)
def test_temporary(status: int) -> None:
    assert is_temporary(status)


@pytest.mark.parametrize(
    "status",
    [S.ESME_ROK, S.ESME_RINVDSTADR, S.ESME_RINVSRCADR, S.ESME_RINVMSGLEN, S.ESME_RX_P_APPN, 0x400],
)
def test_permanent(status: int) -> None:
    assert not is_temporary(status)


def test_throttling() -> None:
    assert is_throttling(0x58) and is_throttling(0x14) and not is_throttling(0x08)
