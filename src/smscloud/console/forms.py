"""What the console reads from a request: forms, whole numbers and ids in paths.

One reading for every page, so that no value anyone sends can crash one:

- a form is read only up to its route's body limit (``body_limit``: the request is refused
  as it arrives, see :mod:`smscloud.api.body_limit`); past it the page says the form is too large;
- a form, path or query holding a NUL character is refused whole: no one types one, and
  PostgreSQL text cannot hold it;
- a whole number is ASCII digits within a range the store can hold
  (:func:`smscloud.domain.integers.parse_int`), never ``int()`` of whatever was sent;
- an id in a path is matched by the ``id`` convertor: 1 to 18 ASCII digits, so whatever a
  route receives fits a 64-bit column, and anything else is no route at all (404).
"""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request

from smscloud.api.body_limit import BodyTooLargeError
from smscloud.domain.integers import INT64_MAX, parse_int

__all__ = ["FORM_MAX", "IdConvertor", "has_nul", "read_form", "text", "whole"]

# The largest form without a file (a template, an allow-list of 300 numbers) is a few KB.
FORM_MAX = 64 * 1024


class IdConvertor(Convertor[int]):
    """``{name:id}``: a row id, 1 to 18 digits (every one fits a signed 64-bit integer)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())


async def read_form(
    request: Request, *, max_files: int = 1000, max_fields: int = 1000
) -> FormData | None:
    """The submitted form, or None when its body passed the route's limit (or never came
    in full). Nothing past the limit is read, stored or spooled to disk."""
    try:
        return await request.form(max_files=max_files, max_fields=max_fields)
    except (BodyTooLargeError, ClientDisconnect):
        return None


def has_nul(request: Request, form: FormData | None = None) -> bool:
    """Whether the path, the query or the form (names, values, file names) holds a NUL."""
    if "\x00" in str(request.scope.get("path", "")):
        return True
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            return True
    for name, field in (form or FormData()).multi_items():
        written = (field.filename or "") if isinstance(field, UploadFile) else field
        if "\x00" in name or "\x00" in written:
            return True
    return False


def text(form: FormData, name: str) -> str:
    """A text field, trimmed; "" when it is missing or is a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def whole(raw: str, *, lo: int = 0, hi: int = INT64_MAX) -> int | None:
    """A whole number typed in a field (spaces around it ignored), or None if it is not one
    within ``[lo, hi]``."""
    return parse_int(raw.strip(), lo=lo, hi=hi)
