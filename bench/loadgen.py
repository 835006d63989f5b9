"""Closed-loop load generator for ``SendSms``: raw asyncio HTTP/1.1, one request per connection.

``N`` keep-alive connections each keep exactly one signed request in flight, so ``N`` is the
concurrency. Responses are parsed by ``Content-Length`` only (what uvicorn sends). Every
request is built and TC3-signed before the send phase starts (as the anchors harness does for
wrk): the load generator shares the platform's cores, and signing in the send phase took about
a tenth of a core at 2,000 requests/s. Run as a script it reads a JSON job on stdin and prints
one JSON result on stdout, so the benchmark measures its peak RSS apart from the orchestrator::

    echo '{"target": {...}, "load": {...}}' | python bench/loadgen.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson

from smscloud.protocols.auth import tc3

VERSION = "2021-01-11"
REGION = "ap-guangzhou"
CONTENT_TYPE = "application/json"
TEMPLATE_PARAMS = ["123456", "5"]
PHONE_PREFIX = "+86139"
MAGIC_LOW, MAGIC_HIGH = 1, 9  # sandbox failure numbers end in 0000001..0000009


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send and as whom."""

    host: str
    port: int
    secret_id: str
    secret_key: str
    sdk_app_id: str
    sign_name: str
    template_id: str

    @property
    def authority(self) -> str:
        """The Host header value, exactly as signed."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """How much load: numbers per request, connections, and the two bounds."""

    numbers_per_request: int = 1
    concurrency: int = 50
    requests: int = 10_000
    duration: float = 15.0
    first_number: int = 10_000_000  # 8-digit counter after +86139
    # Open loop: requests/s on a fixed schedule (0: closed loop, as fast as answers come).
    # Latency then runs from each request's scheduled time, so a server that falls behind
    # is charged for the wait of the requests it held up (no coordinated omission).
    rate: float = 0.0
    # Several API processes: connection i goes to ports[i % len(ports)] on the target's host,
    # each request signed for its own Host (empty: every connection to the target's port).
    ports: tuple[int, ...] = ()


@dataclass(slots=True)
class LoadResult:
    """What one load phase produced; times are ``time.time()`` wall clock."""

    requests: int = 0
    accepted: int = 0
    request_errors: Counter[str] = field(default_factory=Counter)
    number_errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    started_at: float = 0.0
    finished_at: float = 0.0


class HttpError(Exception):
    """A response the client could not use (bad framing, non-JSON, closed connection)."""


def phone_numbers(start: int) -> Iterator[str]:
    """Distinct valid mainland mobiles, skipping the sandbox's magic failure suffixes."""
    n = start
    while True:
        if not MAGIC_LOW <= n % 10_000_000 <= MAGIC_HIGH:
            yield f"{PHONE_PREFIX}{n % 100_000_000:08d}"
        n += 1


