"""Benchmark voice calls: concurrent calls sustained against the built-in phone network, and
the CPU a call-minute costs.

Each run starts a fresh ``smscloud serve`` (no SIP carrier, so its delivery worker starts the
built-in phone network), gives the demo tenant an application with every voice limit and
quiet hours off, sends ``--calls`` ``SendCodeVoice`` requests (VMS 2020-09-02, TC3-signed) to
distinct ordinary numbers over ``--concurrency`` keep-alive connections, and samples the
database (read-only, every 100 ms) until every accepted call is ENDED or FAILED. See
``bench/README.md`` ("Voice")::

    .venv/bin/python bench/voice.py --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import statistics
import sys
import threading
import time
import wave
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from loadgen import (
    MAGIC_HIGH,
    MAGIC_LOW,
    Connection,
    HttpError,
    Target,
    build_request,
    peak_rss_kib,
    percentile,
)
from run import Server, children, data_directory, fmt, median_of
from sqlalchemy import create_engine, select, update

from smscloud.domain.billing.prices import VOICE
from smscloud.store import schema as s

VMS_VERSION = "2020-09-02"
ACTION = "SendCodeVoice"
PHONE_PREFIX = "+86138"  # voice-bench numbers; run.py's SMS load uses +86139
FIRST_NUMBER = 20_000_000  # an 8-digit counter after the prefix
IN_CALL = ("CALLING", "RINGING", "ANSWERED")  # domain/call_states.IN_CALL: holding a line
WAITING = ("QUEUED", "CLAIMED")  # accepted, not dialled yet
FINAL = ("ENDED", "FAILED")
SAMPLE_S = 0.1
CLK_TCK = os.sysconf("SC_CLK_TCK")
FALLBACK_PRICE = 150_000  # micro-yuan a started minute, when the demo seed priced no voice


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=300, help="SendCodeVoice requests (300)")
    parser.add_argument(
        "--concurrency", type=int, default=10, help="API connections, one request each (10)"
    )
    parser.add_argument(
        "--lines", type=int, default=100, help="SMSCLOUD_VOICE_LINES: calls at once (100)"
    )
    parser.add_argument(
        "--per-tenant",
        type=int,
        default=None,
        help="SMSCLOUD_VOICE_CALLS_PER_TENANT (default: --lines; the platform's own is 20,"
        " which would cap one tenant's bench at 20 calls)",
    )
    parser.add_argument("--play-times", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--ring-ms", type=int, default=None, help="SMSCLOUD_VOICE_RING_MS")
    parser.add_argument("--runs", type=int, default=1, help="fresh-server runs (medians)")
    parser.add_argument(
        "--final-timeout", type=float, default=300.0, help="wait for final states, s (300)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.calls < 1 or args.concurrency < 1 or args.lines < 1:
        parser.error("--runs, --calls, --concurrency and --lines must be at least 1")
    return args


# --- the server's process tree --------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (the worker, the SMPP simulator, speech programs)."""
    out, todo = [], [pid]
    while todo:
        here = todo.pop()
        out.append(here)
        todo.extend(children(here))
    return out


def cpu_with_children(pid: int) -> float:
    """User + system CPU seconds of a process and of its children it has waited for (the
    worker's espeak-ng and sox runs); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(v) for v in fields[11:15]) / CLK_TCK


def command_of(pid: int) -> str:
    """``worker``, ``smsc-sim`` or ``serve``: the smscloud command a process runs."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"smscloud.cli.simulator" in argv:  # serve's simulator runs as a module
            return "smsc-sim"
        for name in ("worker", "smsc-sim", "serve"):
            if name.encode() in argv:
                return name
    return "other"


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """CPU seconds so far of the server's processes, by the command they run."""

    by_command: dict[str, float]

    @classmethod
    def take(cls, server_pid: int) -> CpuSnapshot:
        """``serve`` itself (the API) and its children's trees, each with reaped children."""
        by: dict[str, float] = {}
        for pid in tree(server_pid):
            name = "api" if pid == server_pid else command_of(pid)
            # A live grandchild (a speech program running now) is counted in full; reaped
            # ones are already in their parent's cutime/cstime.
            by[name] = by.get(name, 0.0) + cpu_with_children(pid)
        return cls(by)

    def since(self, before: CpuSnapshot) -> dict[str, float]:
        """CPU seconds spent between ``before`` and this snapshot, by command."""
        names = self.by_command.keys() | before.by_command.keys()
        return {
            n: self.by_command.get(n, 0.0) - before.by_command.get(n, 0.0) for n in sorted(names)
        }


