"""The web console over real HTTP: sign up, log in, dashboard, CSRF, isolation, rate limits."""

from __future__ import annotations

import asyncio
import json
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, select, update
from starlette.applications import Starlette

from smscloud.console import auth
from smscloud.console.app import console_routes
from smscloud.services.accounts import tenants
from smscloud.services.billing import wallet
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.live import LiveServer
from tests.unit.services.accounts.test_passwords import scrypt_hash

PASSWORD = "correct horse battery"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server


def base(live: LiveServer) -> str:
    return f"http://{live.endpoint}"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF field"
    return found.group(1)


def post_form(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    """GET the page for its CSRF token, then POST the form with it."""
    page = client.get(path)
    return client.post(path, data={**data, "csrf_token": csrf_of(page.text)})


def signup(client: httpx.Client, email: str, **extra: str) -> httpx.Response:
    data = {
        "email": email,
        "password": PASSWORD,
        "password2": PASSWORD,
        "name": "张三科技",
        "account_type": "enterprise",
    } | extra
    return post_form(client, "/console/signup", data)


def login(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return post_form(client, "/console/login", {"email": email, "password": password})


def activate(live: LiveServer, client: httpx.Client, email: str) -> None:
    """An operator verifies the tenant's identity, then the tenant activates SMS."""
    tid = tenant_of(live, email)
    t = s.tenants
    live.admin(lambda c: c.execute(update(t).where(t.c.id == tid).values(verified=True)))
    token = csrf_of(client.get("/console/").text)
    r = client.post("/console/activate", data={"csrf_token": token})
    assert r.status_code == 303


def tenant_of(live: LiveServer, email: str) -> int:
    u = s.tenant_users
    return int(
        live.query(
            lambda c: c.execute(select(u.c.tenant_id).where(u.c.email == email))
        ).scalar_one()
    )


def test_sign_up_log_in_and_see_the_dashboard(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        r = signup(client, "Alice@Example.com")
        assert r.status_code == 303 and r.headers["location"] == "/console/login"
        tid = tenant_of(live, "alice@example.com")
        row = live.query(lambda c: c.execute(select(s.tenants).where(s.tenants.c.id == tid)).one())
        assert (row.name, row.account_type, row.verified) == ("张三科技", "enterprise", False)
        stored = live.query(
            lambda c: c.execute(
                select(s.tenant_users.c.password_hash).where(s.tenant_users.c.tenant_id == tid)
            ).scalar_one()
        )
        assert stored.startswith("$argon2id$")
        live.admin(lambda c: wallet.grant_package(c, tid, 1234, package_type=1))

        page = client.get("/console/login")
        assert "注册成功" in page.text  # the flash from the sign-up
        r = login(client, "alice@example.com")
        assert r.status_code == 303 and r.headers["location"] == "/console/"
        dash = client.get("/console/")
        assert dash.status_code == 200
        assert dash.headers["cache-control"] == "no-store"
        assert 'id="units-left">1,234<' in dash.text
        packages = dash.text.split('id="packages"')[1].split("</table>")[0]
        assert "1,234" in packages and "购买" in packages
        assert 'id="identity">未认证' in dash.text
        assert "不能发送短信" in dash.text


def test_sign_up_shows_errors_per_field(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        r = signup(client, "not-an-email", password="short", password2="short", name="")
        assert r.status_code == 400
        assert 'id="e-email">请输入有效的邮箱地址' in r.text
        assert 'id="e-password">密码至少 10 个字符' in r.text
        assert 'id="e-name">此项必填' in r.text
        r = signup(client, "bob@example.com", password2=PASSWORD + "x")
        assert r.status_code == 400 and 'id="e-password2">两次输入的密码不一致' in r.text
        assert signup(client, "bob@example.com").status_code == 303
        r = signup(client, "BOB@example.com")
        assert r.status_code == 400 and 'id="e-email">该邮箱已注册' in r.text
    users = live.query(lambda c: c.execute(select(s.tenant_users.c.email)).scalars().all())
    assert users == ["bob@example.com"]


def test_posts_without_a_valid_csrf_token_are_refused(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "carol@example.com")
        client.get("/console/login")  # a session exists, so only the token is missing
        r = client.post("/console/login", data={"email": "carol@example.com", "password": PASSWORD})
        assert r.status_code == 403 and "请求被拒绝" in r.text and "CSRF" in r.text
        r = client.post(
            "/console/login",
            data={"email": "carol@example.com", "password": PASSWORD, "csrf_token": "forged"},
        )
        assert r.status_code == 403
        assert login(client, "carol@example.com").status_code == 303
        activate(live, client, "carol@example.com")
        # htmx sends the token as a header; a forged one is refused, the right one works.
        token = csrf_of(client.get("/console/").text)
        hx = {"HX-Request": "true"}
        r = client.post("/console/apps", data={"name": "x"}, headers=hx | {"X-CSRF-Token": "no"})
        assert r.status_code == 403
        r = client.post("/console/apps", data={"name": "x"}, headers=hx | {"X-CSRF-Token": token})
        assert r.status_code == 200 and 'id="new-app-key"' in r.text
        r = client.post("/console/logout")
        assert r.status_code == 403
    apps = live.query(lambda c: c.execute(select(s.applications.c.name)).scalars().all())
    assert apps == ["x"]


def test_a_tenant_sees_only_its_own_applications(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as a, httpx.Client(base_url=base(live)) as b:
        for client, email in ((a, "a@example.com"), (b, "b@example.com")):
            signup(client, email)
            login(client, email)
            activate(live, client, email)
        token = csrf_of(a.get("/console/").text)
        created = a.post("/console/apps", data={"name": "A 的应用", "csrf_token": token})
        assert created.status_code == 200
        sdk_app_id = re.search(r'id="new-sdk-app-id">(\d+)<', created.text).group(1)  # type: ignore[union-attr]
        app_key = re.search(r'id="new-app-key">([0-9a-f]{32})<', created.text).group(1)  # type: ignore[union-attr]
        row = live.query(
            lambda c: c.execute(
                select(s.applications).where(s.applications.c.sdk_app_id == sdk_app_id)
            ).one()
        )
        assert row.tenant_id == tenant_of(live, "a@example.com") and row.app_key == app_key

        own = a.get(f"/console/apps/{sdk_app_id}")
        assert own.status_code == 200 and "A 的应用" in own.text
        assert app_key not in own.text  # the AppKey was shown once, at creation
        assert app_key not in a.get("/console/").text
        assert sdk_app_id in a.get("/console/").text

        other = b.get(f"/console/apps/{sdk_app_id}")
        assert other.status_code == 404 and "A 的应用" not in other.text
        assert sdk_app_id not in b.get("/console/").text


def test_wrong_passwords_then_the_rate_limit(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "dave@example.com")
        signup(client, "erin@example.com")
        for _ in range(live.settings.login_failures_per_account):
            r = login(client, "dave@example.com", "wrong password!")
            assert r.status_code == 400 and "邮箱或密码错误" in r.text
        r = login(client, "dave@example.com")  # even the right password now
        assert r.status_code == 429 and "登录失败次数过多" in r.text
        assert client.get("/console/").status_code == 303
        assert login(client, "erin@example.com").status_code == 303  # another email is free


def test_old_scrypt_hashes_log_in_and_become_argon2(live: LiveServer) -> None:
    def make(conn: Connection) -> None:
        tenant = tenants.create_tenant(conn, "Legacy", "individual", verified=True)
        tenants.create_tenant_user(conn, tenant.id, "old@example.com", PASSWORD)
        u = s.tenant_users  # as the CLI and the seed wrote them before argon2
        legacy = scrypt_hash(PASSWORD)
        conn.execute(update(u).where(u.c.email == "old@example.com").values(password_hash=legacy))

    live.admin(make)
    u = s.tenant_users

    def stored() -> str:
        query = select(u.c.password_hash).where(u.c.email == "old@example.com")
        return str(live.query(lambda c: c.execute(query).scalar_one()))

    assert stored().startswith("scrypt$")
    with httpx.Client(base_url=base(live)) as client:
        assert login(client, "old@example.com", "wrong password!").status_code == 400
        assert stored().startswith("scrypt$")
        assert login(client, "old@example.com").status_code == 303
        assert 'id="identity">已认证' in client.get("/console/").text
    assert stored().startswith("$argon2id$")
    with httpx.Client(base_url=base(live)) as client:
        assert login(client, "old@example.com").status_code == 303


def test_change_password(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "fay@example.com")
        login(client, "fay@example.com")
        new = "a brand new secret"
        r = post_form(
            client, "/console/password", {"current": "nope", "password": new, "password2": new}
        )
        assert r.status_code == 400 and 'id="e-current">当前密码错误' in r.text
        r = post_form(
            client, "/console/password", {"current": PASSWORD, "password": new, "password2": new}
        )
        assert r.status_code == 303
        assert "密码已修改" in client.get("/console/").text
    with httpx.Client(base_url=base(live)) as client:
        assert login(client, "fay@example.com").status_code == 400
        assert login(client, "fay@example.com", new).status_code == 303


def test_logout_ends_the_session(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "gus@example.com")
        login(client, "gus@example.com")
        token = csrf_of(client.get("/console/").text)
        r = client.post("/console/logout", data={"csrf_token": token})
        assert r.status_code == 303 and r.headers["location"] == "/console/login"
        assert client.get("/console/").status_code == 303
        assert "您已退出" in client.get("/console/login").text


def test_operator_console_is_separate(live: LiveServer) -> None:
    live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "hal@example.com", name="Hal 工作室")
        login(client, "hal@example.com")
        # A tenant session is no operator session.
        r = client.get("/admin/")
        assert r.status_code == 303 and r.headers["location"] == "/admin/login"
        r = post_form(client, "/admin/login", {"username": "root", "password": "bad password"})
        assert r.status_code == 400 and "用户名或密码错误" in r.text
        r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303 and r.headers["location"] == "/admin/"
        page = client.get("/admin/")
        assert page.status_code == 200
        assert 'id="tenant-count">1<' in page.text and 'id="pending-count">0<' in page.text
        assert "Hal 工作室" in page.text and "hal@example.com" in page.text
        # The operator's cookie does not open the tenant console of anybody.
        with httpx.Client(base_url=base(live)) as op_only:
            op_only.cookies.set("smscloud_admin", client.cookies["smscloud_admin"], path="/admin")
            op_only.cookies.set("smscloud_console", client.cookies["smscloud_admin"])
            assert op_only.get("/admin/").status_code == 200
            assert op_only.get("/console/").status_code == 303


def test_language_switch(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        assert "登录控制台" in client.get("/console/login").text
        r = client.get("/console/login?lang=en")
        assert "Log in to the console" in r.text and 'lang="en"' in r.text
        assert client.cookies["smscloud_lang"] == "en"
        assert "Create an account" in client.get("/console/signup").text
        assert "Operator log in" in client.get("/admin/login").text
        assert "登录控制台" in client.get("/console/login?lang=zh").text
        assert "登录控制台" in client.get("/console/login").text


def test_the_session_secret_is_kept_private(live: LiveServer) -> None:
    path = live.settings.data_dir / auth.SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.load_secret(live.settings.data_dir) == path.read_text().strip()


# -- idle expiry, with a clock the test moves --------------------------------------------------
def test_an_idle_session_must_log_in_again(live: LiveServer) -> None:
    """The console's own routes with an injected clock, on the live server's platform."""
    now = [1_000_000.0]
    app = Starlette(routes=console_routes(live.platform, clock=lambda: now[0]))
    idle = live.settings.session_idle_minutes * 60

    async def journey() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:

            async def post(path: str, data: dict[str, str]) -> httpx.Response:
                token = csrf_of((await client.get(path)).text)
                return await client.post(path, data=data | {"csrf_token": token})

            data = {"email": "ivy@example.com", "password": PASSWORD}
            signed_up = await post(
                "/console/signup",
                data | {"password2": PASSWORD, "name": "Ivy", "account_type": "individual"},
            )
            assert signed_up.status_code == 303
            assert (await post("/console/login", data)).status_code == 303
            now[0] += idle - 1
            assert (await client.get("/console/")).status_code == 200
            now[0] += idle - 1  # idle time counts from the last request
            assert (await client.get("/console/")).status_code == 200
            now[0] += idle + 1
            r = await client.get("/console/")
            assert r.status_code == 303 and r.headers["location"] == "/console/login"
            assert "会话已过期" in (await client.get("/console/login")).text
            assert (await client.get("/console/")).status_code == 303

    asyncio.run(journey())


def test_sms_is_activated_by_a_verified_tenant(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as client:
        signup(client, "dora@example.com")
        login(client, "dora@example.com")
        page = client.get("/console/").text
        assert 'id="sms-state">未开通' in page and 'id="activate"' not in page
        token = csrf_of(page)
        r = client.post("/console/apps", data={"name": "早了", "csrf_token": token})
        assert r.status_code == 400 and "请先完成实名认证并开通短信服务" in r.text
        r = client.post("/console/activate", data={"csrf_token": token}, follow_redirects=True)
        assert "请先完成实名认证并开通短信服务" in r.text  # not verified: nothing changes
        assert 'id="sms-state">未开通' in r.text

        tid = tenant_of(live, "dora@example.com")
        t = s.tenants
        live.admin(lambda c: c.execute(update(t).where(t.c.id == tid).values(verified=True)))
        page = client.get("/console/").text
        assert 'id="activate"' in page
        r = client.post("/console/activate", data={"csrf_token": token}, follow_redirects=True)
        assert 'id="sms-state">已开通' in r.text and "短信服务已开通" in r.text
        r = client.post("/console/apps", data={"name": "现在可以", "csrf_token": token})
        assert r.status_code == 200 and 'id="new-app-key"' in r.text


def test_an_operator_added_with_the_cli_logs_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    env = {"SMSCLOUD_DATABASE_URL": url, "SMSCLOUD_DATA_DIR": str(tmp_path), "PATH": "/usr/bin"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "smscloud.cli.main", "admin", "operator", "create", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=False)

    made = cli("--username", "night.shift", "--json")
    assert made.returncode == 0, made.stderr
    password = json.loads(made.stdout)["password"]
    assert len(password) >= 12
    again = cli("--username", "night.shift")
    assert again.returncode != 0 and "exists" in again.stderr + again.stdout
    assert cli("--username", "no spaces").returncode != 0
    with (
        LiveServer(make_settings(tmp_path, url)) as live,
        httpx.Client(base_url=base(live)) as client,
    ):
        r = post_form(client, "/admin/login", {"username": "night.shift", "password": password})
        assert r.status_code == 303 and r.headers["location"] == "/admin/"
