"""ITU-T G.711 companding: μ-law (PCMU) and A-law (PCMA), table-driven, pure Python.

Linear audio here is 16-bit signed little-endian PCM; G.711 audio is one octet a sample
(ITU-T G.711: 8000 samples a second, 8 bits each, 64 kbit/s). The quantisers are those of the
reference code most implementations share (Sun's ``g711.c``, also behind the old ``audioop``
module): μ-law codes the top 14 bits of a sample and A-law the top 13 (the uniform PCM of
G.711 Tables 2 and 1), and the code words go out with bits inverted as G.711 prescribes
(μ-law: every bit; A-law: the even bits, hence the 0x55 mask).

Speed, measured on CPython 3.11 for one second of audio (8000 samples):
- encoding looks every sample up in a 65536-entry table, ``bytes(map(table.__getitem__,
  samples))`` with the samples read through ``memoryview.cast("H")``: 0.34 ms. A list table
  beats a bytes table (0.53 ms), an ``array`` copy (0.39 ms), ``str.translate`` or
  ``codecs.charmap_encode`` over the samples as characters (0.95 ms);
- decoding is two ``bytes.translate`` passes (low and high octets of each linear sample)
  written into alternate octets of the output by slice assignment: 0.02 ms, all in C.
The tables are built once at import from the 14-bit (μ-law) and 13-bit (A-law) quantisers,
each of whose entries stands for 4 or 8 consecutive 16-bit samples.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Callable, Iterable

__all__ = [
    "ALAW_SILENCE",
    "ULAW_SILENCE",
    "alaw_to_lin",
    "lin_to_alaw",
    "lin_to_ulaw",
    "ulaw_to_lin",
]

ULAW_SILENCE = 0xFF  # the μ-law code of 0 (positive zero, all bits inverted)
ALAW_SILENCE = 0xD5  # the A-law code of 0 (0x80 sign bit, even bits inverted)

_ULAW_BIAS = 0x84 >> 2  # 33: the μ-law bias of 132, on the 14-bit scale
_ULAW_MAX = 0x1FFF  # the end of segment 8 on the 14-bit scale (G.711 Table 2)
_ALAW_MAX = 0xFFF  # the end of segment 8 on the 13-bit scale (G.711 Table 1)


def _ulaw14(value: int) -> int:
    """The μ-law code word of a 14-bit sample (-8192..8191)."""
    mask = 0x7F if value < 0 else 0xFF  # the sign bit, then every bit inverted
    magnitude = abs(value) + _ULAW_BIAS
    if magnitude > _ULAW_MAX:
        return 0x7F ^ mask
    segment = max(0, magnitude.bit_length() - 6)  # segment ends 0x3F, 0x7F ... 0x1FFF
    return ((segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)) ^ mask


def _alaw13(value: int) -> int:
    """The A-law code word of a 13-bit sample (-4096..4095)."""
    if value >= 0:
        mask = 0xD5  # sign bit set, even bits inverted
    else:
        mask = 0x55
        value = -value - 1
    if value > _ALAW_MAX:
        return 0x7F ^ mask
    segment = max(0, value.bit_length() - 5)  # segment ends 0x1F, 0x3F ... 0xFFF
    shift = 1 if segment < 2 else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


def _ulaw_linear(code: int) -> int:
    """The 16-bit sample a μ-law code word stands for (G.711 Table 2, decoder output)."""
    code ^= 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - magnitude if code & 0x80 else magnitude - 0x84


def _alaw_linear(code: int) -> int:
    """The 16-bit sample an A-law code word stands for (G.711 Table 1, decoder output)."""
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


def _encode_table(quantise: Callable[[int], int], bits: int) -> list[int]:
    """A 65536-entry table from unsigned 16-bit sample to code word, for a quantiser of the
    top ``bits`` bits: entry ``u`` is ``quantise`` of ``u`` read as signed, shifted right."""
    size = 1 << bits
    coarse = bytes(quantise(i - size if i >= size // 2 else i) for i in range(size))
    step = 1 << (16 - bits)
    table = bytearray(1 << 16)
    for offset in range(step):
        table[offset::step] = coarse
    return list(table)


def _decode_tables(linear: Callable[[int], int]) -> tuple[bytes, bytes]:
    """For each code word, the low and the high octet of its little-endian linear sample."""
    samples = [linear(code) & 0xFFFF for code in range(256)]
    return bytes(s & 0xFF for s in samples), bytes(s >> 8 for s in samples)


_ULAW_ENCODE = _encode_table(_ulaw14, 14)
_ALAW_ENCODE = _encode_table(_alaw13, 13)
_ULAW_LOW, _ULAW_HIGH = _decode_tables(_ulaw_linear)
_ALAW_LOW, _ALAW_HIGH = _decode_tables(_alaw_linear)
_LITTLE_ENDIAN = sys.byteorder == "little"


def _samples(pcm: bytes) -> Iterable[int]:
    """The samples of 16-bit little-endian PCM as unsigned integers, without a copy where
    the machine is little-endian."""
    if len(pcm) % 2:
        raise ValueError(f"16-bit PCM has an even length, not {len(pcm)} octets")
    if _LITTLE_ENDIAN:
        return memoryview(pcm).cast("B").cast("H")
    swapped = array("H", pcm)
    swapped.byteswap()
    return swapped


def _expand(data: bytes, low: bytes, high: bytes) -> bytes:
    """Each code word of ``data`` as its two octets of little-endian linear PCM."""
    out = bytearray(2 * len(data))
    out[0::2] = data.translate(low)
    out[1::2] = data.translate(high)
    return bytes(out)


def lin_to_ulaw(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM to μ-law (PCMU), one octet per sample."""
    return bytes(map(_ULAW_ENCODE.__getitem__, _samples(pcm)))


def lin_to_alaw(pcm: bytes) -> bytes:
    """16-bit signed little-endian PCM to A-law (PCMA), one octet per sample."""
    return bytes(map(_ALAW_ENCODE.__getitem__, _samples(pcm)))


def ulaw_to_lin(data: bytes) -> bytes:
    """μ-law (PCMU) to 16-bit signed little-endian PCM."""
    return _expand(data, _ULAW_LOW, _ULAW_HIGH)


def alaw_to_lin(data: bytes) -> bytes:
    """A-law (PCMA) to 16-bit signed little-endian PCM."""
    return _expand(data, _ALAW_LOW, _ALAW_HIGH)
