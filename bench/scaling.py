"""Benchmark smscloud scaled out on PostgreSQL: ``smscloud api`` xN and ``smscloud worker`` xM.

Each run starts a throwaway PostgreSQL cluster (Debian's binaries, as ``tests/support/postgres.py``
does), migrates it, starts ``smscloud smsc-sim`` as the carrier, N API processes and M delivery
workers, provisions a tenant through the operator CLI and the API, drives signed ``SendSms``
over all API ports with ``bench/loadgen.py`` and waits until every accepted message is final
and its status report pushed to a local callback receiver. It prints the rates, CPU per message
of every process (each API, each worker, the simulator, PostgreSQL's server processes, the load
generator), database transactions, row writes, WAL and size per message, and the message
tables' sizes. See ``bench/README.md`` ("PostgreSQL and scaling") and ``docs/scaling.md``::

    .venv/bin/python bench/scaling.py --runs 3 --json scaling.json
    .venv/bin/python bench/scaling.py --apis 1 --workers 1 --messages 20000
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import glob
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

import loadgen
import psycopg
import run as bench_run
import smpp_bind
from loadgen import LoadConfig
from procs import HOST, free_port, smscloud_command, stop_gracefully, tail
from receiver import CallbackReceiver

DATABASE = "smscloud"
RECEIPT_DELAY = 0.2  # seconds from submit to receipt, the simulator's default in ``serve``
SIMULATOR_WINDOW = 100  # deliver_sm unanswered per session, as ``serve`` runs its simulator
PENDING_POLL_S = 0.05
WAIT_SAMPLE_S = 0.1  # how often pg_stat_activity is sampled for wait events
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20_000, help="SendSms of one number each")
    parser.add_argument("--concurrency", type=int, default=100, help="connections, over all APIs")
    parser.add_argument("--apis", type=int, default=2, help="smscloud api processes (2)")
    parser.add_argument("--workers", type=int, default=2, help="smscloud worker processes (2)")
    parser.add_argument(
        "--binds", type=int, default=0, help="SMPP binds of the carrier (default: one per worker)"
    )
    parser.add_argument("--window", type=int, default=10, help="submits in flight per bind (10)")
    parser.add_argument(
        "--receipt-delay", type=float, default=RECEIPT_DELAY, help="simulator's, s (0.2)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs, each on a fresh cluster")
    parser.add_argument("--duration", type=float, default=300.0, help="send phase limit, s")
    parser.add_argument("--final-timeout", type=float, default=180.0, help="wait for finals, s")
    parser.add_argument(
        "--pg-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra PostgreSQL setting (repeatable), e.g. synchronous_commit=off",
    )
    parser.add_argument("--json", metavar="PATH", help="write every run and the median here")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and the logs")
    args = parser.parse_args(argv)
    if min(args.runs, args.apis, args.workers, args.messages, args.concurrency) < 1:
        parser.error("--runs, --apis, --workers, --messages and --concurrency must be >= 1")
    args.binds = args.binds or args.workers
    return args


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    """A PostgreSQL server binary from Debian's packages (the newest installed)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install postgresql (make system-deps does)")
    return path


