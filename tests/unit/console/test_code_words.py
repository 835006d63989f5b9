"""Every error code the console can show has words in Chinese and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smscloud.console import code_words
from smscloud.console.code_words import (
    CODE_WORDS,
    FAMILY_WORDS,
    MESSAGE_PATTERNS,
    MESSAGE_WORDS,
    RECEIPT_WORDS,
    explain,
    receipt_words,
    refusal,
)
from smscloud.services import statistics

SRC = Path(code_words.__file__).resolve().parents[1]
# Where the codes a tenant meets in the console come from: sending (console, API, bulk tasks),
# the rules it applies, billing's limits, and signature and template applications.
SOURCES = [
    "services/sending",
    "services/tasks",
    "services/registry",
    "services/billing/usage.py",
    "domain",
]
CODE = re.compile(
    r'"((?:FailedOperation|InvalidParameterValue|LimitExceeded|MissingParameter|'
    r'UnauthorizedOperation|UnsupportedOperation)\.[A-Za-z]+)"'
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _codes_in_sources() -> set[str]:
    found: set[str] = set()
    for name in SOURCES:
        root = SRC / name
        for path in [root] if root.is_file() else sorted(root.rglob("*.py")):
            found.update(CODE.findall(path.read_text(encoding="utf-8")))
    return found


def test_the_scan_finds_the_codes_it_is_meant_to() -> None:
    codes = _codes_in_sources()
    assert "InvalidParameterValue.IncorrectPhoneNumber" in codes
    assert "LimitExceeded.PhoneNumberThirtySecondLimit" in codes
    assert len(codes) > 30


@pytest.mark.parametrize("code", sorted(_codes_in_sources()))
def test_every_code_of_sending_and_the_registry_has_its_own_words(code: str) -> None:
    assert code in CODE_WORDS, f"{code} has no words: add it to console/code_words.py"


@pytest.mark.parametrize(
    ("words"),
    [
        *CODE_WORDS.values(),
        *FAMILY_WORDS.values(),
        *MESSAGE_WORDS.values(),
        *MESSAGE_PATTERNS.values(),
        *RECEIPT_WORDS.values(),
    ],
)
def test_chinese_words_are_chinese_and_english_words_are_english(
    words: tuple[str, str],
) -> None:
    zh, en = words
    assert CJK.search(zh), zh
    assert not CJK.search(en), en
    assert not re.search(r"[A-Za-z]{4,}", zh.replace("APP", "")), zh  # no English left in it


def test_explain_prefers_the_message_then_the_code_then_its_family() -> None:
    denial = "UnauthorizedOperation.RequestPermissionDeny"
    unverified = "Identity verification of the account is not complete."
    assert explain(denial, "zh", unverified) == "账号尚未完成实名认证"
    assert explain(denial, "en", "some other cause") == CODE_WORDS[denial][1]
    assert explain("InvalidParameterValue.SomethingNew", "zh") == "参数取值不正确"
    assert explain("LimitExceeded.SomethingNew", "en") == "A limit is reached"
    assert explain("NoSuchFamily.AtAll", "zh") == "NoSuchFamily.AtAll"
    assert explain("Ok", "zh") == "已受理" and explain("Ok", "en") == "Accepted"


def test_receipts_read_as_the_statistics_bucket_they_are_counted_in() -> None:
    for code in statistics.INVALID_NUMBER_CODES:
        assert receipt_words(code, "zh") == "空号或号码不存在"
    for code in statistics.SHUTDOWN_CODES:
        assert receipt_words(code, "en") == "The phone is off, suspended or out of reach"
    assert receipt_words("DELIVRD", "zh") == "已送达"
    # A carrier's code nobody listed still says it was not delivered (the code is beside it).
    assert receipt_words("ZZ:9999", "en") == "Not delivered (carrier code)"


def test_a_refusal_with_only_family_words_keeps_its_message_marked_as_english() -> None:
    shown = refusal("InvalidParameterValue", "The speed must be one of 100, 500", "zh")
    assert shown == (
        '参数取值不正确 <span class="small" lang="en">The speed must be one of 100, 500</span>'
        ' <code class="muted small">InvalidParameterValue</code>'
    )
    # A code with words of its own needs no message; English pages need no mark; HTML escapes.
    assert "<span" not in refusal("FailedOperation.SignNumberLimit", "too many", "zh")
    assert 'lang="en"' not in refusal("InvalidParameterValue", "bad <b>", "en")
    assert "&lt;b&gt;" in refusal("InvalidParameterValue", "bad <b>", "en")


# A refusal with a family code only: RuleViolation("Family", "message") or an f-string.
FAMILY_REFUSAL = re.compile(
    r'RuleViolation\(\s*"(InvalidParameterValue|MissingParameter|FailedOperation|'
    r'ResourceNotFound)",\s*(f?)"([^"]+)"'
)
# Where a console page shows such a refusal: tasks, the registry, billing and sending.
FAMILY_SOURCES = ["services/tasks", "services/registry", "services/billing", "services/sending"]


# An f-string's {value} -> a value it holds when raised; anything else is a number.
F_SAMPLES = [
    (r"\{row\.month\}", "2026-11"),
    (r"\{(kind|noun)\}", "template"),
    (r"\{speeds\}", "10, 50, 100"),
    (r"\{(state|order\['state'\])\}", "paid"),
    (r"\{[^}]*\}", "7"),
]


def _family_refusals() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name in FAMILY_SOURCES:
        for path in sorted((SRC / name).rglob("*.py")):
            for code, f, message in FAMILY_REFUSAL.findall(path.read_text(encoding="utf-8")):
                if f:  # an f-string: each {value} as a value a message would hold
                    for value, sample in F_SAMPLES:
                        message = re.sub(value, sample, message)
                found.append((code, message))
    return found


def test_the_family_scan_finds_refusals() -> None:
    messages = [m for _, m in _family_refusals()]
    assert "The task was confirmed already." in messages
    assert "No template with id 7." in messages
    assert len(messages) > 15


# A message made of what its caller passed in (an exception's text, a field's name).
FREE_FORM = {"7 must be an integer", "invalid price table:\\n"}


@pytest.mark.parametrize(("code", "message"), _family_refusals())
def test_every_family_refusal_a_page_can_show_has_its_own_words(code: str, message: str) -> None:
    if message in FREE_FORM:
        return
    zh, en = explain(code, "zh", message), explain(code, "en", message)
    assert (zh, en) != FAMILY_WORDS[code.split(".")[0]], f"{message!r} has only family words"
    assert CJK.search(zh) and not CJK.search(en)
    assert "<span" not in refusal(code, message, "zh")  # no English message beside the words
