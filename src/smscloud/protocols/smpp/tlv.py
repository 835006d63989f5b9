"""SMPP 3.4 optional parameters (TLVs, §5.3): tags and value types in one table."""

from __future__ import annotations

from enum import Enum, IntEnum

__all__ = ["TLV_TYPES", "Tag", "TlvType", "check_tlv", "decode_tlv", "encode_tlv"]


class Tag(IntEnum):
    """Optional parameter tags, SMPP 3.4 §5.3.2 Table 5-7."""

    DEST_ADDR_SUBUNIT = 0x0005
    DEST_NETWORK_TYPE = 0x0006
    DEST_BEARER_TYPE = 0x0007
    DEST_TELEMATICS_ID = 0x0008
    SOURCE_ADDR_SUBUNIT = 0x000D
    SOURCE_NETWORK_TYPE = 0x000E
    SOURCE_BEARER_TYPE = 0x000F
    SOURCE_TELEMATICS_ID = 0x0010
    QOS_TIME_TO_LIVE = 0x0017
    PAYLOAD_TYPE = 0x0019
    ADDITIONAL_STATUS_INFO_TEXT = 0x001D
    RECEIPTED_MESSAGE_ID = 0x001E
    MS_MSG_WAIT_FACILITIES = 0x0030
    PRIVACY_INDICATOR = 0x0201
    SOURCE_SUBADDRESS = 0x0202
    DEST_SUBADDRESS = 0x0203
    USER_MESSAGE_REFERENCE = 0x0204
    USER_RESPONSE_CODE = 0x0205
    SOURCE_PORT = 0x020A
    DESTINATION_PORT = 0x020B
    SAR_MSG_REF_NUM = 0x020C
    LANGUAGE_INDICATOR = 0x020D
    SAR_TOTAL_SEGMENTS = 0x020E
    SAR_SEGMENT_SEQNUM = 0x020F
    SC_INTERFACE_VERSION = 0x0210
    CALLBACK_NUM_PRES_IND = 0x0302
    CALLBACK_NUM_ATAG = 0x0303
    NUMBER_OF_MESSAGES = 0x0304
    CALLBACK_NUM = 0x0381
    DPF_RESULT = 0x0420
    SET_DPF = 0x0421
    MS_AVAILABILITY_STATUS = 0x0422
    NETWORK_ERROR_CODE = 0x0423
    MESSAGE_PAYLOAD = 0x0424
    DELIVERY_FAILURE_REASON = 0x0425
    MORE_MESSAGES_TO_SEND = 0x0426
    MESSAGE_STATE = 0x0427
    USSD_SERVICE_OP = 0x0501
    DISPLAY_TIME = 0x1201
    SMS_SIGNAL = 0x1203
    MS_VALIDITY = 0x1204
    ALERT_ON_MESSAGE_DELIVERY = 0x130C
    ITS_REPLY_TYPE = 0x1380
    ITS_SESSION_INFO = 0x1383


class TlvType(Enum):
    """Value types of §5.3.2: integers of 1/2/4 octets, C-string, octets, no value."""

    INT1 = 1
    INT2 = 2
    INT4 = 4
    CSTR = 5
    OCTETS = 6
    EMPTY = 7


