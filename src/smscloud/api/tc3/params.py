"""Typed access to an action's parameters, with Tencent's errors for what is wrong.

JSON bodies carry real types; GET queries and v1 form bodies carry strings for everything, so
integers are accepted as strings there (``lenient``).

Every value an action uses passes through one of these readers, and each reader returns only
what the services can take: any string without NUL (PostgreSQL text cannot hold one), or an
integer the store can hold. Every request parameter Tencent's API documentation types as an
integer is
``Integer(uint64)``; the store holds signed 64-bit values, so integers are read as 0 to
2^63-1. A value of the wrong type is ``InvalidParameter``, a well-formed value out of range
``InvalidParameterValue``, an absent required one ``MissingParameter`` (Tencent Cloud API 3.0:
common error codes).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import INT64_MAX, INT64_MIN, parse_int

_WRITTEN_AS_INTEGER = re.compile(r"-?[0-9]+")


def _missing(name: str) -> RuleViolation:
    return RuleViolation(
        "MissingParameter", f"The request is missing a required parameter `{name}`."
    )


def _invalid(name: str, kind: str) -> RuleViolation:
    return RuleViolation("InvalidParameter", f"The parameter `{name}` must be {kind}.")


def _out_of_range(name: str, lo: int, hi: int) -> RuleViolation:
    return RuleViolation(
        "InvalidParameterValue", f"The parameter `{name}` must be from {lo} to {hi}."
    )


def _text_value(name: str, value: str) -> str:
    if "\x00" in value:
        raise RuleViolation(
            "InvalidParameterValue", f"The parameter `{name}` must not contain NUL characters."
        )
    return value


def _integer_value(name: str, value: Any, lo: int, hi: int, kind: str) -> int:
    """An integer given as a JSON number or as decimal text (queries and forms carry text)."""
    if isinstance(value, bool):  # a JSON true is no integer, though Python's bool is one
        raise _invalid(name, kind)
    if isinstance(value, int):
        number: int | None = value if INT64_MIN <= value <= INT64_MAX else None
    elif isinstance(value, str):
        text = value.strip()
        number = parse_int(text, lo=INT64_MIN)
        if number is None and not _WRITTEN_AS_INTEGER.fullmatch(text):
            raise _invalid(name, kind)
    else:
        raise _invalid(name, kind)
    if number is None or not lo <= number <= hi:
        raise _out_of_range(name, lo, hi)
    return number


class Params:
    """Reads one action's parameters; every getter raises the API's own error."""

    def __init__(self, data: Mapping[str, Any], *, lenient: bool) -> None:
        self.data = data
        self.lenient = lenient

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return default
        if isinstance(value, str):
            return _text_value(name, value)
        if self.lenient and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _invalid(name, "a string")

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        default: int = 0,
        lo: int = 0,
        hi: int = INT64_MAX,
    ) -> int:
        """An ``Integer(uint64)`` parameter, within ``[lo, hi]``."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return default
        return _integer_value(name, value, lo, hi, "an integer")

    def texts(self, name: str, *, required: bool = False) -> list[str]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return []
        if not isinstance(value, list):
            raise _invalid(name, "an array of strings")
        out = []
        for item in value:
            if isinstance(item, str):
                out.append(_text_value(name, item))
            elif isinstance(item, int | float) and not isinstance(item, bool):
                out.append(str(item))
            else:
                raise _invalid(name, "an array of strings")
        return out

    def integers(self, name: str) -> list[int]:
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _invalid(name, "an array of integers")
        kind = "an array of integers"
        return [_integer_value(name, item, 0, INT64_MAX, kind) for item in value]

    def objects(self, name: str, *, required: bool = False) -> list[Params]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise _invalid(name, "an array of objects")
        return [Params(v, lenient=self.lenient) for v in value]
