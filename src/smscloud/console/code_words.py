"""What each Tencent error code means, in the console's two languages.

The API answers with Tencent's codes and English messages, as Tencent does (Tencent SMS API
3.0, error codes). A person in the console reads the meaning in the page's language instead,
with the code beside it, smaller, for the developer who will look it up. A code without its own
words is explained by its family (the part before the first dot).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from markupsafe import Markup

from smscloud.domain import bulk
from smscloud.domain.outcomes import (
    BLACKLIST_CODES,
    FREQUENCY_CODES,
    INVALID_NUMBER_CODES,
    SHUTDOWN_CODES,
)

__all__ = [
    "CODE_WORDS",
    "FAMILY_WORDS",
    "MESSAGE_PATTERNS",
    "MESSAGE_WORDS",
    "RECEIPT_WORDS",
    "explain",
    "explainer",
    "receipt_explainer",
    "receipt_words",
    "refusal",
    "refusal_writer",
]

OK = "Ok"

# code: (zh, en)
CODE_WORDS: dict[str, tuple[str, str]] = {
    OK: ("已受理", "Accepted"),
    # numbers
    "InvalidParameterValue.IncorrectPhoneNumber": (
        "手机号码格式不正确",
        "Not a valid phone number",
    ),
    "MissingParameter.EmptyPhoneNumberSet": ("请填写手机号码", "Enter a phone number"),
    "LimitExceeded.PhoneNumberCountLimit": (
        "一次最多发送 200 个号码",
        "At most 200 numbers can be sent at once",
    ),
    "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber": (
        "国内号码和国际号码不能在同一次发送中",
        "Mainland China and international numbers cannot be sent together",
    ),
    "UnsupportedOperation.ContainDomesticPhoneNumber": (
        "国际短信中不能含有中国大陆号码",
        "An international send cannot include Mainland China numbers",
    ),
    "UnsupportedOperation.UnsupportedRegion": (
        "暂不支持发送到该国家或地区",
        "Messages to this country or region are not supported",
    ),
    "FailedOperation.PhoneNumberInBlacklist": (
        "该号码已退订您的营销短信",
        "This number has unsubscribed from your marketing messages",
    ),
    bulk.DUPLICATE_CODE: ("与前面的行重复", "Repeats an earlier row"),
    bulk.TOO_MANY_CELLS: ("列数过多", "Too many columns"),
    # signatures and templates at send time
    "FailedOperation.SignatureIncorrectOrUnapproved": (
        "签名未审核通过或不存在",
        "The signature is not approved or does not exist",
    ),
    "FailedOperation.TemplateIncorrectOrUnapproved": (
        "模板未审核通过或不存在",
        "The template is not approved or does not exist",
    ),
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": (
        "参数个数与模板不符",
        "The number of parameters does not match the template",
    ),
    "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone": (
        "国内短信模板不能发送到国际号码",
        "A Mainland China template cannot be sent to an international number",
    ),
    "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone": (
        "国际短信模板不能发送到中国大陆号码",
        "An international template cannot be sent to a Mainland China number",
    ),
    "InvalidParameterValue.TemplateParameterFormatError": (
        "验证码模板的参数只能是 0 至 6 位数字",
        "A verification code parameter must be up to 6 digits",
    ),
    "InvalidParameterValue.TemplateParameterLengthLimit": (
        "参数长度超过了本应用的上限",
        "A parameter is longer than this application allows",
    ),
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": (
        "参数中不能含有网址",
        "A parameter may not contain a link",
    ),
    "InvalidParameterValue.ContentLengthLimit": (
        "短信内容超过了长度上限",
        "The message is longer than allowed",
    ),
    "FailedOperation.ContainSensitiveWord": (
        "内容含有不允许的词语",
        "The content contains words that are not allowed",
    ),
    "FailedOperation.MarketingSendTimeConstraint": (
        "营销短信只能在 8:00 至 22:00 之间发送",
        "Marketing messages may only be sent between 08:00 and 22:00",
    ),
    # limits
    "LimitExceeded.PhoneNumberThirtySecondLimit": (
        "30 秒内不能向同一号码重复发送",
        "The same number cannot be sent to twice within 30 seconds",
    ),
    "LimitExceeded.PhoneNumberOneHourLimit": (
        "该号码一小时内收到的短信已达上限",
        "This number has received as many messages as allowed in one hour",
    ),
    "LimitExceeded.PhoneNumberDailyLimit": (
        "该号码今天收到的短信已达上限",
        "This number has received as many messages as allowed today",
    ),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": (
        "该号码今天已收到过相同内容",
        "This number has already received the same message today",
    ),
    "LimitExceeded.DeliveryFrequencyLimit": ("发送过于频繁", "Sending too often"),
    "LimitExceeded.AppDailyLimit": (
        "本应用今天的发送量已达上限",
        "This application has reached its daily limit",
    ),
    "LimitExceeded.DailyLimit": (
        "本应用今天的发送量已达上限",
        "This application has reached its daily limit",
    ),
    "LimitExceeded.AppGlobalDailyLimit": (
        "本应用今天的国际短信发送量已达上限",
        "This application has reached its daily international limit",
    ),
    "LimitExceeded.AppMainlandChinaDailyLimit": (
        "本应用今天的国内短信发送量已达上限",
        "This application has reached its daily Mainland China limit",
    ),
    # the account and its applications
    "FailedOperation.InsufficientBalanceInSmsPackage": (
        "短信套餐包余量不足",
        "Not enough SMS units left in your packages",
    ),
    "FailedOperation.InsufficientBalanceInVoicePackage": (
        "语音套餐包余量不足",
        "Not enough voice units left in your packages",
    ),
    "InvalidParameterValue.SdkAppIdNotExist": ("应用不存在", "The application does not exist"),
    "InvalidParameterValue.SdkAppidNotExist": ("应用不存在", "The application does not exist"),
    "UnauthorizedOperation.SdkAppIdIsDisabled": ("应用已停用", "The application is disabled"),
    "UnauthorizedOperation.SdkAppidIsDisabled": ("应用已停用", "The application is disabled"),
    "UnauthorizedOperation.SmsSdkAppIdVerifyFail": (
        "该应用不属于您的账号",
        "The application does not belong to your account",
    ),
    "UnauthorizedOperation.VoiceSdkAppidVerifyFail": (
        "该应用不属于您的账号",
        "The application does not belong to your account",
    ),
    "UnauthorizedOperation.RequestPermissionDeny": (
        "账号暂不能使用此功能（未完成实名认证、未开通服务或已停用）",
        "The account cannot do this now (not verified, not activated or suspended)",
    ),
    "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny": (
        "个人认证账号不能发送营销短信",
        "Individual accounts cannot send marketing messages",
    ),
    "UnauthorizedOperation.ServiceSuspendDueToArrears": (
        "账单已逾期，服务已暂停，付清后恢复",
        "A bill is overdue: the service is suspended until it is paid",
    ),
    "FailedOperation.NotEnterpriseCertification": (
        "此功能需要企业认证",
        "This needs a verified enterprise account",
    ),
    "FailedOperation.ForbidAddMarketingTemplates": (
        "个人认证账号不能申请营销短信模板",
        "Individual accounts cannot apply for marketing templates",
    ),
    # registry
    "FailedOperation.SignNumberLimit": (
        "签名数量已达上限",
        "You already have as many signatures as allowed",
    ),
    "FailedOperation.TemplateNumberLimit": (
        "模板数量已达上限",
        "You already have as many templates as allowed",
    ),
    "FailedOperation.MissingSignature": ("签名不存在", "The signature does not exist"),
    "FailedOperation.SignIdNotExist": ("签名不存在", "The signature does not exist"),
    "FailedOperation.MissingSignatureToModify": (
        "要修改的签名不存在",
        "The signature to change does not exist",
    ),
    "FailedOperation.MissingTemplateToModify": (
        "要修改的模板不存在",
        "The template to change does not exist",
    ),
    "FailedOperation.TemplateIdNotExist": ("模板不存在", "The template does not exist"),
    "FailedOperation.TemplateUnapprovedOrNotExist": (
        "模板未审核通过或不存在",
        "The template is not approved or does not exist",
    ),
    "FailedOperation.TemplateAlreadyPassedCheck": (
        "已审核通过的模板不能修改",
        "An approved template cannot be changed",
    ),
    "InvalidParameterValue.SignAlreadyPassedCheck": (
        "已审核通过的签名不能修改",
        "An approved signature cannot be changed",
    ),
    "InvalidParameterValue.SignExistAndUnapproved": (
        "同名签名已在审核中",
        "A signature of this name is already under review",
    ),
    "InvalidParameterValue.SignNameLengthTooLong": ("签名过长", "The signature is too long"),
    "InvalidParameterValue.InvalidTemplateFormat": (
        "模板格式不正确",
        "The template is not written correctly",
    ),
    "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe": (
        "营销短信模板须以退订方式结尾（如“拒收请回复R”）",
        'A marketing template must end with how to unsubscribe (e.g. "Reply R to opt out")',
    ),
    "InvalidParameterValue.ImageInvalid": ("图片无效", "The image is not valid"),
    "InvalidParameterValue.InvalidDocumentType": (
        "该证明类型不适用",
        "This document type does not apply",
    ),
    "InvalidParameterValue.InvalidSignPurpose": ("签名用途无效", "Not a valid signature use"),
    "InvalidParameterValue.InvalidSmsType": ("短信类型无效", "Not a valid message type"),
    "InvalidParameterValue.InvalidInternational": (
        "国内/国际选项无效",
        "Not a valid choice of Mainland China or international",
    ),
    "InvalidParameterValue.InvalidUsedMethod": ("使用场景无效", "Not a valid use"),
    "InvalidParameterValue.CalledNumberVerifyFail": (
        "被叫号码不正确",
        "The number to call is not valid",
    ),
    "InvalidParameterValue.InvalidStartTime": ("开始时间无效", "Not a valid start time"),
    "InvalidParameterValue.BeginTimeVerifyFail": ("开始时间无效", "Not a valid start time"),
    "InvalidParameterValue.EndTimeVerifyFail": ("结束时间无效", "Not a valid end time"),
    "InvalidParameterValue.LimitVerifyFail": ("每页条数无效", "Not a valid page size"),
    "InvalidParameterValue.OffsetVerifyFail": ("起始位置无效", "Not a valid offset"),
    "FailedOperation.InvalidParameters": ("参数不正确", "A parameter is not valid"),
}

# Codes that stand for several causes (Tencent answers all of these RequestPermissionDeny):
# the cause is told by the message, so these messages get words of their own.
MESSAGE_WORDS: dict[str, tuple[str, str]] = {
    "The account is suspended.": ("账号已被停用", "The account is suspended"),
    "Identity verification of the account is not complete.": (
        "账号尚未完成实名认证",
        "Identity verification of the account is not complete",
    ),
    "SMS is not activated for the account: activate it in the console.": (
        "账号尚未开通短信服务，请先在概览页开通",
        "SMS is not activated: activate it on the dashboard",
    ),
    # Refusals whose code is only a family (services/tasks, registry, billing).
    "The task was confirmed already.": ("任务已经确认过", "The task was confirmed already"),
    "The task is not in a state that allows this.": (
        "任务当前的状态不允许此操作",
        "The task's state does not allow this",
    ),
    "The list holds no numbers.": ("名单中没有号码", "The list holds no numbers"),
    "ExtendCode must be up to 12 digits.": (
        "扩展码最多 12 位数字",
        "The extend code may be at most 12 digits",
    ),
    "TemplateName must not be empty.": ("请填写模板名称", "Enter the template's name"),
    "The template name must not be empty.": ("请填写模板名称", "Enter the template's name"),
    "units must be positive": ("条数须为正整数", "The number of units must be positive"),
    "the expiry date is in the past": ("有效期已过", "The expiry date is in the past"),
    "the price cannot be negative": ("价格不能为负数", "The price cannot be negative"),
    "the price must be under a billion yuan": (
        "价格须低于十亿元",
        "The price must be under a billion yuan",
    ),
    "The start time must be between now and 30 days ahead.": (
        "开始时间须在现在到 30 天之内",
        "The start time must be between now and 30 days ahead",
    ),
    "SessionContext must be shorter than 512 bytes.": (
        "用户会话内容须短于 512 字节",
        "SessionContext must be shorter than 512 bytes",
    ),
}

# Family-code refusals whose message names an item: the pattern keeps the value ("{0}").
MESSAGE_PATTERNS: dict[re.Pattern[str], tuple[str, str]] = {
    re.compile(r"No [a-z ]+ with id (\d+)\."): (
        "找不到编号为 {0} 的记录",
        "Nothing with id {0} was found",
    ),
    re.compile(r"The [a-z ]+ (\d+) is not waiting for review\."): (
        "编号 {0} 的申请已不在待审核状态（可能已被其他运营人员处理）",
        "Item {0} is no longer waiting for review (another operator may have decided it)",
    ),
    re.compile(r"Bill (\d+) \((\d{4}-\d{2})\) is already paid\."): (
        "账单 {0}（{1}）已付款",
        "Bill {0} ({1}) is already paid",
    ),
    re.compile(r"Order (\d+) is no longer pending\."): (
        "订单 {0} 已不在待确认状态",
        "Order {0} is no longer waiting for confirmation",
    ),
    re.compile(r"package (\d+) has nothing left to refund"): (
        "套餐包 {0} 没有可退的余量",
        "Package {0} has nothing left to refund",
    ),
    re.compile(r"no package (\d+)"): ("找不到套餐包 {0}", "No package {0}"),
    re.compile(r"Order (\d+) is \w+: only a pending order can be paid\."): (
        "订单 {0} 已不在待支付状态，不能再支付",
        "Order {0} is no longer pending and cannot be paid",
    ),
    re.compile(r"Order (\d+) is \w+: only a pending order can be cancelled\."): (
        "订单 {0} 已不在待支付状态，不能取消",
        "Order {0} is no longer pending and cannot be cancelled",
    ),
    re.compile(r"Package offer (\d+) is disabled and cannot be ordered\."): (
        "套餐 {0} 已下架，不能购买",
        "Package offer {0} is withdrawn and cannot be ordered",
    ),
    re.compile(r"Tenant (\d+) is not verified: only verified tenants can order packages\."): (
        "账号尚未完成实名认证，不能购买套餐包",
        "Only a verified account can order packages",
    ),
    re.compile(r"(?:TemplateName|The template name) must be at most (\d+) characters\."): (
        "模板名称最多 {0} 个字",
        "The template's name may be at most {0} characters",
    ),
    re.compile(r"The remark must be at most (\d+) characters\."): (
        "备注最多 {0} 个字",
        "The remark may be at most {0} characters",
    ),
    re.compile(r"SenderId must be at most (\d+) characters\."): (
        "发送方号码最多 {0} 个字符",
        "SenderId may be at most {0} characters",
    ),
    re.compile(r"The speed must be one of ([\d, ]+) numbers a second\."): (
        "发送速度须为每秒 {0} 个号码之一",
        "The speed must be one of {0} numbers a second",
    ),
    re.compile(r"the offer name must be 1 to (\d+) characters"): (
        "套餐名称须为 1 至 {0} 个字",
        "The offer's name must be 1 to {0} characters",
    ),
    re.compile(r"validity_days must be between 1 and (\d+)"): (
        "有效天数须在 1 到 {0} 之间",
        "The validity must be 1 to {0} days",
    ),
    re.compile(r"due days must be >= 0, got (-?\d+)"): (
        "账期天数不能为负数（填写的是 {0}）",
        "Due days must be 0 or more (got {0})",
    ),
}


def _message_words(message: str) -> tuple[str, str] | None:
    """Words of a refusal's message, exact or by pattern (its values filled in)."""
    exact = MESSAGE_WORDS.get(message)
    if exact is not None or not message:
        return exact
    for pattern, (zh, en) in MESSAGE_PATTERNS.items():
        found = pattern.fullmatch(message)
        if found is not None:
            return zh.format(*found.groups()), en.format(*found.groups())
    return None


