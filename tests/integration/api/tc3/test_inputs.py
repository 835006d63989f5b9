"""Any value of any API 3.0 parameter gets an answer in Tencent's envelope, never InternalError.

Property tests over every action of both SMS versions: each example starts from a request
that would succeed, replaces (or drops) one parameter with an arbitrary JSON value, or sends a
whole arbitrary body, signed as the SDK signs it (TC3 JSON, TC3 GET query or v1 form), and
drives the real application over a real SQLite file. The answer must be a success or an
error the caller can act on; a refused send must store nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from smscloud.api.tc3 import sms2019
from smscloud.api.tc3.sms import ACTIONS
from smscloud.protocols.auth import tc3
from smscloud.protocols.auth import v1 as v1sign
from smscloud.protocols.flat_params import flatten
from smscloud.store import schema as s
from tests.support.hostile import (
    FEW,
    NOTHING_KEPT,
    TRICKY,
    VALUES,
    Kept,
    World,
    in_process,
    restore,
    world_of,
)
from tests.support.inprocess import HOST, InProcess
from tests.support.live import Tenant

PHONE = "+8613800138000"


def baseline(t: Tenant, action: str, kept: Kept = NOTHING_KEPT) -> dict[str, Any]:
    """A request of ``action`` (2021-01-11 names) that the tenant may make."""
    now = int(time.time())
    app = {"SmsSdkAppId": t.sdk_app_id}
    sign = {
        "SignName": "新签名",
        "SignType": 0,
        "DocumentType": 1,
        "International": 0,
        "SignPurpose": 0,
        "ProofImage": "iVBORw0KGgo=",
        "CommissionImage": "",
        "Remark": "r",
        "QualificationId": 0,
    }
    template = {
        "TemplateName": "t",
        "TemplateContent": "您的验证码是{1}",
        "SmsType": 3,
        "International": 0,
        "Remark": "r",
    }
    window = {"BeginTime": now - 3600, "EndTime": now, "Limit": 10, "Offset": 0}
    hours = {"BeginTime": "2021050113", "EndTime": "2021050123", "Limit": 0, "Offset": 0}
    return {
        "SendSms": app
        | {
            "PhoneNumberSet": [PHONE],
            "TemplateId": t.template_id,
            "SignName": t.sign_name,
            "TemplateParamSet": ["1234"],
            "SessionContext": "s",
            "ExtendCode": "",
            "SenderId": "",
        },
        "SendMultiGlobalSms": app
        | {
            "MultiSmsInfoSet": [
                {
                    "PhoneNumber": "+60123456789",
                    "TemplateId": t.template_id,
                    "TemplateParamSet": ["1"],
                }
            ]
        },
        "PullSmsSendStatus": app | {"Limit": 10},
        "PullSmsReplyStatus": app | {"Limit": 10},
        "PullSmsSendStatusByPhoneNumber": app | {"PhoneNumber": PHONE} | window,
        "PullSmsReplyStatusByPhoneNumber": app | {"PhoneNumber": PHONE} | window,
        "DescribeSendRecordList": app | {"PhoneNumber": PHONE} | window,
        "AddSmsSign": sign,
        "ModifySmsSign": sign | {"SignId": kept.rejected_sign},
        "DeleteSmsSign": {"SignId": 999},
        "DescribeSmsSignList": {
            "International": 0,
            "SignIdSet": [kept.sign_id],
            "Limit": 10,
            "Offset": 0,
        },
        "AddSmsTemplate": template,
        "ModifySmsTemplate": template | {"TemplateId": kept.rejected_template},
        "DeleteSmsTemplate": {"TemplateId": 999},
        "DescribeSmsTemplateList": {
            "International": 0,
            "TemplateIdSet": [int(t.template_id)],
            "Limit": 10,
            "Offset": 0,
        },
        "SendStatusStatistics": app | hours,
        "CallbackStatusStatistics": app | hours,
        "SmsPackagesStatistics": app | hours | {"Limit": 10},
        "DescribePhoneNumberInfo": {"PhoneNumberSet": [PHONE]},
        "ReportConversion": app | {"SerialNo": "x", "ConversionTime": now},
    }[action]


def old_names(action: str, body: dict[str, Any]) -> dict[str, Any]:
    """The 2019-07-11 spelling of a 2021-01-11 request."""
    renames = sms2019.RENAME_IN["*"] | sms2019.RENAME_IN.get(action, {})
    back = {new: old for old, new in renames.items()}
    return {back.get(k, k): v for k, v in body.items()}


CASES = [
    (version, action)
    for version in ("2021-01-11", "2019-07-11")
    for action in sorted(ACTIONS)
    if not (version == "2019-07-11" and action in sms2019.NOT_IN_2019)
]
# Every parameter of every action (a new action without a baseline fails here).
PARAMETERS = [
    (version, action, name)
    for version, action in CASES
    for name in sorted(baseline(Tenant(0, "", "", "1", 0, template_id="1"), action))
]


# Whole bodies and odd headers test the readers' wiring; the one-parameter tests already
# take every value to every column on PostgreSQL, whose types differ from SQLite's.
SQLITE_ONLY = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    for app in in_process(request, tmp_path_factory.mktemp("api-inputs")):
        yield world_of(app)


def call(
    app: InProcess,
    t: Tenant,
    version: str,
    action: str,
    body: dict[str, Any],
    style: str,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send one signed request; returns the envelope's ``Response`` after checking its shape."""
    now = int(time.time())
    if style == "json":
        data = json.dumps(body).encode()
        query, method, content_type = "", "POST", "application/json"
    else:
        try:
            flat = flatten(body)
        except ValueError:
            assume(False)  # two values flatten to one name: no client can send that
        if style == "query":
            query, data, method = urlencode(flat), b"", "GET"
            content_type = "application/x-www-form-urlencoded"
        else:  # v1 form
            common = {
                "Action": action,
                "Version": version,
                "Region": "ap-guangzhou",
                "Timestamp": str(now),
                "Nonce": "1",
                "SecretId": t.secret_id,
                "SignatureMethod": "HmacSHA256",
            }
            form = flat | common
            form["Signature"] = v1sign.sign(t.secret_key, "POST", HOST, "/", form)
            query, data, method = "", urlencode(form).encode(), "POST"
            content_type = "application/x-www-form-urlencoded"
    sent = {"Content-Type": content_type}
    if style != "form":
        sent |= {
            "Authorization": tc3.sign(
                t.secret_key,
                secret_id=t.secret_id,
                method=method,
                host=HOST,
                content_type=content_type,
                query=query,
                body=data,
                timestamp=now,
                service="sms",
            ),
            "X-TC-Action": action,
            "X-TC-Version": version,
            "X-TC-Timestamp": str(now),
            "X-TC-Region": "ap-guangzhou",
        }
    sent |= headers or {}
    raw = {k: v.encode("latin-1") for k, v in sent.items()}  # as bytes arrive on the wire
    app.errors.take()  # what an earlier failing example left

    async def go() -> tuple[int, str, bytes]:
        async with app.client() as client:
            r = await client.request(
                method, "/" + (f"?{query}" if query else ""), content=data, headers=raw
            )
            return r.status_code, r.headers.get("content-type", ""), r.content

    status, media, content = app.run(go())
    assert status == 200 and media == "application/json", (status, content[:500])
    response = json.loads(content)["Response"]
    assert isinstance(response.get("RequestId"), str)
    error = response.get("Error")
    if error is not None:
        assert set(response) == {"Error", "RequestId"}
        assert isinstance(error["Code"], str) and isinstance(error["Message"], str)
        assert not error["Code"].startswith("InternalError"), (action, body, error)
    assert app.errors.take() == []
    return response  # type: ignore[no-any-return]


