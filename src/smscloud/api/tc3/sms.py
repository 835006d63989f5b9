"""The ``sms`` service, version 2021-01-11: one function per action (Tencent SMS API 3.0).

Each action reads its parameters through :class:`Params`, calls a service and shapes the
output exactly as each action's Tencent document gives its fields (names, types, integer versus
string ids).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from smscloud.api.tc3 import shapes
from smscloud.api.tc3.params import Params
from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import describe_phone
from smscloud.services.registry import DELETE_STATUS, SignApplication, TemplateApplication
from smscloud.services.sending.accept import Candidate
from smscloud.services.sending.sms import SendRequest

if TYPE_CHECKING:
    from smscloud.platform import Platform

T = TypeVar("T")
Handler = Callable[["Platform", int, Params, str], Awaitable[dict[str, Any]]]
ACTIONS: dict[str, Handler] = {}


def action(fn: Handler) -> Handler:
    ACTIONS[fn.__name__] = fn
    return fn


def _status(c: Candidate, session_context: str) -> dict[str, Any]:
    return {
        "SerialNo": c.serial_no,
        "PhoneNumber": c.phone,
        "Fee": c.fee,
        "SessionContext": session_context,
        "Code": c.code,
        "Message": c.message,
        "IsoCode": c.iso_code or ("" if c.code != "Ok" else "DEF"),
    }


@action
async def SendSms(p: Platform, tenant_id: int, a: Params, request_id: str) -> dict[str, Any]:  # noqa: N802
    req = SendRequest(
        tenant_id=tenant_id,
        sdk_app_id=a.text("SmsSdkAppId", required=True),
        phones=a.texts("PhoneNumberSet", required=True),
        template_id=a.text("TemplateId", required=True),
        sign_name=a.text("SignName"),
        params=a.texts("TemplateParamSet"),
        session_context=a.text("SessionContext"),
        extend_code=a.text("ExtendCode"),
        sender_id=a.text("SenderId"),
    )
    _, outcomes = await p.sender.send(req, request_id)
    return {"SendStatusSet": [_status(c, req.session_context) for c in outcomes]}


@action
async def SendMultiGlobalSms(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, request_id: str
) -> dict[str, Any]:
    app_id = a.text("SmsSdkAppId", required=True)
    items = a.objects("MultiSmsInfoSet", required=True)
    if not items:
        raise RuleViolation(
            "InvalidParameterValue.MultiSmsInfoSetEmpty", "MultiSmsInfoSet is empty."
        )
    if len(items) > 200:
        raise RuleViolation(
            "LimitExceeded.PhoneNumberCountLimit", "At most 200 items may be sent in one request."
        )
    reqs = [
        SendRequest(
            tenant_id=tenant_id,
            sdk_app_id=app_id,
            phones=[it.text("PhoneNumber", required=True)],
            template_id=it.text("TemplateId", required=True),
            params=it.texts("TemplateParamSet"),
            session_context=it.text("SessionContext"),
            sender_id=it.text("SenderId"),
        )
        for it in items
    ]
    for r in reqs:
        ph = describe_phone(r.phones[0])
        if ph is not None and ph.mainland:
            raise RuleViolation(
                "UnsupportedOperation.ContainDomesticPhoneNumber",
                "SendMultiGlobalSms only sends to international numbers.",
            )

    async def one(r: SendRequest) -> dict[str, Any]:
        try:
            _, out = await p.sender.send(r, request_id)
            return _status(out[0], r.session_context)
        except RuleViolation as exc:  # per item, as the other items may be fine
            return {
                "SerialNo": "",
                "PhoneNumber": r.phones[0],
                "Fee": 0,
                "SessionContext": r.session_context,
                "Code": exc.code,
                "Message": exc.message,
                "IsoCode": "",
            }

    # Concurrent so that every item lands in the same group commit.
    results = await asyncio.gather(*(one(r) for r in reqs))
    return {"SendMultiStatusSet": list(results)}


async def _app_id(p: Platform, tenant_id: int, a: Params) -> int:
    app = await p.sender.owned_app(tenant_id, a.text("SmsSdkAppId", required=True))
    return app.id


@action
async def PullSmsSendStatus(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    app_id = await _app_id(p, tenant_id, a)
    items = await p.reports.pull_status(app_id, a.integer("Limit", required=True))
    return {"PullSmsSendStatusSet": [shapes.status_report(r) for r in items]}


ByPhone = Callable[[int, str, int, int | None, int, int], Awaitable[list[T]]]


async def _by_phone(p: Platform, tenant_id: int, a: Params, fetch: ByPhone[T]) -> list[T]:
    """The shared parameters of the two ``...ByPhoneNumber`` pulls."""
    app_id = await _app_id(p, tenant_id, a)
    return await fetch(
        app_id,
        _e164(a.text("PhoneNumber", required=True)),
        a.integer("BeginTime", required=True),
        a.integer("EndTime") or None,
        a.integer("Limit", required=True),
        a.integer("Offset", required=True),
    )


@action
async def PullSmsSendStatusByPhoneNumber(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    items = await _by_phone(p, tenant_id, a, p.reports.status_by_phone)
    return {"PullSmsSendStatusSet": [shapes.status_report(r) for r in items]}


@action
async def PullSmsReplyStatus(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    app_id = await _app_id(p, tenant_id, a)
    items = await p.reports.pull_replies(app_id, a.integer("Limit", required=True))
    return {"PullSmsReplyStatusSet": [shapes.reply(r) for r in items]}


@action
async def PullSmsReplyStatusByPhoneNumber(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    items = await _by_phone(p, tenant_id, a, p.reports.replies_by_phone)
    return {"PullSmsReplyStatusSet": [shapes.reply(r) for r in items]}


@action
async def DescribeSendRecordList(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    app_id = await _app_id(p, tenant_id, a)
    phone = _e164(a.text("PhoneNumber", required=True))
    total, items = await p.reports.send_records(
        app_id,
        phone,
        a.integer("BeginTime", required=True),
        a.integer("EndTime") or None,
        a.integer("Limit", default=20),
        a.integer("Offset", default=0),
    )
    return {"SendRecordSet": [shapes.send_record(r) for r in items], "TotalCount": total}


def _e164(raw: str) -> str:
    ph = describe_phone(raw)
    if ph is None:
        raise RuleViolation(
            "InvalidParameterValue.IncorrectPhoneNumber", f"`{raw}` is not a valid phone number."
        )
    return ph.e164


def _sign_application(a: Params) -> SignApplication:
    return SignApplication(
        name=a.text("SignName", required=True),
        sign_type=a.integer("SignType", required=True),
        document_type=a.integer("DocumentType", required=True),
        international=a.integer("International", required=True),
        purpose=a.integer("SignPurpose", required=True),
        proof_image=a.text("ProofImage", required=True),
        commission_image=a.text("CommissionImage"),
        remark=a.text("Remark"),
        qualification_id=a.integer("QualificationId"),
    )


@action
async def AddSmsSign(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    sign_id = await p.registry.add_sign(tenant_id, _sign_application(a))
    return {"AddSignStatus": {"SignId": sign_id}}


@action
async def ModifySmsSign(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    sign_id = a.integer("SignId", required=True)
    await p.registry.modify_sign(tenant_id, sign_id, _sign_application(a))
    return {"ModifySignStatus": {"SignId": sign_id}}


@action
async def DeleteSmsSign(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    at = await p.registry.delete_sign(tenant_id, a.integer("SignId", required=True))
    return {"DeleteSignStatus": {"DeleteStatus": DELETE_STATUS, "DeleteTime": int(at)}}


@action
async def DescribeSmsSignList(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    rows = await p.registry.describe_signs(
        tenant_id,
        international=a.integer("International", required=True),
        ids=a.integers("SignIdSet"),
        limit=a.integer("Limit", default=10),
        offset=a.integer("Offset", default=0),
    )
    return {"DescribeSignListStatusSet": [shapes.sign(r) for r in rows]}


def _template_application(a: Params) -> TemplateApplication:
    return TemplateApplication(
        name=a.text("TemplateName", required=True),
        content=a.text("TemplateContent", required=True),
        sms_type=a.integer("SmsType", required=True),
        international=a.integer("International", required=True),
        remark=a.text("Remark", required=True),
    )


@action
async def AddSmsTemplate(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    tid = await p.registry.add_template(tenant_id, _template_application(a))
    # A string here; ModifySmsTemplate, DescribeSmsTemplateList and DeleteSmsTemplate use integers.
    return {"AddTemplateStatus": {"TemplateId": str(tid)}}


@action
async def ModifySmsTemplate(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    tid = a.integer("TemplateId", required=True)
    await p.registry.modify_template(tenant_id, tid, _template_application(a))
    return {"ModifyTemplateStatus": {"TemplateId": tid}}  # an integer here


@action
async def DeleteSmsTemplate(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    at = await p.registry.delete_template(tenant_id, a.integer("TemplateId", required=True))
    return {"DeleteTemplateStatus": {"DeleteStatus": DELETE_STATUS, "DeleteTime": int(at)}}


@action
async def DescribeSmsTemplateList(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    rows = await p.registry.describe_templates(
        tenant_id,
        international=a.integer("International", required=True),
        ids=a.integers("TemplateIdSet"),
        limit=a.integer("Limit", default=10),
        offset=a.integer("Offset", default=0),
    )
    return {"DescribeTemplateStatusSet": [shapes.template(r) for r in rows]}


@action
async def SendStatusStatistics(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    app_id = await _app_id(p, tenant_id, a)
    a.integer("Limit", required=True)
    a.integer("Offset", required=True)
    stats = await p.statistics.send_statistics(
        app_id, a.text("BeginTime", required=True), a.text("EndTime", required=True)
    )
    return {"SendStatusStatistics": shapes.send_counts(stats)}


@action
async def CallbackStatusStatistics(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    app_id = await _app_id(p, tenant_id, a)
    a.integer("Limit", required=True)
    a.integer("Offset", required=True)
    stats = await p.statistics.callback_statistics(
        app_id, a.text("BeginTime", required=True), a.text("EndTime", required=True)
    )
    return {"CallbackStatusStatistics": shapes.callback_counts(stats)}


@action
async def SmsPackagesStatistics(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    await _app_id(p, tenant_id, a)
    items = await p.statistics.package_statistics(
        tenant_id,
        a.text("BeginTime", required=True),
        a.text("EndTime", required=True),
        a.integer("Limit", required=True),
        a.integer("Offset", required=True),
    )
    return {"SmsPackagesStatisticsSet": [shapes.package_usage(r) for r in items]}


@action
async def DescribePhoneNumberInfo(  # noqa: N802
    p: Platform, tenant_id: int, a: Params, _: str
) -> dict[str, Any]:
    numbers = a.texts("PhoneNumberSet", required=True)
    if not numbers:
        raise RuleViolation("MissingParameter.EmptyPhoneNumberSet", "PhoneNumberSet is empty.")
    if len(numbers) > 200:
        raise RuleViolation("LimitExceeded.PhoneNumberCountLimit", "At most 200 numbers.")
    out = []
    for raw in numbers:
        ph = describe_phone(raw)
        if ph is None:
            out.append(
                {
                    "Code": "InvalidParameterValue.IncorrectPhoneNumber",
                    "Message": "incorrect phone number",
                    "NationCode": "",
                    "SubscriberNumber": "",
                    "PhoneNumber": raw,
                    "IsoCode": "DEF",
                    "IsoName": "",
                }
            )
        else:
            out.append(
                {
                    "Code": "Ok",
                    "Message": "Describe success",
                    "NationCode": ph.nation_code,
                    "SubscriberNumber": ph.subscriber,
                    "PhoneNumber": ph.e164,
                    "IsoCode": ph.iso_code,
                    "IsoName": ph.iso_name,
                }
            )
    return {"PhoneNumberInfoSet": out}


@action
async def ReportConversion(p: Platform, tenant_id: int, a: Params, _: str) -> dict[str, Any]:  # noqa: N802
    app_id = await _app_id(p, tenant_id, a)
    at = a.integer("ConversionTime") or None
    if at is not None and at > p.clock() + 300:
        raise RuleViolation("InvalidParameterValue", "ConversionTime is in the future.")
    await p.reports.report_conversion(app_id, a.text("SerialNo", required=True), at)
    return {"ReportConversionStatus": {"Code": "OK", "Message": "success"}}
