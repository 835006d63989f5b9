"""``smscloud serve``: the whole platform in one process, on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace

import uvicorn
from sqlalchemy import Connection, func, select
from starlette.applications import Starlette

from smscloud.api.app import create_app
from smscloud.config import Settings
from smscloud.platform import Platform
from smscloud.seed import load_demo, seed_demo
from smscloud.store import schema as s
from smscloud.store.migrate import upgrade
from smscloud.worker import PARENT_ENV

SIMULATOR_HOST = "127.0.0.1"

log = logging.getLogger(__name__)


def banner(settings: Settings, creds: dict[str, object] | None) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        "",
        "smscloud is running",
        f'  API 3.0 endpoint : {base}/   (Tencent SDK: HttpProfile(endpoint="{settings.host}:'
        f'{settings.port}", protocol="http"))',
        f"  health           : {base}/healthz",
        f"  metrics          : {base}/metrics",
        f"  console          : {base}/console/   (operators: {base}/admin/)",
        f"  database         : {settings.resolved_database_url}",
    ]
    if settings.simulator == "on":
        lines.append(
            f"  carrier          : SMPP simulator at {SIMULATOR_HOST}:{settings.simulator_port}"
            " (no carrier configured; see `smscloud admin carrier`)"
        )
    if creds:
        lines += [
            "  demo credentials (also in data dir, demo-credentials.json):",
            f"    SecretId   {creds['secret_id']}",
            f"    SecretKey  {creds['secret_key']}",
            f"    SdkAppId   {creds['sdk_app_id']}   AppKey {creds['app_key']}",
            f"    SignName   {creds['sign_name']}   TemplateId {creds['template_id']}"
            f"  ({creds['template']})",
        ]
        user = creds.get("tenant")
        if isinstance(user, dict) and "email" in user:
            lines.append(f"    console    {user['email']} / {user['password']}")
        op = creds.get("operator")
        if isinstance(op, dict):
            lines.append(f"    operator   {op['username']} / {op['password']}")
    lines.append("")
    return "\n".join(lines)


class ChildSupervisor:
    """Runs ``smscloud <args>`` as a child process and restarts it if it dies."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.name, self.args = name, list(args)
        self.env = dict(os.environ) | dict(env) | {PARENT_ENV: str(os.getpid())}
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running(), name=self.name)

    async def _keep_running(self) -> None:
        while not self._stopping:
            # A session of its own: a terminal's Ctrl-C reaches ``serve`` alone, which then
            # stops its children in order (the worker unbinds before the simulator goes).
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "smscloud.cli",
                *self.args,
                env=self.env,
                start_new_session=True,
            )
            code = await self.proc.wait()
            if not self._stopping:
                log.error("%s exited with %s; restarting", self.name, code)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        self._stopping = True
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(20):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def _wait_listening(host: str, port: int, within: float = 15.0) -> None:
    """Until something accepts connections at host:port (the simulator child is up)."""
    deadline = time.monotonic() + within
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the SMPP simulator did not start on {host}:{port}") from None
            await asyncio.sleep(0.05)
        else:
            writer.close()
            return


def carriers_configured(conn: Connection) -> bool:
    """Whether the operator has enabled any carrier."""
    query = select(func.count()).select_from(s.carriers).where(s.carriers.c.enabled)
    return bool(conn.execute(query).scalar_one())


def simulator_plan(settings: Settings, configured: bool) -> Settings:
    """Resolve ``simulator=auto``: on when the operator has configured no carrier.

    With the simulator on and ``simulator_port`` 0, a free port is chosen here, so the
    simulator child and the delivery worker agree on it.
    """
    mode = settings.simulator
    if mode not in ("auto", "on", "off"):
        raise SystemExit(f"SMSCLOUD_SIMULATOR must be auto, on or off: {mode}")
    if mode == "auto":
        mode = "off" if configured else "on"
    if mode == "off":
        return replace(settings, simulator="off")
    port = settings.simulator_port or _free_port(SIMULATOR_HOST)
    return replace(settings, simulator="on", simulator_port=port)


def simulator_args(settings: Settings) -> list[str]:
    """``smscloud smsc-sim`` arguments for the built-in simulator of ``settings``."""
    args = ["smsc-sim", "--host", SIMULATOR_HOST, "--port", str(settings.simulator_port)]
    args += ["--receipt-delay", str(settings.simulator_delay_ms / 1000.0)]
    args += ["--state-file", str(settings.data_dir / "smsc-sim.state")]
    if settings.simulator_rate:
        args += ["--throughput", str(settings.simulator_rate)]
    return args


async def serve(settings: Settings) -> int:
    platform = Platform(settings)
    upgrade(platform.db.engine)
    if settings.demo_seed:
        with platform.db.connect() as conn:
            seed_demo(conn, settings.data_dir)
    if settings.delivery not in ("process", "inline", "none"):
        raise SystemExit(f"SMSCLOUD_DELIVERY must be process, inline or none: {settings.delivery}")
    with platform.db.connect() as conn:
        settings = simulator_plan(settings, carriers_configured(conn))
    platform.settings = settings
    inline = settings.delivery == "inline"
    children: list[ChildSupervisor] = []
    if settings.simulator == "on":
        children.append(ChildSupervisor("smsc-sim", simulator_args(settings), {}))
    if settings.delivery == "process":
        plan = {"SMSCLOUD_SIMULATOR": settings.simulator}
        if settings.simulator == "on":
            plan["SMSCLOUD_SIMULATOR_PORT"] = str(settings.simulator_port)
        children.append(ChildSupervisor("delivery worker", ["worker"], plan))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for child in children:
            await child.start()
            if child.name == "smsc-sim":
                await _wait_listening(SIMULATOR_HOST, settings.simulator_port)
        await platform.start(deliver=inline)
        try:
            yield
        finally:
            for child in reversed(children):  # the worker unbinds before the simulator goes
                await child.stop()
            await platform.stop()

    app = create_app(platform, lifespan=lifespan)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
    )
    server = uvicorn.Server(config)

    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
            await asyncio.sleep(0.05)
        # Everything loaded so far (libraries, metadata, caches) lives for the whole run:
        # freezing it keeps full collections from walking it again and again, which
        # otherwise shows as tens of milliseconds of latency every few seconds.
        gc.collect()
        gc.freeze()
        print(banner(settings, load_demo(settings.data_dir)), flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()
    return 0