def sent_messages(app: InProcess) -> int:
    return app.query(lambda c: c.execute(select(func.count()).select_from(s.messages)).scalar())


def check(
    app: InProcess, t: Tenant, version: str, action: str, body: dict[str, Any], style: str
) -> None:
    before = sent_messages(app) if action.startswith("Send") else 0
    if version == "2019-07-11":
        body = old_names(action, body)
    response = call(app, t, version, action, body, style)
    if "Error" in response and action.startswith("Send"):
        assert sent_messages(app) == before  # a refused send stores nothing


STYLES = st.sampled_from(["json", "json", "query", "form"])


@pytest.mark.parametrize(("version", "action", "name"), PARAMETERS)
@FEW
@given(value=VALUES | st.just(...), style=STYLES)
def test_any_value_of_one_parameter(
    world: World, version: str, action: str, name: str, value: Any, style: str
) -> None:
    app, t, kept = world
    restore(app, kept)
    body = baseline(t, action, kept)
    if value is ...:
        del body[name]
    else:
        body[name] = value
    check(app, t, version, action, body, style)


@SQLITE_ONLY
@pytest.mark.parametrize(("version", "action"), CASES)
@FEW
@given(data=st.data(), style=STYLES)
def test_any_whole_body(
    world: World, version: str, action: str, data: st.DataObject, style: str
) -> None:
    app, t, kept = world
    restore(app, kept)
    names = [*sorted(baseline(t, action, kept)), "Other"]
    body = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)))
    check(app, t, version, action, body, style)


