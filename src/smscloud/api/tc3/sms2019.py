"""The ``sms`` service, version 2019-07-11, as renames around the 2021-01-11 actions.

The renames are those of Tencent SMS API 2019-07-11 against 2021-01-11, action by action.

Requests are rewritten to the newer field names, answered by the same action, and the output
rewritten to the older shapes, so both versions share one implementation. Errors are rewritten
too: a message names the field as the 2019-07-11 client sent it, and a code introduced in
2021-01-11 becomes its 2019-07-11 twin where there is one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from smscloud.domain.errors import RuleViolation

RENAME_IN: dict[str, dict[str, str]] = {
    "*": {"SmsSdkAppid": "SmsSdkAppId"},
    "SendSms": {"TemplateID": "TemplateId", "Sign": "SignName"},
    "AddSmsSign": {"UsedMethod": "SignPurpose"},
    "ModifySmsSign": {"UsedMethod": "SignPurpose"},
    "PullSmsSendStatusByPhoneNumber": {"SendDateTime": "BeginTime", "EndDateTime": "EndTime"},
    "PullSmsReplyStatusByPhoneNumber": {"SendDateTime": "BeginTime", "EndDateTime": "EndTime"},
    "SendStatusStatistics": {"StartDateTime": "BeginTime", "EndDataTime": "EndTime"},
    "CallbackStatusStatistics": {"StartDateTime": "BeginTime", "EndDataTime": "EndTime"},
}
# Codes of 2021-01-11 whose 2019-07-11 twin names the older field (Tencent SMS API 2019-07-11,
# AddSmsSign and ModifySmsSign: UsedMethod).
ERRORS_OUT: dict[str, str] = {
    "InvalidParameterValue.InvalidSignPurpose": "InvalidParameterValue.InvalidUsedMethod",
}
NOT_IN_2019 = frozenset(
    {"DescribePhoneNumberInfo", "ReportConversion", "SendMultiGlobalSms", "DescribeSendRecordList"}
)


def request(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Rewrite 2019-07-11 parameters to their 2021-01-11 names."""
    if action in NOT_IN_2019:
        raise RuleViolation("InvalidAction", f"The action {action} does not exist in 2019-07-11.")
    renames = RENAME_IN["*"] | RENAME_IN.get(action, {})
    out = {renames.get(k, k): v for k, v in params.items()}
    if action in ("SendStatusStatistics", "CallbackStatusStatistics"):
        for key in ("BeginTime", "EndTime"):
            if isinstance(out.get(key), int):
                out[key] = str(out[key])  # Integer yyyymmddhh in 2019, String in 2021
    if action == "SmsPackagesStatistics":
        # 2019-07-11 has no range: every package. An open range needs no clock (and so no
        # time zone to get wrong).
        out.setdefault("BeginTime", "2000010100")
        out.setdefault("EndTime", "2099123123")
    if action in ("DescribeSmsSignList", "DescribeSmsTemplateList"):
        key = "SignIdSet" if action == "DescribeSmsSignList" else "TemplateIdSet"
        if not out.get(key):
            raise RuleViolation("MissingParameter", f"The request is missing `{key}`.")
    return out


def error(action: str, exc: RuleViolation) -> RuleViolation:
    """Rewrite an error of the 2021-01-11 action into what a 2019-07-11 client expects."""
    message = exc.message
    for old, new in (RENAME_IN["*"] | RENAME_IN.get(action, {})).items():
        message = re.sub(rf"\b{new}\b", old, message)
    return RuleViolation(ERRORS_OUT.get(exc.code, exc.code), message)


def _clock(ts: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def _status_item(it: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "UserReceiveTime": _clock(it["UserReceiveTime"], tz),
        "UserReceiveUnixTime": it["UserReceiveTime"],
        "NationCode": it["CountryCode"],
        # Yes, swapped: 2019's PurePhoneNumber holds +86..., PhoneNumber the national number.
        "PurePhoneNumber": it["PhoneNumber"],
        "PhoneNumber": it["SubscriberNumber"],
        "SerialNo": it["SerialNo"],
        "ReportStatus": it["ReportStatus"],
        "Description": it["Description"],
    }


def _reply_item(it: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "ExtendCode": it["ExtendCode"],
        "NationCode": it["CountryCode"],
        "PhoneNumber": it["PhoneNumber"],
        "Sign": it["SignName"],
        "ReplyContent": it["ReplyContent"],
        "ReplyTime": _clock(it["ReplyTime"], tz),
        "ReplyUnixTime": it["ReplyTime"],
    }


def _package_item(it: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("PackageCreateTime", "PackageEffectiveTime", "PackageExpiredTime"):
        out[name] = _clock(it[name], tz)
        out[name.replace("Time", "UnixTime")] = it[name]
    out.update(
        AmountOfPackage=it["PackageAmount"],
        TypeOfPackage=it["PackageType"],
        PackageId=it["PackageId"],
        CurrentUsage=it["CurrentUsage"],
    )
    return out


def _map_list(key: str, fn: Callable[[dict[str, Any], ZoneInfo], dict[str, Any]]) -> Any:
    def apply(body: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
        body[key] = [fn(it, tz) for it in body[key]]
        return body

    return apply


def _sign_list(body: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    keep = ("SignId", "International", "StatusCode", "ReviewReply", "SignName", "CreateTime")
    body["DescribeSignListStatusSet"] = [
        {k: it[k] for k in keep} for it in body["DescribeSignListStatusSet"]
    ]
    return body


def _template_list(body: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    for it in body["DescribeTemplateStatusSet"]:
        it.pop("TemplateContent", None)
    return body


def _sign_status(key: str, apply_id_type: type) -> Any:
    def apply(body: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
        body[key]["SignApplyId"] = apply_id_type(body[key]["SignId"])
        return body

    return apply


RESPONSE: dict[str, Callable[[dict[str, Any], ZoneInfo], dict[str, Any]]] = {
    "PullSmsSendStatus": _map_list("PullSmsSendStatusSet", _status_item),
    "PullSmsSendStatusByPhoneNumber": _map_list("PullSmsSendStatusSet", _status_item),
    "PullSmsReplyStatus": _map_list("PullSmsReplyStatusSet", _reply_item),
    "PullSmsReplyStatusByPhoneNumber": _map_list("PullSmsReplyStatusSet", _reply_item),
    "SmsPackagesStatistics": _map_list("SmsPackagesStatisticsSet", _package_item),
    "DescribeSmsSignList": _sign_list,
    "DescribeSmsTemplateList": _template_list,
    "AddSmsSign": _sign_status("AddSignStatus", int),
    "ModifySmsSign": _sign_status("ModifySignStatus", str),
}


def response(action: str, body: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Rewrite a 2021-01-11 output into its 2019-07-11 shape."""
    fn = RESPONSE.get(action)
    return fn(body, tz) if fn else body
