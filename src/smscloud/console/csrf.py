"""CSRF protection: one token per session, required on every POST.

Forms send it as the ``csrf_token`` field; htmx requests as the ``X-CSRF-Token`` header (set
for the whole page with ``hx-headers`` on ``<body>``).
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token(session: MutableMapping[str, Any]) -> str:
    """The session's token, made on first use."""
    value = session.get("csrf")
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session["csrf"] = value
    return value


def valid(request: Request, form: FormData) -> bool:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not expected:
        return False
    sent = request.headers.get(HEADER) or form.get(FIELD)
    return isinstance(sent, str) and secrets.compare_digest(sent.encode(), expected.encode())
