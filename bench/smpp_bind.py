"""Benchmark one SMPP bind: submit_sm/s and submit latency of ``SmppCarrier`` per window.

The real connector (``SmppCarrier`` with ``binds=1``) binds as a transceiver to ``smscloud
smsc-sim``, a separate process so the simulator has its own core and its own event loop; this
process runs uvloop. For each window size, ``window`` tasks each keep one single-part message
in flight (``carrier.submit([one])`` in a loop), so the window is always full and nothing waits
in the bind's queue: latency is the submit_sm -> submit_sm_resp round trip through the
connector. Receipts come back on the same bind while submits run (``--receipt-delay``); each
phase waits for all of them before the next begins. See ``bench/README.md``::

    .venv/bin/python bench/smpp_bind.py                      # windows 1 and 10, 5,000 each
    .venv/bin/python bench/smpp_bind.py --windows 1,10,50 --messages 20000 --json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import uvloop
from loadgen import phone_numbers
from procs import HOST, free_port, smscloud_command, stop_gracefully, tail

from smscloud.carriers.base import Receipt, Reply, Submission
from smscloud.carriers.smpp import SmppCarrier, SmppConfig

SYSTEM_ID, PASSWORD = "smscloud", "password"
SOURCE_ADDR = "10690088"
# The demo template as the platform sends it: UCS-2, 29 characters, one part.
TEXT = "【云短信】您的验证码是123456，5分钟内有效，请勿泄露。"


def cpu_seconds(pid: int | str = "self") -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending sequence (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n * q / 100), at least 1
    return ordered[int(rank) - 1]


class SmscProcess:
    """``smscloud smsc-sim`` as a subprocess in its own session on a free loopback port.

    Ctrl-C in the terminal does not reach it; ``stop()`` (SIGTERM, SIGKILL as a last resort)
    does, and every caller runs ``stop()`` in a ``finally`` block.
    """

    def __init__(
        self,
        log_path: Path,
        receipt_delay: float,
        env: dict[str, str] | None = None,
        state_file: Path | None = None,
    ):
        self.log_path = log_path
        self.receipt_delay = receipt_delay
        self.state_file = state_file  # the journal of what it owes, as serve's simulator keeps
        self.env = (os.environ if env is None else env) | {"SMSCLOUD_LOG_LEVEL": "warning"}
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The simulator's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 30.0) -> None:
        """Start and wait until it prints that it listens."""
        command = [
            *smscloud_command(),
            "smsc-sim",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--account",
            f"{SYSTEM_ID}:{PASSWORD}",
            "--receipt-delay",
            str(self.receipt_delay),
        ]
        if self.state_file is not None:
            command += ["--state-file", str(self.state_file)]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"smsc-sim exited with {self.proc.returncode}:\n{self.log()}")
            if "listening on" in self.log():
                return
            time.sleep(0.05)
        raise RuntimeError(f"smsc-sim not listening after {timeout:.0f} s:\n{self.log()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (it unbinds and exits), wait; SIGKILL as a last resort; idempotent."""
        stop_gracefully(self.proc, "smsc-sim", timeout)

    def log(self, lines: int = 30) -> str:
        """The end of the simulator's output."""
        return tail(self.log_path, lines)


class CountingSink:
    """A ``ReportSink`` that counts receipts, notes when the last one came, and sets
    ``all_in`` once ``expect(n)`` receipts are in."""

    def __init__(self) -> None:
        self.receipts_seen = 0
        self.last_at = 0.0
        self.expected: int | None = None
        self.all_in = asyncio.Event()

    def expect(self, n: int) -> None:
        self.expected = n
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.receipts_seen >= self.expected:
            self.all_in.set()

    async def receipts(self, receipts: Sequence[Receipt]) -> None:
        self.receipts_seen += len(receipts)
        self.last_at = time.perf_counter()
        self._check()

    async def replies(self, replies: Sequence[Reply]) -> None:
        pass


