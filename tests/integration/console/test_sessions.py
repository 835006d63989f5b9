"""Revocable console sessions, over real HTTP with a replayed cookie: log-out, a password
change and a suspended tenant end sessions at once, in every process; sessions also end when
idle and when too old, for tenant users and operators alike."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, func, select, text, update
from starlette.applications import Starlette

from smscloud.console.app import console_routes
from smscloud.domain.session_expiry import SessionLimits
from smscloud.services.accounts import sessions as console_sessions
from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from smscloud.store.database import Database
from tests.conftest import make_settings
from tests.integration.console.test_http import (
    PASSWORD,
    base,
    csrf_of,
    login,
    post_form,
    signup,
    tenant_of,
)
from tests.support import postgres
from tests.support.live import LiveServer, free_port
from tests.support.process import ServeProcess

NEW = "a brand new secret"
TENANT_COOKIE, ADMIN_COOKIE = "smscloud_console", "smscloud_admin"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'sessions.db'}")) as server:
        yield server


def copy_of(client: httpx.Client, endpoint: str, name: str = TENANT_COOKIE) -> httpx.Client:
    """A second browser holding a copy of ``client``'s session cookie (as a thief would)."""
    other = httpx.Client(base_url=endpoint)
    path = "/console" if name == TENANT_COOKIE else "/admin"
    other.cookies.set(name, client.cookies[name], path=path)
    return other


def signed_in(client: httpx.Client, area: str = "console") -> bool:
    r = client.get(f"/{area}/")
    return r.status_code == 200


def operator_login(client: httpx.Client, username: str = "root") -> httpx.Response:
    return post_form(client, "/admin/login", {"username": username, "password": PASSWORD})


def sessions_of(live: LiveServer) -> int:
    cs = s.console_sessions
    return int(live.query(lambda c: c.execute(select(func.count()).select_from(cs)).scalar_one()))


# -- log-out ------------------------------------------------------------------------------------
def test_log_out_ends_the_session_for_every_copy_of_the_cookie(live: LiveServer) -> None:
    live.admin(lambda c: accounts.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "gus@example.com")
        assert login(client, "gus@example.com").status_code == 303
        assert operator_login(client).status_code == 303
        with (
            copy_of(client, base(live)) as thief,
            copy_of(client, base(live), ADMIN_COOKIE) as op_thief,
        ):
            assert signed_in(thief) and signed_in(op_thief, "admin")
            for area in ("console", "admin"):
                token = csrf_of(client.get(f"/{area}/").text)
                r = client.post(f"/{area}/logout", data={"csrf_token": token})
                assert r.status_code == 303 and r.headers["location"] == f"/{area}/login"
            r = thief.get("/console/")
            assert r.status_code == 303 and r.headers["location"] == "/console/login"
            assert "会话已过期" in thief.get("/console/login").text
            assert op_thief.get("/admin/").headers["location"] == "/admin/login"
            # Not even a form post gets through with the old cookie.
            token = csrf_of(thief.get("/console/login").text)
            r = thief.post("/console/apps", data={"name": "x", "csrf_token": token})
            assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert sessions_of(live) == 0