def as_postgres(argv: list[str]) -> list[str]:
    """``initdb`` refuses root: run the server's commands as ``postgres`` when we are root."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class Cluster:
    """A throwaway cluster on a free loopback port (the tests' approach, ``tests/support``).

    fsync is off (the data is thrown away and the disk is shared), but full-page writes and
    synchronous commit keep their defaults, so WAL volume is what a real server writes.
    """

    def __init__(self, settings: Sequence[str], keep: bool) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="smscloud-scaling-"))
        self.data = self.root / "pgdata"
        self.log_path = self.root / "postgresql.log"
        self.port = free_port()
        self.settings = list(settings)
        self.keep = keep
        self.started = False

    def url(self, database: str = DATABASE) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/{database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url(database), autocommit=True)

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        subprocess.run(
            as_postgres(
                [
                    *(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"),
                    *("-E", "UTF8", "--no-locale", "--no-sync"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        settings = [
            "listen_addresses=127.0.0.1",
            "fsync=off",
            "max_connections=300",
            "log_lock_waits=on",  # a lock waited for longer than deadlock_timeout is logged
            "deadlock_timeout=200ms",
            "log_autovacuum_min_duration=0",
            *self.settings,
        ]
        opts = f"-p {self.port} -k {self.root} " + " ".join(f"-c {s}" for s in settings)
        subprocess.run(
            as_postgres(
                [
                    *(pg_bin("pg_ctl"), "-D", str(self.data), "-o", opts),
                    *("-w", "-l", str(self.log_path), "start"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        self.started = True
        with self.connect("postgres") as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")

    def postmaster_pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def cpu_seconds(self) -> float:
        """Every server process: the postmaster, its live children, and the children it
        reaped (``cutime``/``cstime``), so backends that came and went are counted too."""
        pid = self.postmaster_pid()
        fields = proc_stat(pid)
        total = sum(int(f) for f in fields[11:15]) / CLK_TCK
        return total + sum(cpu_seconds(kid) for kid in bench_run.children(pid))

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "stop"]),
                capture_output=True,
            )
            self.started = False
        if self.keep:
            print(f"  cluster and logs kept: {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def proc_stat(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards)."""
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rpartition(")")[2].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it is gone)."""
    try:
        fields = proc_stat(pid)
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


DB_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "tup_fetched",
    "blks_read",
    "blks_hit",
)
TABLE_COUNTERS = ("n_tup_ins", "n_tup_upd", "n_tup_hot_upd", "n_tup_del")


def db_snapshot(cluster: Cluster) -> dict[str, Any]:
    """Counters of the platform's database, the cluster's WAL position and table sizes."""
    out: dict[str, Any] = {}
    with cluster.connect() as conn:
        row = conn.execute(
            f"SELECT {', '.join(DB_COUNTERS)} FROM pg_stat_database WHERE datname = %s",
            (DATABASE,),
        ).fetchone()
        assert row is not None
        out |= dict(zip(DB_COUNTERS, (int(v) for v in row), strict=True))
        # The next transaction id: only transactions that write take one, so its advance
        # counts write transactions (xact_commit counts read-only ones too: polls, claims).
        lsn, size, next_xid = conn.execute(
            "SELECT pg_current_wal_lsn()::text, pg_database_size(current_database()),"
            " pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
        ).fetchone() or ("0/0", 0, 0)
        out["lsn"], out["db_size"], out["next_xid"] = lsn, int(size), int(next_xid)
        records, fpi, wal_bytes = conn.execute(
            "SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal"
        ).fetchone() or (0, 0, 0)
        out |= {"wal_records": int(records), "wal_fpi": int(fpi), "wal_bytes": int(wal_bytes)}
        tables: dict[str, dict[str, int]] = {}
        for r in conn.execute(
            f"SELECT relname, {', '.join(TABLE_COUNTERS)}, autovacuum_count,"
            " n_live_tup, n_dead_tup, pg_relation_size(relid), pg_indexes_size(relid),"
            " pg_total_relation_size(relid) FROM pg_stat_user_tables"
        ):
            keys = (*TABLE_COUNTERS, "autovacuum", "live", "dead", "heap", "indexes", "total")
            tables[r[0]] = dict(zip(keys, (int(v) for v in r[1:]), strict=True))
        out["tables"] = tables
    return out


def wal_diff(cluster: Cluster, before: str, after: str) -> int:
    """Bytes of WAL between two positions (``pg_wal_lsn_diff``)."""
    with cluster.connect() as conn:
        row = conn.execute("SELECT pg_wal_lsn_diff(%s, %s)", (after, before)).fetchone()
    return int(row[0]) if row else 0


def compact_sizes(cluster: Cluster) -> dict[str, int]:
    """``VACUUM FULL`` every table, then each one's total size: rows without dead versions."""
    with cluster.connect() as conn:
        conn.execute("VACUUM (FULL, ANALYZE)")
        rows = conn.execute(
            "SELECT relname, pg_total_relation_size(relid) FROM pg_stat_user_tables"
        ).fetchall()
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    out = {str(name): int(total) for name, total in rows}
    out["<database>"] = int(size[0]) if size else 0
    return out


