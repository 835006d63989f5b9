"""Kill -9 in the middle of a heavy send; restart; nothing lost, nothing billed twice.

Once ``serve`` alone (its worker and simulator follow it), once the whole process tree at
the same instant: ``serve``, the delivery worker and the SMPP simulator, as a machine crash or
an OOM killer would. Receipts in flight then survive only if the worker acknowledged none it
had not stored and the simulator kept on disk every one it promised.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from smscloud.services.billing import ledger
from smscloud.store import schema as s
from tests.support.live import FINAL, free_port
from tests.support.process import ServeProcess

pytestmark = pytest.mark.slow


def _client(endpoint: str, creds: dict[str, Any]) -> sms_client.SmsClient:
    profile = ClientProfile(
        httpProfile=HttpProfile(endpoint=endpoint, protocol="http", reqTimeout=5)
    )
    return sms_client.SmsClient(
        credential.Credential(creds["secret_id"], creds["secret_key"]), "ap-guangzhou", profile
    )


def test_kill_mid_send_loses_nothing_and_bills_once(
    processes: Callable[..., ServeProcess], tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    url = database_url if database_url.startswith("postgresql") else ""
    srv = processes(
        data, free_port(), url, SMSCLOUD_SIMULATOR_DELAY_MS="300", SMSCLOUD_LEASE_SECONDS="2"
    )
    srv.start()
    try:
        creds = srv.credentials()
        accepted: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker: int) -> None:
            client = _client(srv.endpoint, creds)
            batch = 0
            while not stop.is_set():
                if len(accepted) >= 6000:  # well within the demo package: none refused
                    time.sleep(0.01)
                    continue
                # Last two digits >= 10: clear of the sandbox's magic failure numbers.
                phones = [f"+86139{worker:02d}{batch:04d}{i + 10:02d}" for i in range(50)]
                batch += 1
                req = models.SendSmsRequest()
                req.from_json_string(
                    json.dumps(
                        {
                            "PhoneNumberSet": phones,
                            "SmsSdkAppId": creds["sdk_app_id"],
                            "TemplateId": creds["template_id"],
                            "SignName": creds["sign_name"],
                            "TemplateParamSet": ["123456", "5"],
                        }
                    )
                )
                try:
                    out = client.SendSms(req).SendStatusSet
                except TencentCloudSDKException:
                    continue  # the server is down: this request's fate is unknown to us
                with lock:
                    for o in out:
                        assert o.Code == "Ok", o
                        accepted[o.SerialNo] = o.Fee

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
        for th in threads:
            th.start()
        engine = create_engine(
            srv.env["SMSCLOUD_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
            or f"sqlite:///{data / 'smscloud.db'}"
        )
        m, p = s.messages, s.packages
        submitted = select(func.count()).where(m.c.state == "SUBMITTED")
        deadline = time.time() + 30
        while time.time() < deadline:  # mid-send, with messages at the carrier awaiting receipts
            if len(accepted) >= 1500:
                with engine.connect() as conn:
                    if conn.execute(submitted).scalar_one() >= 50:
                        break
            time.sleep(0.05)
        workers = srv.children()
        assert workers, "serve runs delivery in a child process"
        srv.kill()  # mid-send: requests in flight, messages queued, leased and submitted
        stop.set()
        for th in threads:
            th.join()
        assert len(accepted) >= 1500
        # The worker follows its parent: no orphan keeps the database busy.
        gone = time.time() + 15
        while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.time() < gone:
            time.sleep(0.05)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)

        srv.start()  # the same data directory and database
        deadline = time.time() + 120  # a bound for a busy machine, not an expected time
        while True:
            with engine.connect() as conn:
                rows = dict(conn.execute(select(m.c.serial_no, m.c.state)).all())
            if all(state in FINAL for state in rows.values()) or time.time() > deadline:
                break
            time.sleep(0.2)
        # Every accepted message survived the crash and reached a final state.
        missing = [sn for sn in accepted if sn not in rows]
        assert missing == []
        assert {rows[sn] for sn in accepted} <= FINAL
        assert all(state in FINAL for state in rows.values())
        with engine.connect() as conn:
            used = conn.execute(
                select(func.sum(p.c.used)).where(p.c.tenant_id == creds["tenant"]["id"])
            ).scalar_one()
            billed = conn.execute(
                select(func.sum(m.c.parts)).where(m.c.state != "REFUSED", m.c.refunded.is_(False))
            ).scalar_one()
            problems = ledger.check(conn)
        engine.dispose()
        assert problems == []  # packages, billed messages and the ledger agree
        # Billed once: the package moved by exactly the parts of the messages stored, which
        # include every accepted one (and any the crash committed without a reply).
        assert used == billed
        assert used >= sum(accepted.values())
    finally:
        srv.stop()


class Load:
    """SDK senders in threads, each sending 50 ordinary numbers per SendSms, until stopped;
    ``accepted`` maps SerialNo to fee for every number the API answered Ok."""

    def __init__(self, srv: ServeProcess, senders: int = 4, cap: int = 6000) -> None:
        self.creds = srv.credentials()
        self.endpoint = srv.endpoint
        self.cap = cap  # well within the demo package: none refused
        self.accepted: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(w,)) for w in range(senders)]

    def __enter__(self) -> Load:
        for th in self._threads:
            th.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for th in self._threads:
            th.join()

    def _send(self, worker: int) -> None:
        client = _client(self.endpoint, self.creds)
        batch = 0
        while not self._stop.is_set():
            if len(self.accepted) >= self.cap:
                self._stop.wait(0.01)
                continue
            # Last two digits >= 10: clear of the magic failure numbers.
            phones = [f"+86137{worker:02d}{batch:04d}{i + 10:02d}" for i in range(50)]
            batch += 1
            req = models.SendSmsRequest()
            req.from_json_string(
                json.dumps(
                    {
                        "PhoneNumberSet": phones,
                        "SmsSdkAppId": self.creds["sdk_app_id"],
                        "TemplateId": self.creds["template_id"],
                        "SignName": self.creds["sign_name"],
                        "TemplateParamSet": ["123456", "5"],
                    }
                )
            )
            try:
                out = client.SendSms(req).SendStatusSet
            except TencentCloudSDKException:
                continue  # the server is down: this request's fate is unknown to us
            with self._lock:
                for o in out:
                    assert o.Code == "Ok", o
                    self.accepted[o.SerialNo] = o.Fee


def test_kill_the_whole_tree_mid_send_loses_no_receipt_and_bills_once(
    processes: Callable[..., ServeProcess], tmp_path: Path, database_url: str
) -> None:
    data = tmp_path / "data"
    url = database_url if database_url.startswith("postgresql") else ""
    srv = processes(
        data, free_port(), url, SMSCLOUD_SIMULATOR_DELAY_MS="300", SMSCLOUD_LEASE_SECONDS="2"
    )
    srv.start()
    engine = create_engine(
        srv.env["SMSCLOUD_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
        or f"sqlite:///{data / 'smscloud.db'}"
    )
    m, p = s.messages, s.packages
    try:
        with Load(srv) as load:
            # Kill while receipts flow: messages at the simulator awaiting theirs, others
            # already final, so deliver_sm are on the wire and in the worker's hands.
            counts = select(
                func.count().filter(m.c.state == "SUBMITTED"),
                func.count().filter(m.c.state == "DELIVERED"),
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if len(load.accepted) >= 1500:
                    with engine.connect() as conn:
                        submitted, delivered = conn.execute(counts).one()
                    if submitted >= 50 and delivered >= 50:
                        break
                time.sleep(0.05)
            children = srv.kill_tree()
        print(f"\nkilled with {len(load.accepted)} accepted, {submitted} awaiting a receipt")
        assert len(children) == 2  # the worker and the simulator, killed with serve
        accepted = load.accepted
        assert len(accepted) >= 1500

        srv.start()  # the same data directory, database and simulator journal
        deadline = time.monotonic() + 120  # a bound for a busy machine, not an expected time
        while True:
            with engine.connect() as conn:
                rows = dict(conn.execute(select(m.c.serial_no, m.c.state)).all())
            stuck = [sn for sn in accepted if rows.get(sn) not in FINAL]
            if not stuck or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        with engine.connect() as conn:
            used = conn.execute(
                select(func.sum(p.c.used)).where(p.c.tenant_id == load.creds["tenant"]["id"])
            ).scalar_one()
            billed = conn.execute(
                select(func.sum(m.c.parts)).where(m.c.state != "REFUSED", m.c.refunded.is_(False))
            ).scalar_one()
            states = Counter(state for (state,) in conn.execute(select(m.c.state)))
            problems = ledger.check(conn)
        final = sum(1 for sn in accepted if rows.get(sn) in FINAL)
        print(
            f"\naccepted {len(accepted)}, final {final}, stuck {len(stuck)},"
            f" double-billed {used - billed} units; states {dict(states)}"
        )
        assert [sn for sn in accepted if sn not in rows] == []  # every accepted one stored
        assert stuck == []  # and final: no receipt lost, none waiting out the 72 h timeout
        assert states.keys() <= {"DELIVERED"}  # ordinary numbers, each once
        # Billed once: the package moved by exactly the parts of the messages stored, which
        # include every accepted one (and any the crash committed without a reply).
        assert problems == []  # packages, billed messages and the ledger agree
        assert used == billed >= sum(accepted.values())
    finally:
        engine.dispose()
        srv.stop()
