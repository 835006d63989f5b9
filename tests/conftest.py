"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL) and live servers."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smscloud.config import Settings
from smscloud.domain.addresses import AllowedNetworks
from tests.support import postgres
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, free_port
from tests.support.process import ServeProcess

LOOPBACK_RECEIVERS = AllowedNetworks.parse("127.0.0.0/8")


def pytest_configure(config: pytest.Config) -> None:
    """Under a faked wall clock (``../shared/tools/at-night.sh``: libfaketime with
    ``FAKETIME="@<moment>"``) each process's clock would start at that moment when the process
    starts, so a server started ten minutes into the run would run ten minutes behind the test
    that signs requests to it. On a real machine every process reads one clock: turn the moment
    into the equivalent offset from the real clock (read by a child without libfaketime), so
    this process keeps its time and every process it starts shares it."""
    spec = os.environ.get("FAKETIME", "")
    if not spec.startswith("@"):
        return
    unfaked = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")}
    real = subprocess.run(
        ["date", "+%s.%N"], env=unfaked, capture_output=True, text=True, check=True
    ).stdout
    os.environ["FAKETIME"] = f"{time.time() - float(real):+.3f}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.Cluster]:
    cluster = postgres.start()
    try:
        yield cluster
    finally:
        postgres.stop(cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that asks for it runs twice: on a SQLite file and on a fresh PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    cluster: postgres.Cluster = request.getfixturevalue("pg_cluster")
    name = "t_" + uuid.uuid4().hex[:12]
    cluster.psql(f"CREATE DATABASE {name}")
    return cluster.url(name)


def make_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": free_port(),
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "simulator_delay_ms": 20,
        "demo_seed": False,
        "lease_seconds": 5,
        "free_monthly_units": 0,  # tests count units exactly; the allowance has its own tests
        # The suite's callback receivers listen on 127.0.0.1, which callbacks may not reach
        # unless the operator re-opens it: the tests do, as a private deployment would.
        "callback_allowed_networks": LOOPBACK_RECEIVERS,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def processes() -> Iterator[Callable[..., ServeProcess]]:
    """Starts ``smscloud`` processes for a test and always stops them at teardown, whatever
    the test did (a failing test must never leave a server running)."""
    made: list[ServeProcess] = []

    def make(*args: Any, **kwargs: Any) -> ServeProcess:
        proc = ServeProcess(*args, **kwargs)
        made.append(proc)
        return proc

    yield make
    for proc in reversed(made):
        proc.stop()


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, database_url)) as live:
        yield live


@pytest.fixture
def daytime_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """A live server whose clock reads a weekday morning in Shanghai, whatever the machine's:
    for tests of rules that read the time (marketing hours, natural days)."""
    with LiveServer(make_settings(tmp_path, database_url), clock=running_from(DAYTIME)) as live:
        yield live
