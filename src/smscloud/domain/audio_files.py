"""Uploaded recordings: what an MP3 or a WAV file is, by its bytes, and how long it plays.

Tencent's legacy ``uploadvoicefile`` (legacy v5 API: upload a voice file) takes "only wav and
mp3", declared by ``Content-Type`` (``audio/wav``, ``audio/mpeg``), "at most 400K bytes", and
names the file by the SHA-1 of its bytes (the ``fid``; the ``x-content-sha1`` header carries
it). Nothing in a name or a header is believed: :func:`sniff_audio` reads the bytes.

MP3 (ISO/IEC 11172-3 and 13818-3, layer III): an optional ID3v2 tag (10-octet header whose
size is four 7-bit "syncsafe" octets; a footer adds 10 more), then MPEG audio frames. Each
frame opens with a 4-octet header (11 sync bits, version, layer, bitrate, sample rate,
padding, channel mode) from which its length follows: ``144 * bitrate / rate + padding``
octets for MPEG-1, ``72 * ...`` for MPEG-2 and 2.5. The duration is found by walking every
frame (1,152 samples each for MPEG-1, 576 for MPEG-2 and 2.5), so constant and variable
bitrates are both measured; a Xing/Info/VBRI header frame carries no audio and is not counted.
What may follow the last frame: an ID3v1 tag (``TAG``, 128 octets), an APE or Lyrics3 tag,
zero padding, or a final frame cut short. Anything else is not an MP3 file.

WAV (RIFF): ``RIFF`` <size> ``WAVE``, then chunks of <id> <size> <data, padded to even>. The
``fmt `` chunk must come before ``data`` and say PCM (1), A-law (6) or µ-law (7), directly or
through WAVE_FORMAT_EXTENSIBLE (0xFFFE), with a consistent block alignment and byte rate; the
duration is the data chunk's size over the byte rate. Streaming writers leave the data size as
0xFFFFFFFF: then the data runs to the end of the file.

Pure: bytes in, :class:`AudioInfo` or :class:`RuleViolation` out; no input makes anything else
escape (a property test feeds it arbitrary bytes).
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_rules import INVALID_PARAMETERS

__all__ = [
    "CONTENT_LENGTH",
    "INVALID_PARAMETERS",
    "MAX_FILE_BYTES",
    "MAX_SECONDS",
    "MEDIA_TYPES",
    "AudioInfo",
    "fid_of",
    "media_type_for",
    "parse_fid",
    "sniff_audio",
]

# Legacy v5 API, upload a voice file: "语音文件大小上传限制400K字节".
MAX_FILE_BYTES = 400 * 1024
# Ours: Tencent states no limit on length; a notification played up to 3 times (PlayTimes)
# should not hold a line for a quarter of an hour.
MAX_SECONDS = 300.0
CONTENT_LENGTH = "InvalidParameterValue.ContentLengthLimit"
# Content-Type -> media type. Tencent names ``audio/wav`` and ``audio/mpeg``; the others are
# what common clients send for the same formats.
MEDIA_TYPES: dict[str, str] = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/mpeg3": "mp3",
    "audio/x-mpeg-3": "mp3",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/vnd.wave": "wav",
}
_FID = re.compile(r"([0-9a-fA-F]{40})(?:\.(?:mp3|wav|MP3|WAV))?")

# -- MPEG audio, layer III ------------------------------------------------------------------
_MPEG1, _MPEG2, _MPEG25 = 3, 2, 0  # the two version bits of a frame header
_LAYER3 = 1
_BITRATES = {  # kbit/s by bitrate index (0 is "free format", 15 is forbidden)
    _MPEG1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    _MPEG2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {
    _MPEG1: (44100, 48000, 32000),
    _MPEG2: (22050, 24000, 16000),
    _MPEG25: (11025, 12000, 8000),
}
_SYNC_SEARCH = 4096  # how far past the ID3v2 tag the first frame may start
_TRAILERS = (b"TAG", b"APETAGEX", b"LYRICSBEGIN")

# -- RIFF/WAVE -------------------------------------------------------------------------------
_PCM, _ALAW, _ULAW, _EXTENSIBLE = 1, 6, 7, 0xFFFE
_FORMATS = {_PCM: "pcm", _ALAW: "alaw", _ULAW: "ulaw"}
_STREAMING = 0xFFFFFFFF
_KSDATAFORMAT_TAIL = bytes.fromhex("000000001000800000aa00389b71")


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What the bytes of an accepted recording are."""

    media_type: str  # "mp3" | "wav"
    encoding: str  # "mpeg-layer3" | "pcm" | "alaw" | "ulaw"
    sample_rate: int
    channels: int
    seconds: float
    size: int


def fid_of(data: bytes) -> str:
    """The file id of ``data``: the lower-case hex SHA-1 of its bytes (``x-content-sha1``)."""
    return hashlib.sha1(data).hexdigest()


