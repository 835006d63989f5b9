"""Voice templates: lint, rendering, digits read one by one."""

from __future__ import annotations

import pytest

from smscloud.domain.errors import RuleViolation
from smscloud.domain.voice_templates import (
    lint_voice_template,
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
    assert text == "订单2 0 4 8 1将在5分钟后送达"


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


def test_digit_runs() -> None:
    assert read_digits_one_by_one("A12b3") == "A1 2b3"
    assert read_digits_one_by_one("no digits") == "no digits"