T = TlvType
# tag -> (value type, max value length in octets). Sizes are those of §5.3.2.1-§5.3.2.41.
TLV_TYPES: dict[int, tuple[TlvType, int]] = {
    Tag.DEST_ADDR_SUBUNIT: (T.INT1, 1),
    Tag.DEST_NETWORK_TYPE: (T.INT1, 1),
    Tag.DEST_BEARER_TYPE: (T.INT1, 1),
    Tag.DEST_TELEMATICS_ID: (T.INT2, 2),
    Tag.SOURCE_ADDR_SUBUNIT: (T.INT1, 1),
    Tag.SOURCE_NETWORK_TYPE: (T.INT1, 1),
    Tag.SOURCE_BEARER_TYPE: (T.INT1, 1),
    Tag.SOURCE_TELEMATICS_ID: (T.INT1, 1),
    Tag.QOS_TIME_TO_LIVE: (T.INT4, 4),
    Tag.PAYLOAD_TYPE: (T.INT1, 1),
    Tag.ADDITIONAL_STATUS_INFO_TEXT: (T.CSTR, 256),
    Tag.RECEIPTED_MESSAGE_ID: (T.CSTR, 65),
    Tag.MS_MSG_WAIT_FACILITIES: (T.INT1, 1),
    Tag.PRIVACY_INDICATOR: (T.INT1, 1),
    Tag.SOURCE_SUBADDRESS: (T.OCTETS, 23),
    Tag.DEST_SUBADDRESS: (T.OCTETS, 23),
    Tag.USER_MESSAGE_REFERENCE: (T.INT2, 2),
    Tag.USER_RESPONSE_CODE: (T.INT1, 1),
    Tag.SOURCE_PORT: (T.INT2, 2),
    Tag.DESTINATION_PORT: (T.INT2, 2),
    Tag.SAR_MSG_REF_NUM: (T.INT2, 2),
    Tag.LANGUAGE_INDICATOR: (T.INT1, 1),
    Tag.SAR_TOTAL_SEGMENTS: (T.INT1, 1),
    Tag.SAR_SEGMENT_SEQNUM: (T.INT1, 1),
    Tag.SC_INTERFACE_VERSION: (T.INT1, 1),
    Tag.CALLBACK_NUM_PRES_IND: (T.INT1, 1),
    Tag.CALLBACK_NUM_ATAG: (T.OCTETS, 65),
    Tag.NUMBER_OF_MESSAGES: (T.INT1, 1),
    Tag.CALLBACK_NUM: (T.OCTETS, 19),
    Tag.DPF_RESULT: (T.INT1, 1),
    Tag.SET_DPF: (T.INT1, 1),
    Tag.MS_AVAILABILITY_STATUS: (T.INT1, 1),
    Tag.NETWORK_ERROR_CODE: (T.OCTETS, 3),
    Tag.MESSAGE_PAYLOAD: (T.OCTETS, 0xFFFF),
    Tag.DELIVERY_FAILURE_REASON: (T.INT1, 1),
    Tag.MORE_MESSAGES_TO_SEND: (T.INT1, 1),
    Tag.MESSAGE_STATE: (T.INT1, 1),
    Tag.USSD_SERVICE_OP: (T.INT1, 1),
    Tag.DISPLAY_TIME: (T.INT1, 1),
    Tag.SMS_SIGNAL: (T.INT2, 2),
    Tag.MS_VALIDITY: (T.INT1, 1),
    Tag.ALERT_ON_MESSAGE_DELIVERY: (T.EMPTY, 0),
    Tag.ITS_REPLY_TYPE: (T.INT1, 1),
    Tag.ITS_SESSION_INFO: (T.OCTETS, 2),
}
_INTS = (T.INT1, T.INT2, T.INT4)


def check_tlv(tag: int, raw: bytes) -> None:
    """Raise ValueError if ``raw`` cannot be the value of a known ``tag``.

    Integers must have their exact size; other values must fit their maximum. Unknown tags
    (e.g. vendor tags 0x1400-0x3FFF) pass: §3.2.3 lets a receiver ignore them.
    """
    kind, size = TLV_TYPES.get(tag, (T.OCTETS, 0xFFFF))
    if (kind in _INTS and len(raw) != size) or len(raw) > size:
        raise ValueError(f"TLV 0x{tag:04X}: bad length {len(raw)}")


def encode_tlv(tag: int, value: int | str | bytes) -> tuple[int, bytes]:
    """Encode a typed value into a ``(tag, raw)`` pair; C-strings get their NUL (§3.1)."""
    kind, size = TLV_TYPES.get(tag, (T.OCTETS, 0xFFFF))
    if isinstance(value, int):
        if kind not in _INTS:
            raise ValueError(f"TLV 0x{tag:04X} is not an integer")
        if not 0 <= value < 1 << (8 * size):
            raise ValueError(f"TLV 0x{tag:04X}: {value} does not fit {size} octets")
        raw = value.to_bytes(size, "big")
    elif isinstance(value, str):
        if kind is not T.CSTR:
            raise ValueError(f"TLV 0x{tag:04X} is not a C-string")
        raw = value.encode("latin-1") + b"\0"
    else:
        raw = bytes(value)
    check_tlv(tag, raw)
    return (tag, raw)


def decode_tlv(tag: int, raw: bytes) -> int | str | bytes:
    """Typed value of a TLV: int for integer tags, str for C-strings, else the bytes."""
    check_tlv(tag, raw)
    kind, _ = TLV_TYPES.get(tag, (T.OCTETS, 0xFFFF))
    if kind in _INTS:
        return int.from_bytes(raw, "big")
    if kind is T.CSTR:
        # Many SMSCs leave out the NUL of receipted_message_id; accept both forms.
        return raw.split(b"\0", 1)[0].decode("latin-1")
    return raw
