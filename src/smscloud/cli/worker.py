"""``smscloud worker``: delivery only (dispatcher, carriers, receipts), no HTTP.

``serve`` starts one as a child process so delivery has a core of its own; on PostgreSQL any
number may run on any machine. A worker started by ``serve`` asks the kernel to signal it when
its parent dies, so a killed ``serve`` never leaves a worker behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import signal

from smscloud.config import Settings
from smscloud.platform import Platform

log = logging.getLogger(__name__)
PARENT_ENV = "SMSCLOUD_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def follow_parent() -> None:
    """When ``serve`` started us: exit with it (Linux ``PR_SET_PDEATHSIG``), and yield the CPU.

    Beside the API on the same cores, request handling should win: a receipt recorded a
    millisecond later matters less than a request answered a millisecond later.
    """
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    os.nice(5)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        log.warning("cannot ask to follow the parent process; relying on polling")
    if os.getppid() != int(parent):  # the parent died before we asked
        raise SystemExit(0)


async def work(settings: Settings) -> int:
    follow_parent()
    platform = Platform(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await platform.start(deliver=True)
    gc.collect()
    gc.freeze()  # long-lived startup objects: keep full collections from rescanning them
    log.info("delivery worker %d running", os.getpid())
    parent = os.environ.get(PARENT_ENV)
    try:
        while not stop.is_set():
            # Also notice a vanished parent where the kernel cannot tell us.
            if parent and os.getppid() != int(parent):
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
    finally:
        await platform.stop()
    return 0
