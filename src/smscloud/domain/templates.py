"""Body-template lint, rendering and composition.

The rules come from Tencent SMS docs: body template review standards
(cloud.tencent.com/document/product/382/39023); a message is composed as ``【signature】body``
(Tencent SMS docs: signature review standards); refusals carry the codes of Tencent SMS API 3.0
error codes.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from smscloud.domain.errors import RuleViolation
from smscloud.domain.segments import MAX_INTERNATIONAL_CHARS, MAX_MAINLAND_CHARS

__all__ = [
    "MARKETING_UNSUBSCRIBE_SUFFIX",
    "Finding",
    "SmsType",
    "compose",
    "lint_template",
    "render",
    "variable_findings",
    "variable_indexes",
]

INVALID_TEMPLATE_FORMAT = "InvalidParameterValue.InvalidTemplateFormat"
WITHOUT_UNSUBSCRIBE = "InvalidParameterValue.MarketingTemplateWithoutUnsubscribe"
PARAM_SET_MISMATCH = "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
PARAM_FORMAT_ERROR = "InvalidParameterValue.TemplateParameterFormatError"
URL_IN_PARAM = "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"
PARAM_LENGTH_LIMIT = "InvalidParameterValue.TemplateParameterLengthLimit"

# The opt-out text every mainland marketing template must end with (Tencent SMS docs: body
# template review standards, and the opt-out announcement,
# cloud.tencent.com/document/product/382/100568).
MARKETING_UNSUBSCRIBE_SUFFIX = "拒收请回复R"

# Forbidden characters (body template review standards): signature brackets (confusable with
# a signature) and key-combination symbols.
FORBIDDEN_CHARACTERS = "【】¥★☞✓√※"

_VARIABLE = re.compile(r"\{([1-9][0-9]*)\}")
_ZERO_VARIABLE = re.compile(r"\{0+[0-9]*\}")
_ADJACENT_VARIABLES = re.compile(r"\{[1-9][0-9]*\}\{[1-9][0-9]*\}")
# Keyboard emoticons ("key-combination symbols" such as ^_^). Underscore faces only count
# when not glued to a word ("go_on" is legal); Western smileys only when they stand alone
# after a space, so "ID:D1" and "备注:(可选)" are legal.
_EMOTICON = re.compile(
    r"\^[_\-oO.]?\^"
    r"|(?<![A-Za-z0-9])(?:T_T|-_-|>_<|o_O|O_o|o_o|=_=|>\.<)(?![A-Za-z0-9])"
    r"|(?<!\S)[:;]-?[)(DPp](?![A-Za-z0-9])"
)
_TLDS = (
    "com|cn|net|org|gov|edu|info|biz|io|co|cc|me|tv|top|xyz|vip|shop|site|online|app|link|"
    "ly|gl|ink|club|wang|ltd|hk|mo|tw|us|uk|jp|kr|sg|my|de|fr|ru|in|au|ca"
)
# URL-looking text: a scheme, "www.", or a dotted host ending in a common lower-case TLD
# (short links such as t.cn/xyz included; "{1}.In 5 min" is not a host). Used both for
# template text and for parameter values.
_URLISH = re.compile(
    rf"(?i:[a-z][a-z0-9+.\-]*://|www\.)|[A-Za-z0-9\-{{}}]+\.(?:{_TLDS})(?![A-Za-z0-9])"
)
# A run of characters that can belong to one URL: ASCII without spaces (CJK ends a URL).
_URL_RUN = re.compile(r"[!#-~]+")
_STOP_WORD = re.compile(r"(?i)\bstop\b")
_VERIFICATION_VALUE = re.compile(r"[0-9]{0,6}")


class SmsType(IntEnum):
    """`SmsType` of AddSmsTemplate (since 2024-05-16)."""

    MARKETING = 1
    NOTIFICATION = 2
    VERIFICATION = 3


@dataclass(frozen=True, slots=True)
class Finding:
    """One reason a template is not acceptable, with its Tencent error code."""

    code: str
    message: str


def variable_indexes(content: str) -> list[int]:
    """Indexes of the `{n}` variables in order of appearance, repeats included."""
    return [int(match.group(1)) for match in _VARIABLE.finditer(content)]


def lint_template(content: str, sms_type: SmsType, *, international: bool) -> list[Finding]:
    """Check a template against Tencent's template format rules; an empty list means acceptable."""
    if not content.strip():
        return [_format("template content is empty")]
    findings: list[Finding] = []
    limit = MAX_INTERNATIONAL_CHARS if international else MAX_MAINLAND_CHARS
    if len(content) > limit:
        findings.append(_format(f"template content is longer than {limit} characters"))
    findings.extend(variable_findings(content))
    findings.extend(_character_findings(content))
    if sms_type is SmsType.MARKETING and not _has_unsubscribe(content, international=international):
        wanted = f'"{MARKETING_UNSUBSCRIBE_SUFFIX}"'
        if international:
            wanted += ' or a "Reply STOP" instruction'
        findings.append(Finding(WITHOUT_UNSUBSCRIBE, f"marketing template must end with {wanted}"))
    return findings


