"""The simulator's undelivered deliver_sm on disk, so that its own kill -9 loses none.

An SMSC that answered submit_sm_resp owes the receipt that follows, and keeps it on disk
until the ESME's deliver_sm_resp takes it (SMPP 3.4 §4.6.2), because a client may be away for
hours. So does the simulator when it is given a journal: every deliver_sm it is to send (a
receipt, a handset's reply) is written here before the submit_sm_resp that promises it goes
out, and deleted once a deliver_sm_resp (or generic_nack) ends it. ``load`` gives back what is
left, to send after the next start.

Theory of operation. Writes sit on the hot path of every message, so they are batched: rows
added during one event-loop turn are committed together at its end, and what was waiting for
them (the submit_sm_resp) runs after that commit. Deletes wait for the next such commit (or
``REMOVE_DELAY``), since nothing waits for them: one lost in a crash only sends a deliver_sm
twice, which an ESME must bear anyway. The file is SQLite in WAL mode
with ``synchronous=NORMAL``: a commit has reached the operating system when it returns, so a
killed process loses none (a power cut may lose the last few, acceptable for a simulator).

It also reserves the simulator's message ids, a block at a time, so that a restart never
gives an id twice (a receipt would then name two messages).

Rows are matched by content: a deliver_sm answered is deleted by its bytes as sent, sequence
number left out, one row per answer (the bytes come from the wire, so an answer costs no
encoding). Two identical deliver_sm for one system_id are interchangeable, so whichever row
goes, what is left is right.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path

from smscloud.private_files import create_private
from smscloud.protocols.smpp import DeliverSm
from smscloud.protocols.smpp.codec import PduError, decode, encode

__all__ = ["Journal", "JournalError", "content"]

log = logging.getLogger(__name__)

Kept = Callable[[bool], None]  # told whether what it waited for is on disk
REMOVE_DELAY = 0.2  # seconds a delete may wait for a commit of adds to ride with
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pending ("
    "id INTEGER PRIMARY KEY, system_id TEXT NOT NULL, pdu BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ids (id INTEGER PRIMARY KEY CHECK (id = 1), next INTEGER)",
)


class JournalError(Exception):
    """The file cannot be used as a journal (not SQLite, unreadable, read-only)."""


def content(data: bytes) -> bytes:
    """An encoded PDU without its sequence number (§3.2: octets 12-15 of the header)."""
    return data[:12] + bytes(4) + data[16:]


class Journal:
    """``add`` before promising, ``remove`` once answered; ``load`` after a restart."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        try:
            create_private(path)  # 0600 before SQLite opens it: its -wal and -shm follow
            self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)
            last = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM pending").fetchone()[0]
        except sqlite3.Error as exc:
            raise JournalError(f"{path}: {exc}") from None
        self._next_id = int(last) + 1
        self._rows: dict[tuple[str, bytes], list[int]] = {}  # kept rows by content
        self._adds: dict[int, tuple[str, bytes]] = {}  # not yet committed
        self._removes: list[int] = []
        self._waiting: list[Kept] = []
        self._scheduled = False
        self._later: asyncio.TimerHandle | None = None
        self.commits = 0

    def __len__(self) -> int:
        """Rows kept, committed or not."""
        return sum(len(ids) for ids in self._rows.values())

    def load(self) -> list[tuple[str, DeliverSm]]:
        """Every kept deliver_sm with its system_id, oldest first (an unreadable row is
        dropped with a warning)."""
        out: list[tuple[str, DeliverSm]] = []
        bad: list[int] = []
        for row_id, system_id, data in self._db.execute(
            "SELECT id, system_id, pdu FROM pending ORDER BY id"
        ):
            try:
                pdu = decode(data)
            except PduError:
                pdu = None
            if not isinstance(pdu, DeliverSm):
                bad.append(row_id)
                continue
            self._rows.setdefault((system_id, content(bytes(data))), []).append(row_id)
            out.append((system_id, pdu))
        if bad:
            log.warning("%s: %d unreadable rows dropped", self.path, len(bad))
            self._db.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in bad])
        return out

    def reserve_ids(self, start: int, count: int) -> tuple[int, int]:
        """Reserve ``count`` message ids from ``start`` or past any reserved before (by an
        earlier run too); returns (first, end). Committed at once: an id may be handed out
        as soon as this returns."""
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute("SELECT next FROM ids WHERE id = 1").fetchone()
                first = max(start, int(row[0]) if row else 0)
                self._db.execute(
                    "INSERT INTO ids (id, next) VALUES (1, ?)"
                    " ON CONFLICT (id) DO UPDATE SET next = excluded.next",
                    (first + count,),
                )
        except sqlite3.Error as exc:
            raise JournalError(f"{self.path}: cannot reserve message ids: {exc}") from None
        return first, first + count

    def take_over(self, kept: Iterable[tuple[str, DeliverSm]]) -> None:
        """Keep deliver_sm saved elsewhere (an older state file), committed at once."""
        for system_id, pdu in kept:
            key = (system_id, content(encode(pdu)))
            row_id, self._next_id = self._next_id, self._next_id + 1
            self._adds[row_id] = key
        self.flush()  # ``load`` reads them back with the rest

    def add(self, system_id: str, pdus: Iterable[DeliverSm], then: Kept | None = None) -> None:
        """Keep ``pdus`` for ``system_id``; ``then(ok)`` runs once they are on disk (or not)."""
        for pdu in pdus:
            key = (system_id, content(encode(pdu)))
            row_id, self._next_id = self._next_id, self._next_id + 1
            self._rows.setdefault(key, []).append(row_id)
            self._adds[row_id] = key
        if then is not None:
            self._waiting.append(then)
        self._schedule()

    def remove(self, system_id: str, sent: bytes) -> None:
        """Forget one kept deliver_sm that was sent as ``sent``: it was answered."""
        key = (system_id, content(sent))
        ids = self._rows.get(key)
        if not ids:
            return  # never kept (sent before the journal existed, or twice answered)
        row_id = ids.pop()
        if not ids:
            del self._rows[key]
        if self._adds.pop(row_id, None) is None:
            self._removes.append(row_id)
            self._schedule_removes()

    def after_kept(self, then: Kept) -> None:
        """Run ``then(ok)`` once everything added so far is on disk (at once if it is)."""
        if self._adds:
            self._waiting.append(then)
        else:
            then(True)

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def _schedule_removes(self) -> None:
        # Nothing waits for a delete: it rides with the next commit of adds, or goes within
        # REMOVE_DELAY. Lost in a crash, it only makes a deliver_sm go out twice.
        if self._later is None:
            self._later = asyncio.get_running_loop().call_later(REMOVE_DELAY, self.flush)

    def flush(self) -> None:
        """Commit what was added and removed since the last commit, then run what waited."""
        self._scheduled = False
        if self._later is not None:
            self._later.cancel()
            self._later = None
        adds, self._adds = self._adds, {}
        removes, self._removes = self._removes, []
        waiting, self._waiting = self._waiting, []
        ok = True
        if adds or removes:
            try:
                with self._db:  # one transaction: BEGIN ... COMMIT
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT INTO pending (id, system_id, pdu) VALUES (?, ?, ?)",
                        [(i, sid, body) for i, (sid, body) in adds.items()],
                    )
                    self._db.executemany(
                        "DELETE FROM pending WHERE id = ?", [(i,) for i in removes]
                    )
                self.commits += 1
            except sqlite3.Error:
                log.exception("%s: could not keep %d deliver_sm", self.path, len(adds))
                ok = False
                for row_id, key in adds.items():  # not kept: forget them
                    ids = self._rows.get(key, [])
                    if row_id in ids:
                        ids.remove(row_id)
        for then in waiting:
            then(ok)

    def close(self) -> None:
        """Commit what is pending and close the file."""
        self.flush()
        self._db.close()
