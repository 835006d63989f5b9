"""Recordings made in the test: WAV files by the standard library or by hand, MP3 frames by hand.

An MP3 frame here is a valid layer III header followed by zeros: all-zero side information
and main data decode to silence, so decoders play these files too.
"""

from __future__ import annotations

import io
import math
import struct
import wave

MPEG1, MPEG2, MPEG25 = 3, 2, 0
_RATES = {MPEG1: (44100, 48000, 32000), MPEG2: (22050, 24000, 16000), MPEG25: (11025, 12000, 8000)}
_BITRATES = {
    MPEG1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    MPEG2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


def pcm_wav(
    seconds: float, *, rate: int = 8000, channels: int = 1, width: int = 2, tone: float = 440.0
) -> bytes:
    """A WAV of a sine tone, written by the ``wave`` module (PCM)."""
    frames = round(seconds * rate)
    peak = (1 << (8 * width - 1)) - 1
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        samples = bytearray()
        for i in range(frames):
            value = round(peak * 0.5 * math.sin(2 * math.pi * tone * i / rate))
            if width == 1:
                one = bytes([value + 128])
            else:
                one = value.to_bytes(width, "little", signed=True)
            samples += one * channels
        w.writeframes(bytes(samples))
    return out.getvalue()


def chunk(name: bytes, body: bytes) -> bytes:
    """A RIFF chunk, padded to an even length."""
    return name + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_body(code: int, channels: int, rate: int, bits: int) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", code, channels, rate, rate * align, align, bits)


def g711_wav(seconds: float, *, law: str = "alaw", rate: int = 8000) -> bytes:
    """A G.711 WAV (A-law, format 6, or µ-law, format 7) with its ``fact`` chunk."""
    frames = round(seconds * rate)
    code = 6 if law == "alaw" else 7
    silence = b"\xd5" if law == "alaw" else b"\xff"
    return riff(
        chunk(b"fmt ", fmt_body(code, 1, rate, 8) + b"\0\0"),
        chunk(b"fact", struct.pack("<I", frames)),
        chunk(b"data", silence * frames),
    )


def frame_header(
    *,
    version: int = MPEG1,
    bitrate_index: int = 9,
    rate_index: int = 0,
    padding: int = 0,
    mono: bool = False,
    crc: bool = False,
) -> bytes:
    """The 4-octet header of an MPEG layer III frame."""
    b1 = 0xE0 | version << 3 | 1 << 1 | (0 if crc else 1)
    b2 = bitrate_index << 4 | rate_index << 2 | padding << 1
    b3 = (3 if mono else 0) << 6
    return bytes([0xFF, b1, b2, b3])


def frame_length(*, version: int = MPEG1, bitrate_index: int = 9, rate_index: int = 0) -> int:
    bitrate = _BITRATES[MPEG1 if version == MPEG1 else MPEG2][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    return (144 if version == MPEG1 else 72) * bitrate // rate


def mp3_frame(
    *,
    version: int = MPEG1,
    bitrate_index: int = 9,
    rate_index: int = 0,
    padding: int = 0,
    mono: bool = False,
    crc: bool = False,
    payload: bytes = b"",
) -> bytes:
    """One frame: its header, then ``payload`` and zeros to the frame's length."""
    header = frame_header(
        version=version,
        bitrate_index=bitrate_index,
        rate_index=rate_index,
        padding=padding,
        mono=mono,
        crc=crc,
    )
    length = frame_length(version=version, bitrate_index=bitrate_index, rate_index=rate_index)
    body = payload + bytes(length + padding - 4 - len(payload))
    return header + body


def samples_per_frame(version: int) -> int:
    return 1152 if version == MPEG1 else 576


def rate_of(version: int, rate_index: int = 0) -> int:
    return _RATES[version][rate_index]


def id3v2(payload_size: int = 100, *, footer: bool = False) -> bytes:
    """An ID3v2.4 tag of ``payload_size`` octets (its size is written syncsafe)."""
    size = bytes((payload_size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    flags = 0x10 if footer else 0
    body = b"\0" * payload_size
    tag = b"ID3\x04\x00" + bytes([flags]) + size + body
    return tag + (b"3DI\x04\x00" + bytes([flags]) + size if footer else b"")


def mp3(frames: int = 100, **frame: object) -> bytes:
    """``frames`` identical frames (see :func:`mp3_frame`)."""
    return mp3_frame(**frame) * frames  # type: ignore[arg-type]