class WaitSampler:
    """Samples ``pg_stat_activity`` of the platform's database every 100 ms on a connection
    to another database (so the sampling adds nothing to the platform database's counters):
    what active backends were waiting on, counted per sample."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.samples = 0
        self.active = 0
        self.waits: Counter[str] = Counter()
        self.lock_waits: Counter[str] = Counter()  # statements waiting for a lock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), wait_event_type,"
            " query FROM pg_stat_activity"
            " WHERE datname = %s AND state = 'active' AND backend_type = 'client backend'"
        )
        with self.cluster.connect("postgres") as conn:
            while not self._stop.wait(WAIT_SAMPLE_S):
                rows = conn.execute(query, (DATABASE,)).fetchall()
                self.samples += 1
                self.active += len(rows)
                self.waits.update(str(r[0]) for r in rows)
                self.lock_waits.update(
                    " ".join(str(r[2]).split())[:70] for r in rows if r[1] == "Lock"
                )


# --- platform processes --------------------------------------------------------------------


class Child:
    """A long-running ``smscloud`` subprocess in its own session, its output in a log file."""

    def __init__(self, label: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.label, self.argv, self.env, self.log_path = label, argv, env, log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # our Ctrl-C reaches it only through stop()
            )

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(
                f"{self.label} exited with {self.proc.returncode}:\n{tail(self.log_path)}"
            )

    def stop(self, timeout: float = 30.0) -> None:
        stop_gracefully(self.proc, self.label, timeout)

    def problems(self) -> list[str]:
        """Log lines that report a problem (warnings, errors, tracebacks)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        pattern = re.compile(r"WARNING|ERROR|CRITICAL|Traceback|Exception")
        return [line for line in text.splitlines() if pattern.search(line)]


def wait_until(what: str, check: Any, timeout: float, children: Sequence[Child] = ()) -> None:
    """Poll ``check()`` until it is true, failing fast if a child died; raise at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in children:
            child.check_alive()
        with contextlib.suppress(OSError, http.client.HTTPException, psycopg.Error):
            if check():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def platform_env(cluster: Cluster, data_dir: Path, port: int = 0) -> dict[str, str]:
    """The environment of every ``smscloud`` process of a run."""
    env = os.environ | {
        "SMSCLOUD_HOST": HOST,
        "SMSCLOUD_DATA_DIR": str(data_dir),
        "SMSCLOUD_DATABASE_URL": cluster.url(),
        "SMSCLOUD_DEMO_SEED": "false",
        "SMSCLOUD_LOG_LEVEL": "warning",
        # The carrier is the simulator this bench starts, added with the operator CLI;
        # no process starts one of its own, nor the built-in phone network.
        "SMSCLOUD_SIMULATOR": "off",
        "SMSCLOUD_VOICE_SIMULATOR": "off",
        # The callback receiver listens on 127.0.0.1, which callbacks may not reach unless
        # the operator re-opens it.
        "SMSCLOUD_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
    }
    if port:
        env["SMSCLOUD_PORT"] = str(port)
    env.pop("SMSCLOUD_SIMULATOR_DELAY_MS", None)
    return env


def healthy(port: int) -> bool:
    return bench_run.http_get(port, "/healthz", timeout=1.0)[0] == 200


def workers_bound(cluster: Cluster, carrier: str, workers: int, binds: int) -> bool:
    """Every worker reports the carrier and the binds are shared out among them."""
    with cluster.connect() as conn:
        rows = conn.execute(
            "SELECT worker, bound FROM carrier_health WHERE carrier = %s AND updated_at > %s",
            (carrier, time.time() - 15),
        ).fetchall()
    bound = [int(r[1]) for r in rows]
    return (
        len(rows) == workers
        and sum(bound) == binds
        and sum(1 for b in bound if b > 0) == min(workers, binds)
    )


def pending(port: int) -> int:
    """Messages not yet final, from an API's ``/metrics`` (the database's view)."""
    status, text = bench_run.http_get(port, "/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return sum(
        int(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if name.startswith("smscloud_messages_pending{")
    )


def wait_final(port: int, accepted: int, timeout: float) -> float | None:
    """When nothing accepted was pending any more (Unix time), or None at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pending(port) == 0:
            return time.time()
        time.sleep(PENDING_POLL_S)
    return None


