"""RTP: exact header bytes, round trips, malformed input raises only RtpParseError, the
packetiser's counts, wrap-around, marker and silence, and RFC 4733 DTMF de-duplication."""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.rtp import (
    CLOCK_RATE,
    DTMF_KEYS,
    FRAME_OCTETS,
    FRAME_SECONDS,
    PCMA,
    PCMU,
    DtmfDetector,
    Packetizer,
    RtpExtension,
    RtpPacket,
    RtpParseError,
    TelephoneEvent,
    parse_telephone_event,
)

u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
extensions = st.builds(
    RtpExtension,
    profile=u16,
    data=st.integers(0, 8).flatmap(lambda words: st.binary(min_size=4 * words, max_size=4 * words)),
)
packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127),
    sequence=u16,
    timestamp=u32,
    ssrc=u32,
    payload=st.binary(max_size=200),
    marker=st.booleans(),
    csrcs=st.lists(u32, max_size=15).map(tuple),
    extension=st.none() | extensions,
    padding=st.integers(0, 255),
)


# --- exact bytes (RFC 3550 §5.1, §5.3.1) ----------------------------------------------------


def test_plain_header_bytes() -> None:
    packet = RtpPacket(PCMU, 1, 160, 0x12345678, b"\xff" * 4, marker=True)
    assert packet.pack() == bytes.fromhex("80 80 0001 000000a0 12345678 ffffffff")
    assert packet.version == RtpPacket.version == 2
    assert packet.csrc_count == 0


def test_header_bytes_with_csrcs_extension_and_padding() -> None:
    packet = RtpPacket(
        payload_type=PCMA,
        sequence=0xFFFF,
        timestamp=0xFFFFFFFF,
        ssrc=1,
        payload=b"\xd5\xd5",
        csrcs=(2, 3),
        extension=RtpExtension(0xBEDE, b"\x10\xaa\x00\x00"),
        padding=3,
    )
    assert packet.pack() == bytes.fromhex(
        "b2 08 ffff ffffffff 00000001"  # V=2 P=1 X=1 CC=2 | M=0 PT=8
        "00000002 00000003"  # CSRC list
        "bede 0001 10aa0000"  # extension: profile, length in words, data
        "d5d5"  # payload
        "0000 03"  # padding, its last octet the count
    )
    assert packet.csrc_count == 2


def test_parse_of_a_captured_pcmu_packet() -> None:
    wire = bytes.fromhex("80 00 1a2b 00001f40 deadbeef") + b"\xff" * 160
    packet = RtpPacket.parse(wire)
    assert packet == RtpPacket(PCMU, 0x1A2B, 8000, 0xDEADBEEF, b"\xff" * 160)


def test_parse_skips_the_extension_to_find_the_payload() -> None:
    wire = bytes.fromhex("90 60 0001 00000001 00000002 1000 0002 0102030405060708 aabb")
    packet = RtpPacket.parse(wire)
    assert packet.extension == RtpExtension(0x1000, bytes.fromhex("0102030405060708"))
    assert packet.payload == b"\xaa\xbb"
    assert packet.payload_type == 96


def test_parse_strips_the_padding_the_last_octet_counts() -> None:
    wire = bytes.fromhex("a0 00 0001 00000001 00000002 aabbcc 01020304")
    packet = RtpPacket.parse(wire)
    assert (packet.payload, packet.padding) == (b"\xaa\xbb\xcc", 4)
    assert packet.pack() == bytes.fromhex("a0 00 0001 00000001 00000002 aabbcc 00000004")


def test_padding_may_take_the_whole_body() -> None:
    packet = RtpPacket.parse(bytes.fromhex("a0 00 0001 00000001 00000002 0002"))
    assert (packet.payload, packet.padding) == (b"", 2)


def test_an_empty_extension_and_an_empty_payload() -> None:
    packet = RtpPacket.parse(bytes.fromhex("90 00 0001 00000001 00000002 0000 0000"))
    assert packet.extension == RtpExtension(0)
    assert packet.payload == b""