def _format(message: str) -> Finding:
    return Finding(INVALID_TEMPLATE_FORMAT, message)


def variable_findings(content: str) -> list[Finding]:
    """What is wrong with the `{n}` variables of a template (SMS or voice): numbering, adjacency."""
    findings: list[Finding] = []
    outside = _VARIABLE.sub("", content)
    if _ZERO_VARIABLE.search(outside):
        findings.append(_format("variables are numbered from {1}; {0} is not allowed"))
    elif "{" in outside or "}" in outside:
        findings.append(_format("malformed variable: use {1}, {2}, ... with matching braces"))
    indexes = variable_indexes(content)
    distinct = sorted(set(indexes))
    if distinct and distinct != list(range(1, len(distinct) + 1)):
        findings.append(_format("variables must be numbered consecutively starting at {1}"))
    if _ADJACENT_VARIABLES.search(content):
        findings.append(_format("two variables may not be adjacent, as in {1}{2}"))
    # Text outside the variables must say something: punctuation alone does not count.
    if indexes and not any(ch.isalnum() for ch in outside):
        findings.append(_format("template may not consist of variables only"))
    if any(_URLISH.search(run) and _VARIABLE.search(run) for run in _URL_RUN.findall(content)):
        findings.append(_format("a variable may not be part of a link, as in www.{1}.com"))
    return findings


def _character_findings(content: str) -> list[Finding]:
    findings: list[Finding] = []
    bad = sorted({ch for ch in content if ch in FORBIDDEN_CHARACTERS})
    if bad:
        findings.append(_format(f"template contains forbidden characters: {''.join(bad)}"))
    emoticon = _EMOTICON.search(content)
    if emoticon:
        findings.append(_format(f"template contains a keyboard emoticon: {emoticon.group(0)}"))
    return findings


def _has_unsubscribe(content: str, *, international: bool) -> bool:
    # Trailing punctuation and spaces after the opt-out text are tolerated.
    trimmed = content.rstrip()
    while trimmed and unicodedata.category(trimmed[-1])[0] in "PZ":
        trimmed = trimmed[:-1].rstrip()
    if trimmed.endswith(MARKETING_UNSUBSCRIBE_SUFFIX):
        return True
    # International marketing: the usual English opt-out ("Reply STOP to unsubscribe") is
    # accepted anywhere in the text; the Chinese suffix is accepted as well.
    return international and _STOP_WORD.search(content) is not None


def render(
    content: str, params: Sequence[str], *, sms_type: SmsType, max_param_length: int | None
) -> str:
    """Substitute `params` into `content` in one pass, enforcing Tencent's variable value rules."""
    indexes = variable_indexes(content)
    expected = max(indexes, default=0)
    if len(params) != expected:
        raise RuleViolation(
            PARAM_SET_MISMATCH, "request content does not match the template content"
        )
    for position, value in enumerate(params, start=1):
        _check_value(position, value, sms_type=sms_type, max_param_length=max_param_length)
    # One regex pass: a value that itself contains "{2}" is never substituted again.
    return _VARIABLE.sub(lambda match: params[int(match.group(1)) - 1], content)