def parse_fid(text: str) -> str | None:
    """The SHA-1 in a file id as tenants write it: bare, or with ``.mp3``/``.wav`` after it
    (Tencent's own answers spell fids ``<sha1>.wav``); None if ``text`` is no file id."""
    found = _FID.fullmatch(text.strip())
    return None if found is None else found.group(1).lower()


def media_type_for(content_type: str) -> str | None:
    """``mp3`` or ``wav`` for a ``Content-Type`` header (parameters ignored), else None."""
    return MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def sniff_audio(
    data: bytes,
    *,
    declared: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    max_seconds: float = MAX_SECONDS,
) -> AudioInfo:
    """What ``data`` is, if it is an MP3 or WAV recording within the limits.

    ``declared`` is the media type the uploader named (``mp3``/``wav``, see
    :func:`media_type_for`); when given, the bytes must be of that type. Raises
    :class:`RuleViolation`: ``InvalidParameterValue.ContentLengthLimit`` for a file too large
    or too long, ``FailedOperation.InvalidParameters`` for anything that is not a recording.
    """
    if len(data) > max_bytes:
        raise RuleViolation(
            CONTENT_LENGTH,
            f"The voice file is {len(data)} bytes; at most {max_bytes} bytes are accepted.",
        )
    if not data:
        raise RuleViolation(INVALID_PARAMETERS, "The voice file is empty.")
    if data.startswith(b"RIFF"):
        info = _wav(data)
    elif data.startswith(b"ID3") or _frame(data, 0) is not None:
        info = _mp3(data)
    else:
        raise RuleViolation(
            INVALID_PARAMETERS,
            f"The voice file is neither MP3 nor WAV (it starts with {_show(data)}).",
        )
    if declared is not None and declared != info.media_type:
        raise RuleViolation(
            INVALID_PARAMETERS,
            f"The voice file is {info.media_type.upper()} but was sent as "
            f"{declared.upper()}: send it with Content-Type "
            f"{'audio/mpeg' if info.media_type == 'mp3' else 'audio/wav'}.",
        )
    if info.seconds <= 0:
        raise RuleViolation(INVALID_PARAMETERS, "The voice file holds no audio.")
    if info.seconds > max_seconds:
        raise RuleViolation(
            CONTENT_LENGTH,
            f"The voice file plays {info.seconds:.1f} s; at most {max_seconds:g} s are accepted.",
        )
    return info


def _show(data: bytes) -> str:
    """The first octets of ``data``, for a message."""
    return data[:8].hex(" ") or "nothing"


def _bad(message: str) -> RuleViolation:
    return RuleViolation(INVALID_PARAMETERS, message)


# -- MP3 -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Frame:
    version: int
    rate: int
    channels: int
    length: int  # octets, header included
    samples: int
    side_info: int  # octets of side information after the header (and its CRC)


