"""Run the simulator in the foreground until SIGINT or SIGTERM (``smscloud smsc-sim``)."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from smscloud.private_files import write_private
from smscloud.protocols.smpp import DeliverSm
from smscloud.protocols.smpp.codec import PduError, decode, encode

from .config import DEFAULT_ACCOUNTS, SmscConfig
from .simulator import SmscSimulator

__all__ = ["load_state", "run_simulator", "save_state", "serve"]


def save_state(path: Path, pending: list[tuple[str, DeliverSm]]) -> None:
    """Write undelivered deliver_sm, one ``system_id TAB hex`` line each, atomically."""
    lines = "".join(f"{sid}\t{encode(pdu).hex()}\n" for sid, pdu in pending)
    write_private(path, lines.encode())


def load_state(path: Path) -> list[tuple[str, DeliverSm]]:
    """What ``save_state`` wrote; nothing if there is no file. A bad line is skipped."""
    if not path.exists():
        return []
    out: list[tuple[str, DeliverSm]] = []
    for line in path.read_text().splitlines():
        sid, _, data = line.partition("\t")
        try:
            pdu = decode(bytes.fromhex(data))
        except (PduError, ValueError):
            continue
        if isinstance(pdu, DeliverSm):
            out.append((sid, pdu))
    return out


async def serve(
    config: SmscConfig, out: TextIO = sys.stdout, state_file: Path | None = None
) -> None:
    """Serve until SIGINT/SIGTERM; print the address and the accounts first.

    With ``state_file``, receipts and replies not yet acknowledged when it stops are kept
    there and sent after the next start, as a real SMSC keeps them while its client is away
    (``serve`` relies on it: its simulator stops when ``serve`` dies, even by SIGKILL).
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with SmscSimulator(config) as sim:
            if state_file is not None:
                sim.restore(load_state(state_file))
            print(f"SMPP SMSC simulator listening on {config.host}:{sim.port}", file=out)
            for system_id, password in config.accounts.items():
                print(f"  account system_id={system_id} password={password}", file=out)
            out.flush()
            await stop.wait()
            if state_file is not None:
                save_state(state_file, sim.pending())
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
    state_file: Path | None = None,
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
    asyncio.run(serve(config, out, state_file))