# --- provisioning -----------------------------------------------------------------------------


def database_url(server: Server) -> str:
    """The server's SQLite file (the bench always uses a fresh embedded store)."""
    return f"sqlite:///{server.data_dir / 'smscloud.db'}"


def provision(server: Server) -> Target:
    """The demo tenant (enterprise, verified) and a new application of it with the voice
    frequency limits and quiet hours off; a Mainland voice price if the seed set none."""
    creds = json.loads((server.data_dir / "demo-credentials.json").read_text())
    app = server.admin("app", "create", "--tenant", str(creds["tenant"]["id"]), "--name", "voice")
    sdk_app_id = str(app["sdk_app_id"])
    engine = create_engine(database_url(server), connect_args={"timeout": 30})
    a, pr = s.applications, s.prices
    try:
        with engine.begin() as conn:
            # NULL switches a limit off; equal quiet-hour ends switch quiet hours off. The
            # server has not read this application yet, so no cached copy holds the defaults.
            conn.execute(
                update(a)
                .where(a.c.sdk_app_id == sdk_app_id)
                .values(
                    voice_per_30s=None,
                    voice_per_10min=None,
                    voice_per_day=None,
                    voice_quiet_start=0,
                    voice_quiet_end=0,
                )
            )
            priced = select(pr.c.unit_price).where(pr.c.product == VOICE, pr.c.iso_code == "CN")
            if conn.execute(priced).first() is None:
                conn.execute(
                    pr.insert().values(
                        product=VOICE, iso_code="CN", nation_code="86", unit_price=FALLBACK_PRICE
                    )
                )
    finally:
        engine.dispose()
    return Target(
        host=server.env["SMSCLOUD_HOST"],
        port=server.port,
        secret_id=creds["secret_id"],
        secret_key=creds["secret_key"],
        sdk_app_id=sdk_app_id,
        sign_name="",
        template_id="",
    )


# --- the load ---------------------------------------------------------------------------------


def phone_numbers(count: int) -> list[str]:
    """Distinct ordinary mainland mobiles: the built-in network answers each (the magic
    numbers end in 0000001-0000009, the last seven digits of the national number)."""
    out: list[str] = []
    n = FIRST_NUMBER
    while len(out) < count:
        if not MAGIC_LOW <= n % 10_000_000 <= MAGIC_HIGH:
            out.append(f"{PHONE_PREFIX}{n % 100_000_000:08d}")
        n += 1
    return out


@dataclass(slots=True)
class VoiceLoad:
    """What the send phase produced; times are ``time.time()``."""

    accepted: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0


