"""Uploaded recordings are judged by their bytes: MP3 frames walked, WAV chunks read."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smscloud.domain.audio_files import (
    CONTENT_LENGTH,
    INVALID_PARAMETERS,
    MAX_FILE_BYTES,
    AudioInfo,
    fid_of,
    media_type_for,
    parse_fid,
    sniff_audio,
)
from smscloud.domain.errors import RuleViolation
from tests.support.audio import (
    MPEG1,
    MPEG2,
    MPEG25,
    chunk,
    fmt_body,
    g711_wav,
    id3v2,
    mp3,
    mp3_frame,
    pcm_wav,
    rate_of,
    riff,
    samples_per_frame,
)


def refused(data: bytes, **kwargs: object) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        sniff_audio(data, **kwargs)  # type: ignore[arg-type]
    return caught.value


# -- WAV -------------------------------------------------------------------------------------
def test_a_pcm_wav_is_measured_from_its_data_chunk() -> None:
    data = pcm_wav(1.5)
    assert sniff_audio(data) == AudioInfo("wav", "pcm", 8000, 1, 1.5, len(data))


@pytest.mark.parametrize(("rate", "channels", "width"), [(44100, 2, 2), (16000, 1, 1)])
def test_other_pcm_layouts(rate: int, channels: int, width: int) -> None:
    info = sniff_audio(pcm_wav(0.25, rate=rate, channels=channels, width=width))
    assert (info.sample_rate, info.channels, info.seconds) == (rate, channels, 0.25)


@pytest.mark.parametrize("law", ["alaw", "ulaw"])
def test_g711_wavs(law: str) -> None:
    info = sniff_audio(g711_wav(2.0, law=law))
    assert (info.media_type, info.encoding, info.seconds) == ("wav", law, 2.0)


def test_extensible_pcm_and_chunks_before_the_data() -> None:
    tail = bytes.fromhex("000000001000800000aa00389b71")
    extensible = fmt_body(0xFFFE, 1, 8000, 16) + struct.pack("<HHI", 22, 16, 4) + b"\1\0" + tail
    data = riff(
        chunk(b"LIST", b"odd"),  # padded to an even length
        chunk(b"fmt ", extensible),
        chunk(b"data", bytes(16000)),
    )
    assert sniff_audio(data).seconds == 1.0


def test_a_streamed_wav_runs_to_the_end_of_the_file() -> None:
    head = riff(chunk(b"fmt ", fmt_body(1, 1, 8000, 16)))
    data = head + b"data" + struct.pack("<I", 0xFFFFFFFF) + bytes(8000)
    assert sniff_audio(data).seconds == 0.5


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (pcm_wav(1.0)[:-100], "cut short"),
        (pcm_wav(1.0)[:30], "cut short"),
        (riff(chunk(b"fmt ", fmt_body(3, 1, 8000, 32)), chunk(b"data", bytes(64))), "format 3"),
        (riff(chunk(b"data", bytes(64)), chunk(b"fmt ", fmt_body(1, 1, 8000, 16))), "before"),
        (riff(chunk(b"fmt ", fmt_body(1, 1, 8000, 16))), "no data chunk"),
        (riff(chunk(b"LIST", b"x")), "no fmt chunk"),
        (riff(chunk(b"fmt ", fmt_body(6, 1, 8000, 16)), chunk(b"data", b"\0" * 8)), "16-bit"),
        (riff(chunk(b"fmt ", fmt_body(1, 0, 8000, 16)), chunk(b"data", b"\0" * 8)), "channels"),
        (riff(chunk(b"fmt ", fmt_body(1, 1, 10, 16)), chunk(b"data", b"\0" * 8)), "sample rate"),
        (riff(chunk(b"fmt ", b"\1\0")), "shorter than 16"),
        (b"RIFF\x10\0\0\0AVI LIST", "not a WAVE"),
        (riff(chunk(b"fmt ", fmt_body(1, 1, 8000, 16)), chunk(b"data", b"")), "no audio"),
    ],
)
def test_broken_wavs_are_refused(data: bytes, words: str) -> None:
    violation = refused(data)
    assert violation.code == INVALID_PARAMETERS
    assert words in violation.message


def test_a_wav_whose_header_contradicts_itself_is_refused() -> None:
    code, ch, rate, _, align, bits = struct.unpack("<HHIIHH", fmt_body(1, 1, 8000, 16))
    lying = struct.pack("<HHIIHH", code, ch, rate, 4000, align, bits)
    assert "byte rate" in refused(riff(chunk(b"fmt ", lying), chunk(b"data", bytes(8)))).message


# -- MP3 -------------------------------------------------------------------------------------
def test_a_constant_bitrate_mp3_is_measured_frame_by_frame() -> None:
    data = mp3(200)
    info = sniff_audio(data)
    assert (info.media_type, info.encoding, info.sample_rate, info.channels) == (
        "mp3",
        "mpeg-layer3",
        44100,
        2,
    )
    assert info.seconds == pytest.approx(200 * 1152 / 44100)


def test_a_variable_bitrate_mp3_with_id3_tags_and_a_xing_frame() -> None:
    frames = [mp3_frame(bitrate_index=i, padding=i % 2) for i in (5, 9, 14, 1) * 25]
    xing = mp3_frame(bitrate_index=9, payload=bytes(32) + b"Xing")  # after 32 octets of side info
    data = id3v2(300, footer=True) + xing + b"".join(frames) + b"TAG" + bytes(125)
    assert sniff_audio(data).seconds == pytest.approx(100 * 1152 / 44100)


@pytest.mark.parametrize(
    ("version", "rate_index", "mono"),
    [(MPEG1, 2, True), (MPEG2, 0, False), (MPEG2, 1, True), (MPEG25, 2, True)],
)
def test_mpeg2_and_2_5_frames_hold_576_samples(version: int, rate_index: int, mono: bool) -> None:
    data = mp3(50, version=version, bitrate_index=8, rate_index=rate_index, mono=mono)
    info = sniff_audio(data)
    assert info.sample_rate == rate_of(version, rate_index)
    assert info.channels == (1 if mono else 2)
    assert info.seconds == pytest.approx(50 * samples_per_frame(version) / info.sample_rate)


def test_frames_with_a_crc_and_a_last_frame_cut_short() -> None:
    data = mp3(10, crc=True)
    assert sniff_audio(data[:-40]).seconds == pytest.approx(9 * 1152 / 44100)


def test_zero_padding_after_the_frames_is_allowed() -> None:
    assert sniff_audio(mp3(10) + bytes(700)).seconds == pytest.approx(10 * 1152 / 44100)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"hello, this is not a recording\n" * 20, "neither MP3 nor WAV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "89 50 4e 47"),
        (b"ID3\x04\x00\x00\x00\x00\x10\x00" + bytes(50), "cut short inside its ID3 tag"),
        (b"ID3\x04", "cut short"),
        (b"ID3\x04\x00\x00\x80\x00\x00\x00", "malformed"),
        (id3v2(20) + b"plain text after a tag" * 10, "No MPEG audio frame"),
        (mp3(20) + b"garbage that is not audio", "not audio"),
        (mp3(5) + mp3(5, rate_index=1), "changes its sample rate"),
        (mp3_frame() + b"\xff\xfb\x10", "No MPEG audio frame"),  # a header nothing confirms
        ((b"\xff\xfb\x00\x00" + bytes(400)) * 5, "neither"),  # free format: no length
        (mp3_frame(payload=bytes(32) + b"Xing"), "no audio"),
    ],
)
def test_what_is_not_an_mp3_is_refused(data: bytes, words: str) -> None:
    violation = refused(data)
    assert violation.code == INVALID_PARAMETERS
    assert words in violation.message


def test_a_layer_ii_stream_is_not_an_mp3() -> None:
    layer2 = bytearray(mp3(20))
    for i in range(0, len(layer2), 417):
        layer2[i + 1] = 0xFD  # layer bits 10
    assert refused(bytes(layer2)).code == INVALID_PARAMETERS


# -- limits and declarations ------------------------------------------------------------------
def test_size_and_duration_limits() -> None:
    big = pcm_wav(26.0)  # 8 kHz, 16 bits: 16,000 octets a second
    assert len(big) > MAX_FILE_BYTES
    violation = refused(big)
    assert (violation.code, str(MAX_FILE_BYTES) in violation.message) == (CONTENT_LENGTH, True)
    assert sniff_audio(big, max_bytes=len(big)).seconds == 26.0
    assert refused(pcm_wav(2.0), max_seconds=1.5).code == CONTENT_LENGTH
    # 5,000 frames of 8 kbit/s MPEG-2.5 at 8 kHz: 360 s in 360,000 octets.
    slow = mp3(5000, version=MPEG25, bitrate_index=1, rate_index=2, mono=True)
    assert len(slow) < MAX_FILE_BYTES
    assert "360.0 s" in refused(slow).message


def test_the_declared_type_must_be_what_the_bytes_are() -> None:
    assert sniff_audio(pcm_wav(0.1), declared="wav").media_type == "wav"
    violation = refused(pcm_wav(0.1), declared="mp3")
    assert "audio/wav" in violation.message
    assert "audio/mpeg" in refused(mp3(3), declared="wav").message


def test_empty_is_refused() -> None:
    assert refused(b"").message == "The voice file is empty."


def test_ids_and_media_types() -> None:
    data = pcm_wav(0.1)
    fid = fid_of(data)
    assert len(fid) == 40 and fid == fid.lower()
    assert parse_fid(fid) == parse_fid(f"{fid.upper()}.wav") == parse_fid(f" {fid}.mp3 ") == fid
    assert parse_fid(fid[:-1]) is None and parse_fid(f"{fid}.ogg") is None
    assert parse_fid("../" + fid) is None
    assert media_type_for("audio/mpeg") == "mp3"
    assert media_type_for("Audio/WAV; charset=binary") == "wav"
    assert media_type_for("audio/x-wav") == "wav"
    assert media_type_for("application/octet-stream") is None


# -- no input crashes the sniffer ------------------------------------------------------------
def _judge(data: bytes) -> None:
    try:
        info = sniff_audio(data, max_bytes=1 << 20, max_seconds=1e9)
    except RuleViolation as exc:
        assert exc.code in (INVALID_PARAMETERS, CONTENT_LENGTH) and exc.message
    else:
        assert info.seconds > 0 and info.media_type in ("mp3", "wav")


PREFIXES = st.sampled_from(
    [
        b"",
        b"RIFF\0\0\0\0WAVE",
        b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0",
        b"ID3\x04\0\0\0\0\0\x05",
        mp3_frame()[:4],
        mp3_frame(),
        riff(chunk(b"fmt ", fmt_body(1, 1, 8000, 16))),
    ]
)


@settings(max_examples=400)
@given(PREFIXES, st.binary(max_size=2048))
def test_arbitrary_bytes_never_crash_the_sniffer(prefix: bytes, data: bytes) -> None:
    _judge(prefix + data)


@settings(max_examples=300)
@given(
    st.sampled_from([pcm_wav(0.05), g711_wav(0.1), mp3(8), id3v2(10) + mp3(4, crc=True)]),
    st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8),
    st.integers(0, 5000),
)
def test_damaged_recordings_never_crash_the_sniffer(
    good: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    damaged = bytearray(good)
    for at, value in flips:
        if damaged:
            damaged[at % len(damaged)] = value
    _judge(bytes(damaged[: len(damaged) - cut % (len(damaged) + 1)]))
