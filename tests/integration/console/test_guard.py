"""Every console page but the public ones needs a signed-in user of its area.

The routes are found in the application itself, so a new page that forgets ``@tenant_page``
or ``@operator_page`` fails here. A form is posted with a valid CSRF token of a session that is
not signed in, so what answers is the sign-in guard, not the form guard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Mount, Route, Router

from tests.conftest import make_settings
from tests.support.inprocess import InProcess, session_cookie

# What anyone may open: the log-in and sign-up pages, and log-out (which ends what there is).
PUBLIC = {
    ("console", "GET", "/signup"),
    ("console", "POST", "/signup"),
    ("console", "GET", "/login"),
    ("console", "POST", "/login"),
    ("console", "POST", "/logout"),
    ("admin", "GET", "/login"),
    ("admin", "POST", "/login"),
    ("admin", "POST", "/logout"),
}
LOGIN = {"console": "/console/login", "admin": "/admin/login"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    tmp: Path = tmp_path_factory.mktemp("console-guard")
    with InProcess(make_settings(tmp, f"sqlite:///{tmp / 'guard.db'}")) as app:
        yield app


def routes(app: InProcess) -> list[tuple[str, str, str]]:
    """(area, method, path) of every route of both areas, path parameters as ``{name}``."""
    out = []
    for mount in app.app.routes:
        if isinstance(mount, Mount) and mount.path in ("/console", "/admin"):
            router = mount.app.app.app  # type: ignore[union-attr]
            assert isinstance(router, Router)
            for route in router.routes:
                assert isinstance(route, Route)
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    out.append((mount.path.strip("/"), method, route.path_format))
    return out


def ask(app: InProcess, area: str, method: str, path: str, htmx: bool = False) -> tuple[int, str]:
    """The status and where the answer sends the browser, for a request with a cookie of the
    area that holds a CSRF token and no session."""
    cookie, value, csrf = session_cookie(app.secret, area, {})
    url = f"/{area}" + re.sub(r"{\w+}", "1", path)
    headers = {"HX-Request": "true"} if htmx else {}

    async def go() -> tuple[int, str]:
        async with app.client({cookie: value}) as client:
            if method == "POST":
                r = await client.post(url, data={"csrf_token": csrf}, headers=headers)
            else:
                r = await client.request(method, url, headers=headers)
            return r.status_code, r.headers.get("location") or r.headers.get("hx-redirect", "")

    return app.run(go())


def test_every_page_but_the_public_ones_sends_a_stranger_to_log_in(app: InProcess) -> None:
    found = routes(app)
    assert {(a, m, p) for a, m, p in found} >= PUBLIC
    guarded = [(a, m, p) for a, m, p in found if (a, m, p) not in PUBLIC]
    assert len(guarded) > 60, "the routes were not found"
    for area, method, path in guarded:
        assert ask(app, area, method, path) == (303, LOGIN[area]), (area, method, path)


def test_htmx_is_told_where_to_go_instead_of_being_redirected(app: InProcess) -> None:
    # htmx would follow a 303 and swap the log-in page into the fragment it asked for.
    for path in ("/records/rows", "/tasks/rows", "/tasks/1/progress"):
        assert ask(app, "console", "GET", path, htmx=True) == (204, "/console/login")
    for path in ("/send/preview", "/templates/preview", "/apps"):
        assert ask(app, "console", "POST", path, htmx=True) == (204, "/console/login")


def test_public_pages_answer_a_stranger(app: InProcess) -> None:
    for area, method, path in sorted(PUBLIC):
        status, _ = ask(app, area, method, path)
        if method == "GET":
            assert status == 200, (area, path)
        else:  # an empty form: a page saying what is missing, or out (log-out)
            assert status in (303, 400), (area, path, status)
