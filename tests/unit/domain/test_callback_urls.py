"""Callback URLs: what may be saved, in every spelling an attacker might try."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from smscloud.domain.addresses import AllowedNetworks, blocked
from smscloud.domain.callback_urls import CallbackUrl, judge_url
from smscloud.domain.errors import RuleViolation

LOOPBACK = AllowedNetworks.parse("127.0.0.0/8")

REFUSED: list[tuple[str, str]] = [
    ("ftp://example.com/", "must start with http:// or https://"),
    ("file:///etc/passwd", "must start with http:// or https://"),
    ("gopher://127.0.0.1:6379/_INFO", "must start with http:// or https://"),
    ("javascript:alert(1)", "must start with http:// or https://"),
    ("http:/example.com/", "must start with http:// or https://"),
    ("http:example.com", "must start with http:// or https://"),
    ("//example.com/cb", "must start with http:// or https://"),
    ("example.com/cb", "must start with http:// or https://"),
    ("http://127.0.0.1/", "loopback address (127.0.0.1)"),
    ("http://127.0.0.1./", "loopback address (127.0.0.1)"),
    ("http://127.1/", "unusual form"),
    ("http://2130706433/", "unusual form"),
    ("http://0x7f.1/", "unusual form"),
    ("http://0x7f000001/", "unusual form"),
    ("http://0177.0.0.1/", "unusual form"),
    ("http://017700000001/", "unusual form"),
    ("http://0/", "unusual form"),
    ("http://0x/", "unusual form"),
    ("http://1.2.3.4.5/", "unusual form"),
    ("http://example.123/", "unusual form"),
    ("http://0.0.0.0:8080/", "unspecified address"),
    ("http://169.254.169.254/latest/meta-data/", "link-local address (169.254.169.254)"),
    ("http://10.0.0.1:8080/cb", "private address (10.0.0.1)"),
    ("http://[::1]/", "loopback address (::1)"),
    ("http://[::ffff:127.0.0.1]/", "loopback address"),
    ("http://[::ffff:7f00:1]:8080/", "loopback address"),
    ("http://[64:ff9b::7f00:1]/", "loopback address"),
    ("http://[2002:7f00:1::]/", "reserved address"),
    ("http://[fd00:ec2::254]/", "private address"),
    ("http://[fe80::1%25eth0]/", "must not name a network interface"),
    ("http://[127.0.0.1]/", "invalid host"),
    ("http://[::g]/", "invalid"),
    ("http://[::1/", "invalid host"),
    ("http://localhost/", "loopback address (127.0.0.1)"),
    ("http://LOCALHOST.:8080/", "loopback address (127.0.0.1)"),
    ("http://api.localhost/", "loopback address (127.0.0.1)"),
    ("http://１２７.０.０.１/", "loopback address (127.0.0.1)"),  # full-width digits (IDNA)
    ("http://127。0。0。1/", "loopback address (127.0.0.1)"),  # ideographic full stops
    ("http://example.com@127.0.0.1/", "must not contain a user name or password"),
    ("http://user:secret@example.com/", "must not contain a user name or password"),
    ("http://@example.com/", "must not contain a user name or password"),
    ("http://example.com\\@127.0.0.1/", "backslashes"),
    ("http://exa mple.com/", "spaces"),
    ("http://example.com/\n", "control characters"),
    (" http://example.com/", "spaces"),
    ("http://example.com:0/", "invalid port"),
    ("http://example.com:65536/", "invalid port"),
    ("http://example.com:/", "invalid port"),
    ("http://example.com:8o/", "invalid host"),
    ("http://example.com:99999999/", "invalid port"),
    ("http:///cb", "has no host"),
    ("http://-bad-.example/", "invalid host name"),
    ("http://a..example/", "invalid host name"),
    ("http://%31%32%37.0.0.1/", "invalid host name"),
    ("http://" + "a" * 64 + ".example/", "invalid host name"),
    ("http://example.com/" + "a" * 2000, "longer than 2000 characters"),
]


@pytest.mark.parametrize(("url", "message"), REFUSED)
def test_refused_with_a_clear_message(url: str, message: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        judge_url(url)
    assert caught.value.code == "InvalidParameterValue"
    assert caught.value.message.startswith("callback URL ")
    assert message in caught.value.message


ACCEPTED: list[tuple[str, tuple[str, str, int, str], str]] = [
    ("http://example.com/cb", ("http", "example.com", 80, "/cb"), "example.com"),
    (
        "https://Example.COM.:8443/sms/callback?x=1&y=%2F#frag",
        ("https", "example.com", 8443, "/sms/callback?x=1&y=%2F"),
        "example.com:8443",
    ),
    ("HTTP://EXAMPLE.com", ("http", "example.com", 80, "/"), "example.com"),
    ("https://example.com:443/", ("https", "example.com", 443, "/"), "example.com"),
    ("http://203.0.114.7:8080", ("http", "203.0.114.7", 8080, "/"), "203.0.114.7:8080"),
    (
        "http://[2400:CB00::1]:8080/p",
        ("http", "2400:cb00::1", 8080, "/p"),
        "[2400:cb00::1]:8080",
    ),
    (
        "http://例子.测试/回调?a=短信",
        ("http", "xn--fsqu00a.xn--0zwm56d", 80, "/%E5%9B%9E%E8%B0%83?a=%E7%9F%AD%E4%BF%A1"),
        "xn--fsqu00a.xn--0zwm56d",
    ),
    ("http://sms_cb.example.com/", ("http", "sms_cb.example.com", 80, "/"), "sms_cb.example.com"),
    ("http://1e100.net/", ("http", "1e100.net", 80, "/"), "1e100.net"),
]


@pytest.mark.parametrize(("url", "pieces", "host_header"), ACCEPTED)
def test_accepted_urls_become_exact_pieces(
    url: str, pieces: tuple[str, str, int, str], host_header: str
) -> None:
    judged = judge_url(url)
    assert (judged.scheme, judged.host, judged.port, judged.target) == pieces
    assert judged.host_header == host_header
    assert judged.destination == pieces[:3]


def test_allowed_networks_reopen_literals_and_localhost_but_not_odd_spellings() -> None:
    assert judge_url("http://127.0.0.1:8080/cb", LOOPBACK).address == IPv4Address("127.0.0.1")
    assert judge_url("http://localhost:8080/cb", LOOPBACK).host == "localhost"
    with pytest.raises(RuleViolation, match="unusual form"):
        judge_url("http://2130706433:8080/", LOOPBACK)
    with pytest.raises(RuleViolation, match="loopback"):
        judge_url("http://[::1]:8080/", LOOPBACK)  # IPv6 loopback was not re-opened
    with pytest.raises(RuleViolation, match="private"):
        judge_url("http://10.0.0.1/", LOOPBACK)


# -- properties -------------------------------------------------------------------------------


def spellings(v4: IPv4Address) -> list[str]:
    """Hosts that inet_aton or a WHATWG URL parser read as ``v4``, other than a.b.c.d."""
    n, (a, b, c, d) = int(v4), v4.packed
    mapped = IPv6Address(int(IPv6Address("::ffff:0:0")) | n)
    nat64 = IPv6Address(int(IPv6Address("64:ff9b::")) | n)
    return [
        str(n),
        hex(n),
        "0" + oct(n)[2:],
        f"{a}.{b}.{(c << 8) | d}",
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a:#x}.{b:#x}.{c:#x}.{d:#x}",
        f"0{a:o}.{b}.{c}.{d}",
        f"[{mapped}]",
        f"[::ffff:{v4}]",
        f"[{nat64}]",
    ]


@given(st.ip_addresses(v=4), st.integers(0, 9), st.sampled_from(["", ":8080"]))
def test_ipv4_in_any_spelling_is_judged_as_that_address(
    v4: IPv4Address, which: int, port: str
) -> None:
    host = spellings(v4)[which]
    try:
        judged = judge_url(f"http://{host}{port}/cb")
    except RuleViolation:
        if host.startswith("["):  # an IPv6 form is refused only when the address is
            assert blocked(ip_address(host.strip("[]"))) is not None
        return
    assert host.startswith("[") and judged.address is not None
    assert blocked(judged.address) is None and blocked(v4) is None


@given(st.ip_addresses(v=4), st.sampled_from(["", "."]))
def test_dotted_quads_are_refused_exactly_when_blocked(v4: IPv4Address, dot: str) -> None:
    try:
        judged = judge_url(f"https://{v4}{dot}/")
    except RuleViolation:
        assert blocked(v4) is not None
    else:
        assert blocked(v4) is None and judged.address == v4


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
names = st.lists(label, min_size=1, max_size=4).map(".".join)
tricky = st.sampled_from(["", "@", "\\", "#", "?", "/", ":", "%40", "%2e", "[", "]", ".", "0x"])
hosts = st.one_of(
    names,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(network="2000::/3").map(lambda a: f"[{a}]"),
    st.just("localhost"),
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "ftp"]))
    userinfo = draw(st.sampled_from(["", "user@", "a:b@", "example.com@"]))
    port = draw(st.sampled_from(["", ":80", ":8080", ":0", ":", ":65536"]))
    path = draw(st.lists(st.one_of(label, tricky), max_size=5).map("".join))
    return f"{scheme}://{userinfo}{draw(hosts)}{draw(tricky)}{port}/{path}"


@given(urls())
def test_what_is_accepted_means_the_same_host_to_other_parsers(url: str) -> None:
    """No parser differential: a URL the platform accepts names the same host and port to
    urllib (RFC 3986) and to httpx (WHATWG-leaning), so nothing can hide a second host."""
    try:
        judged = judge_url(url)
    except RuleViolation:
        return
    rfc = urlsplit(url)
    whatwg = httpx.URL(url)
    assert rfc.hostname is not None
    rfc_host, whatwg_host = rfc.hostname.rstrip("."), whatwg.host.rstrip(".")
    if judged.address is not None:
        assert ip_address(rfc_host) == judged.address == ip_address(whatwg_host)
    else:
        assert rfc_host == judged.host == whatwg_host
    assert (rfc.port or judged.port) == judged.port == (whatwg.port or judged.port)


@given(st.text(max_size=80) | urls())
def test_judging_any_text_gives_a_url_or_a_rule_violation(text: str) -> None:
    try:
        judged = judge_url(text)
    except RuleViolation as exc:
        assert exc.message.startswith("callback URL ")
        return
    assert judge_url(str(judged)) == judged  # what the pusher sends, judged again, is itself


@given(names, st.integers(1, 65535))
def test_names_and_ports_round_trip(name: str, port: int) -> None:
    # A last label that is a number makes the host an IPv4 address (tested above).
    assume(not re.fullmatch(r"[0-9]+|0x[0-9a-f]*", name.rsplit(".", 1)[-1]))
    assume(name.rsplit(".", 1)[-1] != "localhost")
    judged = judge_url(f"https://{name.upper()}.:{port}/x")
    assert judged == CallbackUrl("https", name, port, "/x", None)
