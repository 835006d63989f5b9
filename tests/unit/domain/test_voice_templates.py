"""Voice templates: lint, rendering, digits read one by one."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_templates import (
    lint_voice_template,
    prompt_matches,
    read_digits_one_by_one,
    render_voice,
)


def test_a_good_template_has_no_findings() -> None:
    assert lint_voice_template("您的订单{1}已发货，请在{2}点前取件") == []


def test_lint_finds_length_and_variable_problems() -> None:
    assert lint_voice_template("  ")
    assert any("350" in f.message for f in lint_voice_template("长" * 351))
    assert lint_voice_template("订单{2}已发货")  # not numbered from {1}
    assert lint_voice_template("订单{1}{2}已发货")  # adjacent
    assert lint_voice_template("{1}")  # variables only


def test_render_reads_digits_in_values_one_by_one_and_keeps_the_templates_numbers() -> None:
    text = render_voice("订单{1}将在5分钟后送达", ["20481"])
    assert text == "订单2，0，4，8，1将在5分钟后送达"


def test_render_refuses_a_wrong_count_an_empty_or_a_long_value() -> None:
    with pytest.raises(RuleViolation) as count:
        render_voice("订单{1}已发货", [])
    assert "1 variable" in count.value.message
    with pytest.raises(RuleViolation):
        render_voice("订单{1}已发货", ["  "])
    with pytest.raises(RuleViolation) as long:
        render_voice("订单{1}已发货", ["x" * 21])
    assert long.value.code == "InvalidParameterValue.ContentLengthLimit"


def test_a_value_holding_a_variable_is_not_substituted_again() -> None:
    assert render_voice("请回复{1}和{2}", ["{2}", "好"]) == "请回复{2}和好"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("123456", "1, 2, 3, 4, 5, 6"),
        ("验证码123456", "验证码1，2，3，4，5，6"),
        ("您的订单 20240501 已发货", "您的订单 2，0，2，4，0，5，0，1 已发货"),
        ("4 3 5 6", "4, 3, 5, 6"),  # spaced by the sender: no pause without commas
        ("1,2,3", "1, 2, 3"),  # a bare comma makes no pause either
        ("1，2，3", "1, 2, 3"),  # no Han: the English separator
        ("号1，2，3", "号1，2，3"),
        ("1, 2, 3", "1, 2, 3"),  # already paused
        ("order 12 and 7", "order 1, 2 and 7"),
        ("7", "7"),
        ("3.50", "3.5, 0"),  # the decimal point stays ("point" in English)
        ("a1b22", "a1b2, 2"),
        ("1  2", "1  2"),  # two spaces: two numbers
        ("", ""),
        ("no digits", "no digits"),
    ],
)
def test_read_digits_one_by_one(text: str, spoken: str) -> None:
    assert read_digits_one_by_one(text) == spoken


def test_digits_one_by_one_with_a_separator() -> None:
    assert read_digits_one_by_one("123", separator="，") == "1，2，3"
    assert read_digits_one_by_one("验证码123", separator=", ") == "验证码1, 2, 3"


@given(st.text(alphabet="0123456789 ,，ab验", max_size=40))
def test_digits_one_by_one_keeps_digits_and_never_leaves_two_together(text: str) -> None:
    spoken = read_digits_one_by_one(text)
    assert [c for c in spoken if c.isdigit()] == [c for c in text if c.isdigit()]
    assert re.search("[0-9][ ,]?[0-9]", spoken) is None  # "，" is a pause, "," is not
    assert read_digits_one_by_one(spoken) == spoken


def test_an_english_template_separates_digits_with_a_comma_and_space() -> None:
    assert render_voice("Order {1} has shipped", ["305"]) == "Order 3, 0, 5 has shipped"


@pytest.mark.parametrize(
    ("content", "prompt", "matches"),
    [
        ("您的订单{1}已发货", "您的订单12345已发货", True),
        ("您的订单{1}已发货", "您的订单已发货", False),  # a variable holds at least one character
        ("您的订单{1}已发货", "您的订单" + "1" * 21 + "已发货", False),  # and at most 20
        ("a.b{1}", "axbc", False),  # the template's own text is literal, dots included
        ("a.b{1}", "a.bc", True),
        ("会议{1}在{2}开始", "会议周会在3点开始", True),
        ("会议{1}在{2}开始", "会议周会在3点开始了", False),
        ("没有变量", "没有变量", True),
    ],
)
def test_a_prompt_matches_its_template_with_variables_filled(
    content: str, prompt: str, matches: bool
) -> None:
    assert prompt_matches(content, prompt) is matches
