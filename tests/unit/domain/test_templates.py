"""Template lint, rendering and composition (Tencent SMS docs: body template review standards)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import (
    MARKETING_UNSUBSCRIBE_SUFFIX,
    SmsType,
    compose,
    lint_template,
    mask_rendered,
    mask_value,
    param_problems,
    render,
    variable_indexes,
)

FORMAT = "InvalidParameterValue.InvalidTemplateFormat"
NO_UNSUBSCRIBE = "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe"
MISMATCH = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
PARAM_FORMAT = "InvalidParameterValue.TemplateParameterFormatError"
URL_PARAM = "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"
PARAM_LENGTH = "InvalidParameterValue.TemplateParameterLengthLimit"

M, N, V = SmsType.MARKETING, SmsType.NOTIFICATION, SmsType.VERIFICATION


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("a{1}b{2}", [1, 2]),
        ("您的验证码是{1}", [1]),
        ("no variables", []),
        ("{2} then {1} then {2}", [2, 1, 2]),
        ("{10}{0}{01}{a}{ 1 }", [10]),
    ],
)
def test_variable_indexes(content: str, expected: list[int]) -> None:
    assert variable_indexes(content) == expected


@pytest.mark.parametrize(
    ("content", "sms_type", "international"),
    [
        ("您的验证码是{1}，请于{2}分钟内填写。", V, False),  # AddSmsTemplate example, extended
        ("您的验证码是{1}", V, False),
        ("尊敬的{1}，您的订单{2}已发货。", N, False),
        ("会员日全场五折，详情见 https://example.com/sale 拒收请回复R", M, False),
        ("会员日全场五折" + MARKETING_UNSUBSCRIBE_SUFFIX + "。 ", M, False),  # trailing punct.
        ("Your code is {1}.In 5 minutes it expires.", V, True),
        ("Big sale this weekend! Reply STOP to unsubscribe", M, True),
        ("Big sale this weekend! 拒收请回复R", M, True),
        ("订单{1}已发货，第{2}件", N, False),
        ("go_on ID:D1 10:30", N, False),  # look-alikes that are not emoticons
        ("备注:(可选){1}", N, False),
        ("到账{1}元，余额{2}元", N, False),
        ("中" * 500, N, False),
    ],
)
def test_acceptable_templates(content: str, sms_type: SmsType, international: bool) -> None:
    assert lint_template(content, sms_type, international=international) == []


@pytest.mark.parametrize(
    ("content", "sms_type", "international", "codes"),
    [
        ("", N, False, [FORMAT]),
        ("   ", N, False, [FORMAT]),
        ("中" * 501, N, False, [FORMAT]),
        ("a" * 2001, N, True, [FORMAT]),
        # Variables start at 1 and are consecutive.
        ("验证码{0}", V, False, [FORMAT]),
        ("验证码{2}", V, False, [FORMAT]),
        ("订单{1}金额{3}", N, False, [FORMAT]),
        # Adjacent variables are rejected; here the template is also variables only.
        ("订单{1}{2}", N, False, [FORMAT]),
        ("{1}{2}", N, False, [FORMAT, FORMAT]),
        ("{1}", N, False, [FORMAT]),
        ("{1}，{2}。", N, False, [FORMAT]),
        # Malformed braces.
        ("验证码{1", V, False, [FORMAT]),
        ("验证码1}", V, False, [FORMAT]),
        ("验证码{a}", V, False, [FORMAT]),
        ("验证码{01}", V, False, [FORMAT]),
        # No variable inside a link.
        ("请访问www.{1}.com查看", N, False, [FORMAT]),
        ("详情 https://example.com/order?id={1} 查看", N, False, [FORMAT]),
        ("详情 t.cn/{1} 查看", N, False, [FORMAT]),
        ("Visit {1}.com now", N, True, [FORMAT]),
        # Forbidden characters and keyboard emoticons.
        ("【腾讯云】验证码{1}", V, False, [FORMAT]),
        ("价格¥{1}", N, False, [FORMAT]),
        ("★会员★{1}", N, False, [FORMAT]),
        ("点击☞查看{1}", N, False, [FORMAT]),
        ("已完成✓{1}", N, False, [FORMAT]),
        ("正确√{1}", N, False, [FORMAT]),
        ("※注意{1}", N, False, [FORMAT]),
        ("谢谢^_^{1}", N, False, [FORMAT]),
        ("谢谢^^{1}", N, False, [FORMAT]),
        ("Thanks :) {1}", N, True, [FORMAT]),
        ("Oh no T_T {1}", N, True, [FORMAT]),
        # Marketing opt-out text.
        ("会员日全场五折", M, False, [NO_UNSUBSCRIBE]),
        ("会员日全场五折，回T退订", M, False, [NO_UNSUBSCRIBE]),
        ("拒收请回复R，会员日全场五折", M, False, [NO_UNSUBSCRIBE]),
        ("Big sale this weekend!", M, True, [NO_UNSUBSCRIBE]),
        ("Big sale! Reply STOPPED", M, True, [NO_UNSUBSCRIBE]),
        ("Big sale! Reply STOP", M, False, [NO_UNSUBSCRIBE]),  # mainland needs the suffix
        ("★大促★{1}{2}", M, False, [FORMAT, FORMAT, NO_UNSUBSCRIBE]),
    ],
)
def test_rejected_templates(
    content: str, sms_type: SmsType, international: bool, codes: list[str]
) -> None:
    findings = lint_template(content, sms_type, international=international)
    assert [finding.code for finding in findings] == codes
    assert all(finding.message for finding in findings)


def test_notification_template_without_opt_out_is_fine() -> None:
    assert lint_template("您的订单已发货", N, international=False) == []


@pytest.mark.parametrize(
    ("content", "params", "sms_type", "expected"),
    [
        ("您的验证码是{1}", ["123456"], V, "您的验证码是123456"),
        ("您的验证码是{1}", [""], V, "您的验证码是"),
        ("a{1}b{2}", ["x", "y"], N, "axby"),
        ("{2} then {1} then {2}", ["one", "two"], N, "two then one then two"),
        ("no variables", [], N, "no variables"),
        # Single pass: a value containing "{2}" is not substituted again.
        ("a{1}b{2}", ["{2}", "y"], N, "a{2}by"),
        ("a{1}b{2}", ["{1}", "{2}"], N, "a{1}b{2}"),
    ],
)
def test_render(content: str, params: list[str], sms_type: SmsType, expected: str) -> None:
    assert render(content, params, sms_type=sms_type, max_param_length=None) == expected


@pytest.mark.parametrize(
    ("content", "params", "sms_type", "max_length", "code"),
    [
        # Param count differs from the template's variables.
        ("a{1}b{2}", ["x"], N, None, MISMATCH),
        ("a{1}b{2}", ["x", "y", "z"], N, None, MISMATCH),
        ("no variables", ["x"], N, None, MISMATCH),
        # Verification value "12345a" or 7 digits.
        ("验证码{1}", ["12345a"], V, None, PARAM_FORMAT),
        ("验证码{1}", ["1234567"], V, None, PARAM_FORMAT),
        ("验证码{1}", ["１２３４"], V, None, PARAM_FORMAT),  # full-width digits
        ("验证码{1}", [" 1234"], V, None, PARAM_FORMAT),
        # URL inside a variable value.
        ("订单{1}", ["https://evil.example/x"], N, None, URL_PARAM),
        ("订单{1}", ["www.example.org"], N, None, URL_PARAM),
        ("订单{1}", ["t.cn/A6x"], N, None, URL_PARAM),
        ("订单{1}", ["see example.com"], M, None, URL_PARAM),
        # Length per value (older individual rule 12; new accounts 6).
        ("订单{1}", ["1234567890123"], N, 12, PARAM_LENGTH),
        ("订单{1}", ["张三丰先生您好啊"], N, 6, PARAM_LENGTH),
    ],
)
def test_render_rejects(
    content: str, params: list[str], sms_type: SmsType, max_length: int | None, code: str
) -> None:
    with pytest.raises(RuleViolation) as caught:
        render(content, params, sms_type=sms_type, max_param_length=max_length)
    assert caught.value.code == code


def test_mismatch_message_matches_tencent() -> None:
    with pytest.raises(RuleViolation) as caught:
        render("a{1}", [], sms_type=N, max_param_length=None)
    assert caught.value.message == "request content does not match the template content"


def test_param_length_limits() -> None:
    assert render("订单{1}", ["1" * 12], sms_type=N, max_param_length=12) == "订单" + "1" * 12
    # Verification values follow their own 0-6 digit rule, not max_param_length.
    assert render("码{1}", ["123456"], sms_type=V, max_param_length=2) == "码123456"
    # Values that merely contain a dot are not links.
    assert render("金额{1}元", ["3.50"], sms_type=N, max_param_length=None) == "金额3.50元"


@pytest.mark.parametrize(
    ("sign", "international", "expected"),
    [
        ("腾讯云", False, "【腾讯云】您的验证码是1234"),
        ("Tencent Cloud", True, "[Tencent Cloud]您的验证码是1234"),
        (None, True, "您的验证码是1234"),
        ("", True, "您的验证码是1234"),
    ],
)
def test_compose(sign: str | None, international: bool, expected: str) -> None:
    assert compose(sign, "您的验证码是1234", international=international) == expected


# Without "." and ":" no value can look like a link, so only substitution is tested.
@given(
    params=st.lists(
        st.text(alphabet=st.characters(exclude_characters=".:"), max_size=20),
        min_size=3,
        max_size=3,
    )
)
def test_render_substitutes_exactly_once(params: list[str]) -> None:
    content = "<{1}|{2}|{3}|{1}>"
    rendered = render(content, params, sms_type=N, max_param_length=None)
    assert rendered == f"<{params[0]}|{params[1]}|{params[2]}|{params[0]}>"


@given(code=st.from_regex(r"[0-9]{0,6}", fullmatch=True))
def test_any_short_digit_code_renders(code: str) -> None:
    assert render("验证码{1}", [code], sms_type=V, max_param_length=None) == "验证码" + code


@given(count=st.integers(min_value=1, max_value=12))
def test_consecutive_variables_separated_by_text_lint_clean(count: int) -> None:
    content = "，".join(f"第{i}项{{{i}}}" for i in range(1, count + 1))
    assert lint_template(content, N, international=False) == []
    assert variable_indexes(content) == list(range(1, count + 1))


# -- masking values in send records (Tencent SMS API 3.0, DescribeSendRecordList) ----------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("", ""),
        ("7", "7"),
        ("42", "4*"),
        ("123", "1*3"),
        ("012340", "0****0"),
        ("张三先生", "张**生"),
    ],
)
def test_mask_value_keeps_only_the_ends(value: str, masked: str) -> None:
    assert mask_value(value) == masked


@pytest.mark.parametrize(
    ("text", "template", "expected"),
    [
        # DescribeSendRecordList's example: the code is masked, the template's own text is not.
        (
            "【腾讯云通信】您的验证码为012340，5分钟内有效。",
            "您的验证码为{1}，5分钟内有效。",
            "【腾讯云通信】您的验证码为0****0，5分钟内有效。",
        ),
        ("[Acme]Your code is 4321", "Your code is {1}", "[Acme]Your code is 4**1"),
        ("Your code is 4321", "Your code is {1}", "Your code is 4**1"),
        ("【签】码123456，再次：123456", "码{1}，再次：{1}", "【签】码1****6，再次：1****6"),
        ("【签】不是这个模板 2024", "码{1}", "【签】不是这个模板 ****"),
    ],
)
def test_mask_rendered(text: str, template: str, expected: str) -> None:
    assert mask_rendered(text, template) == expected


@given(
    params=st.lists(st.text(alphabet="1234567a.:/ w", max_size=9), min_size=1, max_size=4),
    sms_type=st.sampled_from(list(SmsType)),
    limit=st.one_of(st.none(), st.integers(1, 8)),
)
def test_param_problems_are_what_render_refuses_every_one_at_once(
    params: list[str], sms_type: SmsType, limit: int | None
) -> None:
    content = "".join(f"{{{i}}}" for i in range(1, len(params) + 1))
    problems = param_problems(params, sms_type=sms_type, max_param_length=limit)
    for position, value in enumerate(params, start=1):
        alone = param_problems([value], sms_type=sms_type, max_param_length=limit)
        # Each position is judged on its own value: one bad value never hides another.
        assert (position in problems) == bool(alone)
        if alone:
            assert problems[position].code == alone[1].code
    try:
        render(content, params, sms_type=sms_type, max_param_length=limit)
    except RuleViolation as e:
        first = problems[min(problems)]
        assert (e.code, e.message) == (first.code, first.message)
    else:
        assert problems == {}


def test_param_problems_name_each_bad_position() -> None:
    problems = param_problems(["12a", "123456", "x" * 9], sms_type=V, max_param_length=None)
    assert sorted(problems) == [1, 3]
    assert all(
        p.code == "InvalidParameterValue.TemplateParameterFormatError" for p in problems.values()
    )
    problems = param_problems(["a.cn/x", "ok", "long!"], sms_type=N, max_param_length=4)
    assert {k: p.code for k, p in problems.items()} == {
        1: "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        3: "InvalidParameterValue.TemplateParameterLengthLimit",
    }