@pytest.mark.parametrize(
    ("wire", "why"),
    [
        ("", "shorter than the RTP header"),
        ("80 00 0001 00000001 000000", "shorter than the RTP header"),
        ("40 00 0001 00000001 00000002", "version 1"),
        ("00 00 0001 00000001 00000002", "version 0"),
        ("c0 00 0001 00000001 00000002", "version 3"),
        ("81 00 0001 00000001 00000002", "CSRC list"),
        ("8f 00 0001 00000001 00000002" + "00000000" * 14, "CSRC list"),
        ("90 00 0001 00000001 00000002 0000", "header extension"),
        ("90 00 0001 00000001 00000002 0000 0001", "header extension"),
        ("90 00 0001 00000001 00000002 0000 0002 00000000", "header extension"),
        ("a0 00 0001 00000001 00000002 aabb00", "padding of 0"),
        ("a0 00 0001 00000001 00000002 aabb04", "padding of 4"),
        ("b0 00 0001 00000001 00000002 0000 0000 05", "padding of 5"),
    ],
)
def test_malformed_packets(wire: str, why: str) -> None:
    with pytest.raises(RtpParseError, match=why):
        RtpPacket.parse(bytes.fromhex(wire))


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(RtpParseError, ValueError)


@pytest.mark.parametrize(
    "fields",
    [
        {"payload_type": 128},
        {"payload_type": -1},
        {"sequence": 0x10000},
        {"timestamp": 1 << 32},
        {"ssrc": -1},
        {"padding": 256},
        {"csrcs": (0,) * 16},
        {"csrcs": (1 << 32,)},
    ],
)
def test_out_of_range_fields_are_refused(fields: dict[str, object]) -> None:
    base: dict[str, object] = {"payload_type": 0, "sequence": 0, "timestamp": 0, "ssrc": 0}
    with pytest.raises(ValueError):
        RtpPacket(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(("profile", "data"), [(0x10000, b""), (-1, b""), (0, b"abc")])
def test_bad_extensions_are_refused(profile: int, data: bytes) -> None:
    with pytest.raises(ValueError):
        RtpExtension(profile, data)


# --- properties -----------------------------------------------------------------------------


@given(packets)
def test_round_trip(packet: RtpPacket) -> None:
    wire = packet.pack()
    assert RtpPacket.parse(wire) == packet
    assert len(wire) == (
        12
        + 4 * len(packet.csrcs)
        + (4 + len(packet.extension.data) if packet.extension else 0)
        + len(packet.payload)
        + packet.padding
    )


@given(packets)
def test_the_fixed_header_fields_sit_where_rfc_3550_puts_them(packet: RtpPacket) -> None:
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", packet.pack())
    assert first >> 6 == 2
    assert bool(first & 0x20) == (packet.padding > 0)
    assert bool(first & 0x10) == (packet.extension is not None)
    assert first & 0x0F == len(packet.csrcs)
    assert (bool(second & 0x80), second & 0x7F) == (packet.marker, packet.payload_type)
    assert (sequence, timestamp, ssrc) == (packet.sequence, packet.timestamp, packet.ssrc)


@given(st.binary(max_size=120))
def test_arbitrary_octets_parse_or_raise_rtp_parse_error(data: bytes) -> None:
    try:
        packet = RtpPacket.parse(data)
    except RtpParseError:
        return
    assert packet.version == 2


@given(packets, st.data())
def test_damaged_packets_parse_or_raise_rtp_parse_error(
    packet: RtpPacket, data: st.DataObject
) -> None:
    wire = bytearray(packet.pack())
    cut = data.draw(st.integers(0, len(wire)))
    wire = wire[:cut]
    for _ in range(data.draw(st.integers(0, 3))):
        if wire:
            index = data.draw(st.integers(0, len(wire) - 1))
            wire[index] = data.draw(st.integers(0, 255))
    with contextlib.suppress(RtpParseError):  # anything else fails the test
        RtpPacket.parse(bytes(wire))


@given(packets)
def test_a_parsed_packet_packs_to_the_same_octets_when_padding_is_zeros(packet: RtpPacket) -> None:
    wire = packet.pack()
    assert RtpPacket.parse(wire).pack() == wire


# --- packetiser (RFC 3551 §4.1, §4.2; RFC 3550 §5.1) ------------------------------------------


def test_twenty_millisecond_frames() -> None:
    assert (FRAME_OCTETS, CLOCK_RATE, FRAME_SECONDS) == (160, 8000, 0.020)


def test_a_prompt_becomes_contiguous_packets() -> None:
    audio = bytes(range(256)) * 2  # 512 octets: three whole frames and 32 octets
    packetizer = Packetizer(PCMU, ssrc=7, sequence=100, timestamp=1000)
    out = packetizer.packets(audio)
    assert [p.sequence for p in out] == [100, 101, 102, 103]
    assert [p.timestamp for p in out] == [1000, 1160, 1320, 1480]
    assert [p.marker for p in out] == [True, False, False, False]
    assert {p.ssrc for p in out} == {7}
    assert {p.payload_type for p in out} == {PCMU}
    assert all(len(p.payload) == 160 for p in out)
    assert b"".join(p.payload for p in out) == audio + b"\xff" * 128
    assert (packetizer.sequence, packetizer.timestamp) == (104, 1640)


def test_pcma_pads_with_its_own_silence() -> None:
    out = Packetizer(PCMA, ssrc=1, sequence=0, timestamp=0).packets(b"\x01")
    assert out[0].payload == b"\x01" + b"\xd5" * 159
    assert out[0].payload_type == PCMA


def test_sequence_and_timestamp_wrap() -> None:
    packetizer = Packetizer(PCMU, ssrc=1, sequence=0xFFFE, timestamp=0xFFFFFFFF - 159)
    out = packetizer.packets(bytes(160 * 4))
    assert [p.sequence for p in out] == [0xFFFE, 0xFFFF, 0, 1]
    assert [p.timestamp for p in out] == [0xFFFFFF60, 0, 160, 320]
    assert (packetizer.sequence, packetizer.timestamp) == (2, 480)


def test_repetitions_with_a_gap_of_silence() -> None:
    audio = b"\x11" * 200  # two frames a playing
    out = Packetizer(PCMU, ssrc=1, sequence=0, timestamp=0).packets(audio, play_times=3, gap=0.05)
    # 0.05 s is 2.5 frames: rounded up to 3 silent frames between playings.
    assert len(out) == 2 * 3 + 3 * 2
    silence = b"\xff" * 160
    played = audio[:160], audio[160:] + b"\xff" * 120
    assert [p.payload for p in out] == [*played, *[silence] * 3, *played, *[silence] * 3, *played]
    assert [p.marker for p in out] == [True] + [False] * 11  # one talkspurt: silence is sent
    assert [p.sequence for p in out] == list(range(12))


def test_gap_in_whole_frames_is_not_rounded_up_by_float_error() -> None:
    out = Packetizer(PCMU, ssrc=1, sequence=0, timestamp=0).packets(
        bytes(160), play_times=2, gap=0.3
    )
    assert len(out) == 1 + 15 + 1


def test_each_call_is_a_talkspurt_continuing_the_stream() -> None:
    packetizer = Packetizer(PCMA, ssrc=9, sequence=10, timestamp=0)
    first = packetizer.packets(bytes(320))
    second = packetizer.packets(bytes(160))
    assert [p.marker for p in first + second] == [True, False, True]
    assert [p.sequence for p in first + second] == [10, 11, 12]
    assert [p.timestamp for p in first + second] == [0, 160, 320]


def test_idle_moves_the_timestamp_not_the_sequence() -> None:
    packetizer = Packetizer(PCMU, ssrc=1, sequence=5, timestamp=0xFFFFFFFF)
    packetizer.idle(1.5)
    assert (packetizer.sequence, packetizer.timestamp) == (5, 11999)
    (packet,) = packetizer.packets(b"\x00")
    assert (packet.sequence, packet.timestamp, packet.marker) == (5, 11999, True)


def test_empty_audio_sends_nothing() -> None:
    packetizer = Packetizer(PCMU, ssrc=1, sequence=3, timestamp=4)
    assert packetizer.packets(b"", play_times=3, gap=1.0) == []
    assert (packetizer.sequence, packetizer.timestamp) == (3, 4)


def test_due_offsets() -> None:
    packetizer = Packetizer(PCMU, ssrc=1, sequence=0, timestamp=0)
    assert [packetizer.due_offset(i) for i in range(4)] == [0.0, 0.02, 0.04, 0.06]
    assert packetizer.due_offset(3000) == pytest.approx(60.0)


def test_unset_stream_identifiers_are_random_and_in_range() -> None:
    streams = [Packetizer() for _ in range(20)]
    assert len({s.ssrc for s in streams}) > 1
    assert all(0 <= s.sequence <= 0xFFFF and 0 <= s.timestamp <= 0xFFFFFFFF for s in streams)
    assert all(s.payload_type == PCMU for s in streams)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Packetizer(18), "neither PCMU"),
        (lambda: Packetizer(ssrc=1 << 32), "ssrc"),
        (lambda: Packetizer(sequence=-1), "sequence"),
        (lambda: Packetizer(timestamp=1 << 32), "timestamp"),
        (lambda: Packetizer(ssrc=1).packets(b"x", play_times=0), "play_times"),
        (lambda: Packetizer(ssrc=1).packets(b"x", gap=-0.1), "gap"),
        (lambda: Packetizer(ssrc=1).packets(b"x", gap=math.inf), "gap"),
        (lambda: Packetizer(ssrc=1).packets(b"x", gap=math.nan), "gap"),
        (lambda: Packetizer(ssrc=1).idle(-1), "seconds"),
    ],
)
def test_bad_packetizer_arguments(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()


@given(
    audio=st.binary(max_size=2000),
    play_times=st.integers(1, 4),
    gap_frames=st.integers(0, 30),
    sequence=u16,
    timestamp=u32,
    payload_type=st.sampled_from([PCMU, PCMA]),
)
def test_packet_count_and_numbering(
    audio: bytes, play_times: int, gap_frames: int, sequence: int, timestamp: int, payload_type: int
) -> None:
    packetizer = Packetizer(payload_type, ssrc=1, sequence=sequence, timestamp=timestamp)
    out = packetizer.packets(audio, play_times=play_times, gap=gap_frames * FRAME_SECONDS)
    frames = math.ceil(len(audio) / 160)
    assert len(out) == (frames * play_times + gap_frames * (play_times - 1) if audio else 0)
    for i, packet in enumerate(out):
        assert packet.sequence == (sequence + i) % 2**16
        assert packet.timestamp == (timestamp + 160 * i) % 2**32
        assert packet.marker == (i == 0)
        assert len(packet.payload) == 160
        assert RtpPacket.parse(packet.pack()) == packet
    if audio:
        silence = bytes([0xFF if payload_type == PCMU else 0xD5])
        playing = audio.ljust(frames * 160, silence)
        assert b"".join(p.payload for p in out[:frames]) == playing
        assert b"".join(p.payload for p in out[-frames:]) == playing
    assert packetizer.sequence == (sequence + len(out)) % 2**16
    assert packetizer.timestamp == (timestamp + 160 * len(out)) % 2**32


# --- telephone events (RFC 4733 §2.3, §3.2) --------------------------------------------------


def test_telephone_event_bytes() -> None:
    assert parse_telephone_event(bytes.fromhex("05 8a 0320")) == TelephoneEvent("5", True, 10, 800)
    assert parse_telephone_event(bytes.fromhex("0b 3f ffff")) == ("#", False, 63, 0xFFFF)
    assert TelephoneEvent("*", False, 7, 160).pack() == bytes.fromhex("0a 07 00a0")


def test_every_dtmf_key() -> None:
    assert DTMF_KEYS == "0123456789*#ABCD"
    for event, key in enumerate(DTMF_KEYS):
        assert parse_telephone_event(bytes([event, 0, 0, 0])).key == key


def test_the_reserved_bit_is_ignored() -> None:
    assert parse_telephone_event(bytes.fromhex("01 4a 0000")) == ("1", False, 10, 0)
    assert parse_telephone_event(bytes.fromhex("01 ca 0000")) == ("1", True, 10, 0)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ("", "not 0"),
        ("01 00 00", "not 3"),
        ("01 00 0000 00", "not 5"),
        ("01 80 00a0 02 00 00a0", "not 8"),  # packed reports: DtmfDetector reads those
        ("10 00 0000", "event 16"),  # flash: not a DTMF key
        ("ff 00 0000", "event 255"),
    ],
)
def test_bad_telephone_events(payload: str, why: str) -> None:
    with pytest.raises(RtpParseError, match=why):
        parse_telephone_event(bytes.fromhex(payload))


