"""Authentication and the envelope, as the official SDK and raw HTTP clients see them."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models

from smscloud.protocols.auth import tc3
from tests.support.live import LiveServer, Tenant


def describe_phone(client: object) -> list[object]:
    req = models.DescribePhoneNumberInfoRequest()
    req.from_json_string(json.dumps({"PhoneNumberSet": ["+8613800138000"]}))
    return list(client.DescribePhoneNumberInfo(req).PhoneNumberInfoSet)  # type: ignore[attr-defined]


def raw_call(
    live: LiveServer,
    t: Tenant,
    action: str,
    body: dict[str, object],
    *,
    timestamp: int | None = None,
    secret_key: str | None = None,
    content_type: str = "application/json",
) -> tuple[httpx.Response, dict[str, object]]:
    data = json.dumps(body).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    auth = tc3.sign(
        secret_key or t.secret_key,
        secret_id=t.secret_id,
        method="POST",
        host=live.endpoint,
        content_type=content_type,
        query="",
        body=data,
        timestamp=ts,
        service="sms",
    )
    resp = httpx.post(
        f"http://{live.endpoint}/",
        content=data,
        headers={
            "Content-Type": content_type,
            "Authorization": auth,
            "X-TC-Action": action,
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(ts),
            "X-TC-Region": "ap-guangzhou",
        },
    )
    return resp, resp.json()["Response"]


@pytest.mark.parametrize(
    ("method", "sign_method"),
    [("POST", None), ("GET", None), ("POST", "HmacSHA1"), ("GET", "HmacSHA256")],
)
def test_every_signing_style_of_the_sdk_is_accepted(
    server: LiveServer, method: str, sign_method: str | None
) -> None:
    t = server.tenant()
    client = server.client(t, method=method, sign_method=sign_method)
    info = describe_phone(client)
    assert info[0].PhoneNumber == "+8613800138000"  # type: ignore[attr-defined]
    req = models.SendSmsRequest()
    req.from_json_string(
        json.dumps(
            {
                "PhoneNumberSet": ["+8613800138000"],
                "SmsSdkAppId": t.sdk_app_id,
                "TemplateId": t.template_id,
                "SignName": t.sign_name,
                "TemplateParamSet": ["4321"],
            }
        )
    )
    out = client.SendSms(req).SendStatusSet
    assert out[0].Code == "Ok"


def test_bad_signature_unknown_key_and_stale_timestamp(server: LiveServer) -> None:
    t = server.tenant()
    wrong = Tenant(t.id, t.secret_id, "x" * 32, t.sdk_app_id, t.app_id)
    with pytest.raises(TencentCloudSDKException) as info:
        describe_phone(server.client(wrong))
    assert info.value.code == "AuthFailure.SignatureFailure"
    assert info.value.requestId

    unknown = Tenant(t.id, "AKIDnobody", t.secret_key, t.sdk_app_id, t.app_id)
    with pytest.raises(TencentCloudSDKException) as info:
        describe_phone(server.client(unknown))
    assert info.value.code == "AuthFailure.SecretIdNotFound"

    resp, body = raw_call(
        server,
        t,
        "DescribePhoneNumberInfo",
        {"PhoneNumberSet": ["+8613800138000"]},
        timestamp=int(time.time()) - 600,
    )
    assert body["Error"]["Code"] == "AuthFailure.SignatureExpire"  # type: ignore[index]
    # Errors are HTTP 200 with exactly this content type, or the Python SDK misreads them.
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"


def test_malformed_requests_get_the_apis_own_errors(server: LiveServer) -> None:
    t = server.tenant()
    r = httpx.post(
        f"http://{server.endpoint}/", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200
    assert r.json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"
    r = httpx.post(
        f"http://{server.endpoint}/",
        content=b"{}",
        headers={"Authorization": "TC3-HMAC-SHA256 garbage"},
    )
    assert r.json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"

    _, body = raw_call(server, t, "NoSuchThing", {})
    assert body["Error"]["Code"] == "InvalidAction"  # type: ignore[index]
    _, body = raw_call(server, t, "SendSms", {"SmsSdkAppId": t.sdk_app_id})
    assert body["Error"]["Code"] == "MissingParameter"  # type: ignore[index]
    assert "PhoneNumberSet" in body["Error"]["Message"]  # type: ignore[index]
    _, body = raw_call(
        server,
        t,
        "SendSms",
        {"PhoneNumberSet": "+8613800138000", "SmsSdkAppId": t.sdk_app_id, "TemplateId": "1"},
    )
    assert body["Error"]["Code"] == "InvalidParameter"  # type: ignore[index]


def test_invalid_json_body(server: LiveServer) -> None:
    t = server.tenant()
    data = b"{not json"
    ts = int(time.time())
    auth = tc3.sign(
        t.secret_key,
        secret_id=t.secret_id,
        method="POST",
        host=server.endpoint,
        content_type="application/json",
        query="",
        body=data,
        timestamp=ts,
        service="sms",
    )
    r = httpx.post(
        f"http://{server.endpoint}/",
        content=data,
        headers={
            "Content-Type": "application/json",
            "Authorization": auth,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(ts),
        },
    )
    assert r.json()["Response"]["Error"]["Code"] == "FailedOperation.JsonParseFail"


def test_health_and_metrics(server: LiveServer) -> None:
    assert httpx.get(f"http://{server.endpoint}/healthz").text == "ok\n"
    metrics = httpx.get(f"http://{server.endpoint}/metrics").text
    assert "smscloud_dispatch_submitted_total" in metrics
