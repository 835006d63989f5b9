"""Checking a bulk task's recipient list before it is confirmed.

Each row of the uploaded list is a number, then that number's template parameters. A row is
either sendable (parsed, rendered into the final text and counted in billed parts), invalid
(with the same error code the API would give that number), or a duplicate of an earlier row.
Everything here is decided from the file and the template alone, so the tenant sees the whole
verdict before a unit is spent; what depends on the moment (frequency limits, the package
balance) is decided as each number is fed to ACCEPT.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smscloud.domain.errors import RuleViolation
from smscloud.domain.phone import parse_phone
from smscloud.domain.segments import billed_parts, check_length
from smscloud.domain.templates import SmsType, compose, render

# task_numbers.state
WAITING = 0
ACCEPTED = 1
REFUSED = 2
INVALID = 3
DUPLICATE = 4
CANCELLED = 5

MAX_PARAMS = 20
TOO_MANY_CELLS = "InvalidParameterValue.TooManyColumns"
DUPLICATE_CODE = "DuplicateNumber"
MAINLAND_TEMPLATE_ABROAD = "UnsupportedOperation.ChineseMainlandTemplateToGlobalPhone"
GLOBAL_TEMPLATE_AT_HOME = "UnsupportedOperation.GlobalTemplateToChineseMainlandPhone"
MAX_RAW = 64  # how much of a bad number is kept to show back


class RowLike(Protocol):
    @property
    def line(self) -> int: ...

    @property
    def cells(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Planned:
    """One row's verdict: sendable (WAITING), INVALID or DUPLICATE."""

    line: int
    raw: str
    phone: str
    nation_code: str
    iso_code: str
    content: str
    parts: int
    state: int
    code: str = ""
    message: str = ""


@dataclass(slots=True)
class Plan:
    """The verdict on a whole list, in file order."""

    rows: list[Planned] = field(default_factory=list)
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    parts: int = 0  # billed parts of the valid rows


def _bad(line: int, raw: str, state: int, code: str, message: str) -> Planned:
    return Planned(line, raw[:MAX_RAW], "", "", "", "", 0, state, code, message)


def plan_rows(
    rows: Iterable[RowLike],
    *,
    template: str,
    sms_type: SmsType,
    sign: str | None,
    international: bool,
    max_param_length: int | None,
) -> Plan:
    """Check, de-duplicate and render every row of a recipient list."""
    result = Plan()
    seen: set[str] = set()
    mainland = not international
    for row in rows:
        raw = row.cells[0] if row.cells else ""
        params: Sequence[str] = row.cells[1:]
        planned = _plan_one(
            row.line, raw, params, template, sms_type, sign, mainland, max_param_length
        )
        if planned.state == WAITING:
            if planned.phone in seen:
                planned = _bad(
                    row.line, raw, DUPLICATE, DUPLICATE_CODE, "the number appears earlier"
                )
            else:
                seen.add(planned.phone)
        result.rows.append(planned)
        if planned.state == WAITING:
            result.valid += 1
            result.parts += planned.parts
        elif planned.state == DUPLICATE:
            result.duplicates += 1
        else:
            result.invalid += 1
    return result


def _plan_one(
    line: int,
    raw: str,
    params: Sequence[str],
    template: str,
    sms_type: SmsType,
    sign: str | None,
    mainland: bool,
    max_param_length: int | None,
) -> Planned:
    if len(params) > MAX_PARAMS:
        return _bad(
            line, raw, INVALID, TOO_MANY_CELLS, f"a row may hold at most {MAX_PARAMS} parameters"
        )
    try:
        phone = parse_phone(raw)
    except RuleViolation as e:
        return _bad(line, raw, INVALID, e.code, e.message)
    if phone.mainland != mainland:
        code = MAINLAND_TEMPLATE_ABROAD if mainland else GLOBAL_TEMPLATE_AT_HOME
        where = "Mainland China" if mainland else "international"
        return _bad(line, raw, INVALID, code, f"the template is for {where} numbers only")
    try:
        body = render(template, list(params), sms_type=sms_type, max_param_length=max_param_length)
        text = compose(sign or None, body, international=not mainland)
        check_length(text, mainland=mainland)
    except RuleViolation as e:
        return _bad(line, raw, INVALID, e.code, e.message)
    return Planned(
        line,
        raw[:MAX_RAW],
        phone.e164,
        phone.nation_code,
        phone.iso_code,
        text,
        billed_parts(text, mainland=mainland),
        WAITING,
    )
