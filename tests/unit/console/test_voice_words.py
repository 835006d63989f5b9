"""The voice section's words: every key a page names exists in both languages, each lint
finding of the domain has its translation, and English text holds no Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import smscloud.console.app  # every page's words, as the server loads them
from smscloud.console import i18n, voice_words
from smscloud.domain.call_states import CallState
from smscloud.domain.voice_rules import VoiceKind

TEMPLATES = Path(smscloud.console.app.__file__).parent / "templates"
VOICE_PAGES = sorted(
    [
        *TEMPLATES.glob("console/voice*.html"),
        TEMPLATES / "console/_voice.html",
        TEMPLATES / "admin/voice_reviews.html",
        TEMPLATES / "console/stats.html",
    ]
)
HAN = re.compile("[\u4e00-\u9fff]")


@pytest.mark.parametrize("page", VOICE_PAGES, ids=lambda p: p.name)
def test_every_key_a_voice_page_names_has_both_languages(page: Path) -> None:
    keys = set(re.findall(r"\bt\('([a-z0-9_]+)'(?=[,)])", page.read_text()))  # not 'st_' ~ n
    assert keys, page
    missing = sorted(k for k in keys if k not in i18n.STRINGS)
    assert missing == []


def test_states_and_kinds_have_words() -> None:
    for state in CallState:
        assert f"vc_st_{state.value}" in i18n.STRINGS
    for kind in VoiceKind:
        assert f"vc_kind_{kind.value}" in i18n.STRINGS


@pytest.mark.parametrize(
    "content",
    [
        "",
        " ",
        "好" * 351,
        "验证码{0}",
        "订单{1",
        "订单{2}已发货",
        "订单{1}{2}",
        "{1}，{2}",
        "看 www.{1}.com",
    ],
)
def test_every_lint_finding_is_translated(content: str) -> None:
    keys = voice_words.lint_keys(content)
    assert keys, content
    assert all(k in voice_words.LINT.values() for k in keys), keys


def test_a_good_template_has_no_finding() -> None:
    assert voice_words.lint_keys("您的订单{1}已发货。") == []


def test_an_unknown_finding_is_shown_as_it_is() -> None:
    assert voice_words.lint_key("something new", "Code.X") == "Code.X: something new"


@pytest.mark.parametrize("words", [voice_words.TENANT, voice_words.OPERATOR])
def test_english_holds_no_chinese_and_chinese_is_chinese(
    words: dict[str, tuple[str, str]],
) -> None:
    for key, (zh, en) in words.items():
        assert zh and en, key
        assert not HAN.search(en), key
        assert HAN.search(zh), key
