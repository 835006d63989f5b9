"""Helpers for the SMPP carrier tests: a recording sink, a runner, a carrier factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from smscloud.carriers.base import Receipt, Reply
from smscloud.carriers.smpp import SmppCarrier, SmppConfig

T = TypeVar("T")


class Sink:
    """Records what the carrier reports, and how many calls it took.

    Everything counts as stored at once, unless ``hold``: then each call's future waits in
    ``held`` for the test to complete (stored) or fail (not stored).
    """

    def __init__(self, *, hold: bool = False) -> None:
        self.receipt_list: list[Receipt] = []
        self.reply_list: list[Reply] = []
        self.calls = 0
        self.hold = hold
        self.held: list[asyncio.Future[None]] = []

    def receipts(self, receipts: Sequence[Receipt]) -> asyncio.Future[None]:
        self.calls += 1
        self.receipt_list.extend(receipts)
        return self._stored()

    def replies(self, replies: Sequence[Reply]) -> asyncio.Future[None]:
        self.calls += 1
        self.reply_list.extend(replies)
        return self._stored()

    def _stored(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.hold:
            self.held.append(fut)
        else:
            fut.set_result(None)
        return fut


def run(coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
    """Run ``coro`` in a fresh loop, and check it left no task behind."""

    async def main() -> T:
        async with asyncio.timeout(timeout):
            result = await coro
        await asyncio.sleep(0)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        assert not others, f"tasks left behind: {others}"
        return result

    return asyncio.run(main())


def config(port: int, **kw: Any) -> SmppConfig:
    """Short timers so failure scenarios take well under a second."""
    values: dict[str, Any] = {
        "system_id": "esme",
        "password": "secret",
        "port": port,
        "response_timeout": 1.0,
        "bind_wait": 1.0,
        "reconnect_min": 0.05,
        "reconnect_max": 0.2,
        "throttle_pause": 0.05,
        "unbind_timeout": 0.5,
        "source_addr": "1069",
    }
    values.update(kw)
    return SmppConfig(**values)


async def until(check: Callable[[], bool], within: float = 3.0) -> None:
    """Wait until ``check()`` holds (polling: the peers give no event to wait on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def started(cfg: SmppConfig, sink: Sink, name: str = "c") -> SmppCarrier:
    carrier = SmppCarrier(name, cfg)
    await carrier.start(sink)
    return carrier
