"""Scale-out on PostgreSQL: several ``smscloud api`` processes beside a ``smscloud worker``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from tests.support import postgres
from tests.support.live import free_port
from tests.support.process import ServeProcess

pytestmark = pytest.mark.slow


def _client(endpoint: str, creds: dict[str, Any]) -> sms_client.SmsClient:
    return sms_client.SmsClient(
        credential.Credential(creds["secret_id"], creds["secret_key"]),
        "ap-guangzhou",
        ClientProfile(httpProfile=HttpProfile(endpoint=endpoint, protocol="http")),
    )


def test_two_api_processes_and_a_worker_share_one_database(
    processes: Callable[..., ServeProcess], tmp_path: Path, pg_cluster: postgres.Cluster
) -> None:
    name = "t_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {name}")
    url = pg_cluster.url(name)
    apis = [
        processes(tmp_path / "a", free_port(), url, command="api"),
        processes(tmp_path / "b", free_port(), url, command="api", SMSCLOUD_DEMO_SEED="false"),
    ]
    worker = processes(
        tmp_path / "w", free_port(), url, command="worker", SMSCLOUD_SIMULATOR_DELAY_MS="20"
    )
    for d in ("a", "b", "w"):
        (tmp_path / d).mkdir()
    try:
        apis[0].start()  # seeds the demo tenant into the empty database
        apis[1].start()
        creds = apis[0].credentials()
        serials = []
        for i, api in enumerate(apis):
            req = models.SendSmsRequest()
            req.from_json_string(
                json.dumps(
                    {
                        "PhoneNumberSet": [f"+861391234{i}{j:03d}" for j in range(10, 30)],
                        "SmsSdkAppId": creds["sdk_app_id"],
                        "TemplateId": creds["template_id"],
                        "SignName": creds["sign_name"],
                        "TemplateParamSet": ["1234", "5"],
                    }
                )
            )
            out = _client(api.endpoint, creds).SendSms(req).SendStatusSet
            assert {o.Code for o in out} == {"Ok"}
            serials += [o.SerialNo for o in out]
        worker.start()  # nothing moves until a worker runs
        reports: list[Any] = []
        deadline = time.time() + 20
        while len(reports) < len(serials) and time.time() < deadline:
            pull = models.PullSmsSendStatusRequest()
            pull.from_json_string(json.dumps({"SmsSdkAppId": creds["sdk_app_id"], "Limit": 100}))
            reports += _client(apis[1].endpoint, creds).PullSmsSendStatus(pull).PullSmsSendStatusSet
            time.sleep(0.1)
        assert sorted(r.SerialNo for r in reports) == sorted(serials)
        assert {r.ReportStatus for r in reports} == {"SUCCESS"}
    finally:
        worker.stop()
        for api in apis:
            api.stop()