# The part of a code before its first dot: what any code of that family means.
FAMILY_WORDS: dict[str, tuple[str, str]] = {
    "InvalidParameterValue": ("参数取值不正确", "A value is not valid"),
    "InvalidParameter": ("参数不正确", "A parameter is not valid"),
    "MissingParameter": ("缺少必填参数", "A required value is missing"),
    "FailedOperation": ("操作未能完成", "The operation could not be done"),
    "LimitExceeded": ("超过了限制", "A limit is reached"),
    "UnauthorizedOperation": ("没有执行此操作的权限", "Not allowed"),
    "UnsupportedOperation": ("不支持此操作", "Not supported"),
    "ResourceNotFound": ("找不到该资源", "Not found"),
    "ResourceInUse": ("该资源正在使用中", "In use"),
    "InternalError": ("平台内部错误，请稍后重试", "An internal error: try again later"),
}


# Delivery receipts: carriers' own codes (Tencent SMS docs, receipt status codes), read by what
# they mean for the sender. The groups are those of the receipt statistics
# (CallbackStatusStatistics), so a code reads as the bucket it is counted in.
_INVALID = ("空号或号码不存在", "The number does not exist")
_SHUTDOWN = ("关机、停机或不在服务区", "The phone is off, suspended or out of reach")
_BLACKLIST = ("号码在黑名单中或已退订", "The number is blacklisted or has unsubscribed")
_FREQUENCY = ("超过运营商对该号码的发送上限", "The carrier's limit for this number is reached")
RECEIPT_WORDS: dict[str, tuple[str, str]] = {
    "DELIVRD": ("已送达", "Delivered"),
    "REJECTD": ("被运营商拒绝", "Rejected by the carrier"),
    "UNKNOWN": ("运营商未返回明确结果", "The carrier gave no clear outcome"),
    "NOROUTE": ("运营商路由失败", "The carrier found no route"),
    "TC:0007": ("内容被运营商关键词拦截", "Stopped by the carrier's content filter"),
    "TE:0014": ("运营商人工审核未通过", "Refused by the carrier's review"),
    "TD:0004": ("疑似诈骗，被运营商拦截", "Stopped by the carrier as suspected fraud"),
    "MK:0017": ("手机短信存储已满", "The phone's message memory is full"),
    **dict.fromkeys(INVALID_NUMBER_CODES, _INVALID),
    **dict.fromkeys(SHUTDOWN_CODES, _SHUTDOWN),
    **dict.fromkeys(BLACKLIST_CODES, _BLACKLIST),
    **dict.fromkeys(FREQUENCY_CODES, _FREQUENCY),
}
_OTHER_RECEIPT = ("未送达（运营商代码）", "Not delivered (carrier code)")


