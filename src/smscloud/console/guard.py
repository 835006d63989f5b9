"""Who may open a page: ``@tenant_page`` and ``@operator_page``, the one way to say it.

The session guard (``console/session_guard.py``) has already checked the request's session
against the database before any page runs; these decorators only ask whether it found a live
session in the page's realm, and otherwise send the browser to that area's log-in page. A
suspended tenant's session is never live (``services/accounts/sessions.load``), so its users
land on the log-in page like anyone signed out.

A handler that reads a form is wrapped by ``Console.posted`` around the guard, so a form's
size and CSRF token are judged before the session is, as they always were.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from smscloud.console.session_guard import signed_in
from smscloud.services.accounts.sessions import OPERATOR, TENANT

__all__ = ["operator_name", "operator_page", "tenant_id", "tenant_page", "to_login"]

H = TypeVar("H", bound=Callable[..., Awaitable[Response]])
TENANT_LOGIN, OPERATOR_LOGIN = "/console/login", "/admin/login"


def to_login(request: Request) -> Response:
    """Back to the tenant's log-in page; htmx requests are told to go there."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": TENANT_LOGIN})
    return RedirectResponse(TENANT_LOGIN, status_code=303)


def _request(args: tuple[Any, ...]) -> Request:
    # Page handlers are methods (self, request, ...) or functions (request, ...).
    return next(a for a in args if isinstance(a, Request))


def tenant_page(handler: H) -> H:
    """The page needs a signed-in tenant user: anyone else is sent to log in."""

    @functools.wraps(handler)
    async def guarded(*args: Any, **kwargs: Any) -> Response:
        if signed_in(_request(args).scope, TENANT) is None:
            return to_login(_request(args))
        return await handler(*args, **kwargs)

    return cast(H, guarded)


def operator_page(handler: H) -> H:
    """The page needs a signed-in operator: anyone else is sent to the operator's log-in."""

    @functools.wraps(handler)
    async def guarded(*args: Any, **kwargs: Any) -> Response:
        if signed_in(_request(args).scope, OPERATOR) is None:
            return RedirectResponse(OPERATOR_LOGIN, status_code=303)
        return await handler(*args, **kwargs)

    return cast(H, guarded)


def tenant_id(request: Request) -> int:
    """The signed-in tenant's id, on a page behind ``@tenant_page``."""
    found = signed_in(request.scope, TENANT)
    if found is None or found.tenant_id is None:
        raise LookupError("tenant_id() outside a @tenant_page")
    return found.tenant_id


def operator_name(request: Request) -> str:
    """The signed-in operator's user name, as the audit log records it."""
    return str(request.session.get("username", "?"))
