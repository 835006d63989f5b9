"""GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet, its extension table, and packing.

SMPP carries data_coding 0 text one septet per octet ("unpacked"); the air interface and
some SMSCs use the packed form, 8 septets in 7 octets, least significant bit first
(TS 23.038 §6.1.2.1). Both are here, plus Latin-1 (data_coding 3) and UCS-2 (8, UTF-16BE).
"""

from __future__ import annotations

__all__ = [
    "DC_DEFAULT",
    "DC_LATIN1",
    "DC_UCS2",
    "ESCAPE",
    "decode_gsm",
    "decode_text",
    "encode_gsm",
    "encode_text",
    "is_gsm",
    "pack",
    "septet_cost",
    "unpack",
]

DC_DEFAULT, DC_LATIN1, DC_UCS2 = 0x00, 0x03, 0x08  # SMPP 3.4 §5.2.19
ESCAPE = 0x1B

# The 128 positions of the default alphabet, row by row of TS 23.038 Figure 1 (column-major
# in the standard); position 0x1B is the escape to the extension table (written as NUL).
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\0ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC) == 128
# Extension table (TS 23.038 §6.2.1.1): reached by ESC then this code.
_EXTENSION = {0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\", 0x3C: "[", 0x3D: "~"}
_EXTENSION.update({0x3E: "]", 0x40: "|", 0x65: "€"})

_ENCODE: dict[str, bytes] = {c: bytes((i,)) for i, c in enumerate(_BASIC) if i != ESCAPE}
_ENCODE.update({c: bytes((ESCAPE, code)) for code, c in _EXTENSION.items()})


def is_gsm(text: str) -> bool:
    """True if every character has a GSM 7-bit encoding."""
    return all(c in _ENCODE for c in text)


def septet_cost(char: str) -> int:
    """Septets used by one character (2 for the extension table); KeyError if not GSM."""
    return len(_ENCODE[char])


def encode_gsm(text: str) -> bytes:
    """Unpacked septets of ``text``; ValueError names the first character GSM lacks."""
    try:
        return b"".join(_ENCODE[c] for c in text)
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the GSM 03.38 alphabet") from None


def decode_gsm(septets: bytes) -> str:
    """Text of unpacked septets. An escape before an unassigned code shows the basic
    character (TS 23.038 §6.2.1.1 note); a trailing lone escape is dropped."""
    out: list[str] = []
    i = 0
    while i < len(septets):
        code = septets[i] & 0x7F
        if code == ESCAPE and i + 1 < len(septets):
            nxt = septets[i + 1] & 0x7F
            out.append(_EXTENSION.get(nxt) or (" " if nxt == ESCAPE else _BASIC[nxt]))
            i += 2
            continue
        if code != ESCAPE:
            out.append(_BASIC[code])
        i += 1
    return "".join(out)


def pack(septets: bytes, fill_bits: int = 0, *, cr_pad: bool = False) -> bytes:
    """Pack septets into octets, LSB first, after ``fill_bits`` zero bits (used after a
    UDH so that the text starts on a septet boundary, TS 23.040 §9.2.3.24).

    ``cr_pad`` applies TS 23.038 §6.1.2.3.1: when 7 bits would be left over, fill them with
    <CR> so that the receiver does not read a trailing '@'.
    """
    if cr_pad and (fill_bits + 7 * len(septets)) % 8 == 1:
        septets += b"\r"
    acc, nbits, out = 0, fill_bits, bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(
    data: bytes, count: int | None = None, fill_bits: int = 0, *, cr_pad: bool = False
) -> bytes:
    """Inverse of ``pack``; ``count`` septets (default: as many as the bits hold).

    With ``cr_pad`` and no ``count``, a final <CR> filling the last octet exactly is taken
    as §6.1.2.3.1 padding and dropped (so a real final <CR> there is lost, as in the spec).
    """
    bits = max(len(data) * 8 - fill_bits, 0)
    total = bits // 7 if count is None else min(count, bits // 7)
    value = int.from_bytes(data, "little") >> fill_bits
    out = bytes((value >> (7 * i)) & 0x7F for i in range(total))
    if count is None and cr_pad and bits % 7 == 0 and out.endswith(b"\r"):
        out = out[:-1]
    return out


def encode_text(text: str, data_coding: int) -> bytes:
    """Encode for a data_coding of 0 (GSM, unpacked), 3 (Latin-1) or 8 (UCS-2)."""
    if data_coding == DC_DEFAULT:
        return encode_gsm(text)
    if data_coding == DC_LATIN1:
        return text.encode("latin-1")
    if data_coding == DC_UCS2:
        return text.encode("utf-16-be")  # UCS-2 plus surrogate pairs, as handsets send
    raise ValueError(f"unsupported data_coding {data_coding}")


def decode_text(data: bytes, data_coding: int) -> str:
    """Decode a short_message; unknown bytes are replaced rather than raising."""
    if data_coding == DC_DEFAULT:
        return decode_gsm(data)
    if data_coding == DC_UCS2:
        return data.decode("utf-16-be", errors="replace")
    return data.decode("latin-1")