async def measure(
    port: int,
    window: int,
    messages: int,
    duration: float,
    receipt_timeout: float = 10.0,
    sim_pid: int | None = None,
) -> dict[str, Any]:
    """One bind at ``window``: up to ``messages`` submits within ``duration`` seconds."""
    config = SmppConfig(
        system_id=SYSTEM_ID,
        password=PASSWORD,
        host=HOST,
        port=port,
        binds=1,
        window=window,
        source_addr=SOURCE_ADDR,
        bind_wait=5.0,
    )
    carrier = SmppCarrier("bench", config)
    sink = CountingSink()
    await carrier.start(sink)
    try:
        if not carrier.health().bound:
            raise RuntimeError(f"no bind to 127.0.0.1:{port} within {config.bind_wait:g} s")
        ids = itertools.count()
        phones = phone_numbers(10_000_000)  # never a magic suffix: every message is delivered
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        started = time.perf_counter()
        deadline = started + duration
        cpu_before = cpu_seconds()
        sim_before = cpu_seconds(sim_pid) if sim_pid else 0.0

        async def sender() -> None:
            while time.perf_counter() < deadline and (i := next(ids)) < messages:
                t0 = time.perf_counter()
                (result,) = await carrier.submit([Submission(i, next(phones), TEXT)])
                latencies.append(time.perf_counter() - t0)
                if result.carrier_msg_id is None:
                    errors[result.error or "unknown"] += 1

        await asyncio.gather(*(sender() for _ in range(window)))
        finished = time.perf_counter()
        cpu = cpu_seconds() - cpu_before
        sim_cpu = (cpu_seconds(sim_pid) - sim_before) if sim_pid else None
        taken = len(latencies) - sum(errors.values())
        sink.expect(taken)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sink.all_in.wait(), receipt_timeout)
    finally:
        await carrier.stop()
    ordered = sorted(latencies)
    send_s = max(finished - started, 1e-9)
    return {
        "window": window,
        "submitted": len(latencies),
        "taken": taken,
        "errors": dict(errors),
        "send_s": round(send_s, 3),
        "per_s": round(taken / send_s, 1),
        "p50_ms": round(percentile(ordered, 50) * 1000, 3),
        "p99_ms": round(percentile(ordered, 99) * 1000, 3),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 3),
        "receipts": sink.receipts_seen,
        "receipts_s": round(sink.last_at - started, 3) if sink.receipts_seen else None,
        "connector_cpu_s": round(cpu, 2),
        "smsc_cpu_s": None if sim_cpu is None else round(sim_cpu, 2),
    }


def run(
    windows: Sequence[int],
    messages: int,
    duration: float,
    receipt_delay: float = 0.2,
    log_dir: Path | None = None,
    journal: bool = False,
) -> list[dict[str, Any]]:
    """Start the simulator, measure every window in turn on uvloop, stop the simulator."""
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="smpp-bind-")))
        state_file = log_dir / "smsc-sim.state" if journal else None
        sim = SmscProcess(log_dir / "smsc-sim.log", receipt_delay, state_file=state_file)
        try:
            sim.start()

            async def all_windows() -> list[dict[str, Any]]:
                # SIGTERM cancels the measurement (the carrier unbinds) instead of raising
                # inside a transport callback; SIGINT does the same through the runner.
                task = asyncio.current_task()
                assert task is not None
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
                out = []
                for w in windows:
                    out.append(await measure(sim.port, w, messages, duration, sim_pid=sim.pid))
                return out

            previous = signal.getsignal(signal.SIGTERM)
            try:
                results: list[dict[str, Any]] = uvloop.run(all_windows())
            except asyncio.CancelledError:
                raise SystemExit(128 + signal.SIGTERM) from None
            finally:
                signal.signal(signal.SIGTERM, previous)  # the loop's handler went with it
        except Exception:
            print(f"smsc-sim log (tail):\n{sim.log()}", file=sys.stderr)
            raise
        finally:
            sim.stop()
        return results


def describe(r: dict[str, Any]) -> str:
    """One window's figures, readably."""
    errors = ", ".join(f"{k}={v}" for k, v in sorted(r["errors"].items())) or "none"
    receipts_s = "n/a" if r["receipts_s"] is None else f"{r['receipts_s']:.2f} s"
    smsc_cpu = "n/a" if r["smsc_cpu_s"] is None else f"{r['smsc_cpu_s']:.1f} s"
    return (
        f"  window {r['window']:>3}: {r['taken']:>6} taken in {r['send_s']:6.2f} s"
        f"  {r['per_s']:>8.1f} submit_sm/s  latency p50 {r['p50_ms']:.2f}"
        f"  p99 {r['p99_ms']:.2f}  max {r['max_ms']:.1f} ms\n"
        f"              errors: {errors}; {r['receipts']} receipts, last after {receipts_s};"
        f" CPU connector {r['connector_cpu_s']:.1f} s, smsc-sim {smsc_cpu}"
    )


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally that stops the simulator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--windows", default="1,10", help="comma-separated window sizes (1,10)")
    parser.add_argument("--messages", type=int, default=5000, help="per window (5000)")
    parser.add_argument("--duration", type=float, default=20.0, help="time limit per window, s")
    parser.add_argument("--receipt-delay", type=float, default=0.2, help="simulator's, s (0.2)")
    parser.add_argument(
        "--journal",
        action="store_true",
        help="the simulator keeps what it owes on disk, as serve's own does (--state-file)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON lines only")
    args = parser.parse_args(argv)
    windows = [int(w) for w in args.windows.split(",") if w.strip()]
    signal.signal(signal.SIGTERM, _terminate)
    results = run(windows, args.messages, args.duration, args.receipt_delay, journal=args.journal)
    for r in results:
        if not args.json:
            print(describe(r))
        print(json.dumps({"scenario": "bind"} | r), flush=True)
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
