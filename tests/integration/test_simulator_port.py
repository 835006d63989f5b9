"""``serve``'s built-in simulator never delivers through someone else's SMSC.

Real ``serve`` processes beside a real foreign SMSC (another ``smscloud smsc-sim``, which
accepts the well-known default account) and a plain listening socket.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from smscloud.carriers.smsc.config import parse_account, random_account
from smscloud.cli.serve import open_simulator
from smscloud.config import Settings
from smscloud.protocols.smpp import CommandStatus
from tests.peers.esme import Esme
from tests.support.live import free_port
from tests.support.process import ServeProcess

pytestmark = pytest.mark.slow


@pytest.fixture
def foreign_smsc(tmp_path: Path) -> Iterator[int]:
    """Someone else's SMSC on a port of its own, accepting smscloud:password."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "smscloud.cli.main", "smsc-sim", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("SMPP SMSC simulator listening on"), first
        yield int(first.rsplit(":", 1)[1])
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_serve_refuses_a_simulator_port_another_process_holds(
    processes: Callable[..., ServeProcess], tmp_path: Path, foreign_smsc: int
) -> None:
    """Asked for a port a foreign SMSC holds, serve stops with a message: it neither
    restarts its simulator for ever nor delivers through the stranger."""
    srv = processes(tmp_path / "data", free_port(), SMSCLOUD_SIMULATOR_PORT=str(foreign_smsc))
    with pytest.raises(RuntimeError, match="serve exited"):
        srv.start()
    assert srv.proc is not None and srv.proc.returncode != 0
    log = srv.log_path().read_text()
    assert f"SMSCLOUD_SIMULATOR_PORT={foreign_smsc}: cannot listen on 127.0.0.1" in log
    assert "another process holds it" in log
    assert "restarting" not in log


def test_serve_binds_only_to_the_simulator_it_started(
    processes: Callable[..., ServeProcess], tmp_path: Path, foreign_smsc: int
) -> None:
    srv = processes(tmp_path / "data", free_port())
    srv.start()
    port = srv.simulator_port()
    assert port != foreign_smsc

    async def stranger_binds() -> int:
        esme = await Esme.connect(port)
        try:
            return (await esme.bind("trx", "smscloud", "password")).command_status
        finally:
            await esme.close()

    # A stranger on this machine cannot bind to it and take its receipts: the account is
    # the data directory's own, and only serve's children are told it.
    assert asyncio.run(stranger_binds()) == CommandStatus.ESME_RINVSYSID

    # While the simulator is down, its port stays serve's: nobody can listen there and
    # answer the worker in its place.
    sim = srv.child("smsc-sim")
    assert sim is not None
    _kill(sim)
    with socket.socket() as other:
        with pytest.raises(OSError) as taken:
            other.bind(("127.0.0.1", port))
        assert taken.value.errno == errno.EADDRINUSE


def _kill(pid: int) -> None:
    """SIGKILL ``pid`` and wait until it is gone (or a zombie: its sockets are closed)."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
        assert time.monotonic() < deadline, f"{pid} still running"
        time.sleep(0.02)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_the_simulator_socket_is_opened_by_serve(tmp_path: Path) -> None:
    settings, sock = open_simulator(Settings(data_dir=tmp_path / "a"))
    try:
        assert settings.simulator_port == sock.getsockname()[1] > 0  # 0 took a free one
        system_id, password = parse_account(settings.simulator_account)
        assert system_id.startswith("smscloud-") and len(password) == 8
        assert (tmp_path / "a" / "smsc-sim.account").stat().st_mode & 0o777 == 0o600
        again, other = open_simulator(Settings(data_dir=tmp_path / "a"))
        other.close()
        # Kept across restarts: the receipts the simulator keeps belong to it.
        assert again.simulator_account == settings.simulator_account
        elsewhere, third = open_simulator(Settings(data_dir=tmp_path / "b"))
        third.close()
        assert elsewhere.simulator_account != settings.simulator_account
        chosen, kept = open_simulator(Settings(data_dir=tmp_path, simulator_account="me:pw"))
        kept.close()
        assert chosen.simulator_account == "me:pw"
        with pytest.raises(SystemExit, match="another process holds it"):
            open_simulator(Settings(simulator_port=settings.simulator_port))
    finally:
        sock.close()


def test_accounts_are_checked_against_smpp_limits() -> None:
    assert parse_account("smscloud:password") == ("smscloud", "password")
    assert len(random_account()[1]) == 8
    for bad in ("no-colon", ":pw", "a" * 16 + ":pw", "id:123456789"):
        with pytest.raises(ValueError):
            parse_account(bad)
