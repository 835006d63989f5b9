"""Run the simulator in the foreground until SIGINT or SIGTERM (``smscloud smsc-sim``)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Mapping
from typing import TextIO

from .config import DEFAULT_ACCOUNTS, SmscConfig
from .simulator import SmscSimulator

__all__ = ["run_simulator", "serve"]


async def serve(config: SmscConfig, out: TextIO = sys.stdout) -> None:
    """Serve until SIGINT/SIGTERM; print the address and the accounts first."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SmscSimulator(config) as sim:
            print(f"SMPP SMSC simulator listening on {config.host}:{sim.port}", file=out)
            for system_id, password in config.accounts.items():
                print(f"  account system_id={system_id} password={password}", file=out)
            out.flush()
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run_simulator(
    host: str = "127.0.0.1",
    port: int = 2775,
    *,
    accounts: Mapping[str, str] | None = None,
    receipt_delay: float = 1.0,
    submit_latency: float = 0.0,
    throughput: int | None = None,
    out: TextIO = sys.stdout,
) -> None:
    """Blocking entry point: 2775 is the registered SMPP port; delays in seconds."""
    config = SmscConfig(
        accounts=dict(accounts if accounts is not None else DEFAULT_ACCOUNTS),
        host=host,
        port=port,
        receipt_delay=receipt_delay,
        submit_latency=submit_latency,
        throughput=throughput,
    )
    asyncio.run(serve(config, out))
