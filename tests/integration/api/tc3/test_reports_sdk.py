"""Pulls, records, statistics, replies, conversions, the 2019-07-11 version and global sends."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20190711 import models as models_2019
from tencentcloud.sms.v20210111 import models

from tests.support.live import LiveServer, Tenant

SHANGHAI = ZoneInfo("Asia/Shanghai")


def call(client: Any, action: str, body: dict[str, Any], mod: Any = models) -> Any:
    req = getattr(mod, f"{action}Request")()
    req.from_json_string(json.dumps(body))
    return getattr(client, action)(req)


def send(live: LiveServer, t: Tenant, phones: list[str]) -> list[Any]:
    body = {
        "PhoneNumberSet": phones,
        "SmsSdkAppId": t.sdk_app_id,
        "TemplateId": t.template_id,
        "SignName": t.sign_name,
        "TemplateParamSet": ["1234"],
    }
    return list(call(live.client(t), "SendSms", body).SendStatusSet)


def hours() -> tuple[str, str]:
    now = datetime.now(SHANGHAI)
    return (now - timedelta(hours=1)).strftime("%Y%m%d%H"), now.strftime("%Y%m%d%H")


def test_statistics(server: LiveServer) -> None:
    t = server.tenant(units=50, template="尊敬的客户{1}" + "您好" * 40, sms_type=2)
    ok = send(server, t, ["+8613800138000", "+8613800000001", "+8613800000002", "123"])
    server.wait_final(o.SerialNo for o in ok if o.SerialNo)
    begin, end = hours()
    c = server.client(t)
    body = {
        "BeginTime": begin,
        "EndTime": end,
        "SmsSdkAppId": t.sdk_app_id,
        "Limit": 0,
        "Offset": 0,
    }
    st = call(c, "SendStatusStatistics", body).SendStatusStatistics
    # 3 accepted numbers of a 2-part message; the bad number counts as a request only.
    assert (st.RequestCount, st.RequestSuccessCount, st.FeeCount) == (4, 3, 6)
    cb = call(c, "CallbackStatusStatistics", body).CallbackStatusStatistics
    assert (cb.CallbackCount, cb.CallbackSuccessCount, cb.CallbackFailCount) == (3, 1, 2)
    assert (cb.InvalidNumberCount, cb.ShutdownErrorCount, cb.RequestSuccessCount) == (1, 1, 3)
    pk = call(c, "SmsPackagesStatistics", body | {"Limit": 10}).SmsPackagesStatisticsSet
    assert [(p.PackageAmount, p.CurrentUsage, p.PackageType) for p in pk] == [(50, 6, 0)]
    with pytest.raises(TencentCloudSDKException) as info:
        call(c, "SendStatusStatistics", body | {"BeginTime": end, "EndTime": begin})
    assert info.value.code == "InvalidParameterValue.EndTimeVerifyFail"
    with pytest.raises(TencentCloudSDKException) as info:
        call(c, "SendStatusStatistics", body | {"BeginTime": "2024-01-01"})
    assert info.value.code == "InvalidParameterValue.BeginTimeVerifyFail"


def test_status_by_phone_and_send_records(server: LiveServer) -> None:
    t = server.tenant()
    out = send(server, t, ["+8613800138000"])
    server.wait_final([out[0].SerialNo])
    c = server.client(t)
    now = int(time.time())
    items = call(
        c,
        "PullSmsSendStatusByPhoneNumber",
        {
            "BeginTime": now - 60,
            "EndTime": now + 5,
            "Offset": 0,
            "Limit": 10,
            "PhoneNumber": "+8613800138000",
            "SmsSdkAppId": t.sdk_app_id,
        },
    ).PullSmsSendStatusSet
    assert [(i.SerialNo, i.ReportStatus) for i in items] == [(out[0].SerialNo, "SUCCESS")]
    with pytest.raises(TencentCloudSDKException) as info:
        call(
            c,
            "PullSmsSendStatusByPhoneNumber",
            {
                "BeginTime": now,
                "EndTime": now - 100,
                "Offset": 0,
                "Limit": 10,
                "PhoneNumber": "+8613800138000",
                "SmsSdkAppId": t.sdk_app_id,
            },
        )
    assert info.value.code == "InvalidParameterValue.InvalidStartTime"
    with pytest.raises(TencentCloudSDKException) as info:
        call(c, "PullSmsSendStatus", {"Limit": 101, "SmsSdkAppId": t.sdk_app_id})
    assert info.value.code == "InvalidParameterValue.LimitVerifyFail"

    # Not in this SDK release's models (a newer action): the SDK's generic call reaches it.
    records = c.call_json(
        "DescribeSendRecordList",
        {
            "PhoneNumber": "+8613800138000",
            "SmsSdkAppId": t.sdk_app_id,
            "BeginTime": now - 60,
        },
    )["Response"]
    assert records["TotalCount"] == 1
    rec = records["SendRecordSet"][0]
    assert (rec["SerialNo"], rec["SendStatus"], rec["RequestCode"], rec["StatusCode"]) == (
        out[0].SerialNo,
        2,
        "Ok",
        "DELIVRD",
    )
    # The code is masked, as on Tencent Cloud.
    assert rec["Content"] == "【测试签名】您的验证码是1**4，5分钟内有效。"


def test_replies_pulled_once_and_by_number(server: LiveServer) -> None:
    t = server.tenant()
    out = send(server, t, ["+8613800000007"])  # the sandbox handset that replies
    server.wait_final([out[0].SerialNo])
    c = server.client(t)
    deadline = time.time() + 10
    items: list[Any] = []
    while not items and time.time() < deadline:
        items = call(
            c, "PullSmsReplyStatus", {"Limit": 10, "SmsSdkAppId": t.sdk_app_id}
        ).PullSmsReplyStatusSet
        time.sleep(0.05)
    assert [(i.PhoneNumber, i.ReplyContent, i.SignName, i.CountryCode) for i in items] == [
        ("+8613800000007", "收到", "测试签名", "86")
    ]
    assert (
        call(
            c, "PullSmsReplyStatus", {"Limit": 10, "SmsSdkAppId": t.sdk_app_id}
        ).PullSmsReplyStatusSet
        == []
    )
    now = int(time.time())
    again = call(
        c,
        "PullSmsReplyStatusByPhoneNumber",
        {
            "BeginTime": now - 60,
            "Offset": 0,
            "Limit": 10,
            "PhoneNumber": "+8613800000007",
            "SmsSdkAppId": t.sdk_app_id,
        },
    ).PullSmsReplyStatusSet
    assert [i.ReplyContent for i in again] == ["收到"]


def test_describe_phone_numbers_and_conversion(server: LiveServer) -> None:
    t = server.tenant()
    c = server.client(t)
    info = call(
        c, "DescribePhoneNumberInfo", {"PhoneNumberSet": ["+8618501234444", "+60198890000", "abc"]}
    ).PhoneNumberInfoSet
    assert [(i.Code, i.NationCode, i.SubscriberNumber, i.IsoCode) for i in info] == [
        ("Ok", "86", "18501234444", "CN"),
        ("Ok", "60", "198890000", "MY"),
        ("InvalidParameterValue.IncorrectPhoneNumber", "", "", "DEF"),
    ]
    assert info[0].IsoName == "China"
    serial = send(server, t, ["+8613800138000"])[0].SerialNo
    status = call(
        c,
        "ReportConversion",
        {"SmsSdkAppId": t.sdk_app_id, "SerialNo": serial, "ConversionTime": int(time.time())},
    )
    assert status.ReportConversionStatus.Code == "OK"
    with pytest.raises(TencentCloudSDKException) as exc:
        call(c, "ReportConversion", {"SmsSdkAppId": t.sdk_app_id, "SerialNo": "5000:1"})
    assert exc.value.code == "InvalidParameterValue"


def test_send_multi_global(server: LiveServer) -> None:
    t = server.tenant(template="Your code is {1}", international=1, sign=None)
    c = server.client(t)
    out = call(
        c,
        "SendMultiGlobalSms",
        {
            "SmsSdkAppId": t.sdk_app_id,
            "MultiSmsInfoSet": [
                {
                    "PhoneNumber": "+60198890000",
                    "TemplateId": t.template_id,
                    "TemplateParamSet": ["11"],
                },
                {"PhoneNumber": "+14155550123", "TemplateId": "999999", "TemplateParamSet": ["22"]},
                {
                    "PhoneNumber": "+447911123456",
                    "TemplateId": t.template_id,
                    "TemplateParamSet": [],
                },
                {"PhoneNumber": "+601", "TemplateId": t.template_id, "TemplateParamSet": ["33"]},
            ],
        },
    ).SendMultiStatusSet
    assert [o.Code for o in out] == [
        "Ok",
        "FailedOperation.TemplateIncorrectOrUnapproved",
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
        "InvalidParameterValue.IncorrectPhoneNumber",
    ]
    assert out[0].IsoCode == "MY" and out[0].Fee == 1
    assert (out[3].PhoneNumber, out[3].Fee, out[3].SerialNo) == ("+601", 0, "")
    with pytest.raises(TencentCloudSDKException) as info:
        call(
            c,
            "SendMultiGlobalSms",
            {
                "SmsSdkAppId": t.sdk_app_id,
                "MultiSmsInfoSet": [{"PhoneNumber": "+8613800138000", "TemplateId": t.template_id}],
            },
        )
    assert info.value.code == "UnsupportedOperation.ContainDomesticPhoneNumber"
    with pytest.raises(TencentCloudSDKException) as info:
        call(c, "SendMultiGlobalSms", {"SmsSdkAppId": t.sdk_app_id, "MultiSmsInfoSet": []})
    assert info.value.code == "InvalidParameterValue.MultiSmsInfoSetEmpty"


def test_version_2019_07_11(server: LiveServer) -> None:
    t = server.tenant()
    c = server.client_2019(t)
    out = call(
        c,
        "SendSms",
        {
            "PhoneNumberSet": ["+8613800138000"],
            "SmsSdkAppid": t.sdk_app_id,
            "TemplateID": t.template_id,
            "Sign": t.sign_name,
            "TemplateParamSet": ["1234"],
        },
        models_2019,
    ).SendStatusSet
    assert out[0].Code == "Ok"
    server.wait_final([out[0].SerialNo])
    items = call(
        c, "PullSmsSendStatus", {"Limit": 10, "SmsSdkAppid": t.sdk_app_id}, models_2019
    ).PullSmsSendStatusSet
    item = items[0]
    # 2019-07-11 swaps the names: PurePhoneNumber is E.164, PhoneNumber the national number.
    assert (item.PurePhoneNumber, item.PhoneNumber, item.NationCode) == (
        "+8613800138000",
        "13800138000",
        "86",
    )
    assert item.UserReceiveUnixTime > 0 and len(item.UserReceiveTime) == 19
    templates = call(
        c,
        "DescribeSmsTemplateList",
        {"TemplateIdSet": [int(t.template_id)], "International": 0},
        models_2019,
    )
    assert templates.DescribeTemplateStatusSet[0].StatusCode == 0
    begin, end = hours()
    st = call(
        c,
        "SendStatusStatistics",
        {
            "StartDateTime": int(begin),
            "EndDataTime": int(end),
            "SmsSdkAppid": t.sdk_app_id,
            "Limit": 0,
            "Offset": 0,
        },
        models_2019,
    ).SendStatusStatistics
    assert (st.RequestCount, st.FeeCount) == (1, 1)
    packages = call(
        c,
        "SmsPackagesStatistics",
        {"SmsSdkAppid": t.sdk_app_id, "Limit": 10, "Offset": 0},
        models_2019,
    )
    item = packages.SmsPackagesStatisticsSet[0]
    assert (item.AmountOfPackage, item.CurrentUsage, item.TypeOfPackage) == (1000, 1, 0)
    assert item.PackageCreateUnixTime > 0 and len(item.PackageCreateTime) == 19


def test_failures_of_the_pull_record_and_statistics_actions(server: LiveServer) -> None:
    t = server.tenant()
    other = server.tenant()
    c = server.client(t)
    now = int(time.time())
    begin, end = hours()
    stats = {"SmsSdkAppId": t.sdk_app_id, "Limit": 0, "Offset": 0}
    cases: list[tuple[str, dict[str, Any], str]] = [
        (
            "PullSmsReplyStatus",
            {"Limit": 0, "SmsSdkAppId": t.sdk_app_id},
            "InvalidParameterValue.LimitVerifyFail",
        ),
        (
            "PullSmsReplyStatus",
            {"Limit": 10, "SmsSdkAppId": other.sdk_app_id},
            "UnauthorizedOperation.SmsSdkAppIdVerifyFail",
        ),
        (
            "PullSmsReplyStatusByPhoneNumber",
            {
                "BeginTime": now - 60,
                "Offset": 0,
                "Limit": 10,
                "PhoneNumber": "12",
                "SmsSdkAppId": t.sdk_app_id,
            },
            "InvalidParameterValue.IncorrectPhoneNumber",
        ),
        (
            "CallbackStatusStatistics",
            stats | {"BeginTime": "2024010100", "EndTime": "2024030100"},
            "InvalidParameterValue.EndTimeVerifyFail",
        ),
        (
            "SmsPackagesStatistics",
            stats | {"BeginTime": begin, "EndTime": end, "Limit": 501},
            "InvalidParameterValue.LimitVerifyFail",
        ),
        (
            "SendStatusStatistics",
            stats | {"BeginTime": begin, "EndTime": end, "SmsSdkAppId": "1499999999"},
            "InvalidParameterValue.SdkAppIdNotExist",
        ),
    ]
    for action, body, code in cases:
        with pytest.raises(TencentCloudSDKException) as info:
            call(c, action, body)
        assert info.value.code == code, action
    with pytest.raises(TencentCloudSDKException) as info:
        c.call_json(
            "DescribeSendRecordList",
            {
                "PhoneNumber": "+8613800138000",
                "SmsSdkAppId": t.sdk_app_id,
                "BeginTime": now - 4 * 86400,
            },
        )
    assert info.value.code == "InvalidParameterValue.BeginTimeVerifyFail"  # 72 hours at most
