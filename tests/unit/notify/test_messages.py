from __future__ import annotations

import pytest

from smscloud.notify.mail import Mail
from smscloud.notify.messages import (
    SMS_SEGMENT,
    arrears_notice,
    daily_limit_alarm,
    daily_limit_alarm_sms,
    package_alarm,
    package_alarm_sms,
    review_result,
    review_result_sms,
)

TO = ["ops@example.com", "boss@example.com"]


def _zh_before_en(body: str, zh: str, en: str) -> None:
    assert zh in body and en in body
    assert body.index(zh) < body.index(en)


def test_review_approved_signature() -> None:
    mail = review_result("sign", "腾讯云", True, "", TO)
    assert isinstance(mail, Mail)
    assert mail.to == tuple(TO)
    assert mail.subject == "【smscloud】签名审核通过 / Signature approved: 腾讯云"
    _zh_before_en(mail.body, "“腾讯云”已审核通过", "has been approved")
    assert "原因" not in mail.body and "Reason" not in mail.body


def test_review_rejected_template_carries_reason() -> None:
    mail = review_result("template", "验证码模板", False, "变量格式不规范", ["a@b.cn"])
    assert mail.subject == "【smscloud】模板审核未通过 / Template rejected: 验证码模板"
    _zh_before_en(mail.body, "原因：变量格式不规范", "Reason: 变量格式不规范")
    assert "was rejected" in mail.body


@pytest.mark.parametrize(
    ("kind", "zh"), [("identity", "资质"), ("sign", "签名"), ("template", "模板")]
)
def test_review_kinds(kind: str, zh: str) -> None:
    assert f"{zh}审核通过" in review_result(kind, "n", True, "", TO).subject
    assert f"{zh}审核未通过" in review_result(kind, "n", False, "r", TO).subject
    assert review_result_sms(kind, "n", True, "").startswith(f"您的{zh}“n”")


def test_review_rejected_without_reason_says_so() -> None:
    mail = review_result("identity", "某公司", False, "", TO)
    assert "原因：未说明" in mail.body
    assert "未说明" in review_result_sms("identity", "某公司", False, "")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        review_result("app", "x", True, "", TO)
    with pytest.raises(ValueError, match="kind"):
        review_result_sms("app", "x", True, "")


def test_review_sms_texts() -> None:
    ok = review_result_sms("sign", "腾讯云", True, "")
    assert ok == "您的签名“腾讯云”已审核通过。"
    no = review_result_sms("sign", "腾讯云", False, "签名与企业名称不一致")
    assert no == "您的签名“腾讯云”审核未通过，原因：签名与企业名称不一致。请修改后重新提交。"
    assert not ok.startswith("【") and not no.startswith("【")
    assert len(no) <= SMS_SEGMENT


def test_review_sms_shortens_long_reason_and_name() -> None:
    reason = "签名用途说明与证明材料不一致，" * 10
    text = review_result_sms("template", "很长的模板名称" * 10, False, reason)
    assert len(text) == SMS_SEGMENT
    assert "…" in text and text.endswith("请修改后重新提交。")
    assert "原因：签名用途说明" in text  # the reason keeps most of the room
    approved = review_result_sms("template", "名" * 200, True, "")
    assert len(approved) == SMS_SEGMENT and approved.endswith("…”已审核通过。")


def test_package_alarm() -> None:
    mail = package_alarm("示例科技", 1234, 5000, TO)
    assert mail.subject == "【smscloud】短信套餐包余量不足 / SMS package running low: 1234 left"
    _zh_before_en(mail.body, "示例科技，您好", "Hello 示例科技")
    assert "剩余 1234 条" in mail.body and "告警阈值 5000 条" in mail.body
    assert "1234 messages left" in mail.body and "threshold of 5000" in mail.body
    sms = package_alarm_sms(1234, 5000)
    assert "剩余1234条" in sms and "告警阈值5000条" in sms
    assert len(package_alarm_sms(10**9, 10**9)) <= SMS_SEGMENT


def test_daily_limit_alarm() -> None:
    mail = daily_limit_alarm("会员营销", 100000, TO)
    assert mail.subject == "【smscloud】应用已达日发送上限 / Daily limit reached: 会员营销"
    _zh_before_en(mail.body, "上限 100000 条", "daily limit of 100000")
    sms = daily_limit_alarm_sms("会员营销", 100000)
    assert "“会员营销”" in sms and "上限100000条" in sms and len(sms) <= SMS_SEGMENT
    long = daily_limit_alarm_sms("应用" * 50, 100000)
    assert len(long) == SMS_SEGMENT and "上限100000条" in long


def test_arrears_notice() -> None:
    mail = arrears_notice("示例科技", "2026-10", "1234.50", "2026-11-30", TO)
    assert mail.subject == "【smscloud】2026-10 账单待支付 / Bill for 2026-10 unpaid: ¥1234.50"
    _zh_before_en(mail.body, "¥1234.50 尚未支付", "¥1234.50, is unpaid")
    assert "2026-11-30 前" in mail.body and "by 2026-11-30" in mail.body
    assert mail.body.startswith("示例科技，您好")


def test_mails_are_plain_text_with_footer() -> None:
    for mail in (
        review_result("sign", "x", True, "", TO),
        package_alarm("t", 1, 2, TO),
        daily_limit_alarm("a", 3, TO),
        arrears_notice("t", "2026-10", "1.00", "2026-11-30", TO),
    ):
        assert "请勿直接回复" in mail.body and "do not reply" in mail.body
        assert "\n" not in mail.subject


def test_line_breaks_in_names_do_not_reach_the_subject() -> None:
    mail = review_result("sign", "腾讯云\r\nBcc: evil@example.com", True, "", TO)
    assert (
        mail.subject
        == "【smscloud】签名审核通过 / Signature approved: 腾讯云 Bcc: evil@example.com"
    )
