"""SIP trunks as the operator defines them (``services/carrier_setup``, ``admin carrier``):
checked when saved, loaded apart from the SMS carriers, and used by calls."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smscloud.carriers.voice.sip_trunk import SipTrunk
from smscloud.domain.errors import RuleViolation
from smscloud.services import carrier_setup as carriers
from smscloud.store.database import Database


def test_a_sip_trunk_is_checked_saved_and_loaded_apart_from_sms(db: Database) -> None:
    with db.connect() as conn:
        carriers.add_carrier(conn, "sms", "sandbox", {})
        carriers.add_carrier(
            conn,
            "trunk",
            "sip",
            {"host": "192.0.2.10", "username": "acct", "password": "pw", "codecs": "PCMA,PCMU"},
        )
        for bad in ({"host": "h", "system_id": "x"}, {"host": "h", "codecs": ["G729"]}):
            with pytest.raises(RuleViolation) as refused:
                carriers.add_carrier(conn, "bad", "sip", bad)
            assert refused.value.code == "InvalidParameter"
        with pytest.raises(RuleViolation):
            carriers.add_carrier(conn, "bad", "sip", {"host": "h", "max_calls": 0})
        sms = carriers.load_carriers(conn)
        voice = carriers.load_voice_carriers(conn)
        listed = carriers.list_carriers(conn)
    assert list(sms) == ["sms"] and list(voice) == ["trunk"]
    trunk = voice["trunk"]
    assert isinstance(trunk, SipTrunk) and trunk.config.codecs == (8, 0)
    assert "password" not in listed[1]["settings"]  # never shown back


def test_admin_adds_a_sip_trunk_from_the_command_line(tmp_path: Path) -> None:
    env = {**os.environ, "SMSCLOUD_DATA_DIR": str(tmp_path)}
    smscloud = [sys.executable, "-m", "smscloud.cli"]
    trunk = "--name t1 --kind sip --host 192.0.2.10 --username acct --password pw"
    added = subprocess.run(
        [
            *smscloud,
            "admin",
            "carrier",
            "add",
            *trunk.split(),
            "--caller",
            "0101",
            "--max-calls",
            "30",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    listed = subprocess.run(
        [*smscloud, "admin", "carrier", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"max_calls": 30' in listed.stdout and "pw" not in listed.stdout
