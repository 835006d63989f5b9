"""TC3-HMAC-SHA256: Tencent's documented example, vectors from the real SDK, properties."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from smscloud.protocols.auth import tc3
from smscloud.protocols.auth.tc3 import Authorization, SignatureError

# --- vectors: A is the example of Tencent Cloud API 3.0: signature v3; B and C the SDK's own ---

A_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
A_BODY = (
    b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
)
A_HEADERS = {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com"}
A_SIG = "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"

SECRET_ID = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
B_BODY = (
    b'{"PhoneNumberSet": ["+8613800000000"], "SmsSdkAppId": "1400000000", "TemplateId": "1234",'
    b' "SignName": "Test", "TemplateParamSet": ["1234"]}'
)
B_HEADERS = {"content-type": "application/json", "host": "sms.tencentcloudapi.com"}
B_SIG = "6941d68e5facc89ef46f37bc6d8bcfa9f6ce55a91ee2ec1a6ee87d81f61c2f62"
B_AUTH = (
    f"TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/sms/tc3_request, "
    f"SignedHeaders=content-type;host, Signature={B_SIG}"
)
C_QUERY = (
    "PhoneNumberSet.0=%2B8613800000000&SmsSdkAppId=1400000000&TemplateId=1234"
    "&SignName=Test&TemplateParamSet.0=1234"
)
C_HEADERS = {"content-type": "application/x-www-form-urlencoded", "host": "sms.tencentcloudapi.com"}
C_SIG = "28c37998f89704f338e3d9e2e2e2fed31f24bbbefbac56d01d3c709388b9223f"
TS = 1700000000  # 2023-11-14 22:13:20 UTC
EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNSIGNED_HASH = "438d4109ef0d676b8c2c7ed13cdfcb418e494d53b843d4634ce3b1085f07bb96"


def sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def sign_b(**overrides: Any) -> str:
    kwargs: dict[str, Any] = {
        "secret_id": SECRET_ID,
        "method": "POST",
        "host": B_HEADERS["host"],
        "content_type": B_HEADERS["content-type"],
        "query": "",
        "body": B_BODY,
        "timestamp": TS,
        "service": "sms",
    }
    kwargs.update(overrides)
    return tc3.sign(SECRET_KEY, **kwargs)


def verify_b(auth: str | Authorization, **overrides: Any) -> None:
    kwargs: dict[str, Any] = {
        "method": "POST",
        "query": "",
        "headers": B_HEADERS,
        "body": B_BODY,
        "timestamp": TS,
        "now": float(TS),
    }
    kwargs.update(overrides)
    parsed = tc3.parse_authorization(auth) if isinstance(auth, str) else auth
    tc3.verify(parsed, kwargs.pop("secret_key", SECRET_KEY), **kwargs)


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SignatureError) as info:
        fn(*args, **kwargs)
    return info.value.code


def test_vector_a_official_cvm_example() -> None:
    assert sha(A_BODY) == "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    canonical = tc3.canonical_request("POST", "", A_HEADERS, ["content-type", "host"], sha(A_BODY))
    assert sha(canonical) == "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    header = tc3.sign(
        A_KEY,
        secret_id="AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        method="POST",
        host=A_HEADERS["host"],
        content_type=A_HEADERS["content-type"],
        query="",
        body=A_BODY,
        timestamp=1551113065,
        service="cvm",
    )
    assert header.endswith(f"Signature={A_SIG}")
    auth = tc3.parse_authorization(header)
    assert (auth.date, auth.service) == ("2019-02-25", "cvm")
    tc3.verify(
        auth,
        A_KEY,
        method="POST",
        query="",
        headers=A_HEADERS,
        body=A_BODY,
        timestamp=1551113065,
        now=1551113065.0,
    )


def test_vector_b_sendsms_post_every_step() -> None:
    assert sha(B_BODY) == "4156b7f4f5502bc2af0d46340b2bcb7536420397f93d57d0820dd279b56887bc"
    canonical = tc3.canonical_request("POST", "", B_HEADERS, ("content-type", "host"), sha(B_BODY))
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json\nhost:sms.tencentcloudapi.com\n\n"
        f"content-type;host\n{sha(B_BODY)}"
    )
    assert sha(canonical) == "7d5d08470478f5ebb44ee051bec2dd19901e1b00b84f0e6fb4f45891d20e35e7"
    sts = tc3.string_to_sign(TS, "2023-11-14", "sms", canonical)
    assert sts == f"TC3-HMAC-SHA256\n{TS}\n2023-11-14/sms/tc3_request\n{sha(canonical)}"
    k_date = hmac.new(b"TC3" + SECRET_KEY.encode(), b"2023-11-14", hashlib.sha256).digest()
    assert k_date.hex().startswith("627f442b") and k_date.hex().endswith("41af8")
    key = tc3.signing_key(SECRET_KEY, "2023-11-14", "sms")
    assert key.hex().startswith("632df18e") and key.hex().endswith("20e61")
    assert hmac.new(key, sts.encode(), hashlib.sha256).hexdigest() == B_SIG
    assert sign_b() == B_AUTH
    verify_b(B_AUTH)


def test_vector_c_sendsms_get() -> None:
    canonical = tc3.canonical_request(
        "GET", C_QUERY, C_HEADERS, ["content-type", "host"], EMPTY_HASH
    )
    assert sha(canonical) == "108741eeb7a6b2f06663976fc5d41f57323033c30a64b69c3888cbcdd21766bf"
    header = sign_b(method="GET", content_type=C_HEADERS["content-type"], query=C_QUERY, body=b"")
    assert header.endswith(f"Signature={C_SIG}")
    verify_b(header, method="GET", query=C_QUERY, headers=C_HEADERS, body=b"")
    # The raw query as sent is signed: re-ordering it (as a re-encoder would) breaks it.
    reordered = "&".join(sorted(C_QUERY.split("&")))
    assert code_of(
        verify_b, header, method="GET", query=reordered, headers=C_HEADERS, body=b""
    ) == ("AuthFailure.SignatureFailure")


def test_host_with_port_is_part_of_the_signature() -> None:
    headers = {**B_HEADERS, "host": "127.0.0.1:33459"}
    header = sign_b(host="127.0.0.1:33459")
    canonical = tc3.canonical_request("POST", "", headers, ["content-type", "host"], sha(B_BODY))
    assert "\nhost:127.0.0.1:33459\n" in canonical
    verify_b(header, headers=headers)
    stripped = {**B_HEADERS, "host": "127.0.0.1"}
    assert code_of(verify_b, header, headers=stripped) == "AuthFailure.SignatureFailure"


def test_utc_date() -> None:
    assert tc3.utc_date(TS) == "2023-11-14"
    assert tc3.utc_date(1551113065) == "2019-02-25"
    assert tc3.utc_date(0) == "1970-01-01"
    assert tc3.utc_date(1699920000) == "2023-11-14"  # 00:00:00 UTC
    assert tc3.utc_date(1699920000 - 1) == "2023-11-13"


# --- parse_authorization ---------------------------------------------------------------------


def test_parse_authorization_vector_b() -> None:
    auth = tc3.parse_authorization(B_AUTH)
    assert auth == Authorization(
        "TC3-HMAC-SHA256", "AKIDEXAMPLE", "2023-11-14", "sms", ("content-type", "host"), B_SIG
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        auth.secret_id = "x"  # type: ignore[misc]
    assert not hasattr(auth, "__dict__")  # slots


def test_parse_authorization_is_lenient_about_layout_only() -> None:
    messy = (
        f"  TC3-HMAC-SHA256   Signature={B_SIG.upper()} ,SignedHeaders=Content-Type;Host,"
        "Credential=AKIDEXAMPLE/2023-11-14/sms/tc3_request  "
    )
    auth = tc3.parse_authorization(messy)
    assert auth.signed_headers == ("content-type", "host")
    assert auth.signature == B_SIG
    verify_b(auth)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "TC3-HMAC-SHA256",
        B_AUTH.replace("TC3-HMAC-SHA256", "HMAC-SHA256"),
        B_AUTH.replace("TC3-HMAC-SHA256", "tc3-hmac-sha256"),
        B_AUTH.replace(", SignedHeaders=content-type;host", ""),
        B_AUTH + ", Signature=" + B_SIG,
        B_AUTH + ", Foo=bar",
        B_AUTH.replace("/tc3_request", "/tc4_request"),
        B_AUTH.replace("/sms/tc3_request", "/tc3_request"),
        B_AUTH.replace("AKIDEXAMPLE/", "/"),
        B_AUTH.replace("AKIDEXAMPLE", "AKID EXAMPLE"),
        B_AUTH.replace("2023-11-14", "2023-02-30"),
        B_AUTH.replace("2023-11-14", "2023-1-14"),
        B_AUTH.replace("2023-11-14", "２０２３-11-14"),  # full-width digits
        B_AUTH.replace("/sms/", "/s ms/"),
        B_AUTH.replace("content-type;host", "content-type;;host"),
        B_AUTH.replace("content-type;host", "content-type;host;Host"),
        B_AUTH.replace("content-type;host", "content type;host"),
        B_AUTH.replace(B_SIG, B_SIG[:-1]),
        B_AUTH.replace(B_SIG, B_SIG[:-1] + "g"),
        B_AUTH.replace("Signature=", "Signature"),
    ],
)
def test_parse_authorization_rejects(value: str) -> None:
    assert code_of(tc3.parse_authorization, value) == "AuthFailure.InvalidAuthorization"


@given(st.text())
def test_parse_authorization_only_raises_signature_error(value: str) -> None:
    try:
        auth = tc3.parse_authorization(value)
    except SignatureError as exc:
        assert exc.code == "AuthFailure.InvalidAuthorization"
    else:
        assert auth.algorithm == tc3.ALGORITHM


@given(st.integers(0, len(B_AUTH)), st.integers(0, 8), st.text(max_size=8))
def test_parse_authorization_splice_fuzz(at: int, cut: int, insert: str) -> None:
    value = B_AUTH[:at] + insert + B_AUTH[at + cut :]
    try:
        tc3.parse_authorization(value)
    except SignatureError as exc:
        assert exc.code == "AuthFailure.InvalidAuthorization"


def _both(value: str) -> tuple[object, object]:
    """What the public parser and the lenient one alone make of ``value``."""

    def outcome(parse: Any) -> object:
        try:
            return parse(value)
        except SignatureError as exc:
            return exc.code

    return outcome(tc3.parse_authorization), outcome(tc3._parse_lenient)


_PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)


@given(_PRINTABLE, _PRINTABLE, _PRINTABLE, st.lists(_PRINTABLE, max_size=4), _PRINTABLE)
def test_sdk_form_path_answers_as_the_lenient_parser(
    secret_id: str, date: str, service: str, names: list[str], signature: str
) -> None:
    # Every part drawn from all printable ASCII, in the SDK's layout: whatever the one-match
    # path accepts, the lenient parser accepts identically, and what it refuses falls through.
    value = (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date or '2023-11-14'}/{service}/tc3_request, "
        f"SignedHeaders={';'.join(names) or 'content-type;host'}, "
        f"Signature={signature or B_SIG}"
    )
    fast, lenient = _both(value)
    assert fast == lenient


@given(st.integers(0, len(B_AUTH)), st.integers(0, 8), st.text(max_size=8))
def test_sdk_form_path_splices_answer_as_the_lenient_parser(at: int, cut: int, insert: str) -> None:
    fast, lenient = _both(B_AUTH[:at] + insert + B_AUTH[at + cut :])
    assert fast == lenient


def test_sdk_form_path_takes_what_the_sdks_send() -> None:
    assert tc3._SDK_FORM.fullmatch(B_AUTH) is not None
    dup = B_AUTH.replace("content-type;host", "content-type;host;host")
    assert tc3._SDK_FORM.fullmatch(dup) is not None  # matched, then refused as the lenient does
    assert code_of(tc3.parse_authorization, dup) == "AuthFailure.InvalidAuthorization"


@given(st.integers(-(10**10), 10**11))
def test_utc_date_is_the_calendar_date_in_utc(timestamp: int) -> None:
    expected = (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=timestamp)).date()
    assert tc3.utc_date(timestamp) == expected.isoformat()


# --- verify: error codes ---------------------------------------------------------------------


@pytest.mark.parametrize("delta", [-300, 0, 300, 300.0])
def test_verify_accepts_skew_up_to_limit(delta: float) -> None:
    verify_b(B_AUTH, now=TS + delta)


@pytest.mark.parametrize("delta", [-301, 301, 300.001, 86400])
def test_verify_expired(delta: float) -> None:
    assert code_of(verify_b, B_AUTH, now=TS + delta) == "AuthFailure.SignatureExpire"


def test_verify_expired_on_nan_clock_and_absurd_timestamp() -> None:
    assert code_of(verify_b, B_AUTH, now=float("nan")) == "AuthFailure.SignatureExpire"
    assert code_of(verify_b, B_AUTH, timestamp=10**400) == "AuthFailure.SignatureExpire"


def test_verify_custom_max_skew() -> None:
    verify_b(B_AUTH, now=TS + 500, max_skew=600)
    assert code_of(verify_b, B_AUTH, now=TS + 61, max_skew=60) == "AuthFailure.SignatureExpire"


def test_verify_credential_date_must_be_utc_date_of_timestamp() -> None:
    ts = 1699981200  # 2023-11-14 17:00 UTC = 2023-11-15 01:00 in UTC+8
    header = sign_b(timestamp=ts)
    verify_b(header, timestamp=ts, now=float(ts))
    # A client computing the scope date in UTC+8 local time is rejected.
    local = dataclasses.replace(tc3.parse_authorization(header), date="2023-11-15")
    assert code_of(verify_b, local, timestamp=ts, now=float(ts)) == "AuthFailure.SignatureFailure"


def test_verify_wrong_secret_key_fails() -> None:
    assert code_of(verify_b, B_AUTH, secret_key="SECRETEXAMPLF") == "AuthFailure.SignatureFailure"


def test_verify_timestamp_is_signed() -> None:
    assert code_of(verify_b, B_AUTH, timestamp=TS + 1) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize("index", [0, 1, len(B_BODY) // 2, len(B_BODY) - 1])
def test_verify_body_tampering(index: int) -> None:
    body = bytearray(B_BODY)
    body[index] ^= 0x01
    assert code_of(verify_b, B_AUTH, body=bytes(body)) == "AuthFailure.SignatureFailure"


def test_verify_body_is_hashed_raw_not_reserialised() -> None:
    same_json = json.dumps(json.loads(B_BODY), separators=(",", ":")).encode()
    assert json.loads(same_json) == json.loads(B_BODY)
    assert code_of(verify_b, B_AUTH, body=same_json) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    "headers",
    [
        {**B_HEADERS, "content-type": "application/json; charset=utf-8"},
        {**B_HEADERS, "host": "sms.tencentcloudapi.com:443"},
        {**B_HEADERS, "host": "evil.example.com"},
    ],
)
def test_verify_header_tampering(headers: dict[str, str]) -> None:
    assert code_of(verify_b, B_AUTH, headers=headers) == "AuthFailure.SignatureFailure"


def test_verify_header_values_are_stripped() -> None:
    verify_b(B_AUTH, headers={"content-type": " application/json\t", "host": B_HEADERS["host"]})


def test_verify_unsigned_headers_do_not_matter() -> None:
    verify_b(B_AUTH, headers={**B_HEADERS, "x-tc-action": "Anything", "user-agent": "x"})


def test_verify_missing_signed_header() -> None:
    headers = {"host": B_HEADERS["host"]}
    assert code_of(verify_b, B_AUTH, headers=headers) == "AuthFailure.SignatureFailure"


def test_verify_requires_content_type_and_host_signed() -> None:
    auth = tc3.parse_authorization(B_AUTH)
    for names in [("content-type",), ("host",), ("host", "x-tc-action")]:
        partial = dataclasses.replace(auth, signed_headers=names)
        assert code_of(verify_b, partial) == "AuthFailure.InvalidAuthorization"
    other_algo = dataclasses.replace(auth, algorithm="HMAC-SHA256")
    assert code_of(verify_b, other_algo) == "AuthFailure.InvalidAuthorization"


def test_verify_hand_built_non_ascii_signature_fails_cleanly() -> None:
    auth = dataclasses.replace(tc3.parse_authorization(B_AUTH), signature="é" * 64)
    assert code_of(verify_b, auth) == "AuthFailure.SignatureFailure"


def test_verify_undecodable_query_fails_cleanly_or_round_trips() -> None:
    raw = b"SignName=\xff\xfe"  # not UTF-8, decoded losslessly by the caller
    query = raw.decode("utf-8", "surrogateescape")
    header = sign_b(method="GET", query=query, body=b"")
    verify_b(header, method="GET", query=query, body=b"")
    lone = "SignName=\ud800"  # no byte sequence decodes to this
    assert code_of(verify_b, header, method="GET", query=lone, body=b"") == (
        "AuthFailure.SignatureFailure"
    )


def test_extra_signed_header_x_tc_action() -> None:
    header = sign_b(
        extra_headers={"X-TC-Action": "SendSms"},
        signed_headers=("x-tc-action", "host", "content-type"),
    )
    auth = tc3.parse_authorization(header)
    assert auth.signed_headers == ("content-type", "host", "x-tc-action")  # sign() sorts
    headers = {**B_HEADERS, "x-tc-action": "SendSms"}
    verify_b(auth, headers=headers)
    tampered = {**headers, "x-tc-action": "DeleteSmsSign"}
    assert code_of(verify_b, auth, headers=tampered) == "AuthFailure.SignatureFailure"
    assert code_of(verify_b, auth, headers=B_HEADERS) == "AuthFailure.SignatureFailure"


def test_verify_accepts_docs_style_lowercased_header_values() -> None:
    # Tencent's doc (362/4208) lower-cases canonical values ("x-tc-action:describeinstances");
    # the Python SDK signs them as sent. A doc-following client must verify too.
    headers = {**B_HEADERS, "x-tc-action": "SendSms"}
    names = ("content-type", "host", "x-tc-action")
    canonical = tc3.canonical_request(
        "POST", "", headers, names, sha(B_BODY), lowercase_values=True
    )
    assert "x-tc-action:sendsms\n" in canonical
    sts = tc3.string_to_sign(TS, "2023-11-14", "sms", canonical)
    sig = hmac.new(tc3.signing_key(SECRET_KEY, "2023-11-14", "sms"), sts.encode(), "sha256")
    auth = Authorization(tc3.ALGORITHM, SECRET_ID, "2023-11-14", "sms", names, sig.hexdigest())
    verify_b(auth, headers=headers)
    # ...and the SDK form (value case kept) verifies as well.
    verify_b(sign_b(extra_headers=headers, signed_headers=names), headers=headers)


def test_service_comes_from_credential_scope() -> None:
    for service in ("vms", "cvm", "sms-intl"):
        header = sign_b(service=service)
        assert tc3.parse_authorization(header).service == service
        verify_b(header)
    wrong = dataclasses.replace(tc3.parse_authorization(B_AUTH), service="vms")
    assert code_of(verify_b, wrong) == "AuthFailure.SignatureFailure"


def test_unsigned_payload() -> None:
    assert sha(tc3.UNSIGNED_PAYLOAD) == UNSIGNED_HASH
    header = sign_b(unsigned_payload=True)
    headers = {**B_HEADERS, "x-tc-content-sha256": "UNSIGNED-PAYLOAD"}
    verify_b(header, headers=headers)
    verify_b(header, headers=headers, body=b"anything at all")  # the body is not covered
    # Without the marker header the body is hashed, so this no longer matches.
    assert code_of(verify_b, header) == "AuthFailure.SignatureFailure"
    # A marker on a normally signed request makes the server skip the body and fail.
    assert code_of(verify_b, B_AUTH, headers=headers) == "AuthFailure.SignatureFailure"


def test_sign_rejects_unusable_headers() -> None:
    with pytest.raises(ValueError, match="content-type and host"):
        sign_b(signed_headers=("content-type",))
    with pytest.raises(ValueError, match="x-tc-action"):
        sign_b(signed_headers=("content-type", "host", "x-tc-action"))
    with pytest.raises(ValueError, match="twice"):
        sign_b(extra_headers={"Host": "other"})


def test_signature_error_fields() -> None:
    err = SignatureError("AuthFailure.SignatureFailure", "bad")
    assert (err.code, err.message) == ("AuthFailure.SignatureFailure", "bad")
    assert "AuthFailure.SignatureFailure" in str(err)


# --- properties ------------------------------------------------------------------------------

secret_ids = st.from_regex(r"[A-Za-z0-9]{1,40}", fullmatch=True)
services = st.from_regex(r"[a-z][a-z0-9-]{0,11}", fullmatch=True)
timestamps = st.integers(0, 4_102_444_800)  # through 2100


@given(
    secret_key=st.text(),
    secret_id=secret_ids,
    service=services,
    method=st.sampled_from(["POST", "GET"]),
    host=st.text(min_size=1),
    content_type=st.text(),
    query=st.text(),
    body=st.binary(),
    timestamp=timestamps,
    unsigned=st.booleans(),
)
def test_sign_verify_round_trip(
    secret_key: str,
    secret_id: str,
    service: str,
    method: str,
    host: str,
    content_type: str,
    query: str,
    body: bytes,
    timestamp: int,
    unsigned: bool,
) -> None:
    header = tc3.sign(
        secret_key,
        secret_id=secret_id,
        method=method,
        host=host,
        content_type=content_type,
        query=query,
        body=body,
        timestamp=timestamp,
        service=service,
        unsigned_payload=unsigned,
    )
    auth = tc3.parse_authorization(header)
    assert (auth.secret_id, auth.service, auth.date) == (
        secret_id,
        service,
        tc3.utc_date(timestamp),
    )
    headers = {"content-type": content_type, "host": host}
    if unsigned:
        headers["x-tc-content-sha256"] = "UNSIGNED-PAYLOAD"
    tc3.verify(
        auth,
        secret_key,
        method=method,
        query=query,
        headers=headers,
        body=body,
        timestamp=timestamp,
        now=timestamp + 1.5,
    )
    if secret_key:
        code = code_of(
            tc3.verify,
            auth,
            secret_key + "x",
            method=method,
            query=query,
            headers=headers,
            body=body,
            timestamp=timestamp,
            now=float(timestamp),
        )
        assert code == "AuthFailure.SignatureFailure"


@given(body=st.binary(min_size=1), data=st.data())
def test_any_single_byte_body_mutation_fails(body: bytes, data: st.DataObject) -> None:
    header = sign_b(body=body)
    index = data.draw(st.integers(0, len(body) - 1))
    new = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]))
    mutated = body[:index] + bytes([new]) + body[index + 1 :]
    verify_b(header, body=body)
    assert code_of(verify_b, header, body=mutated) == "AuthFailure.SignatureFailure"


@given(query=st.text(min_size=1), data=st.data())
def test_any_query_change_fails(query: str, data: st.DataObject) -> None:
    header = sign_b(method="GET", query=query, body=b"")
    other = data.draw(st.text().filter(lambda q: q != query))
    verify_b(header, method="GET", query=query, body=b"")
    code = code_of(verify_b, header, method="GET", query=other, body=b"")
    assert code == "AuthFailure.SignatureFailure"


# --- the real SDK (tencentcloud-sdk-python) against a loopback capture server ----------------


@dataclasses.dataclass
class Captured:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class _CaptureServer(HTTPServer):
    captured: list[Captured]


class _Handler(BaseHTTPRequestHandler):
    server: _CaptureServer

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.captured.append(Captured(self.command, path, query, headers, body))
        reply = b'{"Response":{"RequestId":"x","SendStatusSet":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")  # exactly: the SDK checks for it
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = _handle  # noqa: N815 - names fixed by http.server

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> Iterator[_CaptureServer]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = _CaptureServer(("127.0.0.1", 0), _Handler)
    server.captured = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def sdk_send(
    server: _CaptureServer,
    *,
    method: str = "POST",
    unsigned: bool = False,
    sign_name: str = "腾讯云",
) -> Captured:
    port = server.server_address[1]
    http = HttpProfile(endpoint=f"127.0.0.1:{port}", protocol="http", reqMethod=method)
    profile = ClientProfile(httpProfile=http)
    profile.unsignedPayload = unsigned
    client = sms_client.SmsClient(
        credential.Credential(SECRET_ID, SECRET_KEY), "ap-guangzhou", profile
    )
    req = models.SendSmsRequest()
    req.PhoneNumberSet = ["+8613800138000", "+8613800138001"]
    req.SmsSdkAppId = "1400006666"
    req.TemplateId = "1110"
    req.SignName = sign_name
    req.TemplateParamSet = ["123456"]
    resp = client.SendSms(req)
    client.request.conn._session.close()
    assert resp.RequestId == "x"
    assert len(server.captured) == 1
    return server.captured[0]


def verify_captured(cap: Captured, *, now: float | None = None, **overrides: Any) -> None:
    kwargs: dict[str, Any] = {
        "method": cap.method,
        "query": cap.query,
        "headers": cap.headers,
        "body": cap.body,
        "timestamp": int(cap.headers["x-tc-timestamp"]),
        "now": time.time() if now is None else now,
    }
    kwargs.update(overrides)
    tc3.verify(tc3.parse_authorization(cap.headers["authorization"]), SECRET_KEY, **kwargs)


def test_sdk_tc3_post_with_chinese_sign_name(capture: _CaptureServer) -> None:
    cap = sdk_send(capture)
    port = capture.server_address[1]
    assert (cap.method, cap.path, cap.query) == ("POST", "/", "")
    assert cap.headers["host"] == f"127.0.0.1:{port}"
    assert cap.headers["content-type"] == "application/json"
    assert b'"SignName": "\\u817e\\u8baf\\u4e91"' in cap.body  # json.dumps escapes, raw bytes
    auth = tc3.parse_authorization(cap.headers["authorization"])
    assert (auth.secret_id, auth.service) == (SECRET_ID, "sms")
    assert auth.signed_headers == ("content-type", "host")
    verify_captured(cap)

    ts = int(cap.headers["x-tc-timestamp"])
    body = bytearray(cap.body)
    body[body.index(b"1400006666")] ^= 0x02
    assert code_of(verify_captured, cap, body=bytes(body)) == "AuthFailure.SignatureFailure"
    bad_host = {**cap.headers, "host": "127.0.0.1"}
    assert code_of(verify_captured, cap, headers=bad_host) == "AuthFailure.SignatureFailure"
    bad_ct = {**cap.headers, "content-type": "application/json; charset=utf-8"}
    assert code_of(verify_captured, cap, headers=bad_ct) == "AuthFailure.SignatureFailure"
    assert code_of(verify_captured, cap, now=ts + 301.0) == "AuthFailure.SignatureExpire"
    assert code_of(verify_captured, cap, now=ts - 301.0) == "AuthFailure.SignatureExpire"


def test_sdk_tc3_get_with_chinese_sign_name(capture: _CaptureServer) -> None:
    cap = sdk_send(capture, method="GET")
    assert cap.method == "GET" and cap.body == b""
    assert cap.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "PhoneNumberSet.1=%2B8613800138001" in cap.query
    assert "SignName=%E8%85%BE%E8%AE%AF%E4%BA%91" in cap.query
    verify_captured(cap)
    tampered = cap.query.replace("123456", "654321")
    assert code_of(verify_captured, cap, query=tampered) == "AuthFailure.SignatureFailure"


def test_sdk_tc3_unsigned_payload(capture: _CaptureServer) -> None:
    cap = sdk_send(capture, unsigned=True)
    assert cap.headers["x-tc-content-sha256"] == "UNSIGNED-PAYLOAD"
    verify_captured(cap)
    verify_captured(cap, body=b'{"PhoneNumberSet": ["+8613900000000"]}')  # by design
    plain = {k: v for k, v in cap.headers.items() if k != "x-tc-content-sha256"}
    assert code_of(verify_captured, cap, headers=plain) == "AuthFailure.SignatureFailure"


def test_sdk_signature_equals_ours(capture: _CaptureServer) -> None:
    cap = sdk_send(capture, sign_name="Test")
    ours = tc3.sign(
        SECRET_KEY,
        secret_id=SECRET_ID,
        method="POST",
        host=cap.headers["host"],
        content_type=cap.headers["content-type"],
        query="",
        body=cap.body,
        timestamp=int(cap.headers["x-tc-timestamp"]),
        service="sms",
    )
    assert ours == cap.headers["authorization"]