@given(st.binary(max_size=8))
def test_arbitrary_event_payloads_parse_or_raise_rtp_parse_error(data: bytes) -> None:
    try:
        event = parse_telephone_event(data)
    except RtpParseError:
        return
    assert event.key in DTMF_KEYS and 0 <= event.volume <= 63


@given(st.sampled_from(DTMF_KEYS), st.booleans(), st.integers(0, 63), u16)
def test_telephone_event_round_trip(key: str, end: bool, volume: int, duration: int) -> None:
    event = TelephoneEvent(key, end, volume, duration)
    assert parse_telephone_event(event.pack()) == event


@pytest.mark.parametrize(
    "event",
    [
        TelephoneEvent("E", False, 0, 0),
        TelephoneEvent("12", False, 0, 0),
        TelephoneEvent("", False, 0, 0),
        TelephoneEvent("1", False, 64, 0),
        TelephoneEvent("1", False, 0, 0x10000),
    ],
)
def test_bad_events_do_not_pack(event: TelephoneEvent) -> None:
    with pytest.raises(ValueError):
        event.pack()


# --- DTMF detection (RFC 4733 §2.5) ---------------------------------------------------------

EVENT_PT = 101


def press(
    key: str, start: int, *, sequence: int = 0, ssrc: int = 0x1234, steps: int = 3
) -> list[RtpPacket]:
    """The packets one key press makes (§2.5.1): growing durations, all with the timestamp of
    the start, the marker on the first, the final packet (E bit) sent three times (§2.5.1.4)."""
    out: list[RtpPacket] = []
    for step in range(1, steps + 1):
        event = TelephoneEvent(key, False, 10, 160 * step)
        out.append(RtpPacket(EVENT_PT, sequence, start, ssrc, event.pack(), marker=step == 1))
        sequence += 1
    for _ in range(3):
        event = TelephoneEvent(key, True, 10, 160 * (steps + 1))
        out.append(RtpPacket(EVENT_PT, sequence, start, ssrc, event.pack()))
        sequence += 1
    return out


