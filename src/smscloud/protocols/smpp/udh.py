"""Long messages: split text into parts (concatenation UDH, SAR TLVs or message_payload)
and join them back; parse a User Data Header (3GPP TS 23.040 §9.2.3.24).

A part never splits a GSM escape pair or a UTF-16 surrogate pair. Sizes follow the 140
octets of TP-User-Data: 160 GSM septets, 70 UCS-2 units or 140 Latin-1 octets alone;
153/67/134 with an 8-bit-reference UDH (6 octets), 152/66/133 with a 16-bit one (7).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

from .gsm7 import (
    DC_DEFAULT,
    DC_LATIN1,
    DC_UCS2,
    decode_text,
    encode_gsm,
    encode_text,
    is_gsm,
    pack,
    unpack,
)
from .tlv import Tag

__all__ = ["ESM_UDHI", "Concat", "Part", "concat_of", "join", "parse_udh", "split"]

ESM_UDHI = 0x40  # esm_class bit 6: short_message starts with a UDH (SMPP 3.4 §5.2.12)
IEI_CONCAT_8, IEI_CONCAT_16 = 0x00, 0x08  # TS 23.040 §9.2.3.24.1 and §9.2.3.24.8
MAX_OCTETS = 140
_SAR_TAGS = (Tag.SAR_MSG_REF_NUM, Tag.SAR_TOTAL_SEGMENTS, Tag.SAR_SEGMENT_SEQNUM)


class Concat(Enum):
    UDH8 = "udh8"  # UDH, IEI 0x00, 8-bit reference
    UDH16 = "udh16"  # UDH, IEI 0x08, 16-bit reference
    SAR = "sar"  # sar_* TLVs (SMPP 3.4 §5.3.2.22-24), no UDH
    PAYLOAD = "payload"  # one PDU, text in message_payload (§5.3.2.32)


@dataclass(frozen=True, slots=True, kw_only=True)
class Part:
    """The fields of one submit_sm/deliver_sm that carry a piece of text."""

    short_message: bytes
    data_coding: int
    esm_class: int = 0
    tlvs: tuple[tuple[int, bytes], ...] = ()


def parse_udh(data: bytes) -> tuple[tuple[tuple[int, bytes], ...], bytes]:
    """(information elements as (IEI, value) pairs, rest of the message); ValueError if bad."""
    if not data:
        raise ValueError("empty short_message has no UDH")
    end = 1 + data[0]
    if end > len(data):
        raise ValueError("UDH longer than the message")
    ies, pos = [], 1
    while pos < end:
        if pos + 2 > end or pos + 2 + data[pos + 1] > end:
            raise ValueError("information element overruns the UDH")
        ies.append((data[pos], data[pos + 2 : pos + 2 + data[pos + 1]]))
        pos += 2 + data[pos + 1]
    return tuple(ies), data[end:]


def _concat_from_ies(ies: Iterable[tuple[int, bytes]]) -> tuple[int, int, int] | None:
    for iei, value in ies:
        if iei == IEI_CONCAT_8 and len(value) == 3:
            return value[0], value[1], value[2]
        if iei == IEI_CONCAT_16 and len(value) == 4:
            return int.from_bytes(value[:2], "big"), value[2], value[3]
    return None


def concat_of(part: Part) -> tuple[int, int, int] | None:
    """(reference, total, seqnum) of one part of a concatenated message, from its SAR TLVs
    or its UDH; None for a whole message. ValueError if the UDH is malformed."""
    tlvs = dict(part.tlvs)
    if all(t in tlvs for t in _SAR_TAGS):
        ref, total, seq = (int.from_bytes(tlvs[t], "big") for t in _SAR_TAGS)
        return ref, total, seq
    if part.esm_class & ESM_UDHI:
        return _concat_from_ies(parse_udh(part.short_message)[0])
    return None


def _units(text: str, data_coding: int) -> list[bytes]:
    """Encoded characters; a UTF-16 surrogate pair stays one unit of 4 octets."""
    if data_coding == DC_DEFAULT:
        return [encode_gsm(c) for c in text]
    if data_coding == DC_UCS2:
        return [c.encode("utf-16-be") for c in text]
    if data_coding == DC_LATIN1:
        return [c.encode("latin-1") for c in text]
    raise ValueError(f"unsupported data_coding {data_coding}")


def _capacity(data_coding: int, udh_len: int) -> int:
    """Payload room in encoded octets (unpacked septets for GSM)."""
    room = MAX_OCTETS - udh_len
    if data_coding == DC_DEFAULT:
        return room * 8 // 7
    return room - room % 2 if data_coding == DC_UCS2 else room


def _fill_bits(udh_len: int) -> int:
    return (7 - udh_len * 8 % 7) % 7


def _chunks(units: Sequence[bytes], capacity: int) -> list[bytes]:
    chunks: list[bytes] = []
    current = bytearray()
    for unit in units:
        if len(current) + len(unit) > capacity:
            chunks.append(bytes(current))
            current.clear()
        current += unit
    chunks.append(bytes(current))
    return chunks


def split(
    text: str,
    *,
    data_coding: int | None = None,
    method: Concat = Concat.UDH8,
    reference: int = 0,
    packed: bool = False,
) -> list[Part]:
    """Split ``text`` into parts; ``data_coding`` defaults to GSM if possible, else UCS-2.

    ``packed`` packs GSM septets (with fill bits after a UDH); by default they stay one per
    octet, as SMPP carries data_coding 0. Raises ValueError past 255 parts.
    """
    dc = data_coding if data_coding is not None else DC_DEFAULT if is_gsm(text) else DC_UCS2
    # Most messages are one part: encode the text at once; a character at a time only
    # when parts must not split one.
    whole = encode_text(text, dc)
    if len(whole) <= _capacity(dc, 0):
        body = pack(whole, cr_pad=True) if packed and dc == DC_DEFAULT else whole
        return [Part(short_message=body, data_coding=dc)]
    if method is Concat.PAYLOAD:
        return [Part(short_message=b"", data_coding=dc, tlvs=((Tag.MESSAGE_PAYLOAD, whole),))]
    limit = 0xFF if method is Concat.UDH8 else 0xFFFF
    if not 0 <= reference <= limit:
        raise ValueError(f"reference {reference} does not fit {method.value}")
    udh_len = {Concat.UDH8: 6, Concat.UDH16: 7, Concat.SAR: 0}[method]
    chunks = _chunks(_units(text, dc), _capacity(dc, udh_len))
    total = len(chunks)
    if total > 0xFF:
        raise ValueError(f"{total} parts: at most 255 fit a concatenation counter")
    parts = []
    for seq, chunk in enumerate(chunks, 1):
        body = (
            pack(chunk, _fill_bits(udh_len), cr_pad=True) if packed and dc == DC_DEFAULT else chunk
        )
        if method is Concat.SAR:
            sar = (
                (Tag.SAR_MSG_REF_NUM, reference.to_bytes(2, "big")),
                (Tag.SAR_TOTAL_SEGMENTS, bytes((total,))),
                (Tag.SAR_SEGMENT_SEQNUM, bytes((seq,))),
            )
            parts.append(Part(short_message=body, data_coding=dc, tlvs=sar))
            continue
        if method is Concat.UDH8:
            udh = bytes((5, IEI_CONCAT_8, 3, reference, total, seq))
        else:
            udh = bytes((6, IEI_CONCAT_16, 4)) + reference.to_bytes(2, "big")
            udh += bytes((total, seq))
        parts.append(Part(short_message=udh + body, data_coding=dc, esm_class=ESM_UDHI))
    return parts


def _piece(part: Part, packed: bool) -> tuple[tuple[int, int, int] | None, str]:
    """(reference, total, seqnum) if the part is one of several, and its text."""
    tlvs = dict(part.tlvs)
    data, info, udh_len = part.short_message, None, 0
    if Tag.MESSAGE_PAYLOAD in tlvs:
        data = tlvs[Tag.MESSAGE_PAYLOAD]
    elif part.esm_class & ESM_UDHI:
        ies, data = parse_udh(data)
        info, udh_len = _concat_from_ies(ies), 1 + part.short_message[0]
    if all(t in tlvs for t in _SAR_TAGS):
        ref, tot, seq = (int.from_bytes(tlvs[t], "big") for t in _SAR_TAGS)
        info = ref, tot, seq
    if packed and part.data_coding == DC_DEFAULT:
        fill = _fill_bits(udh_len)
        data = unpack(data, fill_bits=fill, cr_pad=True)
    return info, decode_text(data, part.data_coding)


def join(parts: Iterable[Part], *, packed: bool = False) -> str:
    """Reassemble the text of ``parts`` (any order); ValueError if some are missing.

    Packed GSM uses the <CR> padding of TS 23.038 §6.1.2.3.1, so a packed part whose text
    ends with a real <CR> on an octet boundary loses it; unpacked (SMPP's default) is exact.
    """
    pieces = [_piece(p, packed) for p in parts]
    if len(pieces) == 1 and pieces[0][0] is None:
        return pieces[0][1]
    numbered: dict[int, str] = {}
    totals: set[tuple[int, int]] = set()
    for info, text in pieces:
        if info is None:
            raise ValueError("a part without concatenation data among several")
        ref, total, seq = info
        totals.add((ref, total))
        numbered[seq] = text
    if len(totals) != 1:
        raise ValueError("parts of different messages")
    (_, total), *_ = totals
    if sorted(numbered) != list(range(1, total + 1)) or len(pieces) != total:
        raise ValueError("missing or duplicate parts")
    return "".join(numbered[i] for i in range(1, total + 1))