def _frame(data: bytes, pos: int) -> _Frame | None:
    """The MPEG-1/2/2.5 layer III frame header at ``pos``, or None if there is none."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    version, layer, unprotected = (b1 >> 3) & 3, (b1 >> 1) & 3, b1 & 1
    bitrate_index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    mono, emphasis = (b3 >> 6) == 3, b3 & 3
    if version == 1 or layer != _LAYER3 or rate_index == 3 or emphasis == 2:
        return None  # reserved values, or another layer
    if bitrate_index in (0, 15):
        return None  # free format (no length in the header) or forbidden
    bitrate = _BITRATES[_MPEG1 if version == _MPEG1 else _MPEG2][bitrate_index] * 1000
    rate = _RATES[version][rate_index]
    if version == _MPEG1:
        length, samples, side = 144 * bitrate // rate + padding, 1152, 17 if mono else 32
    else:
        length, samples, side = 72 * bitrate // rate + padding, 576, 9 if mono else 17
    side += 0 if unprotected else 2  # a 16-bit CRC follows the header
    return _Frame(version, rate, 1 if mono else 2, length, samples, side)


def _same_stream(a: _Frame, b: _Frame) -> bool:
    return (a.version, a.rate, a.channels) == (b.version, b.rate, b.channels)


def _id3v2_end(data: bytes) -> int:
    """Where the audio starts after a leading ID3v2 tag (0 if there is none)."""
    if not data.startswith(b"ID3"):
        return 0
    if len(data) < 10:
        raise _bad("The MP3 file is cut short inside its ID3 tag header.")
    major, flags, size = data[3], data[5], data[6:10]
    if major == 0xFF or data[4] == 0xFF or any(octet & 0x80 for octet in size):
        raise _bad("The MP3 file's ID3 tag header is malformed.")
    length = (size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3]
    end = 10 + length + (10 if flags & 0x10 else 0)  # a footer follows the tag
    if end > len(data):
        raise _bad(f"The MP3 file is cut short inside its ID3 tag ({end} bytes announced).")
    return end


def _first_frame(data: bytes, start: int) -> tuple[int, _Frame]:
    """The first frame at or after ``start`` that the next frame confirms (a lone 0xFF in a
    tag's padding is no frame), searched up to ``_SYNC_SEARCH`` octets on."""
    pos = data.find(b"\xff", start, start + _SYNC_SEARCH)
    while pos >= 0:
        frame = _frame(data, pos)
        if frame is not None:
            after = pos + frame.length
            following = _frame(data, after)
            if after >= len(data) or (following is not None and _same_stream(frame, following)):
                return pos, frame
        pos = data.find(b"\xff", pos + 1, start + _SYNC_SEARCH)
    raise _bad("No MPEG audio frame was found: the file is not an MP3 recording.")


def _is_xing(data: bytes, pos: int, frame: _Frame) -> bool:
    """Whether the frame at ``pos`` is a Xing/Info (after the side information) or VBRI
    (32 octets after the header) tag frame, which encoders write in place of audio."""
    at = pos + 4 + frame.side_info
    return data[at : at + 4] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI"


def _mp3(data: bytes) -> AudioInfo:
    start, first = _first_frame(data, _id3v2_end(data))
    pos, samples = start, 0
    frame: _Frame | None = first
    while frame is not None and _same_stream(first, frame):
        if pos + frame.length > len(data):
            pos = len(data)  # a last frame cut short: decoders play what is there
            break
        if not (pos == start and _is_xing(data, pos, frame)):
            samples += frame.samples
        pos += frame.length
        frame = _frame(data, pos)
    rest = data[pos:]
    if rest and not rest.startswith(_TRAILERS) and rest.strip(b"\x00"):
        if frame is not None:
            raise _bad(f"The MP3 file changes its sample rate or channels at byte {pos}.")
        raise _bad(
            f"The MP3 file has {len(rest)} bytes after its last audio frame that are not "
            f"audio (at byte {pos}: {_show(rest)})."
        )
    return AudioInfo(
        media_type="mp3",
        encoding="mpeg-layer3",
        sample_rate=first.rate,
        channels=first.channels,
        seconds=samples / first.rate,
        size=len(data),
    )


# -- WAV -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Format:
    code: int
    channels: int
    rate: int
    block_align: int


def _fmt(body: bytes) -> _Format:
    if len(body) < 16:
        raise _bad("The WAV file's fmt chunk is shorter than 16 bytes.")
    code, channels, rate, byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if code == _EXTENSIBLE:
        if len(body) < 40:
            raise _bad("The WAV file's extensible fmt chunk is shorter than 40 bytes.")
        # SubFormat: a GUID whose first two octets are the format code, then a fixed tail.
        if body[26:40] != _KSDATAFORMAT_TAIL:
            raise _bad("The WAV file's extensible fmt chunk names an unknown SubFormat.")
        code = struct.unpack_from("<H", body, 24)[0]
    encoding = _FORMATS.get(code)
    if encoding is None:
        raise _bad(f"The WAV file's audio format {code} is not accepted: use PCM, A-law or µ-law.")
    if not 1 <= channels <= 8:
        raise _bad(f"The WAV file says it has {channels} channels.")
    if not 1000 <= rate <= 192_000:
        raise _bad(f"The WAV file's sample rate {rate} Hz is out of range.")
    allowed_bits = (8, 16, 24, 32) if code == _PCM else (8,)
    if bits not in allowed_bits:
        raise _bad(f"The WAV file's {bits}-bit {encoding} samples are not accepted.")
    if block_align != channels * bits // 8 or byte_rate != rate * block_align:
        raise _bad("The WAV file's block alignment or byte rate contradicts its format.")
    return _Format(code, channels, rate, block_align)


def _wav(data: bytes) -> AudioInfo:
    if len(data) < 12 or data[8:12] != b"WAVE":
        raise _bad("The file is a RIFF file but not a WAVE file.")
    pos = 12
    fmt: _Format | None = None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body_at = pos + 8
        if chunk == b"data":
            if fmt is None:
                raise _bad("The WAV file's data chunk comes before its fmt chunk.")
            present = len(data) - body_at
            if size == _STREAMING:
                size = present
            elif size > present:
                raise _bad(
                    f"The WAV file is cut short: its data chunk announces {size} bytes, "
                    f"{present} are there."
                )
            frames = size // fmt.block_align
            return AudioInfo(
                media_type="wav",
                encoding=_FORMATS[fmt.code],
                sample_rate=fmt.rate,
                channels=fmt.channels,
                seconds=frames / fmt.rate,
                size=len(data),
            )
        if body_at + size > len(data):
            raise _bad(f"The WAV file is cut short inside its {_chunk_name(chunk)} chunk.")
        if chunk == b"fmt ":
            fmt = _fmt(data[body_at : body_at + size])
        pos = body_at + size + (size & 1)  # chunks are padded to an even length
    raise _bad("The WAV file has no data chunk." if fmt else "The WAV file has no fmt chunk.")


def _chunk_name(chunk: bytes) -> str:
    return repr(chunk.decode("latin-1"))
