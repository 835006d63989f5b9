"""SDP: exact offers, reading answers (sipp's among them), answering offers, fuzz."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.sip import (
    PCMA,
    PCMU,
    MediaDescription,
    SdpError,
    build_answer,
    build_offer,
    parse_answer,
)
from smscloud.protocols.sip.sdp import parse_media

OFFER = (
    b"v=0\r\n"
    b"o=- 0 0 IN IP4 192.0.2.10\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.10\r\n"
    b"t=0 0\r\n"
    b"m=audio 40000 RTP/AVP 0 8 101\r\n"
    b"a=rtpmap:0 PCMU/8000\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
    b"a=rtpmap:101 telephone-event/8000\r\n"
    b"a=fmtp:101 0-16\r\n"
    b"a=ptime:20\r\n"
    b"a=sendrecv\r\n"
)

# What sipp's built-in uas scenario answers (sip-tester 3.6.1), LF line ends and all.
SIPP_ANSWER = b"""v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""


def test_offer_bytes_are_exact() -> None:
    assert build_offer("192.0.2.10", 40000) == OFFER
    alaw_only = build_offer("2001:db8::5", 4000, [PCMA], dtmf=False, session_id=7)
    assert alaw_only.splitlines() == [
        b"v=0",
        b"o=- 7 7 IN IP6 2001:db8::5",
        b"s=-",
        b"c=IN IP6 2001:db8::5",
        b"t=0 0",
        b"m=audio 4000 RTP/AVP 8",
        b"a=rtpmap:8 PCMA/8000",
        b"a=ptime:20",
        b"a=sendrecv",
    ]
    with pytest.raises(SdpError):
        build_offer("192.0.2.10", 4000, [18])
    with pytest.raises(SdpError):
        build_offer("192.0.2.10", 4000, [])


def test_reading_answers() -> None:
    assert parse_answer(SIPP_ANSWER, [PCMU, PCMA]) == MediaDescription(
        "127.0.0.1", 6000, (0,), None
    )
    assert parse_media(OFFER) == MediaDescription("192.0.2.10", 40000, (0, 8), 101)


def test_media_connection_overrides_session_and_inactive_streams_are_skipped() -> None:
    sdp = (
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        b"m=video 5000 RTP/AVP 96\r\nc=IN IP4 10.9.9.9\r\n"
        b"m=audio 0 RTP/AVP 0\r\n"  # port 0: a rejected stream (RFC 3264 §6)
        b"m=audio 7078 RTP/AVP 8 96 0\r\nc=IN IP4 224.2.1.1/127\r\n"
        b"a=rtpmap:96 TELEPHONE-EVENT/8000\r\n"
        b"m=audio 9000 RTP/AVP 0\r\n"
    )
    assert parse_media(sdp) == MediaDescription("224.2.1.1", 7078, (8, 0), 96)
    no_media_c = sdp.replace(b"c=IN IP4 224.2.1.1/127\r\n", b"")
    assert parse_media(no_media_c).address == "10.0.0.1"


@pytest.mark.parametrize(
    "sdp",
    [
        b"",
        b"o=- 0 0 IN IP4 1.2.3.4\r\n",
        b"v=0\r\nm=audio 1 RTP/AVP 0\r\n",  # no c= anywhere
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=video 1 RTP/AVP 96\r\n",
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 0 RTP/AVP 0\r\n",
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 0\r\n",
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio ² RTP/AVP 0\r\n".encode(),  # a digit, not ASCII
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP x\r\n",
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 200\r\n",
        b"v=0\r\nc=IN XX 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\n",
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:zero PCMU\r\n",
        b"v=0\r\nbad line\r\n",
        b"v=0\r\n\xff=1\r\n",
    ],
)
def test_malformed(sdp: bytes) -> None:
    with pytest.raises(SdpError):
        parse_media(sdp)


def test_an_answer_must_keep_an_offered_codec() -> None:
    g729 = SIPP_ANSWER.replace(b"RTP/AVP 0", b"RTP/AVP 18").replace(b"a=rtpmap:0 PCMU/8000", b"")
    with pytest.raises(SdpError, match="none of the offered codecs"):
        parse_answer(g729, [PCMU, PCMA])
    with pytest.raises(SdpError):
        parse_answer(SIPP_ANSWER, [PCMA])


def test_answering_an_offer() -> None:
    answer = build_answer(OFFER, "198.51.100.7", 30000, [PCMA])
    assert parse_answer(answer, [PCMU, PCMA]) == MediaDescription("198.51.100.7", 30000, (8,), 101)
    # The offer's order is kept; telephone-event only if offered.
    both = build_answer(SIPP_ANSWER.replace(b"RTP/AVP 0", b"RTP/AVP 8 0"), "10.0.0.2", 4002)
    assert parse_media(both) == MediaDescription("10.0.0.2", 4002, (8, 0), None)
    with pytest.raises(SdpError, match="none of the codecs"):
        build_answer(SIPP_ANSWER, "10.0.0.2", 4002, [PCMA])


@given(
    st.sampled_from([[PCMU], [PCMA], [PCMU, PCMA], [PCMA, PCMU]]),
    st.booleans(),
    st.integers(1, 65535),
    st.sampled_from(["192.0.2.1", "2001:db8::1", "media.example.com"]),
)
def test_offer_round_trip(codecs: list[int], dtmf: bool, port: int, address: str) -> None:
    media = parse_media(build_offer(address, port, codecs, dtmf=dtmf))
    assert media == MediaDescription(address, port, tuple(codecs), 101 if dtmf else None)
    answered = parse_answer(
        build_answer(build_offer(address, port, codecs, dtmf=dtmf), address, port), codecs
    )
    assert answered == media


@given(st.binary(max_size=200))
def test_parse_only_raises_sdp_error(data: bytes) -> None:
    with contextlib.suppress(SdpError):
        parse_media(b"v=0\r\n" + data)
