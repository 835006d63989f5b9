"""The loop of a background worker that works in rounds (callbacks, notifications)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def run_rounds(
    one_round: Callable[[], Awaitable[int]], idle: float, what: str, busy: float = 0.0
) -> None:
    """Call ``one_round`` forever: ``busy`` seconds after a round that found work (at once by
    default), ``idle`` seconds after one that found none. A failed round is logged and waited
    out like an idle one."""
    while True:
        try:
            done = await one_round()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s round failed", what)
            done = 0
        if done == 0:
            await asyncio.sleep(idle)
        elif busy:
            await asyncio.sleep(busy)


async def stop_task(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
