"""The check every console request passes before any page sees it: is its session still live?

It sits inside each area's cookie middleware. The signed cookie carries a session token
(``sid``), the CSRF token and flash messages; whether the session is signed in is decided
here, from its row in the database (``services/accounts/sessions.py``), on every request: a
logged-out, revoked, idle or too old session is signed out before the handler runs, in every
process at once. Pages ask ``signed_in(scope, realm)``, which only this check can make true.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from smscloud.domain.session_expiry import SessionLimits, alive, touch_due
from smscloud.services.accounts import sessions as console_sessions
from smscloud.services.accounts.sessions import SignedIn
from smscloud.store.database import Database

__all__ = ["SessionGuard", "signed_in"]

SIGNED_IN = "smscloud.signed_in"  # the scope key of a checked session's record
KEEP = ("csrf", "flash")  # what survives a session's end (a pending form still gets its reply)


def signed_in(scope: Scope, realm: str) -> SignedIn | None:
    """The request's session record when it was checked live in ``realm``, else None."""
    found = scope.get(SIGNED_IN)
    return found if isinstance(found, SignedIn) and found.realm == realm else None


def _sign_out(session: MutableMapping[str, Any]) -> None:
    for key in [k for k in session if k not in KEEP]:
        del session[key]
    session.setdefault("flash", []).append(["warn", "expired"])


class SessionGuard:
    """ASGI middleware: checks ``scope["session"]`` against the database for one realm."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        db: Database,
        realm: str,
        limits: SessionLimits,
        clock: Callable[[], float],
    ) -> None:
        self.app = app
        self.db = db
        self.realm = realm
        self.limits = limits
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.check(scope)
        await self.app(scope, receive, send)

    async def check(self, scope: Scope) -> None:
        session: MutableMapping[str, Any] = scope["session"]
        token = session.get("sid")
        if not isinstance(token, str):
            if "uid" in session:  # signed in by a cookie alone, before sessions were kept
                _sign_out(session)
            return
        key = console_sessions.token_key(token)
        found = await self.db.read(lambda c: console_sessions.load(c, key, self.realm))
        now = self.clock()
        if found is None or not alive(found.created_at, found.seen_at, now, self.limits):
            if found is not None:
                await self.db.write(lambda c: console_sessions.end(c, key))
            _sign_out(session)
            return
        if touch_due(found.seen_at, now):
            await self.db.write(lambda c: console_sessions.touch(c, key, now))
        # The record, not the cookie, says whose session this is.
        session["uid"] = found.user_id
        if found.tenant_id is not None:
            session["tid"] = found.tenant_id
        scope[SIGNED_IN] = found
