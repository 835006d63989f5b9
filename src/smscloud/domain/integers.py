"""Whole numbers read from text a client sent: one reading for every surface.

Python's ``int()`` accepts more than a client means (Unicode digits such as ``"١٢"``,
underscores, surrounding spaces, a ``+``), and ``str.isdigit()`` accepts characters ``int()``
then refuses (``"²"``). Both have turned a bad value into a crash. The store holds signed
64-bit integers (SQLite ``INTEGER``, PostgreSQL ``BIGINT``): a larger value names nothing and
cannot even be bound in a query. So a number is ASCII digits with an optional leading ``-``,
and it must fit the range the caller gives, which never exceeds 64 bits.
"""

from __future__ import annotations

import re

__all__ = ["INT64_MAX", "INT64_MIN", "parse_int"]

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
_INTEGER = re.compile(r"-?[0-9]{1,19}")  # 19 digits hold every 64-bit value


def parse_int(text: str, *, lo: int = 0, hi: int = INT64_MAX) -> int | None:
    """``text`` as an integer in ``[lo, hi]`` (clamped to 64 bits), or None if it is not one.

    >>> parse_int("42"), parse_int("²"), parse_int("-1"), parse_int("-1", lo=-5)
    (42, None, None, -1)
    """
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if max(lo, INT64_MIN) <= value <= min(hi, INT64_MAX) else None
