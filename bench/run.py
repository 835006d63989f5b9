"""Benchmark ``smscloud serve``: SendSms throughput, accept latency, time to final status, RSS.

Each run starts a fresh server (``smscloud serve``) on a free loopback port with a fresh data
directory, provisions credentials through the demo seed and the operator CLI, drives it with
``bench/loadgen.py`` (a separate process, so its peak RSS is its own), waits until every
accepted message has a final status, and stops the server. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

import loadgen
import smpp_bind
from bulk import BulkTask
from loadgen import LoadConfig, Target
from procs import HOST, free_port, smscloud_command, stop_gracefully, tail
from receiver import CallbackReceiver
from smpp_bind import SmscProcess

BENCH_DIR = Path(__file__).resolve().parent
DEMO_TEMPLATE = "您的验证码是{1}，{2}分钟内有效，请勿泄露。"
SMPP_RECEIPT_DELAY = 0.2  # seconds, like the sandbox's default delay
BIND_WINDOWS = (1, 10)  # ``bind``: one window of 1, then the connector's default


@dataclass(frozen=True, slots=True)
class Scenario:
    """One workload: numbers per SendSms request, connections and bounds.

    ``smpp``: "" is the embedded default (``serve`` starts the SMPP simulator and delivers to
    it over loopback); "sandbox" delivers in-process, without SMPP (``SMSCLOUD_SIMULATOR=off``);
    "carrier" goes to an SMPP carrier the operator added, a ``smscloud smsc-sim`` started on
    its own; "bind" drives one ``SmppCarrier`` bind directly, no server (``requests`` messages
    per window, ``concurrency`` unused). Every server scenario pushes status callbacks to a
    local receiver and waits for the last one.
    """

    name: str
    numbers: int
    concurrency: int
    requests: int
    duration: float
    smpp: str = ""
    in_all: bool = True  # run by ``--scenario all``


SCENARIOS = {
    "single": Scenario("single", numbers=1, concurrency=50, requests=20_000, duration=15.0),
    # 50 connections of 200 numbers saturate 2 cores: ~16% more numbers/s than 16, 2.7x latency.
    "batch200": Scenario("batch200", numbers=200, concurrency=16, requests=800, duration=15.0),
    "bind": Scenario("bind", numbers=1, concurrency=0, requests=5000, duration=20.0, smpp="bind"),
    "sandbox": Scenario("sandbox", 1, 50, 20_000, 15.0, smpp="sandbox", in_all=False),
    "smpp": Scenario("smpp", 1, 50, 20_000, 15.0, smpp="carrier", in_all=False),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    defaults = "; ".join(
        f"{s.name}: {s.requests} messages per window {BIND_WINDOWS}, {s.duration:g} s"
        if s.smpp == "bind"
        else f"{s.name}: {s.concurrency} connections, {s.requests} requests, {s.duration:g} s"
        for s in SCENARIOS.values()
    )
    in_all = ", ".join(s.name for s in SCENARIOS.values() if s.in_all)
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n", 1)[0] if __doc__ else None,
        epilog=f"Scenario defaults: {defaults}.",
    )
    parser.add_argument(
        "--scenario", choices=[*SCENARIOS, "all"], default="all", help=f"all: {in_all}"
    )
    parser.add_argument("--concurrency", type=int, help="connections, one request in flight each")
    parser.add_argument("--requests", type=int, help="request budget of the send phase")
    parser.add_argument("--duration", type=float, help="time limit of the send phase, s")
    parser.add_argument("--runs", type=int, default=1, help="fresh-server runs per scenario")
    parser.add_argument(
        "--final-timeout", type=float, default=120.0, help="wait for final states, s (120)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    parser.add_argument(
        "--smpp-binds", type=int, default=None, help="smpp scenarios: binds (carrier default 1)"
    )
    parser.add_argument(
        "--smpp-window", type=int, default=None, help="smpp scenarios: window (default 10)"
    )
    parser.add_argument(
        "--database-url", default="", help="SMSCLOUD_DATABASE_URL (default: embedded SQLite)"
    )
    parser.add_argument(
        "--bulk-task",
        type=int,
        default=0,
        metavar="RATE",
        help="run a console bulk task at RATE numbers/s beside the load (demo seed needed)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        metavar="REQ_PER_S",
        help="open loop: send requests on a fixed schedule at this rate (connections bound"
        " the requests in flight; latency counts from each request's scheduled time)",
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, str]:
    """A plain GET on loopback (http.client: no proxy settings apply)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def children(pid: int) -> list[int]:
    """Pids of a process's children (``serve``'s delivery worker)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                kids.append(int(stat.parent.name))
    return kids


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A ``smscloud serve`` subprocess with its own data directory and port."""

    def __init__(self, data_dir: Path, database_url: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = os.environ | {
            "SMSCLOUD_HOST": HOST,
            "SMSCLOUD_PORT": str(self.port),
            "SMSCLOUD_DATA_DIR": str(data_dir),
            "SMSCLOUD_DATABASE_URL": database_url,
            "SMSCLOUD_DEMO_SEED": "true",
            "SMSCLOUD_LOG_LEVEL": "warning",
            "SMSCLOUD_SIMULATOR_PORT": "0",
            # The bench's callback receiver listens on 127.0.0.1, which callbacks may not reach
            # unless the operator re-opens it (for `serve` and for the CLI that provisions).
            "SMSCLOUD_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
        }
        self.env.pop("SMSCLOUD_SIMULATOR_DELAY_MS", None)  # the default delay is the benchmark's
        self.log_path = data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> None:
        """Start and wait until ``/healthz`` answers 200."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [*smscloud_command(), "serve"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our Ctrl-C reaches it only through stop()
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, "/healthz", timeout=1.0)[0] == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"server not healthy after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (uvicorn's graceful shutdown), wait; SIGKILL as a last resort."""
        stop_gracefully(self.proc, "server", timeout)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        return tail(self.log_path, lines)

    def admin(self, *args: str) -> dict[str, Any]:
        """Run ``smscloud admin ... --json`` against this server's database."""
        done = subprocess.run(
            [*smscloud_command(), "admin", *args, "--json"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"smscloud admin {' '.join(args)}: {done.stderr.strip()}")
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def pending(self) -> int:
        """Messages not yet final: the ``smscloud_messages_pending`` gauges of ``/metrics``."""
        status, text = http_get(self.port, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        total = 0
        for line in text.splitlines():
            name, _, value = line.partition(" ")
            if name.startswith("smscloud_messages_pending{"):
                total += int(value)
        return total


def target_for(server: Server, creds: dict[str, Any], sdk_app_id: str) -> Target:
    """A load-generator target from a key, an app, and an approved sign and template."""
    return Target(
        host=HOST,
        port=server.port,
        secret_id=creds["secret_id"],
        secret_key=creds["secret_key"],
        sdk_app_id=sdk_app_id,
        sign_name=creds["sign_name"],
        template_id=str(creds["template_id"]),
    )


def unlimited_app(server: Server, tenant_id: int, callback: str = "") -> str:
    """An app without frequency limits plus a huge package; returns its SdkAppId."""
    off = ("--freq-30s", "off", "--freq-hour", "off", "--freq-day", "off")
    push = ("--status-callback", callback) if callback else ()
    app = server.admin("app", "create", "--tenant", str(tenant_id), "--name", "bench", *off, *push)
    server.admin("package", "grant", "--tenant", str(tenant_id), "--units", "100000000")
    return str(app["sdk_app_id"])


def api_call(target: Target, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """One signed API call; raise on an error response."""
    response = asyncio.run(loadgen.call(target, action, params))
    if "Error" in response:
        raise RuntimeError(f"{action}: {response['Error']}")
    return response


def provision_fresh_tenant(server: Server, callback: str = "") -> Target:
    """Without demo credentials (a reused database): tenant, key, app, sign and template."""
    name = f"bench-{time.time_ns()}"
    tenant = server.admin("tenant", "create", "--name", name, "--type", "enterprise", "--verified")
    tenant_id = int(tenant["id"])
    key = server.admin("key", "create", "--tenant", str(tenant_id))
    creds = key | {"sign_name": "云短信", "template_id": ""}
    target = target_for(server, creds, unlimited_app(server, tenant_id, callback))
    sign_form = {
        "SignName": creds["sign_name"],
        "SignType": 0,
        "DocumentType": 1,
        "International": 0,
        "SignPurpose": 0,
        "ProofImage": "iVBORw0KGgo=",  # the eight bytes that start a PNG
    }
    sign = api_call(target, "AddSmsSign", sign_form)["AddSignStatus"]["SignId"]
    template_form = {
        "TemplateName": "bench",
        "TemplateContent": DEMO_TEMPLATE,
        "SmsType": 3,  # verification code
        "International": 0,
        "Remark": "bench",
    }
    template = api_call(target, "AddSmsTemplate", template_form)["AddTemplateStatus"]["TemplateId"]
    server.admin("review", "approve", "sign", str(sign))
    server.admin("review", "approve", "template", str(template))
    return replace(target, template_id=str(template))


def provision(server: Server, callback: str = "") -> Target:
    """Credentials for the benchmark: the demo tenant if seeded, else a new tenant."""
    path = server.data_dir / "demo-credentials.json"
    if not path.exists():
        return provision_fresh_tenant(server, callback)
    creds = json.loads(path.read_text())
    app = unlimited_app(server, int(creds["tenant"]["id"]), callback)
    return target_for(server, creds, app)


def run_loadgen(target: Target, config: LoadConfig) -> dict[str, Any]:
    """Run ``loadgen.py`` as a child process and return its summary."""
    job = json.dumps({"target": asdict(target), "load": asdict(config)})
    proc = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "loadgen.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
        text=True,
    )
    try:
        out, _ = proc.communicate(job)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen exited with {proc.returncode}")
    summary: dict[str, Any] = json.loads(out)
    return summary


def is_simulator(pid: int) -> bool:
    """Whether a child of ``serve`` is its SMPP simulator (``python -m smscloud.cli.simulator``,
    or ``smscloud smsc-sim``)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    return b"smscloud.cli.simulator" in argv or b"smsc-sim" in argv


class RssSampler:
    """The platform's peak memory while it works: the largest sum of its processes' resident
    sets at one moment (each process's own peak, VmHWM, may come at another time: ``serve``'s
    is set at start-up, when the demo seed hashes a password with argon2's 64 MiB)."""

    def __init__(self, pids: list[int], every: float = 0.25) -> None:
        self.pids = pids
        self.every = every
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            now = sum(loadgen.status_kib(pid, "VmRSS") for pid in self.pids)
            self.peak_kib = max(self.peak_kib, now)
            if self._stop.wait(self.every):
                return


def wait_final(server: Server, accepted: int, timeout: float) -> tuple[float | None, int]:
    """Poll ``/metrics`` until every accepted message is final; return when, and how many.

    Every accepted message is stored before its request is answered, so once the load phase
    is over, nothing pending means everything accepted is final.
    """
    deadline = time.monotonic() + timeout
    final = 0
    while True:
        pending = server.pending()
        final = accepted - pending
        if final >= accepted:
            return time.time(), final
        if time.monotonic() >= deadline:
            return None, final
        # Each poll counts the pending rows: with 100,000 queued, polling every 20 ms cost the
        # API process more CPU than the drain it watched (taken from the worker on the same
        # cores). Far from the end, poll rarely; near it, every 20 ms.
        time.sleep(min(0.5, max(0.02, pending / 50_000)))


def figures(
    scenario: Scenario, load: dict[str, Any], final_at: float | None, final: int
) -> dict[str, Any]:
    """The reported figures of one run, from the load summary and the final time."""
    send_s = max(load["finished_at"] - load["started_at"], 1e-9)
    final_s = None if final_at is None else final_at - load["started_at"]
    return {
        "scenario": scenario.name,
        "numbers_per_request": scenario.numbers,
        "concurrency": scenario.concurrency,
        "requests": load["requests"],
        "accepted": load["accepted"],
        "request_errors": load["request_errors"],
        "number_errors": load["number_errors"],
        "send_s": round(send_s, 3),
        "requests_per_s": round(load["requests"] / send_s, 1),
        "numbers_per_s": round(load["accepted"] / send_s, 1),
        "final": final,
        "final_s": None if final_s is None else round(final_s, 3),
        "final_per_s": None if final_s is None else round(load["accepted"] / final_s, 1),
        "p50_ms": round(load["p50_ms"], 2),
        "p90_ms": round(load["p90_ms"], 2),
        "p99_ms": round(load["p99_ms"], 2),
        "max_ms": round(load["max_ms"], 2),
        "loadgen_cpu_s": round(load["loadgen_cpu_s"], 2),
        "loadgen_prepare_cpu_s": round(load.get("loadgen_prepare_cpu_s", 0.0), 2),
        "loadgen_rss_mib": round(load["loadgen_rss_kib"] / 1024, 1),
    }


@contextlib.contextmanager
def data_directory(keep: bool) -> Iterator[Path]:
    """A fresh temporary data directory, removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="smscloud-bench-"))
    try:
        yield path
    finally:
        if keep:
            print(f"  data dir kept: {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def add_smpp_carrier(server: Server, smsc: SmscProcess, args: argparse.Namespace) -> None:
    """Before ``serve`` starts: an SMPP carrier to the simulator and a +86 route to it."""
    tuning = []
    if args.smpp_binds:
        tuning += ["--binds", str(args.smpp_binds)]
    if args.smpp_window:
        tuning += ["--window", str(args.smpp_window)]
    name = f"sim{time.time_ns()}"  # unique, should the database be reused
    server.admin(
        *("carrier", "add", "--name", name, "--kind", "smpp", "--host", HOST),
        *("--port", str(smsc.port), "--system-id", smpp_bind.SYSTEM_ID),
        *("--password", smpp_bind.PASSWORD, "--source-addr", smpp_bind.SOURCE_ADDR),
        *tuning,
    )
    server.admin("route", "add", "--carriers", name, "--country", "86")


def run_bind(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """``bind``: one ``SmppCarrier`` bind per window against ``smscloud smsc-sim``."""
    with data_directory(args.keep) as data_dir:
        windows = smpp_bind.run(
            [args.smpp_window] if args.smpp_window else BIND_WINDOWS,
            scenario.requests,
            scenario.duration,
            SMPP_RECEIPT_DELAY,
            log_dir=data_dir,
        )
    result: dict[str, Any] = {"scenario": scenario.name, "messages": scenario.requests}
    for w in windows:  # flat keys, so that median_of takes them figure by figure
        for key, value in w.items():
            if key != "window":
                result[f"w{w['window']}_{key}"] = value
    return result


def run_once(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """One fresh server, one load phase, the wait for finals; returns the figures.

    ``smpp`` scenarios first start ``smscloud smsc-sim`` and add a carrier and a route to it
    with the CLI, so the worker delivers over SMPP; the simulator is stopped with the server.
    """
    if scenario.smpp == "bind":
        return run_bind(scenario, args)
    with data_directory(args.keep) as data_dir, CallbackReceiver() as receiver:
        server = Server(data_dir, args.database_url)
        smsc = None
        if scenario.smpp == "sandbox":
            server.env["SMSCLOUD_SIMULATOR"] = "off"
        if scenario.smpp == "carrier":
            smsc = SmscProcess(data_dir / "smsc-sim.log", SMPP_RECEIPT_DELAY, server.env)
        try:
            if smsc is not None:
                smsc.start()
                add_smpp_carrier(server, smsc, args)
            server.start()
            # SMPP scenarios measure the whole way back: receipts pushed to a callback URL.
            target = provision(server, receiver.url)
            workers = children(server.pid)
            # serve's own simulator counts as the SMSC, not as the worker.
            sims = [w for w in workers if is_simulator(w)]
            workers = [w for w in workers if w not in sims]
            if smsc is not None:
                sims.append(smsc.pid)
            bulk = None
            if args.bulk_task:
                creds = json.loads((server.data_dir / "demo-credentials.json").read_text())
                bulk = BulkTask(server.port, creds)
                # Enough numbers to outlast the load; the rest is cancelled after it.
                bulk.start(args.bulk_task, int(args.bulk_task * (scenario.duration + 30)))
            cpu_before = cpu_seconds(server.pid)
            smsc_before = sum(cpu_seconds(w) for w in sims)
            worker_before = sum(cpu_seconds(w) for w in workers)
            config = LoadConfig(
                numbers_per_request=scenario.numbers,
                concurrency=scenario.concurrency,
                requests=scenario.requests,
                duration=scenario.duration,
                rate=args.rate,
            )
            with RssSampler([server.pid, *workers, *sims]) as rss:
                load = run_loadgen(target, config)
                bulk_fed = bulk.stop() if bulk is not None else None
                final_at, final = wait_final(server, load["accepted"], args.final_timeout)
            result = figures(scenario, load, final_at, final)
            result["platform_rss_mib"] = round(rss.peak_kib / 1024, 1)
            if args.rate:
                result["open_loop_rate"] = args.rate
            if bulk is not None:
                result["bulk_rate"] = args.bulk_task
                result["bulk_fed"] = bulk_fed
            # Every scenario measures the way back: receipts pushed to a callback URL.
            pushed_at = receiver.wait_for(load["accepted"], args.final_timeout)
            result["callbacks"] = receiver.reports
            result["callback_pushes"] = receiver.pushes
            result["callbacks_s"] = (
                None if pushed_at is None else round(pushed_at - load["started_at"], 3)
            )
            result["callbacks_per_s"] = (
                None
                if pushed_at is None
                else round(load["accepted"] / (pushed_at - load["started_at"]), 1)
            )
            result["server_cpu_s"] = round(cpu_seconds(server.pid) - cpu_before, 2)
            result["server_rss_mib"] = round(loadgen.peak_rss_kib(server.pid) / 1024, 1)
            result["worker_cpu_s"] = round(sum(cpu_seconds(w) for w in workers) - worker_before, 2)
            result["worker_rss_mib"] = round(
                sum(loadgen.peak_rss_kib(w) for w in workers) / 1024, 1
            )
            if sims:
                result["smsc_cpu_s"] = round(sum(cpu_seconds(w) for w in sims) - smsc_before, 2)
                result["smsc_rss_mib"] = round(sum(loadgen.peak_rss_kib(w) for w in sims) / 1024, 1)
        except Exception:
            print(f"server log (tail):\n{server.log_tail()}", file=sys.stderr)
            if smsc is not None:
                print(f"smsc-sim log (tail):\n{smsc.log()}", file=sys.stderr)
            raise
        finally:
            try:
                server.stop()
            finally:
                if smsc is not None:
                    smsc.stop()
        code = server.proc.returncode if server.proc else None
        if code not in (0, -signal.SIGTERM):
            print(f"  warning: server exited with {code}; log:\n{server.log_tail()}")
        return result


def codes(counts: dict[str, int]) -> str:
    """``Code=n, ...`` or ``none``."""
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"


def fmt(value: Any, spec: str) -> str:
    """Format a figure that may be missing."""
    return "n/a" if value is None else format(value, spec)


def report_bind(r: dict[str, Any], label: str) -> None:
    """Print one ``bind`` run (or the median) readably, then as one JSON line."""
    print(f"== {r['scenario']} {label}: one SMPP bind, {r['messages']} messages per window")
    for key in r:
        if key.startswith("w") and key.endswith("_per_s"):
            w = key[1:].split("_", 1)[0]
            fields = {k.split("_", 1)[1]: v for k, v in r.items() if k.startswith(f"w{w}_")}
            print(smpp_bind.describe({"window": int(w)} | fields))
    print(json.dumps({"run": label} | r, ensure_ascii=False), flush=True)


def report(r: dict[str, Any], label: str) -> None:
    """Print one run (or the median) readably, then as one JSON line."""
    if "messages" in r:
        report_bind(r, label)
        return
    smsc = f"  smsc-sim {r['smsc_cpu_s']:.1f} s" if r.get("smsc_cpu_s") is not None else ""
    # Each process's own peak, and the platform's: the largest sum of them at one moment.
    sim_rss = ""
    if r.get("smsc_rss_mib") is not None:
        sim_rss = f"  smsc-sim {r['smsc_rss_mib']:.1f} MiB"
    if r.get("platform_rss_mib") is not None:
        sim_rss += f"  (platform at once {r['platform_rss_mib']:.1f} MiB)"
    pushed = (
        f"  callbacks after {fmt(r['callbacks_s'], '>9.2f')} s"
        f"  {fmt(r['callbacks_per_s'], '.1f')} reports/s pushed"
        f"  ({r['callbacks']} reports in {r['callback_pushes']} pushes)\n"
        if "callbacks" in r
        else ""
    )
    bulk = (
        f"  bulk task       {r['bulk_rate']}/s beside the load: {r['bulk_fed']} numbers fed\n"
        if r.get("bulk_rate")
        else ""
    )
    print(
        f"== {r['scenario']} {label}: {r['numbers_per_request']} number(s)/request,"
        f" concurrency {r['concurrency']}\n"
        f"  requests        {r['requests']:>9}   request errors: {codes(r['request_errors'])}\n"
        f"  accepted        {r['accepted']:>9}   refused numbers: {codes(r['number_errors'])}\n"
        f"  send phase      {r['send_s']:>9.2f} s  {r['requests_per_s']:.1f} requests/s"
        f"  {r['numbers_per_s']:.1f} numbers/s\n"
        f"  all final after {fmt(r['final_s'], '>9.2f')} s  {fmt(r['final_per_s'], '.1f')}"
        f" final/s  ({r['final']} final)\n"
        f"{pushed}{bulk}"
        f"  accept latency  p50 {r['p50_ms']:.1f}  p90 {r['p90_ms']:.1f}"
        f"  p99 {r['p99_ms']:.1f}  max {r['max_ms']:.1f} ms\n"
        f"  peak RSS        api {r['server_rss_mib']:.1f} MiB  worker {r['worker_rss_mib']:.1f} MiB"
        f"{sim_rss}  loadgen {r['loadgen_rss_mib']:.1f} MiB\n"
        f"  CPU             api {r['server_cpu_s']:.1f} s  worker {r['worker_cpu_s']:.1f} s"
        f"  loadgen {r['loadgen_cpu_s']:.1f} s{smsc}"
    )
    print(json.dumps({"run": label} | r, ensure_ascii=False), flush=True)


def median(values: list[float]) -> float | None:
    """The median, an int when the inputs are ints and it is whole; None when empty."""
    if not values:
        return None
    m = statistics.median(values)
    if all(isinstance(v, int) for v in values) and m == int(m):
        return int(m)
    return round(m, 3)


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure; error counts summed over the runs."""
    out: dict[str, Any] = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, dict):
            total: Counter[str] = Counter()
            for r in runs:
                total.update(r[key])
            out[key] = dict(total)
            continue
        values = [r[key] for r in runs if isinstance(r[key], int | float)]
        if values or value is None:
            out[key] = median(values)
    return out


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The selected scenarios with command-line overrides applied."""
    names = [s.name for s in SCENARIOS.values() if s.in_all]
    if args.scenario != "all":
        names = [args.scenario]
    out = []
    for name in names:
        s = SCENARIOS[name]
        out.append(
            replace(
                s,
                concurrency=args.concurrency or s.concurrency,
                requests=args.requests or s.requests,
                duration=args.duration or s.duration,
            )
        )
    return out


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: servers get stopped


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected scenarios ``--runs`` times each and print the figures."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    db = args.database_url.split(":", 1)[0] if args.database_url else "sqlite (embedded)"
    print(f"smscloud bench: database {db}, {os.cpu_count()} CPUs, {args.runs} run(s) each")
    for scenario in scenarios(args):
        runs = []
        for i in range(args.runs):
            runs.append(run_once(scenario, args))
            report(runs[-1], f"run {i + 1}/{args.runs}")
        if args.runs > 1:
            report(median_of(runs), f"median of {args.runs}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
