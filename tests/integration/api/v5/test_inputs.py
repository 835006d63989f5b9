"""Any value of any legacy v5 field gets a numeric ``result``, never a crash.

Property tests over every v5 command: each example starts from a body that would succeed,
replaces (or drops) one field with an arbitrary JSON value, or sends a whole arbitrary body,
signs it with the application's AppKey as the legacy SDK does, and drives the real
application over a real store. The answer must be HTTP 200 JSON with a numeric ``result``
and no error logged; a refused send must store nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from smscloud.api.v5.routes import COMMANDS, _sig_subject
from smscloud.protocols.auth.v5 import v5_sig
from smscloud.store import schema as s
from tests.support.hostile import (
    FEW,
    NOTHING_KEPT,
    TRICKY,
    VALUES,
    Kept,
    World,
    in_process,
    restore,
    world_of,
)
from tests.support.inprocess import InProcess
from tests.support.live import Tenant

MOBILE = {"nationcode": "86", "mobile": "13800138000"}


def baseline(t: Tenant, command: str, kept: Kept = NOTHING_KEPT) -> dict[str, Any]:
    """A body of ``command`` (without ``time`` and ``sig``) the application may send."""
    now = int(time.time())
    send = {"sign": t.sign_name, "tpl_id": int(t.template_id), "params": ["1234"], "ext": "e"}
    send |= {"extend": ""}
    template = {"title": "t", "text": "您的验证码是{1}", "remark": "r", "type": 0}
    template |= {"international": 0}
    sign = {"text": "新签名", "pic": "iVBORw0KGgo=", "remark": "r", "international": 0}
    dates = {"begin_date": 2021050113, "end_date": 2021050123}
    return {
        "sendsms": send | {"tel": MOBILE},
        "sendisms": send | {"tel": "+8613800138000"},
        "sendmultisms2": send | {"tel": [MOBILE]},
        "pullstatus": {"type": 0, "max": 10},
        "pullstatus4mobile": {"type": 0, "max": 10, "begin_time": now - 3600, "end_time": now}
        | MOBILE,
        "pullsendstatus": dates,
        "pullcallbackstatus": dates,
        "add_template": template,
        "mod_template": template | {"tpl_id": kept.rejected_template},
        "del_template": {"tpl_id": [999]},
        "get_template": {"tpl_page": {"max": 10, "offset": 0}},
        "add_sign": sign,
        "mod_sign": sign | {"sign_id": kept.rejected_sign},
        "del_sign": {"sign_id": [999]},
        "get_sign": {"sign_id": [kept.sign_id]},
    }[command]


FIELDS = [
    (command, name)
    for command in sorted(COMMANDS)
    for name in [*sorted(baseline(Tenant(0, "", "", "1", 0, template_id="1"), command)), "time"]
]


# Whole bodies and odd headers test the readers' wiring; the one-parameter tests already
# take every value to every column on PostgreSQL, whose types differ from SQLite's.
SQLITE_ONLY = pytest.mark.parametrize("world", ["sqlite"], indirect=True)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    for app in in_process(request, tmp_path_factory.mktemp("v5-inputs")):
        yield world_of(app)


def messages(app: InProcess) -> int:
    return app.query(lambda c: c.execute(select(func.count()).select_from(s.messages)).scalar())


def call(
    app: InProcess,
    t: Tenant,
    command: str,
    body: dict[str, Any],
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Sign and send one command; returns the answer after checking its shape."""
    before = messages(app) if command.startswith("send") else 0
    random = "123456"
    body = {"time": int(time.time())} | body
    stamp = body["time"]
    if isinstance(stamp, int) and not isinstance(stamp, bool) and "sig" not in body:
        body["sig"] = v5_sig(t.app_key, random, stamp, **_sig_subject(command, body))
    params = {"sdkappid": t.sdk_app_id, "random": random} | (query or {})
    app.errors.take()  # what an earlier failing example left

    async def go() -> tuple[int, str, bytes]:
        async with app.client() as client:
            r = await client.post(
                f"/v5/tlssmssvr/{command}", params=params, content=json.dumps(body).encode()
            )
            return r.status_code, r.headers.get("content-type", ""), r.content

    status, media, content = app.run(go())
    assert status == 200 and media == "application/json", (status, content[:500])
    answer = json.loads(content)
    assert isinstance(answer["result"], int) and isinstance(answer["errmsg"], str)
    assert app.errors.take() == [], (command, body)
    if command.startswith("send") and not {"sid", "detail"} & set(answer):
        assert messages(app) == before  # a refused request stores nothing
    return answer  # type: ignore[no-any-return]


@pytest.mark.parametrize(("command", "name"), FIELDS)
@FEW
@given(value=VALUES | st.just(...))
def test_any_value_of_one_field(world: World, command: str, name: str, value: Any) -> None:
    app, t, kept = world
    restore(app, kept)
    body = baseline(t, command, kept) | {"time": int(time.time())}
    if value is ...:
        del body[name]
    else:
        body[name] = value
    call(app, t, command, body)


@SQLITE_ONLY
@pytest.mark.parametrize("command", sorted(COMMANDS))
@FEW
@given(data=st.data())
def test_any_whole_body(world: World, command: str, data: st.DataObject) -> None:
    app, t, kept = world
    restore(app, kept)
    names = [*sorted(baseline(t, command, kept)), "other"]
    body = data.draw(st.dictionaries(st.sampled_from(names), VALUES, max_size=len(names)))
    call(app, t, command, body)


@SQLITE_ONLY
@pytest.mark.parametrize("command", ["sendsms", "get_sign"])
@FEW
@given(name=st.sampled_from(["sdkappid", "random"]), value=st.sampled_from(TRICKY) | st.text())
def test_any_query_value(world: World, command: str, name: str, value: str) -> None:
    app, t, kept = world
    restore(app, kept)
    call(app, t, command, baseline(t, command, kept), {name: value})


@pytest.mark.parametrize(
    ("command", "change"),
    [
        ("mod_sign", {"sign_id": 2**63}),
        ("mod_template", {"tpl_id": []}),
        ("add_template", {"international": "²"}),
        ("get_template", {"tpl_page": [1]}),
        ("sendsms", {"tel": {"nationcode": "86", "mobile": "138\x00"}}),
    ],
)
def test_values_that_crashed_a_command_are_result_1004(
    world: World, command: str, change: dict[str, Any]
) -> None:
    app, t, kept = world
    restore(app, kept)
    assert call(app, t, command, baseline(t, command, kept) | change)["result"] == 1004


@pytest.mark.parametrize("command", ["sendsms", "sendisms", "sendmultisms2", "mod_sign"])
def test_a_baseline_is_accepted_so_examples_reach_the_rules(world: World, command: str) -> None:
    app, t, kept = world
    restore(app, kept)
    answer = call(app, t, command, baseline(t, command, kept))
    assert answer["result"] in (0, 1023, 1024, 1025), answer  # sent, or a frequency limit
