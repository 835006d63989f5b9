"""Run the simulator in the foreground until SIGINT or SIGTERM (``smscloud smsc-sim``)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import uvloop

from smscloud.protocols.smpp import DeliverSm
from smscloud.protocols.smpp.codec import PduError, decode

from .config import DEFAULT_ACCOUNTS, SmscConfig
from .journal import Journal, JournalError
from .simulator import SmscSimulator

__all__ = ["JournalError", "load_state", "open_journal", "run_simulator", "serve"]


log = logging.getLogger(__name__)
_SQLITE_MAGIC = b"SQLite format 3\x00"


def load_state(path: Path) -> list[tuple[str, DeliverSm]]:
    """The older state file, one ``system_id TAB hex`` line per deliver_sm (a bad line is
    skipped); nothing if there is no file."""
    if not path.exists():
        return []
    out: list[tuple[str, DeliverSm]] = []
    for line in path.read_text(errors="replace").splitlines():
        sid, _, data = line.partition("\t")
        try:
            pdu = decode(bytes.fromhex(data))
        except (PduError, ValueError):
            continue
        if isinstance(pdu, DeliverSm):
            out.append((sid, pdu))
    return out


def open_journal(path: Path) -> Journal:
    """The journal at ``path``. A state file of the older kind (text lines, written only on
    a clean stop) is taken over: its deliver_sm go into the new journal."""
    older: list[tuple[str, DeliverSm]] = []
    if path.exists() and path.stat().st_size:
        with path.open("rb") as f:
            if f.read(len(_SQLITE_MAGIC)) != _SQLITE_MAGIC:
                older = load_state(path)
                path.replace(path.with_name(path.name + ".old"))
    journal = Journal(path)
    if older:
        journal.take_over(older)
    return journal


async def serve(
    config: SmscConfig,
    out: TextIO = sys.stdout,
    state_file: Path | None = None,
    sock: socket.socket | None = None,
    ready_fd: int | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM; print the address and the accounts first.

    With ``state_file``, every receipt and reply owed is kept there from before it is
    promised until it is acknowledged, and sent after the next start: as a real SMSC keeps
    them on disk, so that neither a client away nor the simulator's own crash loses one.
    ``sock``: a listening socket to serve on instead of ``config.host``/``config.port``;
    ``ready_fd``: a pipe to write a line to (and close) once serving.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    journal = open_journal(state_file) if state_file is not None else None
    try:
        sim = SmscSimulator(config, journal=journal)
        if journal is not None:
            sim.restore(journal.load())
        await sim.start(sock)
        try:
            print(f"SMPP SMSC simulator listening on {config.host}:{sim.port}", file=out)
            for system_id, password in config.accounts.items():
                print(f"  account system_id={system_id} password={password}", file=out)
            out.flush()
            if ready_fd is not None:
                os.write(ready_fd, b"ready\n")
                os.close(ready_fd)
            await stop.wait()
        finally:
            await sim.stop()
    finally:
        if journal is not None:
            journal.close()
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
    window: int | None = None,
    out: TextIO = sys.stdout,
    state_file: Path | None = None,
    listen_fd: int | None = None,
    ready_fd: int | None = None,
) -> None:
    """Blocking entry point: 2775 is the registered SMPP port; delays in seconds.

    ``listen_fd``: an inherited listening socket to serve on (``host`` and ``port`` then
    only name it).
    """
    sock = None
    if listen_fd is not None:
        sock = socket.socket(fileno=listen_fd)
        host, port = sock.getsockname()[:2]
    config = SmscConfig(
        accounts=dict(accounts if accounts is not None else DEFAULT_ACCOUNTS),
        host=host,
        port=port,
        receipt_delay=receipt_delay,
        submit_latency=submit_latency,
        throughput=throughput,
        keep_submitted=0,  # nothing reads them here: a record per message would only grow
    )
    if window is not None:
        config = dataclasses.replace(config, window=window)
    # uvloop, like the platform: on the loop's own overhead the simulator spent a tenth of its
    # CPU (profiled under bench/run.py), CPU its platform would have had on shared cores.
    uvloop.run(serve(config, out, state_file, sock, ready_fd))
