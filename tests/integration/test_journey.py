"""The first real journey, as a developer and an operator live it, against ``smscloud serve``.

An operator creates a tenant, a key, an application and a package with the CLI; the developer
applies for a signature and a template with the official SDK; the operator approves them with
the CLI; the developer sends and reads delivery status. Then the README's example runs as is.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bench.receiver import CallbackReceiver
from sqlalchemy import create_engine, select, update
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from smscloud.domain.call_states import CallState
from smscloud.store import schema as s
from tests.support.live import free_port
from tests.support.process import ServeProcess

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def call(client: Any, action: str, body: dict[str, Any]) -> Any:
    req = getattr(models, f"{action}Request")()
    req.from_json_string(json.dumps(body))
    return getattr(client, action)(req)


def test_operator_and_developer_journey(
    processes: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    srv = processes(
        tmp_path / "data", free_port(), SMSCLOUD_DEMO_SEED="false", SMSCLOUD_SIMULATOR_DELAY_MS="50"
    )
    srv.start()
    stack = contextlib.ExitStack()
    try:
        tenant = srv.admin(
            "tenant", "create", "--name", "Acme", "--type", "enterprise", "--verified"
        )
        key = srv.admin("key", "create", "--tenant", str(tenant["id"]))
        rx = stack.enter_context(CallbackReceiver())
        app = srv.admin(
            "app",
            "create",
            "--tenant",
            str(tenant["id"]),
            "--name",
            "Shop",
            "--status-callback",
            rx.url,
        )
        pkg = srv.admin("package", "grant", "--tenant", str(tenant["id"]), "--units", "100")
        assert pkg["units"] == 100 and app["sdk_app_id"].startswith("14")

        client = sms_client.SmsClient(
            credential.Credential(key["secret_id"], key["secret_key"]),
            "ap-guangzhou",
            ClientProfile(httpProfile=HttpProfile(endpoint=srv.endpoint, protocol="http")),
        )
        proof = base64.b64encode(b"\xff\xd8\xff licence scan").decode()  # a JPEG by its bytes
        sign_id = call(
            client,
            "AddSmsSign",
            {
                "SignName": "艾克米",
                "SignType": 0,
                "DocumentType": 1,
                "International": 0,
                "SignPurpose": 0,
                "ProofImage": proof,
            },
        ).AddSignStatus.SignId
        template_id = call(
            client,
            "AddSmsTemplate",
            {
                "TemplateName": "登录",
                "TemplateContent": "您的登录验证码为{1}，请勿告诉他人。",
                "SmsType": 3,
                "International": 0,
                "Remark": "login",
            },
        ).AddTemplateStatus.TemplateId

        queue = srv.admin("review", "list")
        assert {(q["kind"], q["id"]) for q in queue} == {
            ("sign", sign_id),
            ("template", int(template_id)),
        }
        srv.admin("review", "approve", "sign", str(sign_id))
        srv.admin("review", "approve", "template", template_id)
        assert srv.admin("review", "list") == []

        out = call(
            client,
            "SendSms",
            {
                "PhoneNumberSet": ["+8613912345678"],
                "SmsSdkAppId": app["sdk_app_id"],
                "TemplateId": template_id,
                "SignName": "艾克米",
                "TemplateParamSet": ["482913"],
            },
        ).SendStatusSet
        assert out[0].Code == "Ok"
        reports: list[Any] = []
        deadline = time.time() + 10
        while not reports and time.time() < deadline:
            reports = call(
                client, "PullSmsSendStatus", {"SmsSdkAppId": app["sdk_app_id"], "Limit": 100}
            ).PullSmsSendStatusSet
            time.sleep(0.1)
        assert [(r.SerialNo, r.ReportStatus) for r in reports] == [(out[0].SerialNo, "SUCCESS")]
        # ...and the same report was pushed to the application's URL by the worker process.
        deadline = time.time() + 10
        while not rx.statuses() and time.time() < deadline:
            time.sleep(0.05)
        assert [(p["sid"], p["errmsg"]) for p in rx.statuses()] == [(out[0].SerialNo, "DELIVRD")]
    finally:
        stack.close()
        srv.stop()


def test_readme_example_runs_as_written(
    processes: Callable[..., ServeProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"```python\n(.*?)```", readme, re.S)
    assert example is not None
    port = free_port()
    data = tmp_path / "data"
    code = (
        example.group(1)
        .replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        .replace('"data/demo-credentials.json"', repr(str(data / "demo-credentials.json")))
    )
    # Receipts slower than any fixed wait a reader might guess: the example must poll for them.
    srv = processes(data, port, SMSCLOUD_SIMULATOR_DELAY_MS="2500")
    srv.start()
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        srv.stop()
    printed = capsys.readouterr().out
    assert "+8613800138000 Ok 5000:" in printed
    assert "+8613800138000 SUCCESS DELIVRD" in printed
    assert "+8613800000001 FAIL UNDELIV" in printed


def test_readme_voice_example_places_a_call_as_written(
    processes: Callable[..., ServeProcess], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", readme, re.S | re.M)
    example = next(textwrap.dedent(b) for _, b in blocks if "SendCodeVoice" in b)
    port = free_port()
    data = tmp_path / "data"
    code = example.replace("127.0.0.1:8080", f"127.0.0.1:{port}").replace(
        '"data/demo-credentials.json"', repr(str(data / "demo-credentials.json"))
    )
    srv = processes(data, port)
    srv.start()
    engine = create_engine(f"sqlite:///{data / 'smscloud.db'}")
    try:
        creds = srv.credentials()
        # Quiet hours off on the demo application, so the test reads no clock (a code call
        # at night is refused, rightly: docs/voice.md).
        apps = s.applications
        with engine.begin() as conn:
            conn.execute(
                update(apps)
                .where(apps.c.sdk_app_id == int(creds["sdk_app_id"]))
                .values(voice_quiet_start=0, voice_quiet_end=0)
            )
        exec(compile(code, "README.md", "exec"), {})
        call_id = capsys.readouterr().out.strip()
        calls = s.voice_calls
        deadline = time.monotonic() + 60  # a bound for a busy machine, not an expected time
        while True:
            with engine.connect() as conn:
                row = conn.execute(select(calls).where(calls.c.call_id == call_id)).one()
            if row.state == CallState.ENDED.value or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        srv.stop()
        engine.dispose()
    assert row.phone == "+8613800138000"
    assert row.state == CallState.ENDED.value
    assert row.answered_at is not None  # the phone answered
    assert row.fee_minutes == 1 and row.unit_price > 0  # billed by the started minute


def test_ctrl_c_stops_serve_and_its_worker_cleanly(
    processes: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    srv = processes(tmp_path / "data", free_port())
    srv.start()
    assert srv.proc is not None
    workers = srv.children()
    srv.proc.send_signal(signal.SIGINT)
    assert srv.proc.wait(30) == 130
    srv.stop()
    log = (tmp_path / f"serve-{srv.port}.log").read_text()
    assert "Traceback" not in log
    assert workers and not any(Path(f"/proc/{pid}").exists() for pid in workers)
