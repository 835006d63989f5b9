"""Digest: the RFCs' worked examples, a SIP example computed here with hashlib, the server side."""

from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.sip import Challenge, DigestError, authorization, parse_challenge
from smscloud.protocols.sip.digest import (
    build_challenge,
    choose_challenge,
    parse_credentials,
    verify,
)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_rfc_2617_mufasa() -> None:
    # RFC 2617 §3.5, the response as the RFC prints it.
    challenge = parse_challenge(
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    assert challenge == Challenge(
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
        qop=("auth", "auth-int"),
    )
    value = authorization(
        challenge,
        username="Mufasa",
        password="Circle Of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="0a4f113b",
    )
    assert value == (
        'Digest username="Mufasa", realm="testrealm@host.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", '
        'response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", '
        'qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )


@pytest.mark.parametrize(
    ("algorithm", "response"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc_7616_examples(algorithm: str, response: str) -> None:
    # RFC 7616 §3.9.1 (the algorithms RFC 8760 brings to SIP).
    challenge = Challenge(
        realm="http-auth@example.org",
        nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
        qop=("auth", "auth-int"),
        algorithm=algorithm,
    )
    value = authorization(
        challenge,
        username="Mufasa",
        password="Circle of Life",
        method="GET",
        uri="/dir/index.html",
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    )
    assert f'response="{response}"' in value


def test_a_sip_invite_computed_independently() -> None:
    # A trunk's 407 to an INVITE (RFC 3261 §22.3: Proxy-Authenticate), MD5-sess with qop.
    challenge = parse_challenge(
        'Digest realm="trunk.example.net",nonce="5f1b9c3a",algorithm=MD5-sess,qop="auth"'
    )
    uri = "sip:8613800138000@trunk.example.net"
    value = authorization(
        challenge,
        username="acct-42",
        password="s3cr3t",
        method="INVITE",
        uri=uri,
        cnonce="deadbeef",
        nc=2,
    )
    ha1 = md5(f"{md5('acct-42:trunk.example.net:s3cr3t')}:5f1b9c3a:deadbeef")
    ha2 = md5(f"INVITE:{uri}")
    expected = md5(f"{ha1}:5f1b9c3a:00000002:deadbeef:auth:{ha2}")
    assert f'response="{expected}"' in value
    assert "algorithm=MD5-sess" in value and "nc=00000002" in value
    assert "opaque" not in value


def test_without_qop_is_rfc_2069() -> None:
    challenge = parse_challenge('Digest realm="r", nonce="n"')
    value = authorization(
        challenge, username="u", password="p", method="BYE", uri="sip:a@b", cnonce="c"
    )
    expected = md5(f"{md5('u:r:p')}:n:{md5('BYE:sip:a@b')}")
    assert value == (
        'Digest username="u", realm="r", nonce="n", uri="sip:a@b", '
        f'response="{expected}", algorithm=MD5'
    )


def test_auth_int_and_sha_256_sess() -> None:
    challenge = Challenge(realm="r", nonce="n", qop=("auth-int",), algorithm="SHA-256-sess")
    body = b"v=0\r\n"
    value = authorization(
        challenge, username="u", password="p", method="INVITE", uri="sip:x@y", cnonce="c", body=body
    )
    ha1 = sha256(f"{sha256('u:r:p')}:n:c")
    ha2 = sha256(f"INVITE:sip:x@y:{hashlib.sha256(body).hexdigest()}")
    assert f'response="{sha256(f"{ha1}:n:00000001:c:auth-int:{ha2}")}"' in value


def test_challenge_reading() -> None:
    odd = parse_challenge(
        'digest  REALM = "a \\"quoted\\" realm" , nonce=abc, algorithm=sha-256, stale=TRUE,'
    )
    assert odd == Challenge(realm='a "quoted" realm', nonce="abc", algorithm="SHA-256", stale=True)
    # RFC 8760 §2.4: the first challenge with an algorithm we know.
    chosen = choose_challenge(
        ['Digest realm="r", nonce="1", algorithm=SHA-512-256', 'Digest realm="r", nonce="2"']
    )
    assert chosen.nonce == "2"
    with pytest.raises(DigestError):
        choose_challenge(['Basic realm="r"'])


@pytest.mark.parametrize(
    "value",
    [
        'Basic realm="r"',
        'Digest nonce="n"',
        'Digest realm="r"',
        'Digest realm="r", nonce="n", algorithm=SHA1',
        'Digest realm="r, nonce="n"',
        'Digest realm="r", realm="s", nonce="n"',
        "Digest realm",
    ],
)
def test_bad_challenges(value: str) -> None:
    with pytest.raises(DigestError):
        parse_challenge(value)


def test_unusable_qop() -> None:
    with pytest.raises(DigestError):
        authorization(
            Challenge("r", "n", qop=("auth-conf",)),
            username="u",
            password="p",
            method="INVITE",
            uri="sip:a@b",
            cnonce="c",
        )


def test_server_side_round_trip() -> None:
    header = build_challenge("sim", "n0nce", opaque="op")
    assert header == 'Digest realm="sim", nonce="n0nce", opaque="op", qop="auth", algorithm=MD5'
    challenge = parse_challenge(header)
    value = authorization(
        challenge, username="u", password="pw", method="INVITE", uri="sip:1@sim", cnonce="cn"
    )
    credentials = parse_credentials(value)
    assert (credentials.username, credentials.nonce, credentials.opaque) == ("u", "n0nce", "op")
    assert verify(credentials, password="pw", method="INVITE")
    assert not verify(credentials, password="wrong", method="INVITE")
    assert not verify(credentials, password="pw", method="BYE")
    assert build_challenge("r", "n", qop=None, algorithm="sha-256", stale=True) == (
        'Digest realm="r", nonce="n", algorithm=SHA-256, stale=TRUE'
    )


@pytest.mark.parametrize(
    "value",
    [
        'Digest username="u", realm="r", nonce="n", uri="x"',
        'Digest username="u", realm="r", nonce="n", uri="x", response="y", qop=auth',
    ],
)
def test_bad_credentials(value: str) -> None:
    with pytest.raises(DigestError):
        parse_credentials(value)


@given(st.text(max_size=80))
def test_readers_only_raise_digest_error(text: str) -> None:
    for reader in (parse_challenge, parse_credentials):
        with contextlib.suppress(DigestError):
            reader("Digest " + text)
