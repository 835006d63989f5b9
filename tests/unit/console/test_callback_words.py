"""Every refusal of a callback URL and every reason a push was not accepted have words in
both languages."""

from __future__ import annotations

import re

import pytest

from smscloud.console.callback_words import BLOCK_WORDS, PUSH_WORDS, URL_WORDS, callback_words
from smscloud.domain.addresses import Block
from smscloud.domain.callback_urls import judge_url
from smscloud.domain.errors import RuleViolation

CJK = re.compile(r"[\u4e00-\u9fff]")
# URLs that between them make every refusal judge_url gives.
BAD = [
    "https://example.com/" + "a" * 2100,
    "https://exa mple.com/",
    "ftp://example.com/",
    "https://user:pw@example.com/",
    "https://[fe80::1/",
    "https://-example.com/",
    "https://:443/",
    "https://example.com:70000/",
    "https://[zz::1]/",
    "https://[fe80::1%25eth0]/",
    "https://0x7f.1/",
    "https://127.0.0.1/",
    "https://10.0.0.1/",
    "https://[fe80::1]/",
    "https://224.0.0.1/",
    "https://0.0.0.0/",
    "https://240.0.0.1/",
]


def refusal(url: str) -> str:
    with pytest.raises(RuleViolation) as refused:
        judge_url(url)
    return refused.value.message


@pytest.mark.parametrize("url", BAD)
def test_every_refusal_reads_in_chinese_and_in_english(url: str) -> None:
    message = refusal(url)
    zh, en = callback_words(message, "zh"), callback_words(message, "en")
    # A pattern knew the sentence: both languages differ from the domain's own wording.
    assert zh != message and en != message, message
    assert CJK.search(zh) and "callback URL" not in zh, zh
    assert not CJK.search(en) and en.startswith("The callback URL"), en


def test_the_urls_make_every_sentence_and_every_kind_of_blocked_address() -> None:
    messages = [refusal(url) for url in BAD]
    # urllib checks a bracketed IPv6 literal itself (Python 3.11.4 and later), so the
    # domain's own IPv6 refusal is not reached on this Python; its words are kept for others.
    unreachable = {r"callback URL has an invalid IPv6 address: (.*)"}
    for pattern in URL_WORDS:
        if pattern.pattern not in unreachable:
            assert any(pattern.fullmatch(m) for m in messages), pattern.pattern
    assert callback_words("callback URL has an invalid IPv6 address: [zz::1]", "zh").endswith(
        "[zz::1]"
    )
    assert set(BLOCK_WORDS) == set(Block)
    kinds = {
        m.split(" points to a ", 1)[1].split(" address", 1)[0]
        for m in messages
        if " points to a " in m
    }
    assert kinds == {str(b) for b in Block}


def test_a_value_named_by_the_refusal_is_kept() -> None:
    assert callback_words(refusal("ftp://example.com/x"), "zh").endswith("：ftp://example.com/x")
    assert "（10.0.0.1）" in callback_words(refusal("https://10.0.0.1/"), "zh")


def test_a_sentence_no_pattern_knows_is_shown_as_it_is() -> None:
    assert callback_words("callback URL is somehow wrong", "zh") == "callback URL is somehow wrong"


# Every reason delivery/callbacks/client.py gives a push that was not accepted.
PUSH_REASONS = [
    ("HTTP 302: redirects are not followed", "302"),
    ("HTTP 500", "500"),
    ('the answer is not JSON {"result": 0}', '{"result": 0}'),
    ('the answer is not {"result": 0}', '{"result": 0}'),
    ("the answer is longer than 4096 bytes", "4096"),
    ("no answer within 5 s", "5"),
    ("ConnectError: [Errno 111] Connection refused", "[Errno 111] Connection refused"),
    (
        "callback host hooks.example resolves to a private address (10.1.2.3):"
        " callbacks may not go there",
        "10.1.2.3",
    ),
]


@pytest.mark.parametrize(("reason", "kept"), PUSH_REASONS)
def test_every_push_reason_reads_in_both_languages_with_its_value(reason: str, kept: str) -> None:
    zh, en = callback_words(reason, "zh"), callback_words(reason, "en")
    assert zh != reason and en != reason
    assert CJK.search(zh) and not CJK.search(en)
    assert kept in zh and kept in en


def test_the_push_reasons_make_every_push_sentence() -> None:
    for pattern in PUSH_WORDS:
        assert any(pattern.fullmatch(r) for r, _ in PUSH_REASONS), pattern.pattern
