"""``smscloud serve`` as a child process, for tests that kill and restart it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

# A first start migrates a fresh database and starts the simulator and the worker: seconds on
# an idle machine, more on a busy CI machine at night. A deadline, not a wait: a healthy serve
# is used the moment it answers.
START_TIMEOUT = 120.0

_MODULES = {"smsc-sim": (b"smscloud.cli.simulator",)}  # commands serve runs as a module


class ServeProcess:
    def __init__(
        self, data_dir: Path, port: int, database_url: str = "", command: str = "serve", **env: str
    ) -> None:
        self.command = command
        self.data_dir = data_dir
        self.port = port
        self.endpoint = f"127.0.0.1:{port}"
        self.env = (
            os.environ
            | {
                "SMSCLOUD_HOST": "127.0.0.1",
                "SMSCLOUD_PORT": str(port),
                "SMSCLOUD_DATA_DIR": str(data_dir),
                "SMSCLOUD_DATABASE_URL": database_url,
                "SMSCLOUD_LOG_LEVEL": "warning",
                "SMSCLOUD_SIMULATOR_PORT": "0",  # tests run side by side: any free port
                # The tests' callback receivers listen on 127.0.0.1, which callbacks may not
                # reach unless the operator re-opens it; the tests do, for `serve` and the CLI.
                "SMSCLOUD_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
            }
            | env
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self._close_log()
        self._log = open(self.data_dir.parent / f"serve-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "smscloud.cli.main", self.command],
            env=self.env,
            stdout=self._log,
            stderr=self._log,
        )
        if self.command == "worker":
            return  # no HTTP: it shows itself by delivering
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"http://{self.endpoint}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("serve did not become healthy")

    def children(self) -> list[int]:
        """Pids of this server's child processes (its delivery worker)."""
        assert self.proc is not None
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                kids.append(int(stat.parent.name))
        return kids

    def child(self, command: str) -> int | None:
        """Pid of the child running ``smscloud <command>`` (``worker``, ``smsc-sim``; serve
        runs the simulator as the module ``smscloud.cli.simulator``)."""
        names = {command.encode(), *_MODULES.get(command, ())}
        for pid in self.children():
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if names & set(argv):
                return pid
        return None

    def log_path(self) -> Path:
        return self.data_dir.parent / f"serve-{self.port}.log"

    def simulator_port(self, timeout: float = 30.0) -> int:
        """The built-in simulator's port, as the banner gives it. The banner is printed once
        the server is up, which may be a moment after ``/healthz`` first answers."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_path().read_text().splitlines():
                if "SMPP simulator at" in line:
                    return int(line.split("SMPP simulator at", 1)[1].split()[0].rsplit(":", 1)[1])
            if time.monotonic() > deadline:
                raise AssertionError("no simulator in the banner")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._close_log()

    def kill_tree(self) -> list[int]:
        """SIGKILL to ``serve`` and every child at once (a machine's crash, an OOM killer
        taking all): children first, so that none sees its parent go and stops politely.
        Returns the children's pids."""
        assert self.proc is not None
        kids = self.children()
        for pid in [*kids, self.proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
        self._close_log()
        return kids

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close_log()

    def admin(self, *args: str) -> Any:
        out = subprocess.run(
            [sys.executable, "-m", "smscloud.cli.main", "admin", *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout)

    def credentials(self) -> dict[str, Any]:
        return json.loads((self.data_dir / "demo-credentials.json").read_text())  # type: ignore[no-any-return]