def build_request(
    target: Target,
    action: str,
    body: bytes,
    timestamp: int,
    *,
    version: str = VERSION,
    service: str = "sms",
) -> bytes:
    """A complete signed ``POST /`` request, head and body (``vms``, ``2020-09-02`` for the
    voice actions: the version names the service, and the signature's scope must match)."""
    auth = tc3.sign(
        target.secret_key,
        secret_id=target.secret_id,
        method="POST",
        host=target.authority,
        content_type=CONTENT_TYPE,
        query="",
        body=body,
        timestamp=timestamp,
        service=service,
    )
    head = (
        f"POST / HTTP/1.1\r\nHost: {target.authority}\r\nContent-Type: {CONTENT_TYPE}\r\n"
        f"Authorization: {auth}\r\nX-TC-Action: {action}\r\nX-TC-Version: {version}\r\n"
        f"X-TC-Timestamp: {timestamp}\r\nX-TC-Region: {REGION}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def send_sms_body(target: Target, phones: list[str]) -> bytes:
    """The JSON body of one SendSms call."""
    return orjson.dumps(
        {
            "PhoneNumberSet": phones,
            "SmsSdkAppId": target.sdk_app_id,
            "TemplateId": target.template_id,
            "SignName": target.sign_name,
            "TemplateParamSet": TEMPLATE_PARAMS,
        }
    )


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response; return status, body and whether the server will close."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise HttpError("connection closed") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise HttpError(f"bad status line {lines[0][:60]!r}")
    length, close = -1, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection":
            close = value.strip().lower() == "close"
    if length < 0:
        raise HttpError("response without Content-Length")
    return int(parts[1]), await reader.readexactly(length), close


def tally(result: LoadResult, status: int, body: bytes) -> None:
    """Count one SendSms response: accepted numbers and errors by code."""
    try:
        response = orjson.loads(body)["Response"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        result.request_errors[f"HTTP.{status}"] += 1
        return
    error = response.get("Error")
    if error is not None:
        result.request_errors[str(error.get("Code"))] += 1
        return
    for item in response.get("SendStatusSet", ()):
        code = item.get("Code")
        if code == "Ok":
            result.accepted += 1
        else:
            result.number_errors[str(code)] += 1


class Connection:
    """One keep-alive connection that reconnects after an error or ``Connection: close``."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and return status and body."""
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        try:
            self._writer.write(request)
            status, body, close = await read_response(self._reader)
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        """Drop the socket; the next exchange opens a new one."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class Load:
    """Shared state of the workers: the request budget, the deadline, the numbers."""

    def __init__(self, target: Target, config: LoadConfig) -> None:
        self.target, self.config = target, config
        self.result = LoadResult()
        self._issued = 0
        self._deadline = 0.0
        self._start = 0.0
        self._signed: dict[int, list[bytes]] = {}  # by port: request i, signed for its Host

    def prepare(self) -> None:
        """Build and sign every request of the budget, for each port (a request's Host, and
        so its signature, names the port). The timestamp is now: Tencent's five-minute
        window leaves room for any run this tool makes."""
        numbers = phone_numbers(self.config.first_number)
        per = self.config.numbers_per_request
        bodies = [
            send_sms_body(self.target, [next(numbers) for _ in range(per)])
            for _ in range(self.config.requests)
        ]
        now = int(time.time())
        for port in self.config.ports or (self.target.port,):
            target = replace(self.target, port=port)
            self._signed[port] = [build_request(target, "SendSms", b, now) for b in bodies]

    def next_request(self) -> tuple[int, float] | None:
        """The index of the next request and when it is due (``perf_counter`` time; 0, now,
        in a closed loop), or None once the count or the time is used up."""
        if self._issued >= self.config.requests or time.monotonic() >= self._deadline:
            return None
        due = self._start + self._issued / self.config.rate if self.config.rate else 0.0
        self._issued += 1
        return self._issued - 1, due

    async def worker(self, target: Target | None = None) -> None:
        """Keep one request in flight until the budget runs out (to ``target``'s port, by
        default the load's own)."""
        target = target or self.target
        signed = self._signed[target.port]
        conn = Connection(target.host, target.port)
        result = self.result
        try:
            while (job := self.next_request()) is not None:
                index, due = job
                if due and (wait := due - time.perf_counter()) > 0:
                    await asyncio.sleep(wait)
                request = signed[index]
                sent = due or time.perf_counter()
                try:
                    status, reply = await conn.exchange(request)
                except (OSError, ValueError, HttpError, asyncio.IncompleteReadError) as exc:
                    result.requests += 1
                    result.request_errors[f"Transport.{type(exc).__name__}"] += 1
                    continue
                result.latencies.append(time.perf_counter() - sent)
                result.requests += 1
                tally(result, status, reply)
        finally:
            conn.close()

    async def run(self) -> LoadResult:
        """Run all connections to completion (signing first, if ``prepare`` was not called)."""
        if not self._signed:
            self.prepare()
        self.result.started_at = time.time()
        self._deadline = time.monotonic() + self.config.duration
        self._start = time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for i in range(self.config.concurrency):
                ports = self.config.ports
                port = ports[i % len(ports)] if ports else self.target.port
                group.create_task(self.worker(replace(self.target, port=port)))
        self.result.finished_at = time.time()
        return self.result


async def call(target: Target, action: str, params: dict[str, Any]) -> dict[str, Any]:
    """One signed API call on a fresh connection; returns ``Response`` (may hold ``Error``)."""
    conn = Connection(target.host, target.port)
    try:
        request = build_request(target, action, orjson.dumps(params), int(time.time()))
        _, body = await conn.exchange(request)
    finally:
        conn.close()
    response: dict[str, Any] = orjson.loads(body)["Response"]
    return response


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def peak_rss_kib(pid: int | str = "self") -> int:
    """``VmHWM`` (peak resident set) of a process in KiB, 0 if unknown."""
    return status_kib(pid, "VmHWM")


def status_kib(pid: int | str, field: str) -> int:
    """A KiB figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``), 0 if unknown."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def summarize(result: LoadResult, prepare_cpu_s: float = 0.0) -> dict[str, Any]:
    """The JSON-ready figures of one load phase (latencies in ms). ``loadgen_cpu_s`` is the
    send phase's: starting and signing the requests before it (``prepare_cpu_s``) is apart."""
    ordered = sorted(result.latencies)
    return {
        "requests": result.requests,
        "accepted": result.accepted,
        "request_errors": dict(result.request_errors),
        "number_errors": dict(result.number_errors),
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "p50_ms": percentile(ordered, 50) * 1000,
        "p90_ms": percentile(ordered, 90) * 1000,
        "p99_ms": percentile(ordered, 99) * 1000,
        "max_ms": (ordered[-1] if ordered else 0.0) * 1000,
        "loadgen_cpu_s": cpu_seconds() - prepare_cpu_s,
        "loadgen_prepare_cpu_s": prepare_cpu_s,
        "loadgen_rss_kib": peak_rss_kib(),
    }


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed (it is in the project venv), else the default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def main() -> int:
    """Read ``{"target": ..., "load": ...}`` on stdin, print the summary on stdout."""
    job = json.load(sys.stdin)
    target = Target(**job["target"])
    load = job.get("load", {})
    config = LoadConfig(**load | {"ports": tuple(load.get("ports", ()))})
    generator = Load(target, config)
    generator.prepare()
    prepare_cpu_s = cpu_seconds()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        result = runner.run(generator.run())
    print(json.dumps(summarize(result, prepare_cpu_s) | {"config": asdict(config)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