# --- one run -------------------------------------------------------------------------------


@contextlib.contextmanager
def stopping(children: list[Child]) -> Iterator[None]:
    """Stop every child on the way out, in reverse order of start (workers before the SMSC)."""
    try:
        yield
    finally:
        for child in reversed(children):
            try:
                child.stop()
            except Exception as exc:  # keep stopping the others
                print(f"  stopping {child.label}: {exc}", file=sys.stderr)


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    """One fresh cluster and platform, one load phase, the wait for finals and pushes."""
    cluster = Cluster(args.pg_setting, args.keep)
    children: list[Child] = []
    try:
        cluster.start()
        with CallbackReceiver() as receiver, stopping(children):
            return measure(args, cluster, children, receiver)
    except Exception:
        for child in children:
            print(f"{child.label} log (tail):\n{tail(child.log_path)}", file=sys.stderr)
        print(f"postgresql log (tail):\n{tail(cluster.log_path)}", file=sys.stderr)
        raise
    finally:
        cluster.stop()


def measure(
    args: argparse.Namespace, cluster: Cluster, children: list[Child], receiver: CallbackReceiver
) -> dict[str, Any]:
    """Start the platform on ``cluster``, load it, and return the figures of the run."""
    root = cluster.root
    admin_env = platform_env(cluster, root / "admin")
    done = subprocess.run(
        [*smscloud_command(), "migrate"], env=admin_env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"smscloud migrate: {done.stderr.strip()}")

    # The carrier's SMSC, started and configured as ``serve`` does its own (window 100, a
    # journal), at nice 10 as ``serve`` runs it: it stands in for another machine.
    smsc_port = free_port()
    smsc = Child(
        "smsc-sim",
        [
            *("nice", "-n", "10", *smscloud_command(), "smsc-sim", "--host", HOST),
            *("--port", str(smsc_port), "--account", f"{smpp_bind.SYSTEM_ID}:{smpp_bind.PASSWORD}"),
            *("--receipt-delay", str(args.receipt_delay), "--window", str(SIMULATOR_WINDOW)),
            *("--state-file", str(root / "smsc-sim.state")),
        ],
        admin_env,
        root / "smsc-sim.log",
    )
    smsc.port = smsc_port
    children.append(smsc)
    smsc.start()
    wait_until("smsc-sim", lambda: "listening on" in tail(smsc.log_path), 30, [smsc])

    # The operator CLI, through run.py's helpers: a carrier and a +86 route to it.
    operator = bench_run.Server(root / "admin", cluster.url())
    operator.env = admin_env
    binds = SimpleNamespace(smpp_binds=args.binds, smpp_window=args.window)
    bench_run.add_smpp_carrier(operator, smsc, binds)  # type: ignore[arg-type]
    with cluster.connect() as conn:
        row = conn.execute("SELECT name FROM carriers ORDER BY id DESC LIMIT 1").fetchone()
    assert row is not None
    carrier_name = str(row[0])

    apis = []
    for i in range(1, args.apis + 1):
        port = free_port()
        api = Child(
            f"api{i}",
            [*smscloud_command(), "api"],
            platform_env(cluster, root / f"api{i}", port),
            root / f"api{i}.log",
        )
        api.port = port
        apis.append(api)
    workers = [
        Child(
            f"worker{j}",
            [*smscloud_command(), "worker"],
            platform_env(cluster, root / f"worker{j}"),
            root / f"worker{j}.log",
        )
        for j in range(1, args.workers + 1)
    ]
    for child in [*apis, *workers]:
        children.append(child)
        child.start()
    for api in apis:
        wait_until(api.label, lambda api=api: healthy(api.port), 60, children)
    wait_until(
        "workers' binds",
        lambda: workers_bound(cluster, carrier_name, args.workers, args.binds),
        60,
        children,
    )

    # A tenant, key, app with a status callback, package, sign and template (run.py's way
    # on a database without the demo seed), through API #1 and the operator CLI.
    operator.port = apis[0].port
    target = bench_run.provision_fresh_tenant(operator, receiver.url)

    config = LoadConfig(
        numbers_per_request=1,
        concurrency=args.concurrency,
        requests=args.messages,
        duration=args.duration,
        ports=tuple(api.port for api in apis),
    )
    measured = [*apis, *workers, smsc]
    before = db_snapshot(cluster)
    cpu_before = {c.label: cpu_seconds(c.pid) for c in measured}
    cpu_before["postgres"] = cluster.cpu_seconds()
    with WaitSampler(cluster) as waits:
        load = bench_run.run_loadgen(target, config)
        accepted = int(load["accepted"])
        final_at = wait_final(apis[0].port, accepted, args.final_timeout)
        pushed_at = receiver.wait_for(accepted, args.final_timeout)
    cpu = {c.label: cpu_seconds(c.pid) - cpu_before[c.label] for c in measured}
    cpu["postgres"] = cluster.cpu_seconds() - cpu_before["postgres"]
    cpu["loadgen"] = float(load["loadgen_cpu_s"])
    rss = {c.label: loadgen.peak_rss_kib(c.pid) / 1024 for c in measured}
    # Backends report their counters when they end (and at most once a second while they
    # run): stop the platform first, so that every write it made is counted.
    for child in reversed([*apis, *workers]):
        child.stop()
    after = db_snapshot(cluster)
    wal = wal_diff(cluster, before["lsn"], after["lsn"])
    compact_after = compact_sizes(cluster)
    problems = {c.label: c.problems() for c in children}
    problems["postgresql"] = [
        line
        for line in cluster.log_path.read_text(errors="replace").splitlines()
        if re.search(r"ERROR|FATAL|PANIC|deadlock|still waiting", line)
    ]
    return figures(
        args, load, final_at, pushed_at, cpu, rss, before, after, wal, compact_after, waits,
        problems, receiver,
    )  # fmt: skip


