"""Service results written in API 3.0's field names, in the order Tencent's answers list them.

The services return typed results; this module alone knows what Tencent calls each field, so
the wire format does not depend on how a service orders or names its own fields.
"""

from __future__ import annotations

from typing import Any

from smscloud.services.registry import RegisteredSign, RegisteredTemplate
from smscloud.services.reports import Reply, SendRecord, StatusReport
from smscloud.services.statistics import CallbackCounts, PackageUsage, SendCounts


def status_report(r: StatusReport) -> dict[str, Any]:
    """Tencent SMS API 3.0, PullSmsSendStatus: one PullSmsSendStatus item."""
    return {
        "UserReceiveTime": r.received_at,
        "CountryCode": r.nation_code,
        "SubscriberNumber": r.subscriber,
        "PhoneNumber": r.phone,
        "SerialNo": r.serial_no,
        "ReportStatus": "SUCCESS" if r.delivered else "FAIL",
        "Description": r.description,
        "SessionContext": r.session_context,
    }


def reply(r: Reply) -> dict[str, Any]:
    """Tencent SMS API 3.0, PullSmsReplyStatus: one PullSmsReplyStatus item."""
    return {
        "ExtendCode": r.extend_code,
        "CountryCode": r.nation_code,
        "PhoneNumber": r.phone,
        "SignName": r.sign_name,
        "ReplyContent": r.content,
        "ReplyTime": r.replied_at,
        "SubscriberNumber": r.subscriber,
    }


def send_record(r: SendRecord) -> dict[str, Any]:
    """Tencent SMS API 3.0, DescribeSendRecordList: one SendRecord item."""
    return {
        "PhoneNumber": r.phone,
        "SerialNo": r.serial_no,
        "SendStatus": r.send_status,
        "RequestCode": r.request_code,
        "StatusCode": r.status_code,
        "IsoCode": r.iso_code,
        "Content": r.content,
        "SendTime": r.sent_at,
        "UserReceiveTime": r.received_at,
    }


def sign(r: RegisteredSign) -> dict[str, Any]:
    """Tencent SMS API 3.0, DescribeSmsSignList: one DescribeSignListStatus item."""
    return {
        "SignId": r.id,
        "International": r.international,
        "StatusCode": r.status,
        "ReviewReply": r.review_reply,
        "SignName": r.name,
        "CreateTime": int(r.created_at),
        "QualificationId": r.qualification_id,
        "QualificationName": "",
        "QualificationStatusCode": 1 if r.qualification_id else 0,
    }


def template(r: RegisteredTemplate) -> dict[str, Any]:
    """Tencent SMS API 3.0, DescribeSmsTemplateList: one DescribeTemplateListStatus item."""
    return {
        "TemplateId": r.id,
        "International": r.international,
        "StatusCode": r.status,
        "ReviewReply": r.review_reply,
        "TemplateName": r.name,
        "CreateTime": int(r.created_at),
        "TemplateContent": r.content,
    }


def send_counts(c: SendCounts) -> dict[str, int]:
    """Tencent SMS API 3.0, SendStatusStatistics: the SendStatusStatistics object."""
    return {"FeeCount": c.fee, "RequestCount": c.requests, "RequestSuccessCount": c.accepted}


def callback_counts(c: CallbackCounts) -> dict[str, int]:
    """Tencent SMS API 3.0, CallbackStatusStatistics: the CallbackStatusStatistics object."""
    return {
        "CallbackCount": c.receipts,
        "RequestSuccessCount": c.accepted,
        "CallbackFailCount": c.failed,
        "CallbackSuccessCount": c.delivered,
        "InternalErrorCount": c.internal_errors,
        "InvalidNumberCount": c.invalid_numbers,
        "ShutdownErrorCount": c.shutdowns,
        "BlackListCount": c.blacklisted,
        "FrequencyLimitCount": c.frequency_limited,
    }


def package_usage(p: PackageUsage) -> dict[str, int]:
    """Tencent SMS API 3.0, SmsPackagesStatistics: one SmsPackagesStatistics item."""
    return {
        "PackageCreateTime": p.created_at,
        "PackageEffectiveTime": p.effective_at,
        "PackageExpiredTime": p.expires_at,
        "PackageAmount": p.amount,
        "PackageType": p.package_type,
        "PackageId": p.id,
        "CurrentUsage": p.used,
    }
