"""What ``serve`` prints at start: where everything is, and how to log in."""

from __future__ import annotations

from pathlib import Path

from smscloud.cli.serve import banner
from smscloud.config import Settings

CREDS = {
    "secret_id": "AKIDx",
    "secret_key": "k",
    "sdk_app_id": "1400000001",
    "app_key": "ak",
    "sign_name": "云短信",
    "template_id": 1,
    "template": "您的验证码是{1}",
    "tenant": {"id": 1, "email": "demo@example.com", "password": "tenant-pw"},
    "operator": {"username": "admin", "password": "op-pw"},
}


def test_the_banner_names_the_endpoints_the_carrier_and_the_logins(tmp_path: Path) -> None:
    settings = Settings(port=8099, data_dir=tmp_path, simulator="on", simulator_port=2999)
    text = banner(settings, CREDS)
    assert "http://127.0.0.1:8099/console/   (operators: http://127.0.0.1:8099/admin/)" in text
    assert "SMPP simulator at 127.0.0.1:2999" in text
    assert "console    demo@example.com / tenant-pw" in text
    assert "operator   admin / op-pw" in text


def test_without_the_simulator_no_carrier_line(tmp_path: Path) -> None:
    text = banner(Settings(data_dir=tmp_path, simulator="off"), None)
    assert "SMPP simulator" not in text and "demo credentials" not in text
