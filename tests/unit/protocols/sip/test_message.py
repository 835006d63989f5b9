"""SIP messages: exact bytes, what parse accepts (RFC 3261 §7, §18.3), round trips, fuzz."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smscloud.protocols.sip import SipMessage, SipParseError, SipRequest, SipResponse, parse

from .strategies import messages

OPTIONS = SipRequest(
    "OPTIONS",
    "sip:carol@chicago.com",
    (
        ("Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877"),
        ("Max-Forwards", "70"),
        ("To", "<sip:carol@chicago.com>"),
        ("From", "Alice <sip:alice@atlanta.com>;tag=1928301774"),
        ("Call-ID", "a84b4c76e66710"),
        ("CSeq", "63104 OPTIONS"),
        ("Accept", "application/sdp"),
    ),
)
OPTIONS_BYTES = (
    b"OPTIONS sip:carol@chicago.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKhjhs8ass877\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: <sip:carol@chicago.com>\r\n"
    b"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
    b"Call-ID: a84b4c76e66710\r\n"
    b"CSeq: 63104 OPTIONS\r\n"
    b"Accept: application/sdp\r\n"
    b"Content-Length: 0\r\n"
    b"\r\n"
)


def test_request_bytes_are_exact() -> None:
    # RFC 3261 §11.1's OPTIONS example; Content-Length is written last, from the body.
    assert OPTIONS.serialize() == OPTIONS_BYTES
    assert parse(OPTIONS_BYTES) == OPTIONS


def test_response_bytes_are_exact() -> None:
    ok = SipResponse(
        200, "OK", (("CSeq", "1 INVITE"), ("Content-Type", "application/sdp")), b"v=0\r\n"
    )
    wire = b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
    assert ok.serialize() == wire + b"Content-Length: 5\r\n\r\nv=0\r\n"
    assert SipResponse(180, "").serialize() == b"SIP/2.0 180 \r\nContent-Length: 0\r\n\r\n"


def test_compact_forms_folding_and_case() -> None:
    # §7.3.3 compact names, §7.3.1 folded lines and free whitespace around the colon.
    wire = (
        b"\r\n\r\nINVITE sip:bob@biloxi.com SIP/2.0\r\n"  # §7.5: leading CRLFs are ignored
        b"v: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
        b"f: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"
        b"t: Bob <sip:bob@biloxi.com>\r\n"
        b"i: a84b4c76e66710@pc33.atlanta.com\r\n"
        b"m: <sip:alice@pc33.atlanta.com>\r\n"
        b"c: application/sdp\r\n"
        b"Subject :  I know you're there,\r\n"
        b"   pick up the phone\r\n"
        b"\t and talk to me!\r\n"
        b"l: 4\r\n\r\n"
        b"v=0\r\n"
    )
    msg = parse(wire)
    assert isinstance(msg, SipRequest) and msg.method == "INVITE"
    assert [n for n, _ in msg.headers] == [
        "Via",
        "From",
        "To",
        "Call-ID",
        "Contact",
        "Content-Type",
        "Subject",
    ]
    assert (
        msg.header("VIA")
        == msg.header("v")
        == "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds"
    )
    assert msg.header("call-id") == "a84b4c76e66710@pc33.atlanta.com"
    assert msg.header("Subject") == "I know you're there, pick up the phone and talk to me!"
    assert msg.body == b"v=0\r"  # l: 4 cuts the body (§18.3)
    assert msg.header("Route") is None and msg.headers_all("Route") == []


def test_lf_only_line_ends_are_read() -> None:
    msg = parse(b"SIP/2.0 486 Busy Here\nCSeq: 1 INVITE\nVia: a\nVia: b\n\n")
    assert isinstance(msg, SipResponse)
    assert (msg.status, msg.reason, msg.headers_all("via")) == (486, "Busy Here", ["a", "b"])


def test_body_length_over_udp() -> None:
    head = b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n"
    # §18.3: past Content-Length is discarded; without it the body is the rest.
    assert parse(head + b"Content-Length: 2\r\n\r\nabcdef").body == b"ab"
    assert parse(head + b"\r\nabcdef").body == b"abcdef"
    with pytest.raises(SipParseError, match="Content-Length says 9"):
        parse(head + b"Content-Length: 9\r\n\r\nabcdef")


def test_content_length_is_framing_not_a_header() -> None:
    assert parse(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n").headers == ()
    with pytest.raises(ValueError, match="computed"):
        SipResponse(200, "OK", (("content-length", "0"),))
    with pytest.raises(ValueError, match="compact form"):
        SipResponse(200, "OK", (("v", "x"),))


@pytest.mark.parametrize(
    "make",
    [
        lambda: SipRequest("IN VITE", "sip:a@b"),
        lambda: SipRequest("INVITE", ""),
        lambda: SipRequest("INVITE", "sip:a b"),
        lambda: SipResponse(99, "x"),
        lambda: SipResponse(700, "x"),
        lambda: SipResponse(200, "O\r\nK"),
        lambda: SipResponse(200, "OK", (("Bad Name", "x"),)),
        lambda: SipResponse(200, "OK", (("X", " padded"),)),
        lambda: SipResponse(200, "OK", (("X", "two\nlines"),)),
    ],
)
def test_messages_are_checked_when_made(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "wire",
    [
        b"",
        b"\r\n\r\n",  # a keep-alive is not a message
        b"INVITE sip:a@b SIP/2.0\r\nVia: x\r\n",  # no empty line
        b"INVITE sip:a@b SIP/3.0\r\n\r\n",
        b"INVITE  sip:a@b SIP/2.0\r\n\r\n",
        b"INVITE sip:a@b\r\n\r\n",
        b"IN(VITE sip:a@b SIP/2.0\r\n\r\n",
        b"SIP/2.0 99 Low\r\n\r\n",
        b"SIP/2.0 700 High\r\n\r\n",
        b"SIP/2.0 2OO OK\r\n\r\n",
        b"SIP/2.0 \xd9\xa2\xd9\xa0\xd9\xa0 OK\r\n\r\n",  # Arabic-Indic digits are not digits here
        b"SIP/2.0 200 OK\r\n folded first\r\n\r\n",
        b"SIP/2.0 200 OK\r\nNo colon\r\n\r\n",
        b"SIP/2.0 200 OK\r\nBad Name: x\r\n\r\n",
        b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 1\r\n\r\nx",
        b"SIP/2.0 200 OK\r\nX: a\rb\r\n\r\n",
        b"SIP/2.0 200 OK\r\nX: \xff\r\n\r\n",
    ],
)
def test_malformed(wire: bytes) -> None:
    with pytest.raises(SipParseError):
        parse(wire)


def test_odd_but_valid() -> None:
    assert parse(b"sip/2.0 200 \r\n\r\n") == SipResponse(200, "")
    assert parse(b"SIP/2.0 200\r\n\r\n") == SipResponse(200, "")
    assert parse(b"SIP/2.0 603  Decline \r\n\r\n") == SipResponse(603, " Decline ")
    assert parse("SIP/2.0 480 暂时无法接通\r\n\r\n".encode()) == SipResponse(480, "暂时无法接通")
    assert parse(b"BYE sip:a@b sip/2.0\r\nEmpty:\r\n\r\n").headers == (("Empty", ""),)


@given(messages)
@settings(max_examples=300)
def test_round_trip(msg: SipMessage) -> None:
    assert parse(msg.serialize()) == msg


@given(st.binary(max_size=300))
@example(b"SIP/2.0 200 OK\r\n\r\n")
@example(b"A b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n")
@settings(max_examples=500)
def test_parse_only_raises_sip_parse_error(data: bytes) -> None:
    with contextlib.suppress(SipParseError):
        parse(data)


@given(messages, st.data())
@settings(max_examples=300)
def test_mangled_messages_only_raise_sip_parse_error(msg: SipMessage, data: st.DataObject) -> None:
    """Valid messages with a few octets changed: closer to the grammar than random bytes."""
    wire = bytearray(msg.serialize())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(wire) - 1))
        wire[at] = data.draw(st.sampled_from(b' \t\r\n:;,<>"\\0aZ\xff\x00'))
    with contextlib.suppress(SipParseError):
        parse(bytes(wire))
