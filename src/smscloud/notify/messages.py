"""The texts of notifications, bilingual (Chinese first, then English).

Pure functions: e-mails come back as ``Mail``; SMS texts as plain strings without a
signature prefix (the sender adds its own ``【签名】``), kept within 70 characters —
one SMS segment — by shortening the free-text parts (names, reasons) when needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from smscloud.notify.mail import Mail

__all__ = [
    "SMS_SEGMENT",
    "arrears_notice",
    "arrears_notice_sms",
    "contact_code",
    "contact_code_sms",
    "daily_limit_alarm",
    "daily_limit_alarm_sms",
    "overdue_notice",
    "overdue_notice_sms",
    "package_alarm",
    "package_alarm_sms",
    "review_result",
    "review_result_sms",
]

SMS_SEGMENT = 70
"""Characters in one UCS-2 SMS segment."""

_PRODUCT = "smscloud"
_TAG = f"【{_PRODUCT}】"
_FOOTER = (
    f"\n\n——\n此邮件由 {_PRODUCT} 自动发送，请勿直接回复。\n"
    f"This message was sent automatically by {_PRODUCT}; please do not reply."
)

# kind -> (Chinese, English)
_KINDS: dict[str, tuple[str, str]] = {
    "identity": ("资质", "Identity"),
    "sign": ("签名", "Signature"),
    "template": ("模板", "Template"),
    "voice_template": ("语音模板", "Voice template"),
    "voice_file": ("语音文件", "Voice file"),
}


def _kind(kind: str) -> tuple[str, str]:
    try:
        return _KINDS[kind]
    except KeyError:
        raise ValueError(f"kind must be one of {sorted(_KINDS)}, got {kind!r}") from None


def _shorten(text: str, budget: int) -> str:
    """``text`` cut to ``budget`` characters, ending with an ellipsis when cut."""
    if len(text) <= budget:
        return text
    return text[: max(budget - 1, 0)] + "…"


def _mail(to: Sequence[str], subject: str, body: str) -> Mail:
    # Names come from tenants: a line break in one must not break (or inject) a header.
    return Mail(to=tuple(to), subject=" ".join(subject.split()), body=body + _FOOTER)


def review_result(kind: str, name: str, approved: bool, reason: str, to: Sequence[str]) -> Mail:
    """The outcome of a review of an identity (资质), a signature, a template, a voice
    template or an uploaded voice file."""
    zh, en = _kind(kind)
    if approved:
        subject = f"{_TAG}{zh}审核通过 / {en} approved: {name}"
        body = (
            f"您好，\n\n您提交的{zh}“{name}”已审核通过，现在可以使用。\n\n"
            f"Hello,\n\nYour {en.lower()} “{name}” has been approved and can be used now."
        )
    else:
        why_zh = reason or "未说明"
        why_en = reason or "not given"
        subject = f"{_TAG}{zh}审核未通过 / {en} rejected: {name}"
        body = (
            f"您好，\n\n您提交的{zh}“{name}”未通过审核。\n原因：{why_zh}\n"
            f"请按原因修改后重新提交。\n\n"
            f"Hello,\n\nYour {en.lower()} “{name}” was rejected.\nReason: {why_en}\n"
            f"Please correct it and submit it again."
        )
    return _mail(to, subject, body)


def review_result_sms(kind: str, name: str, approved: bool, reason: str) -> str:
    zh, _ = _kind(kind)
    if approved:
        template = "您的{zh}“{name}”已审核通过。"
        fixed = len(template.format(zh=zh, name=""))
        return template.format(zh=zh, name=_shorten(name, SMS_SEGMENT - fixed))
    template = "您的{zh}“{name}”审核未通过，原因：{reason}。请修改后重新提交。"
    fixed = len(template.format(zh=zh, name="", reason=""))
    name = _shorten(name, min(len(name), 20, SMS_SEGMENT - fixed - 4))
    reason = _shorten(reason or "未说明", SMS_SEGMENT - fixed - len(name))
    return template.format(zh=zh, name=name, reason=reason)


def package_alarm(tenant_name: str, remaining: int, threshold: int, to: Sequence[str]) -> Mail:
    """The tenant's SMS packages are running low."""
    subject = f"{_TAG}短信套餐包余量不足 / SMS package running low: {remaining} left"
    body = (
        f"{tenant_name}，您好：\n\n您的短信套餐包剩余 {remaining} 条，已低于告警阈值 "
        f"{threshold} 条。余量用尽后短信将无法发送，请及时购买套餐包。\n\n"
        f"Hello {tenant_name},\n\nYour SMS packages have {remaining} messages left, below "
        f"the alarm threshold of {threshold}. Sending stops when they run out; "
        f"please buy a new package in time."
    )
    return _mail(to, subject, body)


