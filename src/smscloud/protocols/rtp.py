"""RTP packets (RFC 3550), G.711 packetisation (RFC 3551) and DTMF events (RFC 4733), sans-IO.

Theory of operation
-------------------
An outgoing call plays a prompt: 8 kHz G.711 audio (``protocols/g711.py``) cut into 20 ms
frames of 160 octets, one frame an RTP packet (RFC 3551 §4.2 and §4.5.14: the default packet
time, one octet a sample). A :class:`Packetizer` holds one stream's SSRC, next sequence number
and next timestamp; ``packets()`` turns one prompt, played ``play_times`` times with
``gap`` seconds of silence between the playings, into the packets of one talkspurt: contiguous
sequence numbers (modulo 2^16) and timestamps 160 apart (modulo 2^32), the marker bit on the
first (RFC 3551 §4.1), the last partial frame of each playing filled with silence. Packet ``i``
of the list is due ``due_offset(i)`` seconds after the first went out: a sender that sleeps
until ``start + due_offset(i)`` rather than 20 ms after the previous send never drifts.
``idle()`` moves the timestamp over a silence sent as no packets at all (RFC 3550 §5.1: the
timestamp counts sampling instants, sent or not), so the next talkspurt starts where it should.

Incoming packets go through :meth:`RtpPacket.parse`, which checks what RFC 3550 Appendix A.1
checks of a packet (version 2, CSRC list, header extension and padding all inside the
datagram) and raises :class:`RtpParseError` for anything else. Keys the callee presses arrive
as RFC 4733 telephone events: every packet of one key press carries the RTP timestamp of the
moment it began (§2.2.1), the press is reported again as its duration grows, and its final
report is sent three times (§2.5.1.4). A payload may also pack several reports, each event
starting where the one before it ended (§2.5.1.5). :class:`DtmfDetector` therefore counts one
press per new (SSRC, start time), whichever packet of the press arrives first.

No socket, clock or randomness is touched here except ``secrets`` for the initial SSRC,
sequence number and timestamp a :class:`Packetizer` picks when none are given (RFC 3550 §5.1:
they SHOULD be random).
"""

from __future__ import annotations

import math
import secrets
import struct
from collections import deque
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from .g711 import ALAW_SILENCE, ULAW_SILENCE

__all__ = [
    "CLOCK_RATE",
    "DTMF_KEYS",
    "FRAME_OCTETS",
    "FRAME_SECONDS",
    "PCMA",
    "PCMU",
    "DtmfDetector",
    "Packetizer",
    "RtpExtension",
    "RtpPacket",
    "RtpParseError",
    "TelephoneEvent",
    "parse_telephone_event",
]

PCMU = 0  # RFC 3551 §6, Table 4: static payload type of G.711 μ-law
PCMA = 8  # RFC 3551 §6, Table 4: static payload type of G.711 A-law
CLOCK_RATE = 8000  # RFC 3551 §4.5.14: G.711 timestamps count samples at 8 kHz
FRAME_OCTETS = 160  # 20 ms at one octet a sample (RFC 3551 §4.2: default packet time)
FRAME_SECONDS = FRAME_OCTETS / CLOCK_RATE
DTMF_KEYS = "0123456789*#ABCD"  # RFC 4733 §3.2: events 0-15

_SILENCE = {PCMU: ULAW_SILENCE, PCMA: ALAW_SILENCE}
_HEADER = struct.Struct("!BBHII")  # RFC 3550 §5.1: the fixed 12 octets
_EXTENSION_HEADER = struct.Struct("!HH")  # RFC 3550 §5.3.1: profile-defined, length
_EVENT = struct.Struct("!BBH")  # RFC 4733 §2.3: event, E|R|volume, duration
_VERSION = 2


class RtpParseError(ValueError):
    """Octets that are not a well-formed RTP packet (or telephone-event payload)."""


