"""SDP for one audio stream (RFC 4566), in offer/answer (RFC 3264): G.711 and DTMF events.

The caller offers G.711 μ-law (PCMU, static payload type 0) and/or A-law (PCMA, 8) from
RFC 3551 §6, plus ``telephone-event/8000`` (RFC 4733 §7.1.1, in dynamic type 101 by custom) so
that key presses can come back, every 20 ms packet (``a=ptime:20``), both ways
(``a=sendrecv``). The answerer keeps, in the offer's order, the codecs it supports
(RFC 3264 §6.1: same payload type numbers as the offer for a sendrecv stream) and answers on
its own address and port.

Reading takes the first ``m=audio`` line with a non-zero port (port 0 rejects a stream,
RFC 3264 §6) and its connection address (media level ``c=`` over session level, RFC 4566
§5.7). An answer that keeps no codec we offered is an error (RFC 3264 §6.1: the answerer
rejects the stream or the session instead). Lines end in CRLF when written; CR is optional on
read (RFC 4566 §5). Everything malformed raises :class:`SdpError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "PCMA",
    "PCMU",
    "TELEPHONE_EVENT",
    "MediaDescription",
    "SdpError",
    "build_answer",
    "build_offer",
    "parse_answer",
    "parse_media",
]

PCMU = 0  # RFC 3551 §6, Table 4: static payload types
PCMA = 8
TELEPHONE_EVENT = 101  # dynamic (RFC 3551 §6: 96-127); 101 is what most peers use
_NAMES = {PCMU: "PCMU/8000", PCMA: "PCMA/8000"}
_EVENT_NAME = "telephone-event/8000"
_LINE = re.compile(r"([a-z])=(.*)")
_RTPMAP = re.compile(r"([0-9]{1,3})[ \t]+([^ \t]+)")
_PT = re.compile(r"[0-9]{1,3}")
_PORT = re.compile(r"[0-9]{1,5}")


class SdpError(ValueError):
    """A session description that cannot be read, or an answer we cannot use."""


@dataclass(frozen=True, slots=True)
class MediaDescription:
    """The audio stream of a description: where to send RTP and in which payload types.

    ``payload_types`` are the stream's formats in the order given, telephone-event left out;
    ``dtmf_payload_type`` is the telephone-event type, None if the stream has none.
    """

    address: str
    port: int
    payload_types: tuple[int, ...]
    dtmf_payload_type: int | None


def _ip(address: str) -> str:
    return "IP6" if ":" in address else "IP4"


def _describe(address: str, port: int, formats: Sequence[int], dtmf: int | None, sid: int) -> bytes:
    payloads = [*formats, *([] if dtmf is None else [dtmf])]
    lines = [
        "v=0",
        f"o=- {sid} {sid} IN {_ip(address)} {address}",  # RFC 4566 §5.2
        "s=-",
        f"c=IN {_ip(address)} {address}",
        "t=0 0",  # RFC 4566 §5.9: an unbounded session
        f"m=audio {port} RTP/AVP {' '.join(map(str, payloads))}",
        *(f"a=rtpmap:{pt} {_NAMES[pt]}" for pt in formats),
    ]
    if dtmf is not None:  # RFC 4733 §3.2: events 0-15 are the DTMF keys, 16 flash
        lines += [f"a=rtpmap:{dtmf} {_EVENT_NAME}", f"a=fmtp:{dtmf} 0-16"]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()


def build_offer(
    address: str,
    port: int,
    codecs: Sequence[int] = (PCMU, PCMA),
    *,
    dtmf: bool = True,
    session_id: int = 0,
) -> bytes:
    """An offer of ``codecs`` (PCMU and/or PCMA, in preference order) on ``address:port``."""
    if not codecs or any(pt not in _NAMES for pt in codecs):
        raise SdpError(f"offer PCMU (0) and/or PCMA (8), not {list(codecs)}")
    return _describe(address, port, codecs, TELEPHONE_EVENT if dtmf else None, session_id)


def _lines(sdp: bytes) -> list[tuple[str, str]]:
    try:
        text = sdp.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise SdpError(f"bad SDP line {line[:80]!r}")
        out.append((match[1], match[2]))
    if not out or out[0] != ("v", "0"):
        raise SdpError("SDP must start with v=0")
    return out


def _connection(value: str) -> str:
    parts = value.split()
    if len(parts) != 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value!r}")
    return parts[2].split("/")[0]  # RFC 4566 §5.7: a multicast TTL may follow


def parse_media(sdp: bytes) -> MediaDescription:
    """The first active audio stream of a description (offer or answer)."""
    session_address: str | None = None
    found: tuple[int, list[int]] | None = None
    address: str | None = None
    names: dict[int, str] = {}
    in_audio = seen_media = False
    for kind, value in _lines(sdp):
        if kind == "m":
            if found is not None:
                break  # only the first active audio stream is read
            seen_media = True
            fields = value.split()
            in_audio = len(fields) >= 4 and fields[0] == "audio" and fields[1] != "0"
            if in_audio:
                if not _PORT.fullmatch(fields[1]) or not 0 < int(fields[1]) < 65536:
                    raise SdpError(f"bad port in m={value!r}")
                if not all(_PT.fullmatch(f) and int(f) < 128 for f in fields[3:]):
                    raise SdpError(f"bad payload types in m={value!r}")
                found = (int(fields[1]), [int(f) for f in fields[3:]])
        elif kind == "c":
            if not seen_media:
                session_address = _connection(value)
            elif in_audio:
                address = _connection(value)
        elif kind == "a" and in_audio and value.startswith("rtpmap:"):
            match = _RTPMAP.fullmatch(value[7:].strip())
            if match is None:
                raise SdpError(f"bad rtpmap {value!r}")
            names[int(match[1])] = match[2]
    if found is None:
        raise SdpError("no active audio stream")
    where = address or session_address
    if where is None:
        raise SdpError("no connection address for the audio stream")
    port, formats = found
    dtmf = next((pt for pt in formats if names.get(pt, "").lower() == _EVENT_NAME), None)
    return MediaDescription(where, port, tuple(pt for pt in formats if pt != dtmf), dtmf)


def parse_answer(sdp: bytes, offered: Sequence[int]) -> MediaDescription:
    """The answer's audio stream; SdpError unless it keeps a codec of ``offered``."""
    media = parse_media(sdp)
    if not any(pt in offered for pt in media.payload_types):
        raise SdpError(f"the answer keeps none of the offered codecs {list(offered)}")
    return media


def build_answer(
    offer: bytes,
    address: str,
    port: int,
    supported: Sequence[int] = (PCMU, PCMA),
    *,
    session_id: int = 0,
) -> bytes:
    """An answer to ``offer`` on ``address:port`` keeping the ``supported`` codecs it offers.

    Raises SdpError if it offers none of them (the answering side then sends 488).
    """
    media = parse_media(offer)
    kept = [pt for pt in media.payload_types if pt in supported and pt in _NAMES]
    if not kept:
        raise SdpError(f"the offer has none of the codecs {list(supported)}")
    return _describe(address, port, kept, media.dtmf_payload_type, session_id)
