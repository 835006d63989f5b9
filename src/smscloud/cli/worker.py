"""``smscloud worker``: delivery only (dispatcher, carriers, receipts), no HTTP.

``serve`` starts one as a child process so delivery has a core of its own; on PostgreSQL any
number may run on any machine. A worker started by ``serve`` asks the kernel to signal it when
its parent dies, so a killed ``serve`` never leaves a worker behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal

from smscloud.cli.parent import PARENT_ENV, follow_parent
from smscloud.config import Settings
from smscloud.platform import Platform

log = logging.getLogger(__name__)


async def work(settings: Settings) -> int:
    follow_parent()
    # Its event loop is busy with SMPP and pushes: a writer thread beside it held SQLite's
    # write lock twice as long as it needed (store/database.py).
    platform = Platform(settings, commit_on_loop=True)
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
