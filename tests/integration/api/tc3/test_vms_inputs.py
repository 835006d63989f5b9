"""Any value of any VMS parameter gets an answer in Tencent's envelope, never InternalError,
and a refused call stores nothing (the property tests of ``test_inputs`` for service vms)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from hypothesis import given
from sqlalchemy import func, select

from smscloud.api.tc3.vms import ACTIONS
from smscloud.store import schema as s
from tests.integration.api.tc3.test_inputs import STYLES, call
from tests.support.hostile import FEW, VALUES, in_process
from tests.support.inprocess import InProcess
from tests.support.live import Tenant
from tests.support.voice import price_mainland_voice, voice_template

VERSION = "2020-09-02"


class VoiceWorld(NamedTuple):
    app: InProcess
    tenant: Tenant
    template_id: int


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VoiceWorld]:
    for app in in_process(request, tmp_path_factory.mktemp("vms-inputs")):
        t = app.tenant()

        def arrange(conn: Any, tenant_id: int = t.id) -> int:
            price_mainland_voice(conn)
            return voice_template(conn, tenant_id, "您的订单{1}已发货", now=time.time())

        yield VoiceWorld(app, t, app.admin(arrange))


def baseline(t: Tenant, action: str, template_id: int) -> dict[str, Any]:
    """A request of ``action`` the tenant may make (but for frequency limits)."""
    call_to = {"CalledNumber": "+8613800138000", "VoiceSdkAppid": t.sdk_app_id}
    common = call_to | {"PlayTimes": 2, "SessionContext": "s"}
    return {
        "SendCodeVoice": common | {"CodeMessage": "1234"},
        "SendTtsVoice": common | {"TemplateId": str(template_id), "TemplateParamSet": ["A1024"]},
    }[action]


PARAMETERS = [
    (action, name)
    for action in sorted(ACTIONS)
    for name in sorted(baseline(Tenant(0, "", "", "1", 0), action, 1))
]


def calls(app: InProcess) -> int:
    return app.query(lambda c: c.execute(select(func.count()).select_from(s.voice_calls)).scalar())


@pytest.mark.parametrize(("action", "name"), PARAMETERS)
@FEW
@given(value=VALUES | VALUES.map(lambda v: ...), style=STYLES)
def test_any_value_of_one_parameter(
    world: VoiceWorld, action: str, name: str, value: Any, style: str
) -> None:
    app, t, template_id = world
    body = baseline(t, action, template_id)
    if value is ...:
        del body[name]
    else:
        body[name] = value
    before = calls(app)
    response = call(app, t, VERSION, action, body, style)
    if "Error" in response:
        assert calls(app) == before  # a refused call stores nothing
    else:
        assert calls(app) == before + 1
        assert isinstance(response["SendStatus"]["CallId"], str)