def param_problems(
    params: Sequence[str], *, sms_type: SmsType, max_param_length: int | None
) -> dict[int, RuleViolation]:
    """Every parameter value that breaks Tencent's rules, by position from 1 (a form shows
    each beside its field; ``render`` stops at the first)."""
    found: dict[int, RuleViolation] = {}
    for position, value in enumerate(params, start=1):
        try:
            _check_value(position, value, sms_type=sms_type, max_param_length=max_param_length)
        except RuleViolation as e:
            found[position] = e
    return found


def _check_value(
    position: int, value: str, *, sms_type: SmsType, max_param_length: int | None
) -> None:
    if sms_type is SmsType.VERIFICATION:
        if not _VERIFICATION_VALUE.fullmatch(value):
            raise RuleViolation(
                PARAM_FORMAT_ERROR,
                f"verification code parameter {position} must be 0-6 digits",
            )
        return
    if _URLISH.search(value):
        raise RuleViolation(
            URL_IN_PARAM, f"template parameter {position} may not contain a url or short link"
        )
    if max_param_length is not None and len(value) > max_param_length:
        raise RuleViolation(
            PARAM_LENGTH_LIMIT,
            f"template parameter {position} is longer than {max_param_length} characters",
        )


def compose(sign: str | None, body: str, *, international: bool) -> str:
    """Full message text: "【sign】body" (mainland), "[sign]body" (international) or body."""
    if not sign:
        return body
    if international:
        return f"[{sign}]{body}"
    return f"【{sign}】{body}"


def mask_value(value: str) -> str:
    """``123456`` -> ``1****6``: keep the ends, hide the middle (DescribeSendRecordList)."""
    if len(value) <= 2:
        return value[:1] + "*" * (len(value) - 1) if value else value
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_rendered(text: str, content: str) -> str:
    """Mask every variable's value in ``text``, a rendering of template ``content``.

    The text may carry a signature before or after the body. If it does not match the
    template (it always should), every digit is masked rather than anything revealed.
    """
    pattern = _template_regex(content)
    for candidate in (text, text[text.find("】") + 1 :], text[text.find("]") + 1 :]):
        found = pattern.search(candidate)
        if found is None or found.end() != len(candidate):
            continue
        offset = len(text) - len(candidate)
        out, last = [], 0
        for i in range(1, (pattern.groups or 0) + 1):
            start, end = found.span(i)
            if start < 0:
                continue
            out.append(text[last : offset + start])
            out.append(mask_value(found.group(i)))
            last = offset + end
        out.append(text[last:])
        return "".join(out)
    return re.sub(r"[0-9]", "*", text)


@functools.lru_cache(maxsize=1024)
def _template_regex(content: str) -> re.Pattern[str]:
    # One group per occurrence, in order; a repeated variable must repeat its first value.
    parts: list[str] = []
    first: dict[str, int] = {}
    last = 0
    for k, match in enumerate(_VARIABLE.finditer(content)):
        parts.append(re.escape(content[last : match.start()]))
        name = match.group(1)
        if name in first:
            parts.append(f"(?P<o{k}>(?P=o{first[name]}))")
        else:
            first[name] = k
            parts.append(f"(?P<o{k}>.*?)")
        last = match.end()
    parts.append(re.escape(content[last:]))
    return re.compile("^" + "".join(parts) + "$", re.S)


def match_rendered(body: str, content: str) -> list[str] | None:
    """The parameters that render ``content`` into ``body``, or None if it does not.

    For the legacy content-mode send, where the caller gives the final text, not the values.
    """
    found = _template_regex(content).fullmatch(body)
    if found is None:
        return None
    values: dict[str, str] = {}
    names = [m.group(1) for m in _VARIABLE.finditer(content)]
    for k, name in enumerate(names):
        values.setdefault(name, found.group(f"o{k}"))
    return [values[str(i)] for i in range(1, max(map(int, names), default=0) + 1)]
