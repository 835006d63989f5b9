"""The whole ASGI application over a real SQLite file, driven in memory on one event loop.

For tests that send thousands of requests (property tests over every parameter): no socket,
no delivery loops, but the same routes, authentication, services and store as a live server.
Console sessions are made as the console itself makes them (a session row and a signed cookie
carrying its token), so a test can be signed in as a tenant or an operator without a password
check per example.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
import itsdangerous
from sqlalchemy import Connection, func, insert, select
from starlette.applications import Starlette

from smscloud.api.app import create_app
from smscloud.cli.demo_data import seed_prices
from smscloud.config import Settings
from smscloud.console import auth
from smscloud.platform import Platform
from smscloud.services.accounts import sessions as console_sessions
from smscloud.store import schema as s
from tests.support.live import LiveServer

T = TypeVar("T")
HOST = "testserver"


@contextlib.asynccontextmanager
async def _nothing(app: Starlette) -> AsyncIterator[None]:
    yield


class InProcess:
    """Call :meth:`close` when done (or use it as a context manager)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.platform = Platform(settings)
        self.app = create_app(self.platform, lifespan=_nothing)
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.platform.start(deliver=False))
        self.admin(seed_prices)
        self.secret = auth.load_secret(Path(settings.data_dir))
        self.errors: Any = None  # a log handler a test may attach

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.loop.run_until_complete(self.platform.stop())
        self.loop.close()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def client(self, cookies: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A client of the app; a 500 comes back as a response, as a browser would see it."""
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(
            transport=transport, base_url=f"http://{HOST}", cookies=cookies or {}
        )

    # -- arranging data as an operator would ----------------------------------------------
    def admin(self, fn: Callable[[Connection], T]) -> T:
        return self.platform.db.write_sync(fn)

    def query(self, fn: Callable[[Connection], T]) -> T:
        return self.platform.db.read_sync(fn)

    # The same verified tenant with key, application, package, sign and template as a live
    # server's: that helper only needs ``admin``.
    tenant = LiveServer.tenant

    def row_counts(self) -> dict[str, int]:
        """Rows in every table: what a refused request must leave as it was. The console's
        own books of log-ins and sessions are left out: every attempt writes them by design
        (a wrong password counts against the account)."""

        names = sorted(set(s.metadata.tables) - {"login_failures", "console_sessions"})
        counts = [
            select(func.count()).select_from(s.metadata.tables[n]).scalar_subquery() for n in names
        ]

        def count(conn: Connection) -> dict[str, int]:  # one round trip for every table
            row = conn.execute(select(*counts)).one()
            return {name: int(n) for name, n in zip(names, row, strict=True)}

        return self.query(count)

    def session_cookie(self, area: str, values: dict[str, Any]) -> tuple[str, str, str]:
        return signed_in_cookie(self.admin, self.secret, area, values)


def signed_in_cookie(
    admin: Callable[[Callable[[Connection], Any]], Any],
    secret: str,
    area: str,
    values: dict[str, Any],
) -> tuple[str, str, str]:
    """A signed-in session of ``area`` for the user ``values["uid"]``: its row written with
    ``admin`` (a store writer), then its cookie (see :func:`session_cookie`)."""
    realm = console_sessions.TENANT if area == "console" else console_sessions.OPERATOR
    token = secrets.token_urlsafe(32)
    now = time.time()
    row = {"realm": realm, "user_id": values["uid"], "created_at": now, "seen_at": now}
    key = console_sessions.token_key(token)
    admin(lambda c: c.execute(insert(s.console_sessions).values(id=key, **row)))
    return session_cookie(secret, area, values | {"sid": token})


def session_cookie(secret: str, area: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """(cookie name, value, CSRF token) of a console cookie of ``area`` (``console`` or
    ``admin``), signed as Starlette's SessionMiddleware signs it with the server's ``secret``
    (``console.auth.load_secret``). Signed in only with the ``sid`` of a session row."""
    csrf = secrets.token_urlsafe(32)
    session = values | {"seen": time.time(), "csrf": csrf}
    data = base64.b64encode(json.dumps(session).encode())
    signer = itsdangerous.TimestampSigner(f"{secret}:{area}")
    return f"smscloud_{area}", signer.sign(data).decode(), csrf
