"""Failed log-in limits that hold: under parallel requests, across processes sharing one
database, per account and per client address, with "try again in N minutes"."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection
from starlette.applications import Starlette

from smscloud.console.app import console_routes
from smscloud.domain.login_limits import Limits, Refused
from smscloud.services.accounts import login_gate
from smscloud.services.accounts import tenants as accounts
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form, signup
from tests.support import postgres
from tests.support.live import LiveServer, free_port
from tests.support.process import ServeProcess

WRONG = "not the password"
PER_ACCOUNT = 5  # the default of SMSCLOUD_LOGIN_FAILURES_PER_ACCOUNT


async def parallel_posts(
    endpoints: list[str], path: str, data: dict[str, str], count: int
) -> list[httpx.Response]:
    """``count`` POSTs of ``data`` at once, spread over ``endpoints``, each client with its
    session's CSRF token."""
    clients = [httpx.AsyncClient(base_url=e, timeout=120) for e in endpoints]
    try:
        tokens = [csrf_of((await c.get(path)).text) for c in clients]
        return list(
            await asyncio.gather(
                *(
                    clients[i % len(clients)].post(
                        path, data=data | {"csrf_token": tokens[i % len(clients)]}
                    )
                    for i in range(count)
                )
            )
        )
    finally:
        for c in clients:
            await c.aclose()


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    return dict(Counter(r.status_code for r in responses))


# -- the store: one check-and-count, whatever the concurrency ----------------------------------
def test_two_writers_reserving_at_once_admit_only_the_limit(database_url: str) -> None:
    """Two stores on one database (as two processes have), forty reservations at once."""
    stores = [Database(database_url) for _ in range(2)]
    upgrade(stores[0].engine)
    for store in stores:
        store.start()
    limits = Limits(per_account=5, per_address=1000, window=900.0)
    try:

        def attempt(i: int) -> Refused | None:
            return stores[i % 2].write_sync(
                lambda c: login_gate.reserve_check(
                    c, "tenant:eve@example.com", f"addr:10.0.0.{i}", 1000.0, limits
                )
            )

        with ThreadPoolExecutor(40) as pool:
            verdicts = list(pool.map(attempt, range(40)))
    finally:
        for store in stores:
            store.close()
    assert verdicts.count(None) == 5
    assert set(verdicts) - {None} == {Refused(1900.0)}


def test_a_success_clears_the_account_and_returns_the_address_check(db: Database) -> None:
    limits = Limits(per_account=2, per_address=3, window=900.0)

    def reserve(account: str, at: float = 0.0) -> Refused | None:
        return db.write_sync(lambda c: login_gate.reserve_check(c, account, "addr:a", at, limits))

    assert reserve("tenant:x") is None and reserve("tenant:x") is None
    assert reserve("tenant:x") == Refused(900.0)  # the account is full
    db.write_sync(lambda c: login_gate.check_passed(c, "tenant:x", "addr:a"))
    assert reserve("tenant:x") is None  # cleared; the address had one back: 2 of 3 used
    assert reserve("tenant:y") is None  # the address's third
    assert reserve("tenant:z") == Refused(900.0)  # now the address is full, for any account
    assert reserve("tenant:z", at=900.0) is None  # until its window ends


# -- over HTTP ----------------------------------------------------------------------------------
def test_forty_parallel_wrong_passwords_reach_the_check_five_times(server: LiveServer) -> None:
    """On SQLite and PostgreSQL: the check and the count are one step, so attempts racing
    each other cannot all see room for one more."""
    server.admin(lambda c: accounts.create_operator(c, "root", PASSWORD))
    responses = asyncio.run(
        parallel_posts([base(server)], "/admin/login", {"username": "root", "password": WRONG}, 40)
    )
    assert statuses(responses) == {400: PER_ACCOUNT, 429: 40 - PER_ACCOUNT}
    refused = next(r for r in responses if r.status_code == 429)
    assert "登录失败次数过多，请 15 分钟后再试。" in refused.text
    with httpx.Client(base_url=base(server)) as client:  # the right password too, for now
        r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 429