async def send_calls(target: Target, phones: list[str], play_times: int, conns: int) -> VoiceLoad:
    """``SendCodeVoice`` once per number, ``conns`` requests in flight."""
    load = VoiceLoad()
    todo = iter(enumerate(phones))

    async def connection() -> None:
        conn = Connection(target.host, target.port)
        try:
            for i, phone in todo:
                body = orjson.dumps(
                    {
                        "CalledNumber": phone,
                        "VoiceSdkAppid": target.sdk_app_id,
                        "CodeMessage": f"{(i * 7919) % 1_000_000:06d}",  # six digits, varied
                        "PlayTimes": play_times,
                    }
                )
                request = build_request(
                    target, ACTION, body, int(time.time()), version=VMS_VERSION, service="vms"
                )
                sent = time.perf_counter()
                try:
                    status, reply = await conn.exchange(request)
                except (OSError, HttpError, asyncio.IncompleteReadError) as exc:
                    load.errors[f"Transport.{type(exc).__name__}"] += 1
                    continue
                load.latencies.append(time.perf_counter() - sent)
                try:
                    response = orjson.loads(reply)["Response"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    load.errors[f"HTTP.{status}"] += 1
                    continue
                if "Error" in response:
                    load.errors[str(response["Error"].get("Code"))] += 1
                else:
                    load.accepted.append(response["SendStatus"]["CallId"])
        finally:
            conn.close()

    load.started_at = time.time()
    async with asyncio.TaskGroup() as group:
        for _ in range(conns):
            group.create_task(connection())
    load.finished_at = time.time()
    return load


# --- sampling ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    """Calls by state at one moment."""

    at: float
    counts: dict[str, int]

    def total(self, states: Sequence[str]) -> int:
        """Calls in any of ``states``."""
        return sum(self.counts.get(state, 0) for state in states)


class Sampler:
    """A thread that counts ``voice_calls`` by state every 100 ms, on its own read-only
    SQLite connection (WAL: it never blocks the server's writer)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="voice-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def latest(self) -> Sample | None:
        """The newest sample, if any."""
        return self.samples[-1] if self.samples else None

    def _run(self) -> None:
        db = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            while not self._stop.is_set():
                at = time.time()
                with contextlib.suppress(sqlite3.OperationalError):  # busy: skip one sample
                    rows = db.execute("SELECT state, count(*) FROM voice_calls GROUP BY state")
                    self.samples.append(Sample(at, {str(k): int(v) for k, v in rows}))
                self._stop.wait(max(0.0, SAMPLE_S - (time.time() - at)))
        finally:
            db.close()


def wait_final(sampler: Sampler, accepted: int, timeout: float) -> bool:
    """Until the sampler sees every accepted call ENDED or FAILED (True), or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = sampler.latest()
        if last is not None and last.total(FINAL) >= accepted:
            return True
        time.sleep(SAMPLE_S)
    return False


# --- figures ----------------------------------------------------------------------------------


def concurrency_figures(samples: list[Sample]) -> dict[str, Any]:
    """Peak calls holding a line, and the median while calls still waited for one."""
    in_call = [x.total(IN_CALL) for x in samples]
    first = next((i for i, n in enumerate(in_call) if n), None)
    if first is None:
        return {"peak_calls": 0, "sustained_calls": None, "sustained_samples": 0}
    # Sustained: from the first dial, the samples in which accepted calls were still waiting
    # for a line, i.e. the platform had more calls to place than it was placing.
    backlog = [n for x, n in zip(samples[first:], in_call[first:], strict=True) if x.total(WAITING)]
    return {
        "peak_calls": max(in_call),
        "sustained_calls": statistics.median(backlog) if backlog else None,
        "sustained_samples": len(backlog),
    }


def call_figures(db_path: Path, call_ids: list[str]) -> dict[str, Any]:
    """Outcomes, talk time, span and billing of the accepted calls, from the database."""
    vc, us = s.voice_calls, s.usage
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    vc.c.call_id,
                    vc.c.state,
                    vc.c.failure_code,
                    vc.c.dialled_at,
                    vc.c.answered_at,
                    vc.c.ended_at,
                    vc.c.fee_minutes,
                )
            ).all()
            billed = (
                conn.execute(select(us.c.quantity).where(us.c.product == VOICE)).scalars().all()
            )
    finally:
        engine.dispose()
    mine = set(call_ids)
    calls = [r for r in rows if r.call_id in mine]
    talk = [r.ended_at - r.answered_at for r in calls if r.state == "ENDED" and r.answered_at]
    dialled = [r.dialled_at for r in calls if r.dialled_at is not None]
    ended = [r.ended_at for r in calls if r.ended_at is not None]
    line_s = [r.ended_at - r.dialled_at for r in calls if r.dialled_at and r.ended_at]
    return {
        "stored": len(calls),
        "ended": sum(1 for r in calls if r.state == "ENDED"),
        "failed": dict(Counter(str(r.failure_code) for r in calls if r.state == "FAILED")),
        "talk_s": round(sum(talk), 2),
        "talk_per_call_s": round(statistics.mean(talk), 2) if talk else None,
        "line_per_call_s": round(statistics.mean(line_s), 2) if line_s else None,
        "first_dial": min(dialled, default=None),
        "last_end": max(ended, default=None),
        "fee_minutes": sum(r.fee_minutes for r in calls),
        "usage_minutes": sum(billed),
    }


