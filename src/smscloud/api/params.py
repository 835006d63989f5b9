"""Typed access to an action's parameters, with Tencent's errors for what is wrong.

JSON bodies carry real types; GET queries and v1 form bodies carry strings for everything, so
integers are accepted as strings there (``lenient``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smscloud.domain.errors import RuleViolation


def _missing(name: str) -> RuleViolation:
    return RuleViolation(
        "MissingParameter", f"The request is missing a required parameter `{name}`."
    )


def _invalid(name: str, kind: str) -> RuleViolation:
    return RuleViolation("InvalidParameter", f"The parameter `{name}` must be {kind}.")


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
            return value
        if self.lenient and isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _invalid(name, "a string")

    def integer(self, name: str, *, required: bool = False, default: int = 0) -> int:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return default
        if isinstance(value, bool):
            raise _invalid(name, "an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit():
                return int(text)
        raise _invalid(name, "an integer")

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
                out.append(item)
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
        out = []
        for item in value:
            if isinstance(item, int) and not isinstance(item, bool):
                out.append(item)
            elif isinstance(item, str) and item.strip().isdigit():
                out.append(int(item))
            else:
                raise _invalid(name, "an array of integers")
        return out

    def objects(self, name: str, *, required: bool = False) -> list[Params]:
        value = self.data.get(name)
        if value is None:
            if required:
                raise _missing(name)
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise _invalid(name, "an array of objects")
        return [Params(v, lenient=self.lenient) for v in value]