@pytest.mark.slow
def test_two_processes_on_one_postgresql_share_the_limit(
    processes: Callable[..., ServeProcess], tmp_path: Path, pg_cluster: postgres.Cluster
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    env = {"SMSCLOUD_SIMULATOR": "off", "SMSCLOUD_DEMO_SEED": "false"}
    apis = [processes(tmp_path / d, free_port(), url, command="api", **env) for d in ("a", "b")]
    for api in apis:
        api.data_dir.mkdir()
        api.start()
    password = apis[0].admin("operator", "create", "--username", "root")["password"]
    endpoints = [f"http://{api.endpoint}" for api in apis]
    responses = asyncio.run(
        parallel_posts(endpoints, "/admin/login", {"username": "root", "password": WRONG}, 40)
    )
    assert statuses(responses) == {400: PER_ACCOUNT, 429: 40 - PER_ACCOUNT}
    for endpoint in endpoints:  # (the minutes left are each process's own clock's reading)
        with httpx.Client(base_url=endpoint) as client:
            r = post_form(client, "/admin/login", {"username": "root", "password": password})
            assert r.status_code == 429 and "分钟后再试" in r.text


def test_the_refusal_counts_down_and_ends_with_the_window(tmp_path: Path) -> None:
    """Both languages, with a clock the test moves; per account, then per client address."""
    settings = make_settings(
        tmp_path, f"sqlite:///{tmp_path / 'limits.db'}", login_failures_per_address=PER_ACCOUNT + 3
    )
    with LiveServer(settings) as live:

        def users(c: Connection) -> None:
            for i in range(5):
                tenant = accounts.create_tenant(c, f"T{i}", "individual")
                accounts.create_tenant_user(c, tenant.id, f"u{i}@example.com", PASSWORD)

        live.admin(users)
        now = [1_000_000.0]
        app = Starlette(routes=console_routes(live.platform, clock=lambda: now[0]))

        async def journey() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:

                async def log_in(email: str, password: str, lang: str = "zh") -> httpx.Response:
                    token = csrf_of((await client.get(f"/console/login?lang={lang}")).text)
                    data = {"email": email, "password": password, "csrf_token": token}
                    return await client.post("/console/login", data=data)

                for _ in range(PER_ACCOUNT):
                    assert (await log_in("u0@example.com", WRONG)).status_code == 400
                r = await log_in("u0@example.com", PASSWORD)
                assert r.status_code == 429 and "请 15 分钟后再试" in r.text
                now[0] += 10 * 60 + 30
                r = await log_in("u0@example.com", PASSWORD, "en")
                assert r.status_code == 429 and "try again in 5 minutes" in r.text
                now[0] += 4 * 60 + 15
                r = await log_in("u0@example.com", PASSWORD, "en")
                assert "Too many failed attempts; try again in a minute." in r.text
                now[0] += 15
                r = await log_in("u0@example.com", PASSWORD)
                assert r.status_code == 303  # the window ended
                # Per client address: its failures over several accounts close it to every
                # account, even one never tried, until that window ends.
                start = now[0]
                for i in range(PER_ACCOUNT + 3):
                    now[0] = start + i
                    email = f"u{1 + i % 3}@example.com"
                    assert (await log_in(email, WRONG)).status_code == 400
                r = await log_in("u4@example.com", PASSWORD)
                assert r.status_code == 429 and "请 15 分钟后再试" in r.text
                now[0] = start + 15 * 60
                assert (await log_in("u4@example.com", PASSWORD)).status_code == 303

        asyncio.run(journey())


def test_wrong_current_passwords_count_against_the_account(tmp_path: Path) -> None:
    with (
        LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'cp.db'}")) as live,
        httpx.Client(base_url=base(live)) as client,
    ):
        signup(client, "kim@example.com")
        assert login(client, "kim@example.com").status_code == 303
        new = "a brand new secret"
        for _ in range(PER_ACCOUNT):
            r = post_form(
                client, "/console/password", {"current": WRONG, "password": new, "password2": new}
            )
            assert r.status_code == 400 and "当前密码错误" in r.text
        r = post_form(
            client, "/console/password", {"current": PASSWORD, "password": new, "password2": new}
        )
        assert r.status_code == 429 and "请 15 分钟后再试" in r.text
        with httpx.Client(base_url=base(live)) as other:
            assert login(other, "kim@example.com").status_code == 429