# -- password change ----------------------------------------------------------------------------
def test_a_password_change_ends_every_other_session_of_the_user(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as laptop, httpx.Client(base_url=base(live)) as phone:
        signup(laptop, "fay@example.com")
        signup(phone, "fred@example.com")  # another user of another tenant keeps his
        assert login(laptop, "fay@example.com").status_code == 303
        assert login(phone, "fay@example.com").status_code == 303
        with (
            copy_of(laptop, base(live)) as thief,
            httpx.Client(base_url=base(live)) as fred,
        ):
            assert login(fred, "fred@example.com").status_code == 303
            change = {"current": PASSWORD, "password": NEW, "password2": NEW}
            r = post_form(laptop, "/console/password", change)
            assert r.status_code == 303
            page = laptop.get("/console/")  # the changer's own session was renewed
            assert page.status_code == 200 and "密码已修改" in page.text
            assert not signed_in(phone)
            assert not signed_in(thief)  # the cookie from before the change
            assert signed_in(fred)
    assert sessions_of(live) == 2  # the changer's new one and fred's


# -- an operator suspends a tenant -------------------------------------------------------------
def test_suspending_a_tenant_signs_its_users_out_at_once(live: LiveServer) -> None:
    live.admin(lambda c: accounts.create_operator(c, "root", PASSWORD))
    with (
        httpx.Client(base_url=base(live)) as tenant,
        httpx.Client(base_url=base(live)) as op,
    ):
        signup(tenant, "hal@example.com")
        assert login(tenant, "hal@example.com").status_code == 303
        tid = tenant_of(live, "hal@example.com")
        assert operator_login(op).status_code == 303
        token = csrf_of(op.get("/admin/tenants").text)
        assert op.post(f"/admin/tenants/{tid}/suspend", data={"csrf_token": token}).status_code
        assert not signed_in(tenant)
        r = login(tenant, "hal@example.com")
        assert r.status_code == 403 and "该账号已被停用" in r.text
        r = login(tenant, "hal@example.com", "wrong password!")
        assert r.status_code == 400 and "停用" not in r.text  # told to the password's owner only
        r = op.post(f"/admin/tenants/{tid}/reactivate", data={"csrf_token": token})
        assert r.status_code == 303
        assert login(tenant, "hal@example.com").status_code == 303 and signed_in(tenant)


def test_a_suspension_made_elsewhere_ends_sessions_on_their_next_request(
    live: LiveServer,
) -> None:
    """A tenant set suspended by any means (another process, an SQL console) is signed out:
    the tenant's status is part of every request's check."""
    with httpx.Client(base_url=base(live)) as tenant:
        signup(tenant, "ida@example.com")
        login(tenant, "ida@example.com")
        tid = tenant_of(live, "ida@example.com")
        t = s.tenants
        live.admin(lambda c: c.execute(update(t).where(t.c.id == tid).values(status="suspended")))
        assert not signed_in(tenant)


# -- expiry, with a clock the test moves --------------------------------------------------------
def test_sessions_end_when_idle_or_too_old_in_both_realms(live: LiveServer) -> None:
    live.admin(lambda c: accounts.create_operator(c, "root", PASSWORD))
    live.admin(
        lambda c: accounts.create_tenant_user(
            c, accounts.create_tenant(c, "Ivy", "individual").id, "ivy@example.com", PASSWORD
        )
    )
    now = [1_000_000.0]
    app = Starlette(routes=console_routes(live.platform, clock=lambda: now[0]))
    idle = live.settings.session_idle_minutes * 60
    lifetime = live.settings.session_max_hours * 3600

    async def journey() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:

            async def post(path: str, data: dict[str, str]) -> httpx.Response:
                token = csrf_of((await client.get(path)).text)
                return await client.post(path, data=data | {"csrf_token": token})

            async def alive(area: str) -> bool:
                return (await client.get(f"/{area}/")).status_code == 200

            r = await post("/console/login", {"email": "ivy@example.com", "password": PASSWORD})
            assert r.status_code == 303
            r = await post("/admin/login", {"username": "root", "password": PASSWORD})
            assert r.status_code == 303
            start = now[0]
            # Used every hour: alive until the lifetime, exactly, and not a second more.
            while now[0] + 3600 <= start + lifetime:
                now[0] += 3600
                assert await alive("console") and await alive("admin")
            now[0] = start + lifetime + 1
            assert not await alive("console") and not await alive("admin")
            assert "会话已过期" in (await client.get("/console/login")).text

            # Idle: the operator's session dies of it, the tenant's (used) lives on.
            r = await post("/console/login", {"email": "ivy@example.com", "password": PASSWORD})
            r = await post("/admin/login", {"username": "root", "password": PASSWORD})
            now[0] += idle / 2
            assert await alive("console")
            now[0] += idle / 2 + 1
            assert await alive("console") and not await alive("admin")

    asyncio.run(journey())


# -- racing a log-in against a password change or a suspension ---------------------------------
def _wait_until_blocked_or_done(db: Database, racer: threading.Thread) -> None:
    """On PostgreSQL, until the racing log-in waits for a row lock (or has finished without
    waiting, which the test then finds out from its result)."""
    if db.dialect != "postgresql":
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    while racer.is_alive() and not db.read_sync(lambda c: c.execute(query).scalar_one()):
        assert time.monotonic() < deadline, "the log-in neither waited nor finished"
        time.sleep(0.01)


@pytest.mark.parametrize("change", ["password", "suspension"])
def test_a_log_in_racing_a_change_leaves_no_session(db: Database, change: str) -> None:
    """The log-in checked the old password (or an active tenant) just before the change
    committed; its session must not outlive the change. On PostgreSQL the log-in is made to
    wait on the changed row; on SQLite it waits for the write lock."""

    def make(c: Connection) -> tuple[int, int, str]:
        tenant = accounts.create_tenant(c, "Race", "individual")
        accounts.create_tenant_user(c, tenant.id, "race@example.com", PASSWORD)
        u = s.tenant_users
        user = c.execute(select(u).where(u.c.email == "race@example.com")).one()
        return int(tenant.id), int(user.id), str(user.password_hash)

    tid, uid, old = db.write_sync(make)
    outcome: list[str | None] = []
    with db.connect() as changer:  # the change, not yet committed
        if change == "password":
            console_sessions.change_password(changer, uid, "other-hash", 1.0)
        else:
            t = s.tenants
            changer.execute(update(t).where(t.c.id == tid).values(status="suspended"))
            console_sessions.end_tenant(changer, tid)
        racer = threading.Thread(
            target=lambda: outcome.append(
                db.write_sync(
                    lambda c: console_sessions.start(
                        c, console_sessions.TENANT, uid, old, 2.0, SessionLimits()
                    )
                )
            )
        )
        racer.start()
        _wait_until_blocked_or_done(db, racer)
    racer.join(30)
    assert outcome == [None]
    cs = s.console_sessions
    live = db.read_sync(
        lambda c: c.execute(select(cs.c.user_id).where(cs.c.user_id == uid)).scalars().all()
    )
    assert list(live) == ([uid] if change == "password" else [])  # the changer's own only


# -- several processes ------------------------------------------------------------------------
@pytest.mark.slow
def test_a_log_out_in_one_process_ends_the_session_in_another(
    processes: Callable[..., ServeProcess], tmp_path: Path, pg_cluster: postgres.Cluster
) -> None:
    """Two API processes on one PostgreSQL behind a balancer, sharing the cookie key.

    The browser logs in on the process started last and its cookie is replayed on the first:
    a cookie signed by a clock ahead of the reader's is refused by the signature check
    (itsdangerous), and a test clock that starts anew in each process (``at-night.sh``) puts
    the later process behind."""
    name = "t_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    shared = tmp_path / "data"
    shared.mkdir()
    env = {"SMSCLOUD_SIMULATOR": "off", "SMSCLOUD_DEMO_SEED": "false"}
    apis = [processes(shared, free_port(), url, command="api", **env) for _ in range(2)]
    for api in apis:
        api.start()
    password = apis[0].admin("operator", "create", "--username", "root")["password"]
    first, last = (f"http://{api.endpoint}" for api in apis)
    with httpx.Client(base_url=last) as client:
        r = post_form(client, "/admin/login", {"username": "root", "password": password})
        assert r.status_code == 303
        with (
            copy_of(client, first, ADMIN_COOKIE) as elsewhere,
            copy_of(client, first, ADMIN_COOKIE) as thief,
        ):
            assert signed_in(elsewhere, "admin")
            token = csrf_of(elsewhere.get("/admin/").text)
            assert elsewhere.post("/admin/logout", data={"csrf_token": token}).status_code == 303
            assert not signed_in(client, "admin")  # in the process the browser logged in to
            assert not signed_in(thief, "admin")
