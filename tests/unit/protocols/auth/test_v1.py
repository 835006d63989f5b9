"""Signature v1 (HmacSHA1/HmacSHA256): vectors computed by the real Tencent Cloud Python SDK."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.sms.v20190711 import models as models_2019
from tencentcloud.sms.v20190711 import sms_client as sms_client_2019
from tencentcloud.sms.v20210111 import models, sms_client

from smscloud.protocols import flat_params as params_mod
from smscloud.protocols.auth import v1 as v1sign
from smscloud.protocols.auth.tc3 import SignatureError

SECRET_ID = "AKIDEXAMPLE"
SECRET_KEY = "SECRETEXAMPLE"
HOST = "sms.tencentcloudapi.com"
TS = 1700000000

VECTOR_PARAMS = {
    "Action": "SendSms",
    "Language": "zh-CN",
    "Nonce": "123456",
    "PhoneNumberSet.0": "+8613800000000",
    "Region": "ap-guangzhou",
    "RequestClient": "SDK_PYTHON_3.1.153",
    "SecretId": "AKIDEXAMPLE",
    "SignName": "Test",
    "SignatureMethod": "HmacSHA256",
    "SmsSdkAppId": "1400000000",
    "TemplateId": "1234",
    "TemplateParamSet.0": "1234",
    "Timestamp": "1700000000",
    "Version": "2021-01-11",
}
VECTOR_STRING = (
    "POSTsms.tencentcloudapi.com/?Action=SendSms&Language=zh-CN&Nonce=123456"
    "&PhoneNumberSet.0=+8613800000000&Region=ap-guangzhou&RequestClient=SDK_PYTHON_3.1.153"
    "&SecretId=AKIDEXAMPLE&SignName=Test&SignatureMethod=HmacSHA256&SmsSdkAppId=1400000000"
    "&TemplateId=1234&TemplateParamSet.0=1234&Timestamp=1700000000&Version=2021-01-11"
)
POST_SHA256 = "l0AOuKsV1yJWm2ha+n9bh7H+ADmzdgOtBzlWH1k7oLk="
GET_SHA1 = "xrgNJ1AP/crgW3DsFPt1UuTRjfo="
FAILURE = "AuthFailure.SignatureFailure"


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(SignatureError) as info:
        fn(*args, **kwargs)
    return info.value.code


def signed(params: dict[str, str], method: str = "POST", host: str = HOST) -> dict[str, str]:
    algorithm = params.get("SignatureMethod", "HmacSHA1")
    return {**params, "Signature": v1sign.sign(SECRET_KEY, method, host, "/", params, algorithm)}


def check(params: dict[str, str], method: str = "POST", **kwargs: Any) -> None:
    kwargs.setdefault("now", float(TS))
    v1sign.verify(SECRET_KEY, method, kwargs.pop("host", HOST), "/", params, **kwargs)


# --- vectors ---------------------------------------------------------------------------------


def test_vector_post_hmac_sha256() -> None:
    assert v1sign.string_to_sign("POST", HOST, "/", VECTOR_PARAMS) == VECTOR_STRING
    assert v1sign.sign(SECRET_KEY, "POST", HOST, "/", VECTOR_PARAMS) == POST_SHA256
    check({**VECTOR_PARAMS, "Signature": POST_SHA256})


def test_vector_get_hmac_sha1() -> None:
    params = {**VECTOR_PARAMS, "SignatureMethod": "HmacSHA1"}
    expected = "GET" + VECTOR_STRING[4:].replace("HmacSHA256", "HmacSHA1")
    assert v1sign.string_to_sign("GET", HOST, "/", params) == expected
    assert v1sign.sign(SECRET_KEY, "GET", HOST, "/", params, "HmacSHA1") == GET_SHA1
    check({**params, "Signature": GET_SHA1}, "GET")
    assert code_of(check, {**params, "Signature": GET_SHA1}, "POST") == FAILURE


def test_string_to_sign_excludes_signature_and_sorts_keys() -> None:
    params = {"b": "2", "Signature": "zzz", "a": "1", "B": "3"}
    assert v1sign.string_to_sign("GET", "h:1", "/", params) == "GETh:1/?B=3&a=1&b=2"


def test_underscore_becomes_dot_in_key_names_only() -> None:
    params = {"Filters_0_Name": "a_b", "X": "1"}
    assert v1sign.string_to_sign("POST", HOST, "/", params) == (
        "POSTsms.tencentcloudapi.com/?Filters.0.Name=a_b&X=1"
    )


def test_host_with_port_is_signed() -> None:
    params = signed(VECTOR_PARAMS, host="127.0.0.1:18111")
    check(params, host="127.0.0.1:18111")
    assert code_of(check, params, host="127.0.0.1") == FAILURE


# --- verify: codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Signature", "SecretId", "Timestamp", "Nonce"])
def test_missing_parameter(name: str) -> None:
    params = signed(VECTOR_PARAMS)
    del params[name]
    assert code_of(check, params) == "MissingParameter"
    assert code_of(check, {**params, name: ""}) == "MissingParameter"


def test_signature_method_defaults_to_hmac_sha1() -> None:
    params = {k: v for k, v in VECTOR_PARAMS.items() if k != "SignatureMethod"}
    sig = v1sign.sign(SECRET_KEY, "POST", HOST, "/", params, "HmacSHA1")
    check({**params, "Signature": sig})


@pytest.mark.parametrize("method", ["HmacSHA512", "hmacsha256", "TC3-HMAC-SHA256", ""])
def test_unknown_signature_method(method: str) -> None:
    params = {**signed(VECTOR_PARAMS), "SignatureMethod": method}
    assert code_of(check, params) == "AuthFailure.InvalidAuthorization"


@pytest.mark.parametrize("ts", ["abc", "-1700000000", "1.7e9", "١٧٠٠٠٠٠٠٠٠", "1" * 20])
def test_bad_timestamp(ts: str) -> None:
    params = signed({**VECTOR_PARAMS, "Timestamp": ts})
    assert code_of(check, params) == "InvalidParameter"


@pytest.mark.parametrize("delta", [-301, 301, 10**6])
def test_expired(delta: int) -> None:
    params = signed(VECTOR_PARAMS)
    assert code_of(check, params, now=TS + delta) == "AuthFailure.SignatureExpire"
    assert code_of(check, params, now=float("nan")) == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize("delta", [-300, 300])
def test_skew_limit_inclusive(delta: int) -> None:
    check(signed(VECTOR_PARAMS), now=TS + delta)


@pytest.mark.parametrize(
    "change",
    [
        {"TemplateParamSet.0": "9999"},
        {"PhoneNumberSet.1": "+8613800000001"},
        {"Timestamp": "1700000001"},
        {"Nonce": "123457"},
        {"SecretId": "AKIDOTHER"},
    ],
)
def test_tampering_fails(change: dict[str, str]) -> None:
    params = {**signed(VECTOR_PARAMS), **change}
    assert code_of(check, params) == FAILURE


def test_dropping_a_param_fails() -> None:
    params = signed(VECTOR_PARAMS)
    del params["TemplateId"]
    assert code_of(check, params) == FAILURE


def test_wrong_key_and_garbage_signatures_fail() -> None:
    params = signed(VECTOR_PARAMS)
    with pytest.raises(SignatureError) as info:
        v1sign.verify("SECRETEXAMPLF", "POST", HOST, "/", params, now=float(TS))
    assert info.value.code == FAILURE
    for garbage in ["é" * 44, POST_SHA256.replace("+", " "), POST_SHA256 + "="]:
        assert code_of(check, {**params, "Signature": garbage}) == FAILURE


def test_lone_surrogate_value_fails_cleanly() -> None:
    params = {**signed(VECTOR_PARAMS), "SignName": "\ud800"}
    assert code_of(check, params) == FAILURE


def test_sign_argument_checks() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        v1sign.sign(SECRET_KEY, "POST", HOST, "/", VECTOR_PARAMS, "HmacMD5")
    with pytest.raises(ValueError, match="SignatureMethod"):
        v1sign.sign(SECRET_KEY, "POST", HOST, "/", VECTOR_PARAMS, "HmacSHA1")
    no_method = {k: v for k, v in VECTOR_PARAMS.items() if k != "SignatureMethod"}
    with pytest.raises(ValueError, match="SignatureMethod"):
        v1sign.sign(SECRET_KEY, "POST", HOST, "/", no_method)


# --- the SDK's own string building as an oracle ----------------------------------------------


@functools.cache
def _oracle_client(method: str) -> sms_client.SmsClient:
    http = HttpProfile(endpoint="127.0.0.1:18111", reqMethod=method)
    profile = ClientProfile(signMethod="HmacSHA256", httpProfile=http)
    return sms_client.SmsClient(credential.Credential(SECRET_ID, SECRET_KEY), "", profile)


keys = st.from_regex(r"[A-Za-z][A-Za-z0-9_.]{0,12}", fullmatch=True)


@given(
    params=st.dictionaries(keys, st.text(), max_size=8),
    method=st.sampled_from(["GET", "POST"]),
    algorithm=st.sampled_from(["HmacSHA1", "HmacSHA256"]),
    secret=st.text(),
)
def test_matches_sdk_sign_string_and_mac(
    params: dict[str, str], method: str, algorithm: str, secret: str
) -> None:
    params = {**params, "SignatureMethod": algorithm}
    params.pop("Signature", None)
    sdk_string = _oracle_client(method)._format_sign_string(params)
    assert v1sign.string_to_sign(method, "127.0.0.1:18111", "/", params) == sdk_string
    sig = v1sign.sign(secret, method, "127.0.0.1:18111", "/", params, algorithm)
    assert sig == Sign.sign(secret, sdk_string, algorithm)


@given(
    params=st.dictionaries(keys, st.text(), max_size=8),
    algorithm=st.sampled_from(["HmacSHA1", "HmacSHA256"]),
    nonce=st.integers(1, 2**63 - 1),
    ts=st.integers(0, 4_102_444_800),
)
def test_round_trip(params: dict[str, str], algorithm: str, nonce: int, ts: int) -> None:
    params = {
        **params,
        "SignatureMethod": algorithm,
        "Nonce": str(nonce),
        "Timestamp": str(ts),
        "SecretId": SECRET_ID,
    }
    params.pop("Signature", None)
    full = {**params, "Signature": v1sign.sign(SECRET_KEY, "GET", HOST, "/", params, algorithm)}
    v1sign.verify(SECRET_KEY, "GET", HOST, "/", full, now=float(ts))


# --- the real SDK against a loopback capture server ------------------------------------------


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
        self.send_header("Content-Type", "application/json")
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
    server: _CaptureServer, *, method: str, algorithm: str, v2019: bool = False
) -> Captured:
    http = HttpProfile(
        endpoint=f"127.0.0.1:{server.server_address[1]}", protocol="http", reqMethod=method
    )
    profile = ClientProfile(signMethod=algorithm, httpProfile=http)
    cred = credential.Credential(SECRET_ID, SECRET_KEY)
    if v2019:
        old = sms_client_2019.SmsClient(cred, "ap-guangzhou", profile)
        req_2019 = models_2019.SendSmsRequest()
        req_2019.PhoneNumberSet = ["+8613800138000"]
        req_2019.SmsSdkAppid = "1400006666"
        req_2019.TemplateID = "1110"
        req_2019.Sign = "腾讯云"
        resp = old.SendSms(req_2019)
        old.request.conn._session.close()
    else:
        client = sms_client.SmsClient(cred, "ap-guangzhou", profile)
        req = models.SendSmsRequest()
        req.PhoneNumberSet = ["+8613800138000", "+8613800138001"]
        req.SmsSdkAppId = "1400006666"
        req.TemplateId = "1110"
        req.SignName = "腾讯云"
        req.TemplateParamSet = ["123456", "5"]
        resp = client.SendSms(req)
        client.request.conn._session.close()
    assert resp.RequestId == "x"
    assert len(server.captured) == 1
    return server.captured[0]


def wire_params(cap: Captured) -> dict[str, str]:
    raw = cap.query if cap.method == "GET" else cap.body.decode("ascii")
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    assert len({k for k, _ in pairs}) == len(pairs)
    return dict(pairs)


@pytest.mark.parametrize(
    ("method", "algorithm"),
    [("POST", "HmacSHA1"), ("GET", "HmacSHA256"), ("POST", "HmacSHA256"), ("GET", "HmacSHA1")],
)
def test_sdk_v1_requests_verify(capture: _CaptureServer, method: str, algorithm: str) -> None:
    cap = sdk_send(capture, method=method, algorithm=algorithm)
    assert "authorization" not in cap.headers
    if method == "POST":
        assert cap.headers["content-type"] == "application/x-www-form-urlencoded"
        assert cap.query == ""
    else:
        assert cap.body == b""
    params = wire_params(cap)
    assert params["SignatureMethod"] == algorithm
    assert params["SignName"] == "腾讯云"
    assert set(params) - params_mod.COMMON_V1_PARAMS == {
        "PhoneNumberSet.0",
        "PhoneNumberSet.1",
        "SmsSdkAppId",
        "TemplateId",
        "SignName",
        "TemplateParamSet.0",
        "TemplateParamSet.1",
    }
    business = {k: v for k, v in params.items() if k not in params_mod.COMMON_V1_PARAMS}
    assert params_mod.unflatten(business) == {
        "PhoneNumberSet": ["+8613800138000", "+8613800138001"],
        "SmsSdkAppId": "1400006666",
        "TemplateId": "1110",
        "SignName": "腾讯云",
        "TemplateParamSet": ["123456", "5"],
    }

    host = cap.headers["host"]
    assert host == f"127.0.0.1:{capture.server_address[1]}"
    v1sign.verify(SECRET_KEY, cap.method, host, cap.path, params, now=time.time())

    ts = int(params["Timestamp"])
    with pytest.raises(SignatureError) as info:
        v1sign.verify(SECRET_KEY, cap.method, host, cap.path, params, now=ts + 301.0)
    assert info.value.code == "AuthFailure.SignatureExpire"
    for change in ({"SignName": "腾讯去"}, {"PhoneNumberSet.1": "+8613800138002"}):
        with pytest.raises(SignatureError) as info:
            v1sign.verify(SECRET_KEY, cap.method, host, "/", {**params, **change}, now=float(ts))
        assert info.value.code == FAILURE
    other_method = "GET" if cap.method == "POST" else "POST"
    with pytest.raises(SignatureError) as info:
        v1sign.verify(SECRET_KEY, other_method, host, "/", params, now=float(ts))
    assert info.value.code == FAILURE


def test_sdk_v1_2019_version(capture: _CaptureServer) -> None:
    cap = sdk_send(capture, method="GET", algorithm="HmacSHA256", v2019=True)
    params = wire_params(cap)
    assert (params["Version"], params["SmsSdkAppid"], params["Sign"]) == (
        "2019-07-11",
        "1400006666",
        "腾讯云",
    )
    v1sign.verify(SECRET_KEY, "GET", cap.headers["host"], "/", params, now=time.time())
