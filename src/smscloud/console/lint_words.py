"""SMS template lint findings in the page's language.

The domain (``domain.templates.lint_template``) words each finding as an English sentence with
a Tencent code, as the API answers it. The console reads each sentence as one of the patterns
below and words it in the page's language; a finding this module does not know yet is shown
as its sentence, rather than hidden.
"""

from __future__ import annotations

import re

__all__ = ["LINT_WORDS", "lint_words", "sentence_words"]

# The domain's sentence (a pattern: some carry a value) -> (zh, en), "{0}" being that value.
LINT_WORDS: dict[re.Pattern[str], tuple[str, str]] = {
    re.compile(r"template content is longer than (\d+) characters"): (
        "模板内容超过 {0} 个字",
        "The template is longer than {0} characters",
    ),
    re.compile(r"variables are numbered from \{1\}; \{0\} is not allowed"): (
        "变量从 {{1}} 开始编号，不能使用 {{0}}",
        "Variables are numbered from {{1}}; {{0}} is not allowed",
    ),
    re.compile(r"malformed variable: use \{1\}, \{2\}, \.\.\. with matching braces"): (
        "变量格式不正确：请写作 {{1}}、{{2}}……，括号成对",
        "A variable is malformed: write {{1}}, {{2}}… with matching braces",
    ),
    re.compile(r"variables must be numbered consecutively starting at \{1\}"): (
        "变量须从 {{1}} 开始连续编号",
        "Variables must be numbered one after another from {{1}}",
    ),
    re.compile(r"two variables may not be adjacent, as in \{1\}\{2\}"): (
        "两个变量不能相邻（如 {{1}}{{2}}）",
        "Two variables may not be next to each other, as in {{1}}{{2}}",
    ),
    re.compile(r"template may not consist of variables only"): (
        "模板不能只有变量",
        "A template may not be variables only",
    ),
    re.compile(r"a variable may not be part of a link, as in www\.\{1\}\.com"): (
        "变量不能是链接的一部分（如 www.{{1}}.com）",
        "A variable may not be part of a link, as in www.{{1}}.com",
    ),
    re.compile(r"template contains forbidden characters: (.+)"): (
        "模板含有不允许的字符：{0}",
        "The template holds characters that are not allowed: {0}",
    ),
    re.compile(r"template contains a keyboard emoticon: (.+)"): (
        "模板含有键盘表情符号：{0}",
        "The template holds a keyboard emoticon: {0}",
    ),
    re.compile(r"marketing template must end with (.+)"): (
        "营销模板须以 {0} 结尾",
        "A marketing template must end with {0}",
    ),
}


def sentence_words(
    table: dict[re.Pattern[str], tuple[str, str]], message: str, lang: str
) -> str | None:
    """``message`` read as one of ``table``'s sentences, in ``lang``; None if none fits."""
    for pattern, words in table.items():
        found = pattern.fullmatch(message)
        if found is not None:
            return words[1 if lang == "en" else 0].format(*found.groups())
    return None


def lint_words(message: str, lang: str) -> str:
    """A lint finding's sentence in ``lang`` ("zh" or "en"); the sentence if none fits."""
    return sentence_words(LINT_WORDS, message, lang) or message