def package_alarm_sms(remaining: int, threshold: int) -> str:
    return (
        f"您的短信套餐包剩余{remaining}条，已低于告警阈值{threshold}条，"
        f"用尽后将无法发送，请及时购买。"
    )


def daily_limit_alarm(app_name: str, limit: int, to: Sequence[str]) -> Mail:
    """An application reached its daily sending limit."""
    subject = f"{_TAG}应用已达日发送上限 / Daily limit reached: {app_name}"
    body = (
        f"您好，\n\n应用“{app_name}”今日发送量已达上限 {limit} 条，今日后续短信将被拒绝，"
        f"次日零点恢复。如需提高上限，请在控制台调整。\n\n"
        f"Hello,\n\nThe application “{app_name}” has reached its daily limit of {limit} "
        f"messages. Further messages are rejected until midnight; the limit can be raised "
        f"in the console."
    )
    return _mail(to, subject, body)


def daily_limit_alarm_sms(app_name: str, limit: int) -> str:
    template = "应用“{name}”今日发送量已达上限{limit}条，后续短信将被拒绝，可在控制台调整。"
    fixed = len(template.format(name="", limit=limit))
    return template.format(name=_shorten(app_name, SMS_SEGMENT - fixed), limit=limit)


def arrears_notice(
    tenant_name: str, month: str, amount_yuan: str, due: str, to: Sequence[str]
) -> Mail:
    """A monthly bill is unpaid. ``amount_yuan`` is already formatted (e.g. ``"1234.50"``)."""
    subject = f"{_TAG}{month} 账单待支付 / Bill for {month} unpaid: ¥{amount_yuan}"
    body = (
        f"{tenant_name}，您好：\n\n您 {month} 的短信账单金额 ¥{amount_yuan} 尚未支付，"
        f"请于 {due} 前完成支付，逾期可能暂停发送服务。\n\n"
        f"Hello {tenant_name},\n\nYour SMS bill for {month}, ¥{amount_yuan}, is unpaid. "
        f"Please pay it by {due}; after that, sending may be suspended."
    )
    return _mail(to, subject, body)


def contact_code(code: str, minutes: int, to: Sequence[str]) -> Mail:
    """The code that confirms an address as a notification contact."""
    subject = f"{_TAG}通知联系人验证码 / Notification contact code: {code}"
    body = (
        f"您好，\n\n此邮箱被添加为 {_PRODUCT} 账号的通知联系人。"
        f"验证码：{code}，{minutes} 分钟内有效。如非本人操作，请忽略此邮件。\n\n"
        f"Hello,\n\nThis address was added as a notification contact of an {_PRODUCT} account. "
        f"Code: {code}, valid for {minutes} minutes. If you did not expect this, ignore it."
    )
    return _mail(to, subject, body)


def contact_code_sms(code: str, minutes: int) -> str:
    return f"您被添加为通知联系人，验证码{code}，{minutes}分钟内有效。如非本人操作请忽略。"


def arrears_notice_sms(month: str, amount_yuan: str, due: str) -> str:
    return f"您{month}的短信账单¥{amount_yuan}待支付，请于{due}前支付，逾期可能暂停发送。"


def overdue_notice(
    tenant_name: str, month: str, amount_yuan: str, due: str, to: Sequence[str]
) -> Mail:
    """A monthly bill is past its due date: sending is suspended until it is paid."""
    subject = f"{_TAG}{month} 账单已逾期 / Bill for {month} overdue: ¥{amount_yuan}"
    body = (
        f"{tenant_name}，您好：\n\n您 {month} 的短信账单金额 ¥{amount_yuan} 已于 {due} 到期，"
        f"至今未支付，发送服务已暂停。支付后即恢复。\n\n"
        f"Hello {tenant_name},\n\nYour SMS bill for {month}, ¥{amount_yuan}, was due by {due} "
        f"and is still unpaid: sending is suspended until it is paid."
    )
    return _mail(to, subject, body)


def overdue_notice_sms(month: str, amount_yuan: str) -> str:
    return f"您{month}的短信账单¥{amount_yuan}已逾期未付，发送服务已暂停，支付后即恢复。"
