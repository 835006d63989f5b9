"""G.711: every 16-bit sample and every code word against audioop and a slow reference,
known code words from G.711's tables, round trips and sizes."""

from __future__ import annotations

import ast
import sys
import warnings
from array import array
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols import g711
from smscloud.protocols.g711 import (
    ALAW_SILENCE,
    ULAW_SILENCE,
    alaw_to_lin,
    lin_to_alaw,
    lin_to_ulaw,
    ulaw_to_lin,
)

ALL_SAMPLES = list(range(-32768, 32768))
ALL_CODES = bytes(range(256))


def pcm(*samples: int) -> bytes:
    """16-bit signed little-endian PCM of ``samples``, whatever the machine's byte order."""
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def samples(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "little", signed=True) for i in range(0, len(data), 2)]


def audioop_module() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:
            pytest.skip("audioop is gone (Python 3.13+)")
    return audioop


def native(data: bytes) -> bytes:
    """Little-endian 16-bit PCM in the machine's byte order (audioop's)."""
    if sys.byteorder == "little":
        return data
    swapped = array("h", data)
    swapped.byteswap()
    return swapped.tobytes()


# A slow, plain transcription of the G.711 segment tables (one branch per segment end), to
# check the fast tables against something written differently from them.
def slow_ulaw(sample: int) -> int:
    value = sample >> 2
    sign = 0x80 if value >= 0 else 0x00
    magnitude = abs(value) + 33  # the bias of 132 on the 14-bit scale
    for segment, end in enumerate((0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)):
        if magnitude <= end:
            step = (magnitude >> (segment + 1)) & 0x0F
            return sign | (~((segment << 4) | step) & 0x7F)  # all but the sign inverted
    return sign


def slow_alaw(sample: int) -> int:
    value = sample >> 3
    sign = 0x80 if value >= 0 else 0x00
    magnitude = value if value >= 0 else -value - 1
    for segment, end in enumerate((0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)):
        if magnitude <= end:
            step = (magnitude >> (1 if segment < 2 else segment)) & 0x0F
            return (sign | (segment << 4) | step) ^ 0x55
    return (sign | 0x7F) ^ 0x55


def test_every_sample_encodes_as_audioop_does() -> None:
    audioop = audioop_module()
    every = pcm(*ALL_SAMPLES)
    assert lin_to_ulaw(every) == audioop.lin2ulaw(native(every), 2)
    assert lin_to_alaw(every) == audioop.lin2alaw(native(every), 2)


def test_every_code_decodes_as_audioop_does() -> None:
    audioop = audioop_module()
    assert ulaw_to_lin(ALL_CODES) == native(audioop.ulaw2lin(ALL_CODES, 2))
    assert alaw_to_lin(ALL_CODES) == native(audioop.alaw2lin(ALL_CODES, 2))


def test_every_sample_encodes_as_the_segment_tables_say() -> None:
    every = pcm(*ALL_SAMPLES)
    assert list(lin_to_ulaw(every)) == [slow_ulaw(s) for s in ALL_SAMPLES]
    assert list(lin_to_alaw(every)) == [slow_alaw(s) for s in ALL_SAMPLES]


@pytest.mark.parametrize(
    ("sample", "ulaw", "alaw"),
    [
        (0, 0xFF, 0xD5),  # zero: the silence octets
        (-1, 0x7E, 0x55),  # the smallest negative sample
        (32767, 0x80, 0xAA),  # full scale, positive
        (-32768, 0x00, 0x2A),  # full scale, negative
        (1000, 0xCE, 0xFA),
        (-1000, 0x4E, 0x7A),
    ],
)
def test_known_code_words(sample: int, ulaw: int, alaw: int) -> None:
    assert lin_to_ulaw(pcm(sample)) == bytes([ulaw])
    assert lin_to_alaw(pcm(sample)) == bytes([alaw])


@pytest.mark.parametrize(
    ("code", "ulaw", "alaw"),
    [
        (0xFF, 0, 848),
        (0x7F, 0, -848),  # μ-law's second zero
        (0x80, 32124, 5504),  # μ-law's largest positive value
        (0x00, -32124, -5504),
        (0xD5, 716, 8),  # A-law's smallest positive value
        (0x55, -716, -8),
        (0xAA, 5372, 32256),  # A-law's largest positive value
        (0x2A, -5372, -32256),
    ],
)
def test_known_decodings(code: int, ulaw: int, alaw: int) -> None:
    assert samples(ulaw_to_lin(bytes([code]))) == [ulaw]
    assert samples(alaw_to_lin(bytes([code]))) == [alaw]


def test_silence_octets_are_the_codes_of_zero() -> None:
    assert (ULAW_SILENCE, ALAW_SILENCE) == (0xFF, 0xD5)
    assert lin_to_ulaw(bytes(6)) == bytes([ULAW_SILENCE]) * 3
    assert lin_to_alaw(bytes(6)) == bytes([ALAW_SILENCE]) * 3
    assert ulaw_to_lin(bytes([ULAW_SILENCE]) * 3) == bytes(6)
    assert samples(alaw_to_lin(bytes([ALAW_SILENCE]))) == [8]  # A-law has no code for 0


def test_encoding_is_monotonic() -> None:
    """A larger sample never gets a code word that decodes smaller."""
    every = pcm(*ALL_SAMPLES)
    for encode, decode in ((lin_to_ulaw, ulaw_to_lin), (lin_to_alaw, alaw_to_lin)):
        decoded = samples(decode(encode(every)))
        assert decoded == sorted(decoded)


def test_decoded_code_words_encode_back_to_themselves() -> None:
    assert lin_to_alaw(alaw_to_lin(ALL_CODES)) == ALL_CODES
    # μ-law has two zeros, 0xFF and 0x7F; zero encodes as 0xFF.
    assert lin_to_ulaw(ulaw_to_lin(ALL_CODES)) == ALL_CODES[:0x7F] + b"\xff" + ALL_CODES[0x80:]


@given(st.lists(st.integers(-32768, 32767), max_size=400))
def test_encoding_then_decoding_stays_within_half_a_step(values: list[int]) -> None:
    """Decoding an encoded sample lands in the quantisation step the sample fell in: the
    error is at most half the step of its segment (G.711 Tables 1 and 2) plus the bits the
    quantisers drop (2 for μ-law, 3 for A-law)."""
    data = pcm(*values)
    for encode, decode in ((lin_to_ulaw, ulaw_to_lin), (lin_to_alaw, alaw_to_lin)):
        back = samples(decode(encode(data)))
        assert len(back) == len(values)
        for value, decoded in zip(values, back, strict=True):
            assert abs(value - decoded) <= max(abs(value) // 16, 16) + 8


@given(st.binary(max_size=300))
def test_sizes(data: bytes) -> None:
    assert len(ulaw_to_lin(data)) == len(alaw_to_lin(data)) == 2 * len(data)
    even = data[: len(data) // 2 * 2]
    assert len(lin_to_ulaw(even)) == len(lin_to_alaw(even)) == len(even) // 2


@pytest.mark.parametrize("encode", [lin_to_ulaw, lin_to_alaw])
def test_odd_length_pcm_is_refused(encode: Callable[[bytes], bytes]) -> None:
    with pytest.raises(ValueError, match="even length"):
        encode(b"\x00\x00\x00")


def test_the_codec_does_not_import_audioop() -> None:
    """audioop is gone from Python 3.13; only these tests may compare against it."""
    tree = ast.parse(Path(g711.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "audioop" not in imported
