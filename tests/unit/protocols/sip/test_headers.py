"""Header values: URIs (§19.1), name-addrs (§20.10), Via (§20.42), CSeq (§20.16), lists."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.sip import (
    SipParseError,
    cseq,
    name_addr,
    parse_uri,
    parse_via,
    tag_of,
    uri_user,
)
from smscloud.protocols.sip.headers import NameAddr, SipUri, Via, format_hostport, split_list


def test_sip_uris() -> None:
    assert parse_uri("sip:+8613800138000@trunk.example.com;user=phone") == SipUri(
        "sip", "+8613800138000", "trunk.example.com", None, (("user", "phone"),)
    )
    uri = parse_uri("SIPS:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x")
    assert (uri.scheme, uri.user, uri.host, uri.port) == ("sips", "alice", "2001:db8::1", 5061)
    assert uri.param("LR") is None and uri.param("transport") == "tcp"
    assert ("lr", None) in uri.params
    assert parse_uri("sip:127.0.0.1:15060;transport=UDP").user == ""  # sipp's Contact
    assert uri_user("sip:%2B86138@host") == "+86138"  # §19.1.2: escaped
    assert uri_user("tel:+8613800138000;phone-context=example.com") == "+8613800138000"


@pytest.mark.parametrize(
    "uri",
    [
        "http://x",
        "sip",
        "sip:",
        "sip:user@",
        "sip:host:port",
        "sip:host:99999",
        "sip:[::1",
        "sip:a@[]",
    ],
)
def test_bad_uris(uri: str) -> None:
    with pytest.raises(SipParseError):
        parse_uri(uri)


def test_name_addrs() -> None:
    assert name_addr('"Bob \\"B\\" <x>" <sip:bob@biloxi.com;transport=udp>;tag=a6c85cf') == (
        NameAddr('Bob "B" <x>', "sip:bob@biloxi.com;transport=udp", (("tag", "a6c85cf"),))
    )
    # §20.10: without <>, parameters after the URI are the header's, not the URI's.
    assert name_addr("sip:alice@atlanta.com;tag=88sja8x") == NameAddr(
        "", "sip:alice@atlanta.com", (("tag", "88sja8x"),)
    )
    assert name_addr("Anonymous <sip:c8oqz84zk7z@privacy.org>").params == ()
    assert tag_of("<sip:a@b>;TAG=x ; other") == "x"
    assert tag_of("<sip:a@b;tag=not-this>") is None
    assert name_addr("<sip:p1.example.com;lr>").param("lr") is None


@pytest.mark.parametrize("value", ["", "<sip:a@b", "<sip:a@b> junk", '"open <sip:a@b>', ";tag=1"])
def test_bad_name_addrs(value: str) -> None:
    with pytest.raises(SipParseError):
        name_addr(value)


def test_via() -> None:
    value = "SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK776;rport, SIP/2.0/TCP p.example.com"
    assert parse_via(value) == Via(
        "UDP", "192.0.2.4", 5062, (("branch", "z9hG4bK776"), ("rport", None))
    )
    assert parse_via(value).branch == "z9hG4bK776"
    assert parse_via("SIP/2.0/udp [::1]").port is None
    assert parse_via("SIP/2.0/UDP h").branch is None


@pytest.mark.parametrize(
    "value", ["", ",", " , ", "SIP/2.0/UDP", "SIP/1.0/UDP h", "HTTP/2.0/UDP h", "SIP/2.0 h"]
)
def test_bad_vias(value: str) -> None:
    with pytest.raises(SipParseError):
        parse_via(value)


def test_cseq() -> None:
    assert cseq("4711 INVITE") == (4711, "INVITE")
    assert cseq(" 1\tBYE ") == (1, "BYE")
    for bad in ("INVITE", "1", "-1 BYE", "2147483648 BYE", "1 BYE BYE", "١ BYE"):
        with pytest.raises(SipParseError):
            cseq(bad)


def test_lists_and_hostports() -> None:
    assert split_list('<sip:a,b@x>, "c, d" <sip:e@f>,,') == ["<sip:a,b@x>", '"c, d" <sip:e@f>']
    assert format_hostport("::1", 5060) == "[::1]:5060"
    assert format_hostport("example.com") == "example.com"


@given(st.text(max_size=60))
def test_readers_only_raise_sip_parse_error(text: str) -> None:
    for reader in (parse_uri, name_addr, parse_via, cseq, split_list, uri_user):
        with contextlib.suppress(SipParseError):
            reader(text)
