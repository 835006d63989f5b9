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
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

import uvicorn
from sqlalchemy import Connection, func, select
from starlette.applications import Starlette

from smscloud.api.app import create_app
from smscloud.api.fast_path import fast_path_protocol
from smscloud.api.tc3.endpoint import Endpoint
from smscloud.carriers.smsc.config import parse_account, random_account
from smscloud.cli.demo_data import load_demo, seed_demo
from smscloud.cli.parent import PARENT_ENV
from smscloud.config import Settings
from smscloud.platform import Platform
from smscloud.private_files import create_once
from smscloud.store import schema as s
from smscloud.store.migrate import upgrade

SIMULATOR_HOST = "127.0.0.1"
SIMULATOR_ACCOUNT_FILE = "smsc-sim.account"
SIMULATOR_WINDOW = 100  # deliver_sm unanswered per session

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
        if "voice_template_id" in creds:
            lines.append(
                f"    voice      TemplateId {creds['voice_template_id']}"
                f"  ({creds['voice_template']}; SendCodeVoice needs none)"
            )
        user = creds.get("tenant")
        if isinstance(user, dict) and "email" in user:
            lines.append(f"    console    {user['email']} / {user['password']}")
        op = creds.get("operator")
        if isinstance(op, dict):
            lines.append(f"    operator   {op['username']} / {op['password']}")
    lines.append("")
    return "\n".join(lines)


class ChildSupervisor:
    """Runs ``smscloud <args>`` as a child process and restarts it if it dies.

    ``pass_fds``: file descriptors the child inherits (the simulator's listening socket).
    ``ready_fd_option``: the child's option taking a pipe it writes to once it serves;
    ``start`` then returns only after the first start did (or stops ``serve`` if it died).
    """

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        pass_fds: Sequence[int] = (),
        ready_fd_option: str = "",
        module: str = "smscloud.cli.main",
    ) -> None:
        self.name, self.args, self.module = name, list(args), module
        self.env = dict(os.environ) | dict(env) | {PARENT_ENV: str(os.getpid())}
        self.pass_fds = tuple(pass_fds)
        self.ready_fd_option = ready_fd_option
        self.proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._first: asyncio.Future[bool] | None = None

    async def start(self, within: float = 60.0) -> None:
        self._first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._keep_running(), name=self.name)
        if not self.ready_fd_option:
            return
        try:
            async with asyncio.timeout(within):
                ready = await self._first
        except TimeoutError:
            ready = False
        if not ready:
            raise SystemExit(f"{self.name} did not start; see its messages above")

    async def _keep_running(self) -> None:
        while not self._stopping:
            args, fds, ready = list(self.args), self.pass_fds, -1
            if self.ready_fd_option:
                ready, signal_fd = os.pipe()
                args += [self.ready_fd_option, str(signal_fd)]
                fds += (signal_fd,)
            try:
                # A session of its own: a terminal's Ctrl-C reaches ``serve`` alone, which
                # then stops its children in order (the worker unbinds before the simulator).
                self.proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    self.module,
                    *args,
                    env=self.env,
                    start_new_session=True,
                    pass_fds=fds,
                )
            finally:
                if ready >= 0:
                    os.close(signal_fd)  # the child's copy alone: EOF when it goes
            if ready >= 0:
                loop = asyncio.get_running_loop()
                said = await loop.run_in_executor(None, _read_and_close, ready)
                if self._first is not None and not self._first.done():
                    self._first.set_result(bool(said))
            code = await self.proc.wait()
            if self._first is not None and not self._first.done():
                self._first.set_result(False)
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


def _read_and_close(fd: int) -> bytes:
    """The first bytes written to pipe ``fd`` (empty at EOF); the pipe is closed after."""
    try:
        return os.read(fd, 64)
    finally:
        os.close(fd)


def account_of(data_dir: Path) -> str:
    """``system_id:password`` of the data directory's simulator: made at random on first
    start (readable by the service's user only) and kept, because the receipts the simulator
    keeps on disk across restarts belong to the account they were promised to."""
    path = data_dir / SIMULATOR_ACCOUNT_FILE
    create_once(path, (":".join(random_account()) + "\n").encode())  # first start only
    account = path.read_text().strip()
    try:
        parse_account(account)
    except ValueError as exc:
        raise SystemExit(f"{path}: {exc}; remove it to make a new account") from None
    return account


