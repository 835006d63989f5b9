from __future__ import annotations

from pathlib import Path

import pytest

from smscloud.config import Settings, load_settings


def test_defaults_and_sqlite_in_data_dir() -> None:
    s = load_settings({})
    assert (s.host, s.port, s.timezone) == ("127.0.0.1", 8080, "Asia/Shanghai")
    assert s.resolved_database_url == f"sqlite:///{(Path('data') / 'smscloud.db').resolve()}"


def test_environment_is_cast_and_overrides_win() -> None:
    env = {
        "SMSCLOUD_PORT": "9000",
        "SMSCLOUD_DATA_DIR": "/srv/sms",
        "SMSCLOUD_DEMO_SEED": "off",
        "SMSCLOUD_COMMIT_WINDOW_MS": "2.5",
        "SMSCLOUD_DATABASE_URL": "postgresql://u@h/db",
    }
    s = load_settings(env, host="0.0.0.0")
    assert (s.port, s.data_dir, s.demo_seed, s.commit_window_ms) == (
        9000,
        Path("/srv/sms"),
        False,
        2.5,
    )
    assert s.host == "0.0.0.0"
    assert s.resolved_database_url == "postgresql://u@h/db"


def test_malformed_values_name_the_variable() -> None:
    with pytest.raises(ValueError, match="SMSCLOUD_PORT"):
        load_settings({"SMSCLOUD_PORT": "eighty"})


def test_settings_are_immutable() -> None:
    with pytest.raises(AttributeError):
        Settings().port = 1  # type: ignore[misc]