def feed_all(detector: DtmfDetector, packets: list[RtpPacket]) -> list[str]:
    return [keys for keys in map(detector.feed, packets) if keys]


def test_one_press_however_many_packets() -> None:
    detector = DtmfDetector(EVENT_PT)
    assert feed_all(detector, press("5", 8000)) == ["5"]
    assert detector.keys == "5"


def test_the_same_key_twice_is_two_presses() -> None:
    detector = DtmfDetector(EVENT_PT)
    packets = press("1", 8000) + press("1", 9600, sequence=6) + press("#", 11200, sequence=12)
    assert feed_all(detector, packets) == ["1", "1", "#"]
    assert detector.keys == "11#"


def test_a_press_whose_first_packets_were_lost_still_counts() -> None:
    detector = DtmfDetector(EVENT_PT)
    assert feed_all(detector, press("9", 500)[-2:]) == ["9"]


def test_a_late_final_packet_of_an_earlier_press_is_not_a_new_press() -> None:
    detector = DtmfDetector(EVENT_PT)
    first, second = press("2", 1000), press("3", 3000, sequence=6)
    assert feed_all(detector, first[:-1] + second[:2] + first[-1:] + second[2:]) == ["2", "3"]


def test_other_streams_and_payloads_are_ignored() -> None:
    detector = DtmfDetector(EVENT_PT)
    audio = RtpPacket(PCMU, 0, 1000, 0x1234, b"\xff" * 160)
    other_type = RtpPacket(100, 0, 1000, 0x1234, TelephoneEvent("1", False, 0, 0).pack())
    flash = RtpPacket(EVENT_PT, 0, 1000, 0x1234, bytes.fromhex("10 00 00a0"))
    short = RtpPacket(EVENT_PT, 0, 1000, 0x1234, b"\x01")
    assert [detector.feed(p) for p in (audio, other_type, flash, short)] == [""] * 4
    assert detector.keys == ""


