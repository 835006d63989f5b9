from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from smscloud.api.tc3 import sms2019
from smscloud.domain.errors import RuleViolation
from smscloud.services.statistics import hour_range, parse_hour

SH = ZoneInfo("Asia/Shanghai")


def test_hours_are_read_in_the_platform_time_zone() -> None:
    # 2024-05-01 13:00 in Shanghai is 05:00 UTC.
    assert parse_hour("2024050113", SH, code="X") == 1714539600
    start, stop = hour_range("2024050113", "2024050113", SH)
    assert stop - start == 3600  # a range includes the whole end hour


@pytest.mark.parametrize(
    ("begin", "end", "code"),
    [
        ("2024-05-01", "2024050113", "InvalidParameterValue.BeginTimeVerifyFail"),
        ("2024050113", "20240501", "InvalidParameterValue.EndTimeVerifyFail"),
        ("2024050113", "2024050112", "InvalidParameterValue.EndTimeVerifyFail"),
        ("2024023000", "2024050112", "InvalidParameterValue.BeginTimeVerifyFail"),
    ],
)
def test_bad_ranges(begin: str, end: str, code: str) -> None:
    with pytest.raises(RuleViolation) as info:
        hour_range(begin, end, SH)
    assert info.value.code == code


def test_callback_statistics_span_at_most_32_days() -> None:
    hour_range("2024010100", "2024020200", SH, max_days=32)
    with pytest.raises(RuleViolation):
        hour_range("2024010100", "2024020300", SH, max_days=32)


def test_2019_names_are_rewritten_both_ways() -> None:
    req = sms2019.request("SendSms", {"SmsSdkAppid": "1400", "TemplateID": "7", "Sign": "S"})
    assert req == {"SmsSdkAppId": "1400", "TemplateId": "7", "SignName": "S"}
    stats = sms2019.request(
        "SendStatusStatistics", {"StartDateTime": 2024050100, "EndDataTime": 2024050123}
    )
    assert (stats["BeginTime"], stats["EndTime"]) == ("2024050100", "2024050123")
    with pytest.raises(RuleViolation) as info:
        sms2019.request("DescribeSmsSignList", {"International": 0})
    assert info.value.code == "MissingParameter"
    with pytest.raises(RuleViolation) as info:
        sms2019.request("ReportConversion", {})
    assert info.value.code == "InvalidAction"
    item = {
        "UserReceiveTime": 1714539600,
        "CountryCode": "86",
        "SubscriberNumber": "138",
        "PhoneNumber": "+86138",
        "SerialNo": "s",
        "ReportStatus": "SUCCESS",
        "Description": "DELIVRD",
        "SessionContext": "",
    }
    out = sms2019.response("PullSmsSendStatus", {"PullSmsSendStatusSet": [item]}, SH)
    assert out["PullSmsSendStatusSet"][0] == {
        "UserReceiveTime": "2024-05-01 13:00:00",
        "UserReceiveUnixTime": 1714539600,
        "NationCode": "86",
        "PurePhoneNumber": "+86138",
        "PhoneNumber": "138",
        "SerialNo": "s",
        "ReportStatus": "SUCCESS",
        "Description": "DELIVRD",
    }
