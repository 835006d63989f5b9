"""The SMSC simulator on its own event loop in a thread, for tests of the whole platform."""

from __future__ import annotations

import asyncio
import threading

from smscloud.carriers.smsc.config import SmscConfig
from smscloud.carriers.smsc.simulator import SmscSimulator


class SimulatorThread:
    """The SMSC simulator on its own event loop in a thread, as a real SMSC would be."""

    def __init__(self, sim: SmscSimulator | None = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.sim = sim or SmscSimulator(SmscConfig(receipt_delay=0.02))
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.sim.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
