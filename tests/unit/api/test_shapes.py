"""Service results written in the APIs' field names: exact names, order and values."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from smscloud.api.tc3 import shapes as tc3
from smscloud.api.v5 import shapes as v5
from smscloud.services.registry import RegisteredSign, RegisteredTemplate
from smscloud.services.reports import Reply, SendRecord, StatusReport
from smscloud.services.statistics import CallbackCounts, PackageUsage, SendCounts

TZ = ZoneInfo("Asia/Shanghai")
REPORT = StatusReport(
    received_at=1700000000,
    nation_code="86",
    subscriber="13800000000",
    phone="+8613800000000",
    serial_no="2433:1",
    delivered=False,
    description="UNDELIV",
    session_context="ctx",
)
REPLY = Reply(
    extend_code="12",
    nation_code="86",
    phone="+8613800000000",
    subscriber="13800000000",
    sign_name="Acme",
    content="TD",
    replied_at=1700000001,
)


def test_status_report_in_api_3_order() -> None:
    assert list(tc3.status_report(REPORT).items()) == [
        ("UserReceiveTime", 1700000000),
        ("CountryCode", "86"),
        ("SubscriberNumber", "13800000000"),
        ("PhoneNumber", "+8613800000000"),
        ("SerialNo", "2433:1"),
        ("ReportStatus", "FAIL"),
        ("Description", "UNDELIV"),
        ("SessionContext", "ctx"),
    ]


def test_reply_in_api_3_order() -> None:
    assert list(tc3.reply(REPLY).items()) == [
        ("ExtendCode", "12"),
        ("CountryCode", "86"),
        ("PhoneNumber", "+8613800000000"),
        ("SignName", "Acme"),
        ("ReplyContent", "TD"),
        ("ReplyTime", 1700000001),
        ("SubscriberNumber", "13800000000"),
    ]


def test_send_record_in_api_3_order() -> None:
    record = SendRecord(
        phone="+8613800000000",
        serial_no="2433:1",
        send_status=2,
        request_code="Ok",
        status_code="DELIVRD",
        iso_code="CN",
        content="【Acme】code ****",
        sent_at=1700000000,
        received_at=1700000005,
    )
    assert list(tc3.send_record(record)) == [
        "PhoneNumber",
        "SerialNo",
        "SendStatus",
        "RequestCode",
        "StatusCode",
        "IsoCode",
        "Content",
        "SendTime",
        "UserReceiveTime",
    ]
    assert tc3.send_record(record)["UserReceiveTime"] == 1700000005


def test_sign_and_template_times_are_whole_seconds() -> None:
    sign = RegisteredSign(
        id=7,
        name="Acme",
        international=0,
        status=1,
        review_reply="",
        created_at=1700000000.75,
        reviewed_at=None,
        qualification_id=3,
    )
    assert tc3.sign(sign) == {
        "SignId": 7,
        "International": 0,
        "StatusCode": 1,
        "ReviewReply": "",
        "SignName": "Acme",
        "CreateTime": 1700000000,
        "QualificationId": 3,
        "QualificationName": "",
        "QualificationStatusCode": 1,
    }
    template = RegisteredTemplate(
        id=9,
        name="login",
        content="Your code is {1}",
        sms_type=3,
        international=1,
        status=-1,
        review_reply="unclear",
        created_at=1700000000.5,
        reviewed_at=1700000100.0,
    )
    assert list(tc3.template(template).items()) == [
        ("TemplateId", 9),
        ("International", 1),
        ("StatusCode", -1),
        ("ReviewReply", "unclear"),
        ("TemplateName", "login"),
        ("CreateTime", 1700000000),
        ("TemplateContent", "Your code is {1}"),
    ]


def test_statistics_under_both_apis_names() -> None:
    sent = SendCounts(fee=5, requests=4, accepted=3)
    assert list(tc3.send_counts(sent).items()) == [
        ("FeeCount", 5),
        ("RequestCount", 4),
        ("RequestSuccessCount", 3),
    ]
    assert v5.send_counts(sent) == {"bill_number": 5, "request": 4, "success": 3}
    counts = CallbackCounts(
        receipts=20,
        accepted=30,
        failed=9,
        delivered=11,
        internal_errors=1,
        invalid_numbers=2,
        shutdowns=3,
        blacklisted=2,
        frequency_limited=1,
    )
    assert list(tc3.callback_counts(counts).items()) == [
        ("CallbackCount", 20),
        ("RequestSuccessCount", 30),
        ("CallbackFailCount", 9),
        ("CallbackSuccessCount", 11),
        ("InternalErrorCount", 1),
        ("InvalidNumberCount", 2),
        ("ShutdownErrorCount", 3),
        ("BlackListCount", 2),
        ("FrequencyLimitCount", 1),
    ]
    assert v5.callback_counts(counts) == {
        "success": 30,
        "status": 20,
        "status_success": 11,
        "status_fail": 9,
        "status_fail_0": 1,
        "status_fail_1": 2,
        "status_fail_2": 3,
        "status_fail_3": 2,
        "status_fail_4": 1,
    }


def test_package_usage_in_api_3_order() -> None:
    usage = PackageUsage(
        created_at=1, effective_at=2, expires_at=3, amount=100, package_type=0, id=4, used=5
    )
    assert list(tc3.package_usage(usage).items()) == [
        ("PackageCreateTime", 1),
        ("PackageEffectiveTime", 2),
        ("PackageExpiredTime", 3),
        ("PackageAmount", 100),
        ("PackageType", 0),
        ("PackageId", 4),
        ("CurrentUsage", 5),
    ]


def test_v5_pulls_read_like_the_callbacks() -> None:
    assert v5.status_report(REPORT, TZ) == {
        "user_receive_time": "2023-11-15 06:13:20",
        "nationcode": "86",
        "mobile": "13800000000",
        "report_status": "FAIL",
        "errmsg": "UNDELIV",
        "description": "空号、停机或关机",
        "sid": "2433:1",
    }
    never = StatusReport(0, "", "+60198890000", "+60198890000", "s", True, "DELIVRD", "")
    assert v5.status_report(never, TZ)["user_receive_time"] == ""
    assert v5.status_report(never, TZ)["report_status"] == "SUCCESS"
    assert v5.reply(REPLY) == {
        "extend": "12",
        "mobile": "13800000000",
        "nationcode": "86",
        "sign": "Acme",
        "text": "TD",
        "time": 1700000001,
    }
