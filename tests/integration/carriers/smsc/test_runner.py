"""``python -m smscloud.carriers.smsc`` prints its address, serves, and stops on SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from smscloud.carriers.smsc.journal import Journal
from smscloud.protocols.smpp import DeliverSm, parse_receipt
from tests.peers.esme import Esme, is_receipt, run_async, until

NUMBERS = ("8613800138000", "8613800000001")  # delivered, and an empty number


@pytest.mark.parametrize(
    "entry", [("smscloud.carriers.smsc",), ("smscloud.cli.main", "smsc-sim")], ids=["module", "cli"]
)
@run_async
async def test_runs_until_sigint(entry: tuple[str, ...]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", *entry, "--port", "0", "--account", "demo:secret"),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        first = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
        assert first.startswith("SMPP SMSC simulator listening on 127.0.0.1:")
        accounts = (await proc.stdout.readline()).decode()
        assert "system_id=demo password=secret" in accounts
        esme = await Esme.connect(int(first.rsplit(":", 1)[1]))
        try:
            assert (await esme.bind("trx", "demo", "secret")).command_status == 0
        finally:
            await esme.close()
        proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(proc.wait(), 5) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _start(state: Path, delay: str) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "smscloud.cli.main", "smsc-sim", "--port", "0", "--receipt-delay", delay),
        *("--state-file", str(state)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 5)).decode()
    return proc, int(first.rsplit(":", 1)[1])


@run_async
async def test_receipts_not_yet_sent_survive_a_restart(tmp_path: Path) -> None:
    """Stopped (SIGTERM, as when ``serve`` dies) before a receipt was due, the simulator sends
    it after the next start, as a real SMSC keeps receipts while its client is away."""
    state = tmp_path / "smsc-sim.state"
    proc, port = await _start(state, "30")
    try:
        esme = await Esme.connect(port)
        try:
            await esme.bind()
            ids = [await esme.message_id(esme.submit(n, b"hi")) for n in NUMBERS]
        finally:
            await esme.close()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 5) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert len(Journal(state).load()) == 2

    proc, port = await _start(state, "30")
    try:
        esme = await Esme.connect(port)
        try:
            await esme.bind()
            await until(lambda: sum(map(is_receipt, esme.history)) == 2, esme)
            receipts = [p for p in esme.history if isinstance(p, DeliverSm) and is_receipt(p)]
        finally:
            await esme.close()
    finally:
        proc.kill()
        await proc.wait()
    got = {}
    for r in receipts:
        parsed = parse_receipt(r.short_message)
        assert parsed is not None
        got[parsed.id] = parsed.stat
    assert got == {ids[0]: "DELIVRD", ids[1]: "UNDELIV"}  # each once, with its own outcome