def recorded_audio(data_dir: Path) -> list[float]:
    """Seconds of audio in each recording the built-in network kept. The phone places what
    it hears by RTP timestamp, so this is the audio the call played, however late it came:
    talk time beyond it is the caller's sending slipping behind (``sip_trunk.py`` shifts the
    rest of a call when its loop stalls past one 20 ms frame)."""
    out = []
    for path in sorted((data_dir / "voice-recordings").glob("*.wav")):
        with contextlib.suppress(OSError, wave.Error), wave.open(str(path), "rb") as w:
            out.append(w.getnframes() / w.getframerate())
    return out


def figures(
    args: argparse.Namespace,
    load: VoiceLoad,
    samples: list[Sample],
    calls: dict[str, Any],
    audio: list[float],
    cpu: dict[str, float],
    rss: dict[str, float],
) -> dict[str, Any]:
    """The reported figures of one run."""
    audio_s = statistics.mean(audio) if audio else None
    talk_s = calls["talk_per_call_s"]
    ordered = sorted(load.latencies)
    send_s = max(load.finished_at - load.started_at, 1e-9)
    first_dial, last_end = calls.pop("first_dial"), calls.pop("last_end")
    span = None if first_dial is None or last_end is None else last_end - first_dial
    done = calls["ended"] + sum(calls["failed"].values())
    cpu_total = sum(cpu.values())
    talk_min = calls["talk_s"] / 60
    line_s = (calls["line_per_call_s"] or 0.0) * done
    return {
        "calls": args.calls,
        "concurrency": args.concurrency,
        "lines": args.lines,
        "per_tenant": args.per_tenant or args.lines,
        "play_times": args.play_times,
        "accepted": len(load.accepted),
        "errors": dict(load.errors),
        "send_s": round(send_s, 3),
        "accepted_per_s": round(len(load.accepted) / send_s, 1),
        "p50_ms": round(percentile(ordered, 50) * 1000, 2),
        "p99_ms": round(percentile(ordered, 99) * 1000, 2),
        "max_ms": round((ordered[-1] if ordered else 0.0) * 1000, 2),
        **concurrency_figures(samples),
        "mean_calls": None if not span else round(line_s / span, 1),
        "dial_span_s": None if span is None else round(span, 2),
        "all_final_s": None if last_end is None else round(last_end - load.started_at, 2),
        "calls_per_s": None if not span else round(done / span, 2),
        **calls,
        "talk_min": round(talk_min, 2),
        "audio_per_call_s": None if audio_s is None else round(audio_s, 2),
        "slip_per_call_s": None if not audio_s or not talk_s else round(talk_s - audio_s, 2),
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_total_s": round(cpu_total, 2),
        "cpu_per_call_min_s": round(cpu_total / talk_min, 3) if talk_min else None,
        "cpu_per_call_ms": round(1000 * cpu_total / done, 1) if done else None,
        "rss_mib": {k: round(v, 1) for k, v in rss.items()},
    }


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One fresh server, one send phase, the wait until every call is over."""
    with data_directory(args.keep) as data_dir:
        server = Server(data_dir, "")
        server.env["SMSCLOUD_VOICE_LINES"] = str(args.lines)
        server.env["SMSCLOUD_VOICE_CALLS_PER_TENANT"] = str(args.per_tenant or args.lines)
        server.env.pop("SMSCLOUD_VOICE_SIMULATOR", None)  # the built-in network, always
        if args.ring_ms is not None:
            server.env["SMSCLOUD_VOICE_RING_MS"] = str(args.ring_ms)
        try:
            server.start()
            target = provision(server)
            phones = phone_numbers(args.calls)
            db_path = data_dir / "smscloud.db"
            before = CpuSnapshot.take(server.pid)
            with Sampler(db_path) as sampler:
                load = asyncio.run(send_calls(target, phones, args.play_times, args.concurrency))
                if not wait_final(sampler, len(load.accepted), args.final_timeout):
                    print(f"  warning: calls not all final after {args.final_timeout:g} s")
                after = CpuSnapshot.take(server.pid)
            rss = {
                ("api" if pid == server.pid else command_of(pid)): peak_rss_kib(pid) / 1024
                for pid in tree(server.pid)
            }
            calls = call_figures(db_path, load.accepted)
            audio = recorded_audio(data_dir)
            result = figures(args, load, sampler.samples, calls, audio, after.since(before), rss)
        except Exception:
            print(f"server log (tail):\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
        code = server.proc.returncode if server.proc else None
        if code not in (0, -signal.SIGTERM):
            print(f"  warning: server exited with {code}; log:\n{server.log_tail()}")
        return result


def codes(counts: dict[str, int]) -> str:
    """``Code=n, ...`` or ``none``."""
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"


def by_name(values: dict[str, float], unit: str) -> str:
    """``api 1.2 s  worker 3.4 s ...``"""
    return "  ".join(f"{k} {v:.1f}{unit}" for k, v in sorted(values.items()))


def report(r: dict[str, Any], label: str) -> None:
    """Print one run (or the median) readably, then as one JSON line."""
    print(
        f"== voice {label}: {r['calls']} SendCodeVoice, {r['concurrency']} connections,"
        f" {r['lines']} lines ({r['per_tenant']} per tenant), PlayTimes {r['play_times']}\n"
        f"  accepted        {r['accepted']:>9}   errors: {codes(r['errors'])}\n"
        f"  send phase      {r['send_s']:>9.2f} s  {r['accepted_per_s']:.1f} calls accepted/s\n"
        f"  accept latency  p50 {r['p50_ms']:.1f}  p99 {r['p99_ms']:.1f}"
        f"  max {r['max_ms']:.1f} ms\n"
        f"  calls at once   peak {r['peak_calls']}  sustained {fmt(r['sustained_calls'], 'g')}"
        f" (median of {r['sustained_samples']} samples with calls waiting)"
        f"  mean {fmt(r['mean_calls'], '.1f')} (first dial to last end)\n"
        f"  completed       {r['ended']} ended, failed: {codes(r['failed'])};"
        f" {fmt(r['calls_per_s'], '.2f')} calls/s over {fmt(r['dial_span_s'], '.1f')} s;"
        f" all final {fmt(r['all_final_s'], '.1f')} s after the first request\n"
        f"  talk time       {r['talk_min']:.2f} min ({fmt(r['talk_per_call_s'], '.2f')} s a call,"
        f" {fmt(r['line_per_call_s'], '.2f')} s on the line); billed {r['fee_minutes']} min,"
        f" usage rows {r['usage_minutes']} min\n"
        f"  playback        {fmt(r['audio_per_call_s'], '.2f')} s of audio a call (recorded),"
        f" sent {fmt(r['slip_per_call_s'], '.2f')} s late in all by its end\n"
        f"  CPU             {by_name(r['cpu_s'], ' s')}  = {r['cpu_total_s']:.1f} s\n"
        f"  CPU per         call-minute {fmt(r['cpu_per_call_min_s'], '.2f')} s"
        f"  call {fmt(r['cpu_per_call_ms'], '.0f')} ms\n"
        f"  peak RSS        {by_name(r['rss_mib'], ' MiB')}"
    )
    print(json.dumps({"run": label} | r, ensure_ascii=False), flush=True)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Figure by figure medians (``run.median_of``), nested figures too; counts summed."""
    out = median_of(runs)
    for key in ("cpu_s", "rss_mib"):
        names = {n for r in runs for n in r[key]}
        out[key] = {n: statistics.median(r[key].get(n, 0.0) for r in runs) for n in names}
    return out


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, through every ``finally``: servers get stopped."""

    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``--runs`` fresh servers and print the figures (and their medians)."""
    args = parse_args(argv)
    print(f"smscloud voice bench: sqlite (embedded), {os.cpu_count()} CPUs, {args.runs} run(s)")
    print(f"  command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    with terminate_cleanly():
        runs = []
        for i in range(args.runs):
            runs.append(run_once(args))
            report(runs[-1], f"run {i + 1}/{args.runs}")
        if args.runs > 1:
            report(median_run(runs), f"median of {args.runs}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