def receipt_words(code: str, lang: str) -> str:
    """What a delivery receipt's code means, in ``lang``; unknown carrier codes say only that
    the message was not delivered (the code is shown beside them)."""
    return RECEIPT_WORDS.get(code, _OTHER_RECEIPT)[1 if lang == "en" else 0]


def receipt_explainer(lang: str) -> Callable[[str], str]:
    """``receipt_words`` bound to one page's language, for templates."""
    return lambda code: receipt_words(code, lang)


def explain(code: str, lang: str, message: str = "") -> str:
    """The meaning of ``code`` (answered with ``message``) in ``lang`` ("zh" or "en"); the
    code itself if it has none."""
    index = 1 if lang == "en" else 0
    words = (
        _message_words(message) or CODE_WORDS.get(code) or FAMILY_WORDS.get(code.split(".", 1)[0])
    )
    return words[index] if words else code


def refusal(code: str, message: str, lang: str) -> Markup:
    """A refusal as a form shows it: its words, then its code in small type.

    When the code has only its family's words (an ``InvalidParameterValue`` whose message names
    the field and the rule), the words would not say what to fix, so the message follows
    them, marked as English (``lang="en"``) on a Chinese page.
    """
    words = explain(code, lang, message)
    detail = ""
    if message and _message_words(message) is None and code not in CODE_WORDS:
        mark = ' lang="en"' if lang != "en" else ""
        detail = Markup(' <span class="small"{}>{}</span>').format(Markup(mark), message)
    return Markup('{}{} <code class="muted small">{}</code>').format(words, detail, code)


def refusal_writer(lang: str) -> Callable[..., Markup]:
    """``refusal`` bound to one page's language, for templates: ``refusal(code, message)``."""
    return lambda code, message="": refusal(code, message, lang)


def explainer(lang: str) -> Callable[..., str]:
    """``explain`` bound to one page's language, for templates: ``explain(code[, message])``."""
    return lambda code, message="": explain(code, lang, message)