def open_simulator(settings: Settings) -> tuple[Settings, socket.socket]:
    """Open the built-in simulator's listening socket here, and choose its account.

    ``serve`` binds the port itself and hands the socket to the simulator child, so the
    worker reaches the simulator ``serve`` started and nothing else: no other process can
    listen there meanwhile, even while the child restarts. ``simulator_port`` 0 takes a
    free port; a port given and taken stops ``serve`` with a message (rather than a
    simulator restarting for ever beside a stranger that answers in its place). Unless
    ``simulator_account`` is set, the account is the data directory's own (``account_of``),
    so no other local process can bind to this simulator and take its receipts.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT only
    try:
        sock.bind((SIMULATOR_HOST, settings.simulator_port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"SMSCLOUD_SIMULATOR_PORT={settings.simulator_port}: cannot listen on"
            f" {SIMULATOR_HOST}:{settings.simulator_port} ({exc.strerror}); another process"
            " holds it. Choose a free port, or 0 to let serve pick one."
        ) from None
    account = settings.simulator_account or account_of(settings.data_dir)
    port = int(sock.getsockname()[1])
    return replace(settings, simulator_port=port, simulator_account=account), sock


def carriers_configured(conn: Connection) -> bool:
    """Whether the operator has enabled any carrier."""
    query = select(func.count()).select_from(s.carriers).where(s.carriers.c.enabled)
    return bool(conn.execute(query).scalar_one())


def simulator_plan(settings: Settings, configured: bool) -> Settings:
    """Resolve ``simulator=auto``: on when the operator has configured no carrier."""
    mode = settings.simulator
    if mode not in ("auto", "on", "off"):
        raise SystemExit(f"SMSCLOUD_SIMULATOR must be auto, on or off: {mode}")
    if mode == "auto":
        mode = "off" if configured else "on"
    return replace(settings, simulator=mode)


def simulator_args(settings: Settings, listen_fd: int) -> list[str]:
    """``smscloud smsc-sim`` arguments for the built-in simulator of ``settings``, serving
    on the inherited socket ``listen_fd`` (its account comes through the environment, out
    of other users' sight); ``serve`` runs them as ``python -m smscloud.cli.simulator``."""
    args = ["--listen-fd", str(listen_fd)]
    args += ["--receipt-delay", str(settings.simulator_delay_ms / 1000.0)]
    # The worker answers a receipt once its commit is done, so what one session may have
    # unanswered bounds receipts per commit: a window like a big carrier's, not a test's 10.
    args += ["--window", str(SIMULATOR_WINDOW)]
    args += ["--state-file", str(settings.data_dir / "smsc-sim.state")]
    if settings.simulator_rate:
        args += ["--throughput", str(settings.simulator_rate)]
    return args


class _Server(uvicorn.Server):
    """uvicorn's server, remembering whether Ctrl-C (SIGINT) asked it to stop."""

    interrupted = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGINT:
            self.interrupted = True
        super().handle_exit(sig, frame)


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
    listener: socket.socket | None = None
    children: list[ChildSupervisor] = []
    plan = {"SMSCLOUD_SIMULATOR": settings.simulator}
    if settings.simulator == "on":
        settings, listener = open_simulator(settings)
        plan["SMSCLOUD_SIMULATOR_PORT"] = str(settings.simulator_port)
        plan["SMSCLOUD_SIMULATOR_ACCOUNT"] = settings.simulator_account
        fd = listener.fileno()
        args = simulator_args(settings, fd)
        sim = ChildSupervisor(
            "smsc-sim",
            args,
            plan,
            pass_fds=[fd],
            ready_fd_option="--ready-fd",
            module="smscloud.cli.simulator",  # the simulator alone: not the platform's imports
        )
        children.append(sim)
    platform.settings = settings
    inline = settings.delivery == "inline"
    if settings.delivery == "process":
        children.append(ChildSupervisor("delivery worker", ["worker"], plan))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # The simulator first: serve reports healthy once its carrier answers.
        for child in children:
            await child.start()
        await platform.start(deliver=inline)
        try:
            yield
        finally:
            for child in reversed(children):  # the worker unbinds before the simulator goes
                await child.stop()
            await platform.stop()
            if listener is not None:
                listener.close()

    app = create_app(platform, lifespan=lifespan)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        # httptools, each response in one send(), a plain POST / answered without ASGI
        http=fast_path_protocol(Endpoint(platform)),
        lifespan="on",
        access_log=False,
        log_level=settings.log_level,
    )
    server = _Server(config)

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
    if server.interrupted:
        # uvicorn re-raises the captured SIGINT after its graceful shutdown, and the loop's
        # handler usually turns that into KeyboardInterrupt; say so ourselves, so a Ctrl-C
        # always ends with status 130 whatever moment the re-raised signal is handled in.
        raise KeyboardInterrupt
    return 0