@SQLITE_ONLY
@pytest.mark.parametrize(("version", "action"), CASES[:1])
@FEW
@given(
    name=st.sampled_from(["X-TC-Timestamp", "X-TC-Action", "X-TC-Version", "Authorization"]),
    value=st.sampled_from(TRICKY) | st.text(st.characters(max_codepoint=255), max_size=30),
)
# Control characters never reach an application: the HTTP parser refuses them.
def test_any_common_header(world: World, version: str, action: str, name: str, value: str) -> None:
    app, t, kept = world
    restore(app, kept)
    assume(not any(c < " " or c == "\x7f" for c in value))
    assume(all(ord(c) < 256 for c in value))  # header bytes are read as Latin-1
    call(app, t, version, action, baseline(t, action, kept), "json", headers={name: value})


@pytest.mark.parametrize(
    ("action", "change", "code"),
    [
        ("SendSms", {"TemplateId": "²"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
        ("SendSms", {"SenderId": "x" * 33}, "InvalidParameterValue"),
        ("DeleteSmsSign", {"SignId": 2**63}, "InvalidParameterValue"),
        ("ModifySmsTemplate", {"TemplateId": "²"}, "InvalidParameter"),
        ("PullSmsSendStatus", {"Limit": "--1"}, "InvalidParameter"),
        ("DescribeSmsSignList", {"SignIdSet": [-1]}, "InvalidParameterValue"),
        ("AddSmsTemplate", {"TemplateName": "名" * 129}, "InvalidParameterValue"),
        ("AddSmsSign", {"Remark": "a\x00b"}, "InvalidParameterValue"),
    ],
)
def test_values_that_answered_internal_error(
    world: World, action: str, change: dict[str, Any], code: str
) -> None:
    app, t, kept = world
    restore(app, kept)
    response = call(app, t, "2021-01-11", action, baseline(t, action, kept) | change, "json")
    assert response["Error"]["Code"] == code


def test_a_timestamp_of_unicode_digits_is_a_parameter_error(
    world: World,
) -> None:
    app, t, kept = world
    restore(app, kept)
    body = baseline(t, "SendSms")
    response = call(app, t, "2021-01-11", "SendSms", body, "json", {"X-TC-Timestamp": "²"})
    assert response["Error"]["Code"] == "InvalidParameter"


@pytest.mark.parametrize("action", ["SendSms", "SendMultiGlobalSms", "ModifySmsTemplate"])
def test_a_baseline_is_accepted_so_examples_reach_the_rules(world: World, action: str) -> None:
    app, t, kept = world
    restore(app, kept)
    assert "Error" not in call(app, t, "2021-01-11", action, baseline(t, action, kept), "json")


@SQLITE_ONLY
def test_a_client_gone_before_its_body_ended_is_no_internal_error(world: World) -> None:
    app = world.app
    arriving = [
        {"type": "http.request", "body": b'{"PhoneNumberSet": [', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/",
        "raw_path": b"/",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", HOST.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"1000"),
        ],
        "client": ("127.0.0.1", 1),
        "server": (HOST, 80),
    }

    async def receive() -> dict[str, Any]:
        return arriving.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app.errors.take()
    app.run(app.app(scope, receive, send))
    error = json.loads(sent[1]["body"])["Response"]["Error"]
    assert error["Code"] == "FailedOperation.FailResolvePacket"
    assert app.errors.take() == []  # a client going away is not a failure of ours