def test_another_ssrc_with_the_same_timestamp_is_another_press() -> None:
    detector = DtmfDetector(EVENT_PT)
    assert feed_all(detector, press("4", 100) + press("4", 100, ssrc=0x9999)) == ["4", "4"]


def test_the_memory_of_presses_is_bounded() -> None:
    detector = DtmfDetector(EVENT_PT, memory=2)
    presses = [press(k, 1000 * i) for i, k in enumerate("123", start=1)]
    assert feed_all(detector, [p for packets in presses for p in packets]) == ["1", "2", "3"]
    # a retransmission of press "3" is still known; one of press "1" is too old to be.
    assert detector.feed(presses[2][-1]) == ""
    assert detector.feed(presses[0][-1]) == "1"


@given(st.lists(st.sampled_from(DTMF_KEYS), max_size=12))
def test_presses_survive_duplicates(keys: list[str]) -> None:
    detector = DtmfDetector(EVENT_PT)
    packets: list[RtpPacket] = []
    for i, key in enumerate(keys):
        packets += press(key, 1600 * i, sequence=6 * i)
    with_duplicates = [p for packet in packets for p in (packet, packet)]
    assert feed_all(detector, with_duplicates) == keys
    assert detector.keys == "".join(keys)


def packed(timestamp: int, *reports: TelephoneEvent | bytes, sequence: int = 0) -> RtpPacket:
    payload = b"".join(r if isinstance(r, bytes) else r.pack() for r in reports)
    return RtpPacket(EVENT_PT, sequence, timestamp, 0x1234, payload)