def figures(
    args: argparse.Namespace,
    load: dict[str, Any],
    final_at: float | None,
    pushed_at: float | None,
    cpu: dict[str, float],
    rss: dict[str, float],
    before: dict[str, Any],
    after: dict[str, Any],
    wal: int,
    compact: dict[str, int],
    waits: WaitSampler,
    problems: dict[str, list[str]],
    receiver: CallbackReceiver,
) -> dict[str, Any]:
    """The flat figures of one run (every value a number, or a dict of counts)."""
    n = max(int(load["accepted"]), 1)
    start = load["started_at"]
    send_s = max(load["finished_at"] - start, 1e-9)
    r: dict[str, Any] = {
        "apis": args.apis,
        "workers": args.workers,
        "binds": args.binds,
        "window": args.window,
        "concurrency": args.concurrency,
        "requests": load["requests"],
        "accepted": load["accepted"],
        "request_errors": load["request_errors"],
        "number_errors": load["number_errors"],
        "send_s": round(send_s, 3),
        "accepted_per_s": round(n / send_s, 1),
        "final_s": None if final_at is None else round(final_at - start, 3),
        "final_per_s": None if final_at is None else round(n / (final_at - start), 1),
        "callbacks": receiver.reports,
        "callbacks_s": None if pushed_at is None else round(pushed_at - start, 3),
        "end_to_end_per_s": None if pushed_at is None else round(n / (pushed_at - start), 1),
        "p50_ms": round(load["p50_ms"], 2),
        "p99_ms": round(load["p99_ms"], 2),
    }
    for label, seconds in cpu.items():
        r[f"cpu_s.{label}"] = round(seconds, 2)
    for label, seconds in cpu.items():
        r[f"cpu_ms_per_msg.{label}"] = round(seconds * 1000 / n, 4)
    platform = [k for k in cpu if k.startswith(("api", "worker"))] + ["postgres"]
    r["cpu_ms_per_msg.platform"] = round(sum(cpu[k] for k in platform) * 1000 / n, 4)
    for label, mib in rss.items():
        r[f"rss_mib.{label}"] = round(mib, 1)
    for key in DB_COUNTERS:
        r[f"db.{key}_per_msg"] = round((after[key] - before[key]) / n, 3)
    # Cluster-wide, so it includes the few transactions of the monitoring itself.
    r["db.write_xacts_per_msg"] = round((after["next_xid"] - before["next_xid"]) / n, 4)
    r["db.wal_bytes_per_msg"] = round(wal / n, 1)
    for key in ("wal_records", "wal_fpi"):
        r[f"db.{key}_per_msg"] = round((after[key] - before[key]) / n, 3)
    r["db.size_growth_bytes_per_msg"] = round((after["db_size"] - before["db_size"]) / n, 1)
    # Compacted (VACUUM FULL) size against the size before the load: live rows only.
    r["db.compact_bytes_per_msg"] = round((compact["<database>"] - before["db_size"]) / n, 1)
    for name, t in sorted(after["tables"].items()):
        b = before["tables"].get(name, dict.fromkeys(t, 0))
        writes = {k: t[k] - b[k] for k in TABLE_COUNTERS}
        if not any(writes.values()):
            continue
        for key, value in writes.items():
            r[f"table.{name}.{key.removeprefix('n_tup_')}_per_msg"] = round(value / n, 3)
        r[f"table.{name}.autovacuums"] = t["autovacuum"] - b["autovacuum"]
        r[f"table.{name}.dead_rows"] = t["dead"]
        r[f"table.{name}.bytes_after"] = t["total"]
        r[f"table.{name}.growth_bytes_per_msg"] = round((t["total"] - b["total"]) / n, 1)
        r[f"table.{name}.heap_bytes_after"] = t["heap"]
        r[f"table.{name}.index_bytes_after"] = t["indexes"]
        r[f"table.{name}.compact_bytes"] = compact.get(name, 0)
    samples = max(waits.samples, 1)
    r["pg.active_backends"] = round(waits.active / samples, 2)
    for event, count in waits.waits.most_common():
        r[f"pg.wait.{event}"] = round(count / samples, 3)
    r["pg.lock_waits"] = dict(waits.lock_waits.most_common(5))
    r["log_problems"] = {k: len(v) for k, v in problems.items() if v}
    r["log_problem_lines"] = {k: sorted(set(v))[:5] for k, v in problems.items() if v}
    return r


