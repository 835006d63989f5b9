"""The simulator keeps what it owes on disk: a deliver_sm promised survives its own kill -9.

Journal on a real SQLite file; the simulator in process and as ``smscloud smsc-sim``.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import sqlite3
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from smscloud.carriers.smsc import SmscConfig, SmscSimulator
from smscloud.carriers.smsc.journal import Journal
from smscloud.protocols.smpp import CommandStatus, DeliverSm, DeliverSmResp, encode, parse_receipt
from tests.integration.carriers.smpp.support import until as poll
from tests.peers.esme import Esme, is_receipt, run_async, until

S = CommandStatus
NUMBERS = ("8613800138000", "8613800000001")  # delivered, and an empty number


def _mo(text: bytes, source: str = "8613800138000") -> DeliverSm:
    return DeliverSm(source_addr=source, destination_addr="1069", short_message=text)


@run_async
async def test_kept_until_removed_and_identical_ones_counted(tmp_path: Path) -> None:
    path = tmp_path / "sim.journal"
    journal = Journal(path)
    kept: list[bool] = []
    journal.add("a", [_mo(b"x"), _mo(b"x"), _mo(b"y")], kept.append)
    journal.add("b", [_mo(b"x")])
    assert kept == []  # nothing promised before the commit
    await asyncio.sleep(0)  # the end of this loop turn: one commit
    assert kept == [True] and journal.commits == 1
    journal.remove("a", encode(_mo(b"x").with_sequence(41)))  # as sent, with its own number
    journal.remove("a", encode(_mo(b"z")))  # never kept: nothing to do
    journal.close()

    again = Journal(path)
    assert sorted((sid, p.short_message) for sid, p in again.load()) == [
        ("a", b"x"),
        ("a", b"y"),
        ("b", b"x"),
    ]
    again.close()


@run_async
async def test_answered_before_its_commit_is_never_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "sim.journal")
    journal.add("a", [_mo(b"x")])
    journal.remove("a", encode(_mo(b"x")))
    waited: list[bool] = []
    journal.after_kept(waited.append)
    assert waited == [True]  # nothing left to wait for
    await asyncio.sleep(0)
    assert journal.commits == 0 and len(journal) == 0
    journal.close()


@run_async
async def test_a_submit_is_refused_for_now_when_its_receipt_cannot_be_kept(
    tmp_path: Path,
) -> None:
    """§5.1.3 ESME_RSYSERR, a system error the ESME retries, rather than a promise the
    simulator cannot keep."""
    path = tmp_path / "sim.journal"
    journal = Journal(path, busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    async with SmscSimulator(SmscConfig(receipt_delay=0.0), journal=journal) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind()
            other.execute("BEGIN IMMEDIATE")  # another process holds the file's write lock
            refused = await esme.response(esme.submit(NUMBERS[0]))
            assert refused.command_status == S.ESME_RSYSERR
            other.execute("ROLLBACK")
            await esme.message_id(esme.submit(NUMBERS[0]))
            await esme.receipt()
            assert sum(map(is_receipt, esme.history)) == 1  # the refused one has none
        finally:
            await esme.close()
    other.close()
    journal.close()


@run_async
async def test_a_deliver_sm_refused_for_now_is_sent_again() -> None:
    config = SmscConfig(receipt_delay=0.0, retry_delay=0.01)
    async with SmscSimulator(config) as sim:
        esme = await Esme.connect(sim.port)
        esme.auto_ack = False
        try:
            await esme.bind()
            await esme.message_id(esme.submit(NUMBERS[0]))
            first = await esme.receipt()
            esme.send(
                DeliverSmResp(sequence_number=first.sequence_number, command_status=0x64)
            )  # ESME_RX_T_APPN: could not store it now
            again = await esme.receipt()
            assert again.short_message == first.short_message
            esme.send(DeliverSmResp(sequence_number=again.sequence_number))
            await poll(lambda: sim.answered[S.ESME_ROK] == 1)
            assert sim.answered[S.ESME_RX_T_APPN] == 1 and not sim.pending()
        finally:
            await esme.close()


def run_processes(fn: Callable[[Path], Coroutine[Any, Any, None]]) -> Callable[[Path], None]:
    """Like ``run_async``, with time for ``smsc-sim`` processes to start on a busy machine."""

    @functools.wraps(fn)
    def wrapper(tmp_path: Path) -> None:
        async def main() -> None:
            async with asyncio.timeout(60):
                await fn(tmp_path)

        asyncio.run(main())

    return wrapper


async def _start(state: Path, delay: str) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "smscloud.cli.main", "smsc-sim", "--port", "0", "--receipt-delay", delay),
        *("--state-file", str(state)),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    first = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    return proc, int(first.rsplit(":", 1)[1])


async def _receipts_after_restart(state: Path, count: int) -> dict[str, str]:
    proc, port = await _start(state, "30")
    try:
        esme = await Esme.connect(port)
        try:
            await esme.bind()
            await until(lambda: sum(map(is_receipt, esme.history)) >= count, esme, within=5)
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
    return got


@run_processes
async def test_receipts_promised_survive_a_kill_9(tmp_path: Path) -> None:
    """Killed with SIGKILL (no handler runs) after answering the submits, before their
    receipts were due: after the next start they are sent all the same, once each."""
    state = tmp_path / "smsc-sim.state"
    proc, port = await _start(state, "30")
    try:
        esme = await Esme.connect(port)
        try:
            await esme.bind()
            ids = [await esme.message_id(esme.submit(n, b"hi")) for n in NUMBERS]
        finally:
            await esme.close()
        proc.send_signal(signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 5) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    got = await _receipts_after_restart(state, 2)
    assert got == {ids[0]: "DELIVRD", ids[1]: "UNDELIV"}


@run_processes
async def test_an_older_state_file_is_taken_over(tmp_path: Path) -> None:
    """The line format written at a clean stop by earlier versions: its receipts are sent."""
    async with SmscSimulator(SmscConfig(receipt_delay=60.0)) as sim:
        esme = await Esme.connect(sim.port)
        try:
            await esme.bind("tx")
            message_id = await esme.message_id(esme.submit(NUMBERS[1], b"hi"))
        finally:
            await esme.close()
        kept = sim.pending()
    state = tmp_path / "smsc-sim.state"
    state.write_text("".join(f"{sid}\t{encode(pdu).hex()}\n" for sid, pdu in kept))
    assert await _receipts_after_restart(state, 1) == {message_id: "UNDELIV"}
    assert state.read_bytes().startswith(b"SQLite format 3")
    assert (tmp_path / "smsc-sim.state.old").exists()


@run_async
async def test_message_ids_are_never_given_twice_across_restarts(tmp_path: Path) -> None:
    """A restarted simulator that counted from 1 again would give a new message the id of
    an old one, and the new one's receipt would name the old message."""
    path = tmp_path / "sim.journal"
    seen: list[str] = []
    for _ in range(2):
        journal = Journal(path)
        async with SmscSimulator(SmscConfig(receipt_delay=60.0), journal=journal) as sim:
            esme = await Esme.connect(sim.port)
            try:
                await esme.bind("tx")
                seen += [await esme.message_id(esme.submit(n)) for n in NUMBERS]
            finally:
                await esme.close()
        journal.close()
    assert len(set(seen)) == 4, seen