def test_packed_reports_each_start_where_the_one_before_ended() -> None:
    """RFC 4733 §2.5.1.5: "1" began at 1000 and lasted 800, so "2" began at 1800."""
    detector = DtmfDetector(EVENT_PT)
    one, two = TelephoneEvent("1", True, 10, 800), TelephoneEvent("2", False, 10, 320)
    assert detector.feed(packed(1000, one, two)) == "12"
    assert detector.feed(packed(1000, one, two, sequence=1)) == ""  # repeated
    assert detector.feed(packed(1800, TelephoneEvent("2", True, 10, 480), sequence=2)) == ""
    assert detector.feed(packed(1800, TelephoneEvent("3", True, 10, 480), sequence=3)) == ""
    assert detector.feed(packed(2280, TelephoneEvent("3", True, 10, 480), sequence=4)) == "3"
    assert detector.keys == "123"


def test_packed_events_that_are_not_keys_still_take_their_time() -> None:
    detector = DtmfDetector(EVENT_PT)
    flash = bytes.fromhex("10 8a 0190")  # event 16 (flash), 400 units
    assert detector.feed(packed(0, TelephoneEvent("7", True, 10, 400), flash)) == "7"
    assert detector.feed(packed(800, TelephoneEvent("8", True, 10, 400))) == "8"
    assert detector.feed(packed(400, flash, TelephoneEvent("8", True, 10, 400))) == ""


def test_packed_start_times_wrap() -> None:
    detector = DtmfDetector(EVENT_PT)
    first = TelephoneEvent("4", True, 10, 0x200)
    assert detector.feed(packed(0xFFFFFF00, first, TelephoneEvent("5", True, 10, 1))) == "45"
    assert detector.feed(packed(0x100, TelephoneEvent("5", True, 10, 1))) == ""


@pytest.mark.parametrize("payload", ["", "01", "01 80 00a0 02", "01 80 00a0 02 80 00"])
def test_payloads_of_partial_reports_are_ignored(payload: str) -> None:
    detector = DtmfDetector(EVENT_PT)
    assert detector.feed(packed(0, bytes.fromhex(payload))) == ""
