"""``smscloud serve``: the whole platform in one process, on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from smscloud.api.app import create_app
from smscloud.config import Settings
from smscloud.platform import Platform
from smscloud.seed import load_demo, seed_demo
from smscloud.store.migrate import upgrade
from smscloud.worker import PARENT_ENV

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
        f"  database         : {settings.resolved_database_url}",
    ]
    if creds:
        lines += [
            "  demo credentials (also in data dir, demo-credentials.json):",
            f"    SecretId   {creds['secret_id']}",
            f"    SecretKey  {creds['secret_key']}",
            f"    SdkAppId   {creds['sdk_app_id']}   AppKey {creds['app_key']}",
            f"    SignName   {creds['sign_name']}   TemplateId {creds['template_id']}"
            f"  ({creds['template']})",
        ]
        op = creds.get("operator")
        if isinstance(op, dict):
            lines.append(f"    operator   {op['username']} / {op['password']}")
    lines.append("")
    return "\n".join(lines)


class WorkerSupervisor:
    """Runs ``smscloud worker`` as a child process and restarts it if it dies."""

    def __init__(self) -> None:
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_running())

    async def _spawn(self) -> asyncio.subprocess.Process:
        env = os.environ | {PARENT_ENV: str(os.getpid())}
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smscloud.cli", "worker", env=env
        )

    async def _keep_running(self) -> None:
        while not self._stopping:
            self.proc = await self._spawn()
            code = await self.proc.wait()
            if not self._stopping:
                log.error("delivery worker exited with %s; restarting", code)
                await asyncio.sleep(1.0)

    async def stop(self) -> None:
        self._stopping = True
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def serve(settings: Settings) -> int:
    platform = Platform(settings)
    upgrade(platform.db.engine)
    if settings.demo_seed:
        with platform.db.connect() as conn:
            seed_demo(conn, settings.data_dir)
    if settings.delivery not in ("process", "inline", "none"):
        raise SystemExit(f"SMSCLOUD_DELIVERY must be process, inline or none: {settings.delivery}")
    inline = settings.delivery == "inline"
    worker = WorkerSupervisor() if settings.delivery == "process" else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await platform.start(deliver=inline)
        if worker is not None:
            await worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
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
