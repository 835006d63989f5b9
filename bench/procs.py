"""Child processes of the bench (the server, the simulator): stopped gracefully, logs read."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from pathlib import Path

HOST = "127.0.0.1"  # every bench process listens on loopback only


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def smscloud_command() -> list[str]:
    """The ``smscloud`` console script beside this interpreter, or ``python -m``."""
    script = Path(sys.executable).parent / "smscloud"
    return [str(script)] if script.exists() else [sys.executable, "-m", "smscloud.cli.main"]


def stop_gracefully(proc: subprocess.Popen[bytes] | None, label: str, timeout: float) -> None:
    """SIGTERM, wait; SIGKILL as a last resort. Idempotent."""
    if proc is None or proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            print(f"{label} {proc.pid} ignored {sig.name}", file=sys.stderr)


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
