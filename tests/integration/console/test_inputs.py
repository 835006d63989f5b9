"""Any value of any console form field gets a page, never a 500.

Property tests over every POST route of both areas, found in the application itself (so a
new route is covered, and must be given a form here). Each example starts from a form that
would be accepted, signed in with a valid CSRF token, replaces (or drops) one field or path
parameter with arbitrary text (or an arbitrary file), and drives the real application over a
real store. The answer must be below 500 with no error logged; a refused form (4xx) must
change nothing in the store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert
from starlette.routing import Mount, Route, Router

from smscloud.console import app as console_app
from smscloud.domain.recipients import Row
from smscloud.services import carrier_setup
from smscloud.services.accounts import passwords
from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from tests.support.audio import pcm_wav
from tests.support.hostile import (
    BOUNDS,
    FEW,
    LONG,
    NOTHING_KEPT,
    TRICKY,
    Kept,
    arrange_tenant,
    in_process,
    restore,
)
from tests.support.inprocess import InProcess
from tests.support.live import Tenant
from tests.support.voice import NOTICE, voice_template

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CSV = b"13800138000,1234\r\n13900139000,5678\r\n"
PRICES = b"iso,nation_code,price_yuan\r\nMY,60,0.3\r\n"
WAV = pcm_wav(0.2)
TEXT = st.one_of(
    st.sampled_from([t for t in TRICKY if isinstance(t, str)] + [str(b) for b in BOUNDS]),
    st.text(max_size=40),
    LONG,
)
FILE = st.tuples(
    st.text(max_size=20),
    st.binary(max_size=300) | st.sampled_from([PNG, CSV, PRICES, b"PK\x03\x04zip"]),
)
FILES = {"document", "proof_image", "commission_image", "file", "prices"}
Fields = dict[str, Any]


@dataclass
class World:
    app: InProcess
    tenant: Tenant
    uid: int
    operator: int
    other_tenant: int
    ids: dict[str, str]
    kept: Kept = NOTHING_KEPT


def forms(w: World) -> dict[str, tuple[str, Fields]]:
    """Route -> (area, a form it accepts); path parameters are fields named ``{name}``."""
    t = w.tenant
    sign = {"sign_type": "0", "document_type": "1", "purpose": "0", "international": "0"}
    sign |= {"name": "新签名", "remark": "r", "proof_image": ("p.png", PNG)}
    template = {"name": "t", "content": "您的验证码是{1}", "sms_type": "3", "international": "0"}
    template |= {"remark": "r"}
    send = {"app": t.sdk_app_id, "sign": t.sign_name, "template": t.template_id}
    send |= {"phone": "13800138000", "param": ["1234"]}
    app = {"{sdk_app_id}": t.sdk_app_id}
    item, task = {"{item_id}": w.ids["sign"]}, {"{task_id}": w.ids["task"]}
    voice_form = {"name": "发货", "content": NOTICE, "remark": "r"}
    return {
        "/console/signup": (
            "console",
            {
                "email": "new@example.com",
                "name": "n",
                "account_type": "enterprise",
                "password": "password-1234",
                "password2": "password-1234",
            },
        ),
        "/console/login": ("console", {"email": "user@example.com", "password": "wrong"}),
        "/console/logout": ("console", {}),
        "/console/password": (
            "console",
            {"current": "wrong", "password": "password-5678", "password2": "password-5678"},
        ),
        "/console/apps": ("console", {"name": "app"}),
        "/console/activate": ("console", {}),
        "/console/identity": (
            "console",
            {
                "account_type": "individual",
                "name": "张三",
                "id_number": "11010519491231002X",
                "document": ("id.png", PNG),
            },
        ),
        "/console/signs": ("console", sign),
        "/console/signs/{item_id}": ("console", sign | item),
        "/console/signs/{item_id}/delete": ("console", {"{item_id}": "999"}),
        "/console/templates": ("console", template),
        "/console/templates/preview": ("console", template | {"sign": t.sign_name}),
        "/console/templates/{item_id}": (
            "console",
            template | {"{item_id}": str(w.kept.rejected_template)},
        ),
        "/console/templates/{item_id}/delete": ("console", {"{item_id}": "999"}),
        "/console/packages/order": ("console", {"offer_id": "1"}),
        "/console/packages/alarm": (
            "console",
            {"threshold": "10", "emails": "a@example.com", "phones": "+8613800138000"},
        ),
        "/console/send": ("console", send),
        "/console/send/preview": ("console", send),
        "/console/apps/{sdk_app_id}/settings/callbacks": (
            "console",
            app | {"status_callback_url": "", "reply_callback_url": ""},
        ),
        "/console/apps/{sdk_app_id}/settings/test-push": ("console", app | {"kind": "status"}),
        "/console/apps/{sdk_app_id}/settings/frequency": (
            "console",
            app
            | {
                "freq_30s": "1",
                "freq_hour": "5",
                "freq_day": "10",
                "freq_same_content_day": "",
                "freq_allowlist": "+8613800138000",
            },
        ),
        "/console/apps/{sdk_app_id}/settings/limits": (
            "console",
            app | {"daily_limit": "0", "mainland_daily_limit": "0", "global_daily_limit": "0"},
        ),
        "/console/apps/{sdk_app_id}/settings/voice": (
            "console",
            app
            | {
                "voice_per_30s": "1",
                "voice_per_10min": "2",
                "voice_per_day": "3",
                "voice_quiet_start": "22:00",
                "voice_quiet_end": "08:00",
            },
        ),
        "/console/apps/{sdk_app_id}/settings/rotate-key": ("console", app),
        "/console/keys": ("console", {}),
        "/console/tasks": (
            "console",
            {
                "app": t.sdk_app_id,
                "sign": t.sign_name,
                "template": t.template_id,
                "rate": "100",
                "start": "",
                "file": ("list.csv", CSV),
            },
        ),
        "/console/tasks/{task_id}/confirm": ("console", {"{task_id}": "999"}),
        "/console/tasks/{task_id}/discard": ("console", {"{task_id}": "999"}),
        "/console/tasks/{task_id}/suspend": ("console", task),
        "/console/tasks/{task_id}/resume": ("console", task),
        "/console/tasks/{task_id}/cancel": ("console", {"{task_id}": "999"}),
        "/console/voice/send": (
            "console",
            {
                "kind": "template",
                "app": t.sdk_app_id,
                "phone": "13800138000",
                "code": "1234",
                "template": w.ids["voice_template"],
                "param": ["JD0501", "明天"],
                "play_times": "1",
            },
        ),
        "/console/voice/templates": ("console", voice_form),
        "/console/voice/templates/{item_id}": (
            "console",
            voice_form | {"{item_id}": w.ids["rejected_voice_template"]},
        ),
        "/console/voice/templates/{item_id}/delete": ("console", {"{item_id}": "999"}),
        "/console/voice/files": ("console", {"file": ("hello.wav", WAV)}),
        "/console/voice/files/{item_id}/delete": ("console", {"{item_id}": "999"}),
        "/console/contacts": ("console", {"channel": "email", "address": "ops@example.com"}),
        "/console/contacts/{item_id}/verify": ("console", {"{item_id}": "999", "code": "123456"}),
        "/console/contacts/{item_id}/resend": ("console", {"{item_id}": "999"}),
        "/console/contacts/{item_id}/kinds": ("console", {"{item_id}": "999", "kinds": "bill"}),
        "/console/contacts/{item_id}/delete": ("console", {"{item_id}": "999"}),
        "/console/messages/read-all": ("console", {}),
        "/admin/login": ("admin", {"username": "nobody", "password": "wrong"}),
        "/admin/logout": ("admin", {}),
        "/admin/identities/{identity_id}/approve": ("admin", {"{identity_id}": "999"}),
        "/admin/identities/{identity_id}/reject": (
            "admin",
            {"{identity_id}": "999", "reason": "blurred"},
        ),
        "/admin/reviews/{kind}/{item_id}": (
            "admin",
            {"{kind}": "sign", "{item_id}": "999", "decision": "reject", "reason": "no"},
        ),
        "/admin/voice/reviews/{kind}/{item_id}": (
            "admin",
            {"{kind}": "voice_template", "{item_id}": "999", "decision": "reject", "reason": "no"},
        ),
        "/admin/billing/offers": (
            "admin",
            {"name": "o", "units": "100", "price": "12.5", "validity_days": "30"},
        ),
        "/admin/billing/offers/{item_id}/active": ("admin", {"{item_id}": "999", "active": "1"}),
        "/admin/billing/orders/{item_id}/pay": ("admin", {"{item_id}": "999"}),
        "/admin/billing/orders/{item_id}/cancel": ("admin", {"{item_id}": "999"}),
        "/admin/billing/bills/{item_id}/pay": ("admin", {"{item_id}": "999"}),
        "/admin/billing/prices": ("admin", {"prices": ("prices.csv", PRICES)}),
        "/admin/tenants/{tenant_id}/suspend": ("admin", {"{tenant_id}": str(w.other_tenant)}),
        "/admin/tenants/{tenant_id}/reactivate": (
            "admin",
            {"{tenant_id}": str(w.other_tenant)},
        ),
        "/admin/carriers": (
            "admin",
            {
                "name": "c1",
                "host": "127.0.0.1",
                "port": "2775",
                "system_id": "sys",
                "password": "pw",
                "binds": "1",
                "source_addr": "",
                "nation_code": "86",
            },
        ),
        "/admin/carriers/{name}/country": ("admin", {"{name}": "kept", "nation_code": "60"}),
        "/admin/carriers/{name}/remove": ("admin", {"{name}": "nothing"}),
        "/admin/carriers/routes": (
            "admin",
            {"carriers": "c1", "nation_code": "86", "prefix": "", "sms_type": "", "priority": "0"},
        ),
        "/admin/carriers/routes/{route_id}/remove": ("admin", {"{route_id}": "999"}),
    }


def area_router(mount: Mount) -> Router:
    """The router of a console area: inside its cookie middleware and its session guard."""
    router = mount.app.app.app  # type: ignore[union-attr]
    assert isinstance(router, Router)
    return router


def post_routes(app: InProcess) -> list[str]:
    """Every POST route of both areas, as ``/area/path/{param}`` (convertors dropped)."""
    out = []
    for mount in app.app.routes:
        if isinstance(mount, Mount) and mount.path in ("/console", "/admin"):
            router = area_router(mount)
            for route in router.routes:
                if isinstance(route, Route) and "POST" in (route.methods or ()):
                    out.append(mount.path + route.path_format)
    return out


def arrange(app: InProcess) -> World:
    """A tenant with a user, an application, sign, template and a draft task; an operator;
    another tenant for the operator to suspend; a carrier for the operator to change."""
    t = app.tenant()
    hashed = passwords.hash_password("password-1234")

    def users(conn: Any) -> tuple[int, int, int]:
        uid = conn.execute(
            insert(s.tenant_users).values(
                tenant_id=t.id, email="user@example.com", password_hash=hashed, created_at=1.0
            )
        ).inserted_primary_key[0]
        op = conn.execute(
            insert(s.operators).values(username="op", password_hash=hashed, created_at=1.0)
        ).inserted_primary_key[0]
        other = accounts.create_tenant(conn, "other", "enterprise").id
        settings = {"host": "127.0.0.1", "port": 2775, "system_id": "sys", "password": "pw"}
        carrier_setup.add_carrier(conn, "kept", "smpp", settings)  # one to change
        return int(uid), int(op), int(other)

    uid, op, other = app.admin(users)
    draft = app.run(
        app.platform.tasks.draft(
            t.id,
            sdk_app_id=t.sdk_app_id,
            sign_name=t.sign_name,
            template_id=t.template_id,
            name="list.csv",
            rows=[Row(1, ("13800138000", "1234"))],
            rate=100,
            start_at=None,
        )
    )
    kept = arrange_tenant(app, t)

    def voice(conn: Any) -> tuple[int, int]:
        approved = voice_template(conn, t.id, NOTICE, now=1.0)
        return approved, voice_template(conn, t.id, NOTICE, status=-1, now=1.0)

    approved, rejected = app.admin(voice)
    ids = {"sign": str(kept.rejected_sign), "task": str(draft.task_id)}
    ids |= {"voice_template": str(approved), "rejected_voice_template": str(rejected)}
    return World(app, t, uid, op, other, ids, kept)


# Whole bodies and odd headers test the readers' wiring; the one-parameter tests already
# take every value to every column on PostgreSQL, whose types differ from SQLite's.
SQLITE_ONLY = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    # What is tested is how forms are read, not what a password hash costs: the cheapest
    # argon2 keeps thousands of log-in attempts fast.
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        dummy = cheap.hash("dummy")
        patch.setattr(passwords, "_dummy_hash", lambda: dummy)
        for app in in_process(request, tmp_path_factory.mktemp("console-inputs")):
            yield arrange(app)


def post(w: World, route: str, area: str, fields: Fields) -> tuple[int, str]:
    """POST a form as the signed-in tenant or operator, with a valid CSRF token."""
    if area == "console":
        values = {"realm": "tenant", "uid": w.uid, "tid": w.tenant.id, "email": "user@example.com"}
    else:
        values = {"realm": "operator", "uid": w.operator, "username": "op"}
    cookie, value, csrf = w.app.session_cookie(area, values)
    path = route
    data: dict[str, Any] = {"csrf_token": csrf}
    files: dict[str, Any] = {}
    for name, field in fields.items():
        if name.startswith("{"):
            path = path.replace(name, quote(str(field), safe="") or "%20")
        elif name in FILES and isinstance(field, tuple):
            files[name] = (field[0], field[1], "application/octet-stream")
        else:
            data[name] = field

    async def go() -> tuple[int, str]:
        async with w.app.client({cookie: value}) as client:
            r = await client.post(path, data=data, files=files or None)
            to = r.headers.get("location", "") + r.headers.get("hx-redirect", "")
            # Sent back to log in: the form never ran, and the example would prove nothing.
            assert not to.endswith("/login") or route.endswith(("/login", "/logout", "/signup")), (
                route
            )
            return r.status_code, r.text

    return w.app.run(go())


def check(w: World, route: str, area: str, fields: Fields) -> None:
    restore(w.app, w.kept)
    before = w.app.row_counts()
    w.app.errors.take()  # what an earlier failing example left
    status, text = post(w, route, area, fields)
    assert status < 500, (route, fields, text[:300])
    assert w.app.errors.take() == [], (route, fields)
    if status in (400, 404, 409, 413):  # a page that says what is wrong
        assert w.app.row_counts() == before, (route, fields, status)


# The routes and field names, known before any store exists.
IDS = ("sign", "task", "voice_template", "rejected_voice_template")
SHAPES = forms(World(None, Tenant(0, "", "", "1", 0), 0, 0, 0, dict.fromkeys(IDS, "1")))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("route", "name"), [(route, name) for route, (_, f) in SHAPES.items() for name in f]
)
@FEW
@given(data=st.data())
def test_any_value_of_one_field(world: World, route: str, name: str, data: st.DataObject) -> None:
    area, fields = forms(world)[route]
    if name in FILES:
        value: Any = data.draw(FILE | TEXT | st.just(...))
    else:
        value = data.draw(TEXT | st.lists(TEXT, max_size=3) | st.just(...))
    fields = dict(fields)
    if value is ...:
        del fields[name]
    else:
        fields[name] = value
    check(world, route, area, fields)


@SQLITE_ONLY
@pytest.mark.parametrize("route", sorted(SHAPES))
@FEW
@given(data=st.data())
def test_any_whole_form(world: World, route: str, data: st.DataObject) -> None:
    area, fields = forms(world)[route]
    names = [*sorted(fields), "other"]
    drawn = data.draw(st.dictionaries(st.sampled_from(names), TEXT, max_size=len(names)))
    check(world, route, area, {k: v for k, v in fields.items() if k.startswith("{")} | drawn)


def test_every_post_route_has_a_form(world: World) -> None:
    assert sorted(post_routes(world.app)) == sorted(forms(world))


def test_a_fresh_session_signs_in(world: World) -> None:
    # The fixture's cookies must be what the console itself accepts, or every example above
    # would only see the log-in redirect.
    status, _ = post(world, "/console/apps", "console", {"name": "x" * 200})
    assert status == 400  # the name is too long (not signed in would be a redirect)


def page_routes(app: InProcess) -> list[str]:
    """Every GET route of both areas, as ``/area/path/{param}``."""
    out = []
    for mount in app.app.routes:
        if isinstance(mount, Mount) and mount.path in ("/console", "/admin"):
            for route in area_router(mount).routes:
                if isinstance(route, Route) and "GET" in (route.methods or ()):
                    out.append(mount.path + route.path_format)
    return out


# What the pages read from their query strings (records filters, the sample list, language).
QUERY = ["phone", "state", "page", "task", "begin", "end", "template", "lang", "app", "sign"]
QUERY += ["kind", "code", "play_times"]  # the voice send page's


def get(w: World, path: str, params: dict[str, str]) -> int:
    """GET a page as the signed-in tenant or operator; its status."""
    area = "admin" if path.startswith("/admin") else "console"
    if area == "console":
        values = {"realm": "tenant", "uid": w.uid, "tid": w.tenant.id, "email": "u@example.com"}
    else:
        values = {"realm": "operator", "uid": w.operator, "username": "op"}
    cookie, value, _ = w.app.session_cookie(area, values)

    async def go() -> int:
        async with w.app.client({cookie: value}) as client:
            return (await client.get(path, params=params)).status_code

    return w.app.run(go())


# The pages are shared among a few tests: one example drawing a query for every page would
# draw more than Hypothesis lets one example hold.
PAGE_GROUPS = 4


@SQLITE_ONLY
@pytest.mark.parametrize("group", range(PAGE_GROUPS))
@FEW
@given(data=st.data())
def test_any_query_of_any_page(world: World, group: int, data: st.DataObject) -> None:
    for route in page_routes(world.app)[group::PAGE_GROUPS]:
        params = data.draw(st.dictionaries(st.sampled_from([*QUERY, "param"]), TEXT, max_size=4))
        path = route
        for name in re.findall(r"{(\w+)}", route):
            value = data.draw(st.sampled_from(["1", world.tenant.sdk_app_id]) | TEXT)
            path = path.replace(f"{{{name}}}", quote(value, safe="") or "%20")
        world.app.errors.take()
        assert get(world, path, params) < 500, (path, params)
        assert world.app.errors.take() == [], (path, params)


def test_every_upload_limit_is_a_post_route(world: World) -> None:
    routes = set()
    for mount in world.app.app.routes:
        if isinstance(mount, Mount) and mount.path in ("/console", "/admin"):
            for route in area_router(mount).routes:
                if isinstance(route, Route) and "POST" in (route.methods or ()):
                    routes.add(mount.path + route.path)
    sections = console_app.SECTIONS
    declared = [path for section in sections for path in getattr(section, "UPLOADS", {})]
    assert declared and set(declared) <= routes


def test_a_speed_of_unicode_digits_is_a_message_on_the_form(world: World) -> None:
    area, fields = forms(world)["/console/tasks"]
    status, text = post(world, "/console/tasks", area, fields | {"rate": "²"})
    assert status == 400 and 'id="e-rate">请从列表中选择发送速度。<' in text


@pytest.mark.parametrize(
    "path",
    ["/console/tasks/9223372036854775808/cancel", "/admin/tenants/99999999999999999999/suspend"],
)
def test_an_id_past_64_bits_is_no_page(world: World, path: str) -> None:
    area = path.split("/")[1]
    assert post(world, path, area, {})[0] == 404
