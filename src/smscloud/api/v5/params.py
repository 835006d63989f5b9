"""Typed reading of a legacy v5 request body: each value a command uses, or result 1004.

Each command's page of the legacy v5 API types every field: strings (``sign``, ``ext``,
``extend``, ``msg``, ``mobile``, ``nationcode``, ``text``, ``title``, ``remark``, ``pic``),
numbers (``tpl_id``, ``type``, ``max``, ``begin_time``, ``end_time``, ``begin_date``,
``international``...), arrays (``params``, the ids of the delete and get commands, ``tel`` of
``sendmultisms2``) and objects (``tel`` of ``sendsms``, ``tpl_page``). Commands read their
fields only through :class:`Fields`, which returns only what the services can take: text
without NUL (PostgreSQL text cannot hold one) and integers the store can hold. Anything else is
answered 1004, "request body could not be parsed" (legacy v5 API: error codes), before
anything is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from smscloud.domain.integers import INT64_MAX

__all__ = ["BAD_BODY", "Fields", "V5Error"]

BAD_BODY = 1004  # the request body could not be parsed (legacy v5 API: error codes)


class V5Error(Exception):
    """A command's refusal: the numeric ``result`` and its ``errmsg``."""

    def __init__(self, result: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.result = result
        self.errmsg = errmsg


def _bad(name: str, kind: str) -> V5Error:
    return V5Error(BAD_BODY, f"{name} must be {kind}")


def _integer(value: Any) -> int | None:
    """``value`` if it is a JSON integer (a JSON ``true`` is not, though Python's is)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Fields:
    """The fields of one JSON object of a v5 body (the body itself, ``tel``, ``tpl_page``)."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def has(self, name: str) -> bool:
        return name in self.data

    def text(self, name: str, default: str = "", *, required: bool = False) -> str:
        """A string; a number is taken as its decimal text (clients send ids either way)."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise V5Error(BAD_BODY, f"{self.prefix}{name} is required")
            return default
        if _integer(value) is not None:
            return str(value)
        if not isinstance(value, str):
            raise _bad(self.prefix + name, "a string")
        if "\x00" in value:
            raise _bad(self.prefix + name, "text without NUL characters")
        return value

    def integer(self, name: str, default: int | None = None) -> int:
        """A number from 0 to 2^63-1 (no field of the legacy v5 API is negative)."""
        value = self.data.get(name)
        if value is None and default is not None:
            return default
        number = _integer(value)
        if number is None:
            raise _bad(self.prefix + name, "an integer")
        if not 0 <= number <= INT64_MAX:
            raise _bad(self.prefix + name, f"from 0 to {INT64_MAX}")
        return number

    def texts(self, name: str) -> list[str]:
        """An array of strings (numbers taken as text); absent means empty."""
        value = self.data.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _bad(self.prefix + name, "an array of strings")
        items = Fields({str(i): v for i, v in enumerate(value)}, f"{self.prefix}{name}.")
        return [items.text(str(i), required=True) for i in range(len(value))]

    def ids(self, name: str) -> list[int]:
        """One id or an array of ids (the management commands take either)."""
        value = self.data.get(name)
        values = value if isinstance(value, list) else [value]
        items = Fields({str(i): v for i, v in enumerate(values)}, f"{self.prefix}{name}.")
        return [items.integer(str(i)) for i in range(len(values))]

    def first_id(self, name: str) -> int:
        ids = self.ids(name)
        if not ids:
            raise _bad(self.prefix + name, "an id")
        return ids[0]

    def object(self, name: str, *, optional: bool = False) -> Fields:
        """A nested object; an absent optional one reads as empty."""
        value = self.data.get(name)
        if value is None and optional:
            return Fields({}, f"{self.prefix}{name}.")
        if not isinstance(value, Mapping):
            raise _bad(self.prefix + name, "an object")
        return Fields(value, f"{self.prefix}{name}.")

    def objects(self, name: str) -> list[Fields]:
        value = self.data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise _bad(self.prefix + name, "an array of objects")
        return [Fields(v, f"{self.prefix}{name}.{i}.") for i, v in enumerate(value)]
