"""Every finding the SMS template lint can give has words in both languages."""

from __future__ import annotations

import re

import pytest

from smscloud.console.lint_words import lint_words
from smscloud.domain.templates import SmsType, lint_template

CJK = re.compile(r"[\u4e00-\u9fff]")
# Templates that between them make every finding lint_template gives.
BAD = [
    ("长" * 600, SmsType.NOTIFICATION, False),
    ("{0}号", SmsType.NOTIFICATION, False),
    ("订单{1号", SmsType.NOTIFICATION, False),
    ("订单{2}", SmsType.NOTIFICATION, False),
    ("大促{1}{2}", SmsType.NOTIFICATION, False),
    ("{1}", SmsType.NOTIFICATION, False),
    ("访问 www.{1}.com 查看", SmsType.NOTIFICATION, False),
    ("【惊喜】到货{1}", SmsType.NOTIFICATION, False),
    ("谢谢^_^订单{1}", SmsType.NOTIFICATION, False),
    ("新品上市{1}", SmsType.MARKETING, False),
]


@pytest.mark.parametrize(("content", "kind", "international"), BAD)
def test_every_finding_reads_in_chinese_and_in_english(
    content: str, kind: SmsType, international: bool
) -> None:
    findings = lint_template(content, kind, international=international)
    assert findings, content
    for f in findings:
        zh, en = lint_words(f.message, "zh"), lint_words(f.message, "en")
        # A pattern knew the sentence: both languages differ from the domain's own wording.
        assert zh != f.message and en != f.message, f.message
        assert CJK.search(zh) and not re.search(r"[a-z]{4,}", zh), zh


def test_the_value_in_a_finding_is_kept() -> None:
    assert (
        lint_words("template contains forbidden characters: 【】", "zh")
        == "模板含有不允许的字符：【】"
    )
    assert lint_words("template content is longer than 500 characters", "en") == (
        "The template is longer than 500 characters"
    )
    assert (
        lint_words("a sentence nobody wrote words for", "zh") == "a sentence nobody wrote words for"
    )
