"""Voice templates: what a template may hold, how it is rendered, and how it is spoken.

Tencent voice messaging (``SendTtsVoice``): variables are ``{1}``, ``{2}``... as in SMS
templates; the whole spoken content is at most 350 characters, and a single variable too long
is refused with ``InvalidParameterValue.ContentLengthLimit``. The legacy ``sendvoiceprompt``
takes the text itself, at most 100 characters, which must match an approved template.

Numbers in parameter values are read digit by digit (order numbers, codes, amounts a person
copies down); numbers in the template's own text are read as numbers ("5 分钟"). The legacy
API read digits as one number unless the sender separated them with commas; separating them
here spares every sender that chore. espeak-ng reads ``123456`` as one number and ``1 2 3``
or ``1,2,3`` digit by digit without a pause; only ``", "`` or the full-width ``，`` makes it
pause between digits (measured: six digits last 1.66 s without pauses, 2.56 s with them), so
those are the separators, ``，`` where the text is Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from smscloud.domain.errors import RuleViolation
from smscloud.domain.templates import Finding, variable_findings, variable_indexes
from smscloud.domain.voice_rules import INVALID_PARAMETERS

__all__ = [
    "MAX_PARAM_CHARS",
    "MAX_PROMPT_CHARS",
    "MAX_VOICE_CHARS",
    "has_han",
    "lint_voice_template",
    "prompt_matches",
    "read_digits_one_by_one",
    "render_voice",
]

MAX_VOICE_CHARS = 350  # SendTtsVoice: "total voice content at most 350 characters"
MAX_PROMPT_CHARS = 100  # sendvoiceprompt: promptfile "at most 100 characters"
MAX_PARAM_CHARS = 20  # ours: a variable is a name, a code, an amount; not a paragraph
CONTENT_LENGTH = "InvalidParameterValue.ContentLengthLimit"
PARAM_MISMATCH = INVALID_PARAMETERS  # VMS has no code of its own for a wrong count
_VARIABLE = re.compile(r"\{([1-9][0-9]*)\}")
# Two or more digits, already spaced or comma-separated or not.
_DIGIT_RUN = re.compile("[0-9](?:[ ,，]?[0-9])+")
_NOT_DIGIT = re.compile("[^0-9]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def has_han(text: str) -> bool:
    """Whether `text` holds Han characters (and so is spoken in Mandarin)."""
    return _HAN.search(text) is not None


def lint_voice_template(content: str) -> list[Finding]:
    """Why a voice template is not acceptable; an empty list means it is."""
    if not content.strip():
        return [Finding(INVALID_PARAMETERS, "template content is empty")]
    findings: list[Finding] = []
    if len(content) > MAX_VOICE_CHARS:
        findings.append(
            Finding(CONTENT_LENGTH, f"template content is longer than {MAX_VOICE_CHARS} characters")
        )
    findings.extend(variable_findings(content))
    return findings


def render_voice(content: str, params: Sequence[str]) -> str:
    """The text to speak: `params` put into `content` in one pass, each checked."""
    expected = max(variable_indexes(content), default=0)
    if len(params) != expected:
        raise RuleViolation(
            PARAM_MISMATCH,
            f"the template has {expected} variable(s); TemplateParamSet has {len(params)}",
        )
    for position, value in enumerate(params, start=1):
        if not value.strip():
            raise RuleViolation(INVALID_PARAMETERS, f"template parameter {position} is empty")
        if len(value) > MAX_PARAM_CHARS:
            raise RuleViolation(
                CONTENT_LENGTH,
                f"template parameter {position} is longer than {MAX_PARAM_CHARS} characters",
            )
    separator = "，" if has_han(content) else ", "
    text = _VARIABLE.sub(
        lambda m: read_digits_one_by_one(params[int(m.group(1)) - 1], separator), content
    )
    if len(_VARIABLE.sub(lambda m: params[int(m.group(1)) - 1], content)) > MAX_VOICE_CHARS:
        raise RuleViolation(
            CONTENT_LENGTH, f"the voice content is longer than {MAX_VOICE_CHARS} characters"
        )
    return text


def read_digits_one_by_one(text: str, separator: str | None = None) -> str:
    """`text` with every run of two or more digits (spaced out or not) read one by one:
    separated by `separator`, by default ``，`` in text with Han characters, ``", "`` elsewhere."""
    if separator is None:
        separator = "，" if has_han(text) else ", "
    sep = separator
    return _DIGIT_RUN.sub(lambda m: sep.join(_NOT_DIGIT.sub("", m.group(0))), text)


def prompt_matches(content: str, prompt: str) -> bool:
    """Whether `prompt` is `content` with each variable filled by 1 to MAX_PARAM_CHARS
    characters (the legacy ``sendvoiceprompt``: "must match an approved voice template")."""
    pattern = "".join(
        f".{{1,{MAX_PARAM_CHARS}}}" if _VARIABLE.fullmatch(piece) else re.escape(piece)
        for piece in re.split(r"(\{[1-9][0-9]*\})", content)
        if piece
    )
    return re.fullmatch(pattern, prompt, flags=re.DOTALL) is not None
