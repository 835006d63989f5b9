"""SendSms through the official Tencent SDK against a live server, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.sms.v20210111 import models

from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.clocks import SHANGHAI, ManualClock
from tests.support.live import LiveServer, Tenant, approved_template

SERIAL = re.compile(r"^5000:\d{28}$")


def send(
    live: LiveServer, t: Tenant, phones: list[str], params: list[str] | None = None, **extra: object
) -> list[models.SendStatus]:
    req = models.SendSmsRequest()
    body: dict[str, object] = {
        "PhoneNumberSet": phones,
        "SmsSdkAppId": t.sdk_app_id,
        "TemplateId": t.template_id,
        "SignName": t.sign_name,
        "TemplateParamSet": ["123456"] if params is None else params,
    }
    body.update(extra)
    req.from_json_string(json.dumps(body))
    return list(live.client(t).SendSms(req).SendStatusSet)


def sdk_error(fn: object, *args: object) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


def package_used(live: LiveServer, t: Tenant) -> int:
    p = s.packages
    return int(
        live.query(lambda c: c.execute(select(p.c.used).where(p.c.tenant_id == t.id)).scalar_one())
    )


def test_send_is_accepted_billed_delivered_and_pulled_once(server: LiveServer) -> None:
    t = server.tenant()
    out = send(server, t, ["+8613800138000", "13800138001"], SessionContext="ctx-1")
    assert [o.Code for o in out] == ["Ok", "Ok"]
    assert [o.PhoneNumber for o in out] == ["+8613800138000", "+8613800138001"]
    assert all(SERIAL.match(o.SerialNo) for o in out)
    assert [o.Fee for o in out] == [1, 1]
    assert {o.IsoCode for o in out} == {"CN"}
    assert {o.Message for o in out} == {"send success"}
    assert {o.SessionContext for o in out} == {"ctx-1"}
    assert package_used(server, t) == 2

    states = server.wait_final(o.SerialNo for o in out)
    assert set(states.values()) == {"DELIVERED"}

    pull = models.PullSmsSendStatusRequest()
    pull.from_json_string(json.dumps({"SmsSdkAppId": t.sdk_app_id, "Limit": 100}))
    items = server.client(t).PullSmsSendStatus(pull).PullSmsSendStatusSet
    assert sorted(i.SerialNo for i in items) == sorted(o.SerialNo for o in out)
    first = next(i for i in items if i.SerialNo == out[0].SerialNo)
    assert (first.ReportStatus, first.Description, first.CountryCode) == (
        "SUCCESS",
        "DELIVRD",
        "86",
    )
    assert (first.SubscriberNumber, first.PhoneNumber) == ("13800138000", "+8613800138000")
    assert first.SessionContext == "ctx-1" and first.UserReceiveTime > 0
    # Queue semantics: each report is returned once.
    assert server.client(t).PullSmsSendStatus(pull).PullSmsSendStatusSet == []


def test_long_message_bills_parts(server: LiveServer) -> None:
    t = server.tenant(template="尊敬的客户{1}" + "您好" * 70, sms_type=2)
    out = send(server, t, ["+8613800138000"], ["张三"])
    # 【测试签名】(6) + 尊敬的客户(5) + 张三(2) + 140 = 153 chars -> ceil(153/67) = 3 parts.
    assert out[0].Fee == 3
    assert package_used(server, t) == 3


def test_per_number_errors_leave_the_others_sent(server: LiveServer) -> None:
    t = server.tenant()
    out = send(server, t, ["+8613800138000", "12345", "+86138001380"])
    assert [o.Code for o in out] == [
        "Ok",
        "InvalidParameterValue.IncorrectPhoneNumber",
        "InvalidParameterValue.IncorrectPhoneNumber",
    ]
    assert [o.Fee for o in out] == [1, 0, 0]
    assert out[1].SerialNo == "" and out[1].PhoneNumber == "12345"
    assert package_used(server, t) == 1


def test_wrong_parameter_count_is_per_number(server: LiveServer) -> None:
    t = server.tenant()
    out = send(server, t, ["+8613800138000"], ["1", "2"])
    assert out[0].Code == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    assert (out[0].Fee, out[0].SerialNo) == (0, "")
    out = send(server, t, ["+8613800138000"], ["12a"])
    assert out[0].Code == "InvalidParameterValue.TemplateParameterFormatError"
    assert package_used(server, t) == 0


def test_frequency_limits_per_number(server: LiveServer) -> None:
    t = server.tenant(template="您的验证码是{1}。", freq_hour=5)  # an hourly limit chosen
    assert send(server, t, ["+8613800138000"], ["1"])[0].Code == "Ok"
    again = send(server, t, ["+8613800138000", "+8613800138009"], ["1"])
    assert [o.Code for o in again] == ["LimitExceeded.PhoneNumberThirtySecondLimit", "Ok"]
    for code in ("2", "3", "4", "5"):
        assert send(server, t, ["+8613800138000"], [code])[0].Code == "Ok"
    sixth = send(server, t, ["+8613800138000"], ["6"])[0]
    assert sixth.Code == "LimitExceeded.PhoneNumberOneHourLimit"
    assert package_used(server, t) == 6


def test_default_frequency_policy_is_tencents(daytime_server: LiveServer) -> None:
    # Tencent SMS docs, frequency limits: once per 30 s for the same content and 10 per natural
    # day; no hourly limit.
    live = daytime_server
    t = live.tenant(template="您的验证码是{1}。")
    codes = [send(live, t, ["+8613800138000"], [str(i)])[0].Code for i in range(10)]
    assert codes == ["Ok"] * 10
    again = send(live, t, ["+8613800138000", "+8613800138001"], ["9"])
    assert [o.Code for o in again] == ["LimitExceeded.PhoneNumberThirtySecondLimit", "Ok"]
    eleventh = send(live, t, ["+8613800138000"], ["10"])[0]
    assert eleventh.Code == "LimitExceeded.PhoneNumberDailyLimit"
    assert package_used(live, t) == 11


def test_frequency_limits_can_be_switched_off(server: LiveServer) -> None:
    t = server.tenant(freq_30s=None, freq_hour=None, freq_day=None)
    codes = [send(server, t, ["+8613800138000"])[0].Code for _ in range(12)]
    assert codes == ["Ok"] * 12


def test_a_malformed_number_is_answered_as_one_whatever_the_region(server: LiveServer) -> None:
    # No number readable: the template says the region, so no rule of the other region (a
    # mainland signature here) answers for the number.
    intl = server.tenant(template="Your code is {1}", international=1, sign=None)
    out = send(server, intl, ["+601"], ["1234"], SignName="")
    assert [(o.Code, o.Fee, o.SerialNo) for o in out] == [
        ("InvalidParameterValue.IncorrectPhoneNumber", 0, "")
    ]
    mainland = server.tenant()
    out = send(server, mainland, ["123"])
    assert [o.Code for o in out] == ["InvalidParameterValue.IncorrectPhoneNumber"]
    assert package_used(server, mainland) == 0


def test_insufficient_package_refuses_the_excess_per_number(server: LiveServer) -> None:
    t = server.tenant(units=3)
    phones = [f"+861380013800{i}" for i in range(5)]
    out = send(server, t, phones)
    assert [o.Code for o in out] == ["Ok"] * 3 + [
        "FailedOperation.InsufficientBalanceInSmsPackage"
    ] * 2
    assert package_used(server, t) == 3
    assert send(server, t, ["+8613800138099"])[0].Code == (
        "FailedOperation.InsufficientBalanceInSmsPackage"
    )


def test_request_level_errors(server: LiveServer) -> None:
    t = server.tenant()
    c = server.client(t)

    def call(**body: object) -> str:
        base: dict[str, object] = {
            "PhoneNumberSet": ["+8613800138000"],
            "SmsSdkAppId": t.sdk_app_id,
            "TemplateId": t.template_id,
            "SignName": t.sign_name,
            "TemplateParamSet": ["1234"],
        }
        base.update(body)
        req = models.SendSmsRequest()
        req.from_json_string(json.dumps(base))
        return sdk_error(c.SendSms, req).code

    assert call(PhoneNumberSet=[f"+86138{i:08d}" for i in range(201)]) == (
        "LimitExceeded.PhoneNumberCountLimit"
    )
    assert call(PhoneNumberSet=[]) == "MissingParameter.EmptyPhoneNumberSet"
    assert call(PhoneNumberSet=["+8613800138000", "+60198890000"]) == (
        "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber"
    )
    assert call(TemplateId="999999") == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert call(SignName="别人的签名") == "FailedOperation.SignatureIncorrectOrUnapproved"
    assert call(SmsSdkAppId="1499999999") == "InvalidParameterValue.SdkAppIdNotExist"
    other = server.tenant()
    assert call(SmsSdkAppId=other.sdk_app_id) == "UnauthorizedOperation.SmsSdkAppIdVerifyFail"
    assert call(TemplateId=other.template_id) == "FailedOperation.TemplateIncorrectOrUnapproved"
    pending = server.admin(lambda conn: approved_template(conn, t.id, "待审{1}"))
    server.admin(
        lambda conn: conn.execute(
            s.templates.update().where(s.templates.c.id == pending).values(status=1)
        )
    )
    assert call(TemplateId=str(pending)) == "FailedOperation.TemplateIncorrectOrUnapproved"
    assert package_used(server, t) == 0


def test_marketing_is_sent_only_from_eight_to_ten_at_night(
    tmp_path: Path, database_url: str
) -> None:
    # Tencent SMS docs, body template review standards: marketing SMS only 08:00-22:00 Beijing
    # time, read from the platform's clock.
    clock = ManualClock(datetime(2026, 3, 2, 7, 59, 59, tzinfo=SHANGHAI))
    with LiveServer(make_settings(tmp_path, database_url), clock=clock) as live:
        t = live.tenant(template="新品上市{1}，拒收请回复R", sms_type=1)
        codes = []
        for number, at in enumerate(["07:59:59", "08:00:00", "21:59:59", "22:00:00", "23:30:00"]):
            clock.now = datetime.fromisoformat(f"2026-03-02T{at}+08:00").timestamp()
            codes.append(send(live, t, [f"+86138001380{number:02d}"], ["A"])[0].Code)
        late = "FailedOperation.MarketingSendTimeConstraint"
        assert codes == [late, "Ok", "Ok", late, late]
        # Notifications and codes are not marketing: they go at night too.
        code = live.tenant(template="您的验证码是{1}。")
        assert send(live, code, ["+8613800138000"], ["1"])[0].Code == "Ok"


def test_individual_may_not_send_marketing(server: LiveServer) -> None:
    t = server.tenant(account_type="individual", template="新品上市{1}，拒收请回复R", sms_type=1)
    err = sdk_error(lambda: send(server, t, ["+8613800138000"], ["A"]))
    assert err.code == "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny"


def test_sandbox_failures_end_in_their_states_and_refund_only_unsent(server: LiveServer) -> None:
    t = server.tenant(units=10)
    phones = ["+8613800000001", "+8613800000002", "+8613800000003", "+8613800000005"]
    out = send(server, t, phones)
    assert [o.Code for o in out] == ["Ok"] * 4
    states = server.wait_final(o.SerialNo for o in out)
    assert [states[o.SerialNo] for o in out] == ["UNDELIVERED", "EXPIRED", "REJECTED", "REJECTED"]
    # Refused at submission (never taken by the carrier) is refunded; a failed receipt is not.
    assert package_used(server, t) == 3


def test_international_send_is_postpaid(server: LiveServer) -> None:
    t = server.tenant(template="Your code is {1}", international=1, sign="Acme")
    out = send(server, t, ["+60198890000", "+14155550123"], ["1234"])
    assert [o.Code for o in out] == ["Ok", "Ok"]
    assert [o.IsoCode for o in out] == ["MY", "US"]
    assert package_used(server, t) == 0  # international SMS is not drawn from packages
    err = sdk_error(lambda: send(server, t, ["+8613800138000"], ["1"]))
    assert err.code == "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone"


def test_unverified_tenants_cannot_send(server: LiveServer) -> None:
    t = server.tenant(verified=False)
    err = sdk_error(lambda: send(server, t, ["+8613800138000"]))
    assert err.code == "UnauthorizedOperation.RequestPermissionDeny"
    assert "verification" in err.message


def test_tenants_that_did_not_activate_sms_cannot_send(server: LiveServer) -> None:
    t = server.tenant()
    tenants = s.tenants
    server.admin(
        lambda c: c.execute(update(tenants).where(tenants.c.id == t.id).values(sms_active=False))
    )
    server.platform.catalog.forget("tenant", t.id)
    err = sdk_error(lambda: send(server, t, ["+8613800138000"]))
    assert err.code == "UnauthorizedOperation.RequestPermissionDeny"
    assert "not activated" in err.message
