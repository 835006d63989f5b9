"""``python -m smscloud.carriers.smsc`` prints its address, serves, and stops on SIGINT."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from .esme import Esme, run_async


@pytest.mark.parametrize(
    "entry", [("smscloud.carriers.smsc",), ("smscloud.cli", "smsc-sim")], ids=["module", "cli"]
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
