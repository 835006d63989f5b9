"""A real smscloud server on a loopback port, run in a thread of the test process.

Tests talk to it over HTTP with the official Tencent SDK, and reach into its platform (store,
dispatcher) only to arrange data an operator would create and to wait for deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from sqlalchemy import Connection, insert, select
from starlette.applications import Starlette
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20190711 import sms_client as sms_client_2019
from tencentcloud.sms.v20210111 import sms_client

from smscloud.api.app import create_app
from smscloud.api.fast_path import fast_path_protocol
from smscloud.api.tc3.endpoint import Endpoint
from smscloud.cli.demo_data import seed_prices
from smscloud.clock import Clock, system_clock
from smscloud.config import Settings
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.services.registry import review
from smscloud.store import schema as s
from smscloud.store.database import inserted_id

T = TypeVar("T")
FINAL = {"DELIVERED", "UNDELIVERED", "EXPIRED", "REJECTED", "UNKNOWN", "FAILED"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Tenant:
    id: int
    secret_id: str
    secret_key: str
    sdk_app_id: str
    app_id: int
    sign_name: str = ""
    template_id: str = ""
    app_key: str = ""


class LiveServer:
    """Starts on ``__enter__``, stops on ``__exit__``."""

    def __init__(
        self, settings: Settings, *, clock: Clock = system_clock, deliver: bool = True
    ) -> None:
        """``deliver=False`` runs the API alone (no delivery loops): what was accepted stays
        as ACCEPT left it, for tests of the acceptance itself."""
        self.settings = settings
        self.platform = Platform(settings, clock=clock)
        self.endpoint = f"{settings.host}:{settings.port}"
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.platform, lifespan=None if deliver else self._accept_only),
                host=settings.host,
                port=settings.port,
                lifespan="on",
                access_log=False,
                log_level="warning",
                loop="asyncio",
                http=fast_path_protocol(Endpoint(self.platform)),  # as serve runs it
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not (self._server.started and self.platform.ready):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.admin(seed_prices)  # international numbers need a price to be sent to
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)

    @contextlib.asynccontextmanager
    async def _accept_only(self, app: Starlette) -> AsyncIterator[None]:
        await self.platform.start(deliver=False)
        try:
            yield
        finally:
            await self.platform.stop()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the server's event loop, where carriers report, and return its result."""
        loop = self._server.servers[0].get_loop()

        async def in_loop() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(in_loop(), loop).result(10)

    # -- arranging data as an operator would ----------------------------------------------
    def admin(self, fn: Callable[[Connection], T]) -> T:
        return self.platform.db.write_sync(fn)

    def query(self, fn: Callable[[Connection], T]) -> T:
        return self.platform.db.read_sync(fn)

    def tenant(
        self,
        *,
        account_type: str = "enterprise",
        units: int = 1000,
        sign: str | None = "测试签名",
        template: str | None = "您的验证码是{1}，5分钟内有效。",
        sms_type: int = 3,
        international: int = 0,
        verified: bool = True,
        **app_settings: Any,
    ) -> Tenant:
        """A verified tenant with a key, an application, a package, and approved sign/template."""
        now = self.platform.clock()  # the platform's time, whatever the machine's

        def make(conn: Connection) -> Tenant:
            name = f"T{time.time_ns()}"
            t = tenants.create_tenant(conn, name, account_type, verified=verified, now=now)
            key = tenants.create_key(conn, t.id, now=now)
            app = tenants.create_app(
                conn,
                t.id,
                "app",
                allowed_networks=self.settings.callback_allowed_networks,
                now=now,
                **app_settings,
            )
            if units:
                wallet.grant_package(conn, t.id, units, now=now)
            tenant = Tenant(t.id, key.secret_id, key.secret_key, app.sdk_app_id, app.id)
            tenant.app_key = app.app_key
            if sign is not None:
                tenant.sign_name = sign
                approved_sign(conn, t.id, sign, international, now=now)
            if template is not None:
                tenant.template_id = str(
                    approved_template(conn, t.id, template, sms_type, international, now=now)
                )
            return tenant

        return self.admin(make)

    def approve(self, kind: str, item_id: int) -> None:
        now = self.platform.clock()
        self.admin(lambda c: review.decide(c, kind, item_id, approve=True, now=now))  # type: ignore[arg-type]

    # -- SDK clients -----------------------------------------------------------------------
    def client(
        self, tenant: Tenant, *, method: str = "POST", sign_method: str | None = None
    ) -> sms_client.SmsClient:
        return sms_client.SmsClient(
            credential.Credential(tenant.secret_id, tenant.secret_key),
            "ap-guangzhou",
            self._profile(method, sign_method),
        )

    def client_2019(self, tenant: Tenant, *, method: str = "POST") -> Any:
        return sms_client_2019.SmsClient(
            credential.Credential(tenant.secret_id, tenant.secret_key),
            "ap-guangzhou",
            self._profile(method, None),
        )

    def _profile(self, method: str, sign_method: str | None) -> ClientProfile:
        http = HttpProfile(endpoint=self.endpoint, protocol="http", reqMethod=method)
        profile = ClientProfile(httpProfile=http)
        if sign_method:
            profile.signMethod = sign_method
        return profile

    # -- waiting for delivery --------------------------------------------------------------
    def states(self, serials: Iterable[str]) -> dict[str, str]:
        """Current state of each message, by serial number."""
        wanted = list(serials)
        m = s.messages
        q = select(m.c.serial_no, m.c.state).where(m.c.serial_no.in_(wanted))
        return {sn: st for sn, st in self.query(lambda c: c.execute(q).all())}

    def wait_final(self, serials: Iterable[str], timeout: float = 20.0) -> dict[str, str]:
        wanted = list(serials)
        deadline = time.monotonic() + timeout
        while True:
            states = self.states(wanted)
            if len(states) == len(wanted) and all(v in FINAL for v in states.values()):
                return states
            if time.monotonic() > deadline:
                raise AssertionError(f"not final in {timeout}s: {states}")
            time.sleep(0.05)


def approved_sign(
    conn: Connection, tenant_id: int, name: str, international: int = 0, *, now: float | None = None
) -> int:
    now = time.time() if now is None else now
    return inserted_id(
        conn.execute(
            insert(s.signs).values(
                tenant_id=tenant_id,
                name=name,
                sign_type=0,
                document_type=1,
                international=international,
                purpose=0,
                status=0,
                review_reply="",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )


def approved_template(
    conn: Connection,
    tenant_id: int,
    content: str,
    sms_type: int = 3,
    international: int = 0,
    *,
    now: float | None = None,
) -> int:
    now = time.time() if now is None else now
    return inserted_id(
        conn.execute(
            insert(s.templates).values(
                tenant_id=tenant_id,
                name="t",
                content=content,
                sms_type=sms_type,
                international=international,
                remark="",
                status=0,
                review_reply="",
                deleted=False,
                created_at=now,
                reviewed_at=now,
            )
        )
    )


def run(coro: Any) -> Any:
    return asyncio.run(coro)