# --- report --------------------------------------------------------------------------------


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure over the runs that have it; counts summed."""
    out: dict[str, Any] = {}
    keys = list(dict.fromkeys(k for r in runs for k in r))
    for key in keys:
        values = [r[key] for r in runs if key in r]
        if all(isinstance(v, dict) for v in values):
            if key == "log_problem_lines":
                out[key] = {k: v for r in runs for k, v in r[key].items()}
                continue
            total: Counter[str] = Counter()
            for v in values:
                total.update(v)
            out[key] = dict(total)
            continue
        numbers = [v for v in values if isinstance(v, int | float)]
        out[key] = bench_run.median(numbers) if numbers else None
    return out


def report(r: dict[str, Any], label: str) -> None:
    """Print one run (or the median) readably."""
    get = r.get
    procs = [k.split(".", 1)[1] for k in r if k.startswith("cpu_s.")]
    print(
        f"== {label}: api x{r['apis']}, worker x{r['workers']}, {r['binds']} bind(s) of window"
        f" {r['window']}, {r['concurrency']} connections, PostgreSQL\n"
        f"  accepted        {r['accepted']:>9} of {r['requests']} requests"
        f"   request errors: {bench_run.codes(r['request_errors'])}"
        f"   refused: {bench_run.codes(r['number_errors'])}\n"
        f"  send phase      {r['send_s']:>9.2f} s  {r['accepted_per_s']:.1f} accepted/s"
        f"  (p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms)\n"
        f"  all final after {bench_run.fmt(r['final_s'], '>9.2f')} s"
        f"  {bench_run.fmt(r['final_per_s'], '.1f')} final/s\n"
        f"  all pushed after{bench_run.fmt(r['callbacks_s'], '>9.2f')} s"
        f"  {bench_run.fmt(r['end_to_end_per_s'], '.1f')} messages/s end to end"
        f"  ({r['callbacks']} reports)"
    )
    print("  CPU             " + "  ".join(f"{p} {r[f'cpu_s.{p}']:.2f} s" for p in procs))
    print(
        "  CPU ms/msg      "
        + "  ".join(f"{p} {r[f'cpu_ms_per_msg.{p}']:.3f}" for p in procs)
        + f"  | platform (api+worker+pg) {r['cpu_ms_per_msg.platform']:.3f}"
    )
    print(
        f"  per message     commits {get('db.xact_commit_per_msg')}"
        f" (writing {get('db.write_xacts_per_msg')})"
        f"  rollbacks {get('db.xact_rollback_per_msg')}"
        f"  rows ins {get('db.tup_inserted_per_msg')} upd {get('db.tup_updated_per_msg')}"
        f" del {get('db.tup_deleted_per_msg')}\n"
        f"                  WAL {get('db.wal_bytes_per_msg')} B ({get('db.wal_records_per_msg')}"
        f" records, {get('db.wal_fpi_per_msg')} full pages)"
        f"  database +{get('db.size_growth_bytes_per_msg')} B"
        f"  (compacted {get('db.compact_bytes_per_msg')} B)"
    )
    tables = sorted({k.split(".")[1] for k in r if k.startswith("table.")})
    print("  table           ins/msg  upd/msg  hot/msg  del/msg  +B/msg  size after  compacted")
    for t in tables:
        p = f"table.{t}."
        print(
            f"    {t:<22} {get(p + 'ins_per_msg'):>6}  {get(p + 'upd_per_msg'):>7}"
            f"  {get(p + 'hot_upd_per_msg'):>7}  {get(p + 'del_per_msg'):>7}"
            f"  {get(p + 'growth_bytes_per_msg'):>6}  {get(p + 'bytes_after'):>10}"
            f"  {get(p + 'compact_bytes'):>9}"
        )
    waits = {k.removeprefix("pg.wait."): v for k, v in r.items() if k.startswith("pg.wait.")}
    print(
        f"  PG backends     {get('pg.active_backends')} active on average; waiting on: "
        + ", ".join(f"{k} {v}" for k, v in list(waits.items())[:8])
    )
    for statement, count in (r.get("pg.lock_waits") or {}).items():
        print(f"    waiting for a lock in {count} samples: {statement}")
    if r.get("log_problems"):
        print(f"  log problems    {r['log_problems']}")
        for label_, lines in r.get("log_problem_lines", {}).items():
            for line in lines[:3]:
                print(f"    {label_}: {line[:200]}")
    sys.stdout.flush()


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children get stopped


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``--runs`` fresh clusters and print the figures and their median."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    print(
        f"smscloud scaling bench: PostgreSQL ({pg_bin('postgres')}), {os.cpu_count()} CPUs,"
        f" {args.runs} run(s) of {args.messages} messages",
        flush=True,
    )
    runs = []
    for i in range(args.runs):
        runs.append(run_once(args))
        report(runs[-1], f"run {i + 1}/{args.runs}")
    median = median_of(runs) if len(runs) > 1 else runs[0]
    if len(runs) > 1:
        report(median, f"median of {len(runs)}")
    if args.json:
        document = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "cpus": os.cpu_count(),
            "postgres": pg_bin("postgres"),
            "runs": runs,
            "median": median,
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        raise SystemExit(130) from None
