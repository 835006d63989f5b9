"""The npm ``smpp`` SMSC (tests/peers/npm_smsc) as a subprocess, one per test.

``node`` is required: a missing one fails the tests (``make test`` installs it). The package's
dependencies are installed with ``npm ci`` from the committed lock file when missing.
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PEER_DIR = Path(__file__).resolve().parents[3] / "peers" / "npm_smsc"
START_TIMEOUT = 10.0


class NodeSmsc:
    """A running ``server.js``: its port, and every stdout line so far (read by a thread)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.port = 0
        self.lines: list[str] = []
        self._first: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="npm-smsc-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if not self.port:
                self._first.put(line)
        self._first.put(None)

    def wait_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.port:
            try:
                line = self._first.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"npm SMSC did not print LISTENING within {START_TIMEOUT} s")
            if line is None:
                pytest.fail("npm SMSC exited before listening:\n" + "\n".join(self.lines))
            if line.startswith("LISTENING "):
                self.port = int(line.split()[1])

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The JSON bodies of the ``kind`` lines (BIND, SUBMIT, DELIVER, UNBIND), in order."""
        prefix = kind + " "
        return [json.loads(line[len(prefix) :]) for line in self.lines if line.startswith(prefix)]

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit status (the server exits 0 when asked)."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


@pytest.fixture(scope="session")
def node_peer_dir() -> Path:
    """tests/peers/npm_smsc with its node_modules installed; fails if node or npm is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "node and npm are required for the npm SMSC peer tests (tests/peers/npm_smsc); "
            "install Node.js >= 18 (`make test` does)",
            pytrace=False,
        )
    if not (PEER_DIR / "node_modules" / "smpp" / "package.json").exists():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=PEER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode:
            pytest.fail(f"npm ci in {PEER_DIR} failed:\n{done.stdout}\n{done.stderr}")
    return PEER_DIR


@pytest.fixture
def npm_smsc(node_peer_dir: Path) -> Iterator[NodeSmsc]:
    """``node server.js 0`` on 127.0.0.1 with the account smscloud:password."""
    node = shutil.which("node")
    assert node is not None
    proc = subprocess.Popen(
        [node, "server.js", "0", "smscloud:password"],
        cwd=node_peer_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        env={"PATH": str(Path(node).parent), "SMSC_RECEIPT_DELAY_MS": "30"},
    )
    smsc = NodeSmsc(proc)
    try:
        smsc.wait_listening()
        yield smsc
    finally:
        code = smsc.stop()
    assert code == 0, "npm SMSC did not exit cleanly:\n" + "\n".join(smsc.lines)