@dataclass(frozen=True, slots=True)
class RtpExtension:
    """A header extension (RFC 3550 §5.3.1): 16 profile-defined bits and data in whole
    32-bit words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        _check_range("profile", self.profile, 0xFFFF)
        if len(self.data) % 4 or len(self.data) > 0xFFFF * 4:
            raise ValueError("extension data is whole 32-bit words, at most 65535 of them")


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet (RFC 3550 §5.1). ``padding`` is the number of padding octets the
    packet carries after its payload, the count octet included (0: the P bit is clear)."""

    version: ClassVar[int] = _VERSION

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrcs: tuple[int, ...] = ()
    extension: RtpExtension | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        _check_range("payload_type", self.payload_type, 0x7F)
        _check_range("sequence", self.sequence, 0xFFFF)
        _check_range("timestamp", self.timestamp, 0xFFFFFFFF)
        _check_range("ssrc", self.ssrc, 0xFFFFFFFF)
        _check_range("padding", self.padding, 0xFF)
        if len(self.csrcs) > 15:  # §5.1: the CC field is 4 bits
            raise ValueError("at most 15 CSRC identifiers")
        for csrc in self.csrcs:
            _check_range("csrc", csrc, 0xFFFFFFFF)

    @property
    def csrc_count(self) -> int:
        """The CC field (§5.1)."""
        return len(self.csrcs)

    def pack(self) -> bytes:
        """The packet as sent on the wire."""
        first = (
            (_VERSION << 6)
            | (bool(self.padding) << 5)
            | ((self.extension is not None) << 4)
            | len(self.csrcs)
        )
        parts = [
            _HEADER.pack(
                first,
                (self.marker << 7) | self.payload_type,
                self.sequence,
                self.timestamp,
                self.ssrc,
            ),
            struct.pack(f"!{len(self.csrcs)}I", *self.csrcs),
        ]
        if self.extension is not None:
            ext = self.extension
            parts.append(_EXTENSION_HEADER.pack(ext.profile, len(ext.data) // 4) + ext.data)
        parts.append(self.payload)
        if self.padding:
            # §5.1: the last padding octet counts the padding octets, itself included.
            parts.append(bytes(self.padding - 1) + bytes((self.padding,)))
        return b"".join(parts)

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """The packet in ``data`` (one datagram); :class:`RtpParseError` if malformed."""
        data = bytes(data)
        if len(data) < _HEADER.size:
            raise RtpParseError(f"{len(data)} octets is shorter than the RTP header (12)")
        first, second, sequence, timestamp, ssrc = _HEADER.unpack_from(data)
        if first >> 6 != _VERSION:
            raise RtpParseError(f"RTP version {first >> 6}, not 2")
        offset = _HEADER.size
        count = first & 0x0F
        if len(data) < offset + 4 * count:
            raise RtpParseError("the CSRC list runs past the end of the packet")
        csrcs = struct.unpack_from(f"!{count}I", data, offset)
        offset += 4 * count
        extension = None
        if first & 0x10:
            if len(data) < offset + _EXTENSION_HEADER.size:
                raise RtpParseError("the header extension runs past the end of the packet")
            profile, words = _EXTENSION_HEADER.unpack_from(data, offset)
            offset += _EXTENSION_HEADER.size
            if len(data) < offset + 4 * words:
                raise RtpParseError("the header extension runs past the end of the packet")
            extension = RtpExtension(profile, data[offset : offset + 4 * words])
            offset += 4 * words
        end = len(data)
        padding = 0
        if first & 0x20:
            # §5.1 and A.1: the last octet counts the padding, itself included, and the
            # padding lies after the headers.
            padding = data[-1]
            if padding == 0 or padding > end - offset:
                raise RtpParseError(f"padding of {padding} octets does not fit the packet")
            end -= padding
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=data[offset:end],
            marker=bool(second & 0x80),
            csrcs=csrcs,
            extension=extension,
            padding=padding,
        )


class Packetizer:
    """Cuts G.711 audio into the 20 ms RTP packets of one stream (see the module header).

    ``ssrc``, ``sequence`` and ``timestamp`` are where the stream starts; each left out is
    drawn at random (RFC 3550 §5.1). ``sequence`` and ``timestamp`` then say what the next
    packet will carry.
    """

    def __init__(
        self,
        payload_type: int = PCMU,
        *,
        ssrc: int | None = None,
        sequence: int | None = None,
        timestamp: int | None = None,
    ) -> None:
        if payload_type not in _SILENCE:
            raise ValueError(f"payload type {payload_type} is neither PCMU (0) nor PCMA (8)")
        self.payload_type = payload_type
        self.ssrc = secrets.randbits(32) if ssrc is None else ssrc
        self.sequence = secrets.randbits(16) if sequence is None else sequence
        self.timestamp = secrets.randbits(32) if timestamp is None else timestamp
        _check_range("ssrc", self.ssrc, 0xFFFFFFFF)
        _check_range("sequence", self.sequence, 0xFFFF)
        _check_range("timestamp", self.timestamp, 0xFFFFFFFF)
        self._silence = bytes((_SILENCE[payload_type],)) * FRAME_OCTETS

    def packets(self, audio: bytes, *, play_times: int = 1, gap: float = 0.0) -> list[RtpPacket]:
        """One talkspurt: ``audio`` played ``play_times`` times, ``gap`` seconds of silence
        (rounded to whole 20 ms frames, up) between playings. Empty audio sends nothing."""
        if play_times < 1:
            raise ValueError("play_times is at least 1")
        if not 0.0 <= gap < math.inf:
            raise ValueError("gap is a finite number of seconds, at least 0")
        if not audio:
            return []
        frames = [audio[i : i + FRAME_OCTETS] for i in range(0, len(audio), FRAME_OCTETS)]
        frames[-1] = frames[-1].ljust(FRAME_OCTETS, self._silence[:1])
        pause = [self._silence] * math.ceil(round(gap * CLOCK_RATE) / FRAME_OCTETS)
        payloads = list(frames)
        for _ in range(play_times - 1):
            payloads += pause
            payloads += frames
        sequence, timestamp = self.sequence, self.timestamp
        packets = [
            RtpPacket(
                self.payload_type,
                (sequence + i) & 0xFFFF,
                (timestamp + i * FRAME_OCTETS) & 0xFFFFFFFF,
                self.ssrc,
                payload,
                marker=i == 0,  # RFC 3551 §4.1: the first packet of a talkspurt
            )
            for i, payload in enumerate(payloads)
        ]
        self.sequence = (sequence + len(packets)) & 0xFFFF
        self.timestamp = (timestamp + len(packets) * FRAME_OCTETS) & 0xFFFFFFFF
        return packets

    def idle(self, seconds: float) -> None:
        """Move the timestamp over ``seconds`` sent as no packets (RFC 3550 §5.1); the
        sequence number stays, as it counts packets sent."""
        if not 0.0 <= seconds < math.inf:
            raise ValueError("seconds is a finite number, at least 0")
        self.timestamp = (self.timestamp + round(seconds * CLOCK_RATE)) & 0xFFFFFFFF

    def due_offset(self, index: int) -> float:
        """When packet ``index`` of a ``packets()`` list is due, in seconds after the first."""
        return index * FRAME_SECONDS


class TelephoneEvent(NamedTuple):
    """A DTMF telephone event (RFC 4733 §2.3): the key, the E bit, the volume (0 to 63, in
    -dBm0) and the duration so far in timestamp units."""

    key: str
    end: bool
    volume: int
    duration: int

    def pack(self) -> bytes:
        """The four-octet payload (RFC 4733 §2.3); the R bit is sent as 0 (§2.3.3)."""
        if len(self.key) != 1 or self.key not in DTMF_KEYS:
            raise ValueError(f"{self.key!r} is not a DTMF key")
        _check_range("volume", self.volume, 0x3F)
        _check_range("duration", self.duration, 0xFFFF)
        return _EVENT.pack(DTMF_KEYS.index(self.key), (self.end << 7) | self.volume, self.duration)


def parse_telephone_event(payload: bytes) -> TelephoneEvent:
    """The DTMF event of a telephone-event payload holding one report (RFC 4733 §2.3);
    :class:`RtpParseError` if it is not four octets or its event is not a DTMF key (0-15,
    §3.2). Payloads packing several reports (§2.5.1.5) are read by :class:`DtmfDetector`."""
    if len(payload) != _EVENT.size:
        raise RtpParseError(f"a telephone-event report is 4 octets, not {len(payload)}")
    ((event, flags, duration),) = _reports(payload)
    if event >= len(DTMF_KEYS):
        raise RtpParseError(f"event {event} is not a DTMF key")
    # §2.3.3: the R bit (0x40) is reserved; receivers ignore it.
    return TelephoneEvent(DTMF_KEYS[event], bool(flags & 0x80), flags & 0x3F, duration)


def _reports(payload: bytes) -> list[tuple[int, int, int]]:
    """(event, E|R|volume, duration) of each report in a telephone-event payload."""
    if not payload or len(payload) % _EVENT.size:
        raise RtpParseError(f"telephone-event reports are 4 octets each, not {len(payload)}")
    return list(_EVENT.iter_unpack(payload))


class DtmfDetector:
    """Key presses from the telephone-event packets of a call (RFC 4733 §2.5.2).

    ``payload_type`` is the one the SDP negotiated for ``telephone-event`` (commonly 101).
    Packets of other payload types, malformed payloads and events that are not DTMF keys are
    ignored. The last ``memory`` presses are remembered, so that a final report repeated
    late (§2.5.1.4) is not a second press.
    """

    def __init__(self, payload_type: int = 101, *, memory: int = 32) -> None:
        self.payload_type = payload_type
        self.keys = ""  # every press so far, in order
        self._seen: deque[tuple[int, int]] = deque(maxlen=memory)

    def feed(self, packet: RtpPacket) -> str:
        """The keys of the new presses ``packet`` reports, in order ("" for none)."""
        if packet.payload_type != self.payload_type:
            return ""
        try:
            reports = _reports(packet.payload)
        except RtpParseError:
            return ""
        keys = ""
        start = packet.timestamp  # §2.2.1: where the first event began
        for event, _, duration in reports:
            press = (packet.ssrc, start)
            if event < len(DTMF_KEYS) and press not in self._seen:
                self._seen.append(press)
                keys += DTMF_KEYS[event]
            start = (start + duration) & 0xFFFFFFFF  # §2.5.1.5: the next begins here
        self.keys += keys
        return keys


def _check_range(name: str, value: int, top: int) -> None:
    if not 0 <= value <= top:
        raise ValueError(f"{name} is 0 to {top}, not {value}")
