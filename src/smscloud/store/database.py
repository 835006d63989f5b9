"""Engines, the group-commit writer and the reader pool.

Theory of operation. Every write goes through one writer thread per process that owns one
connection. The thread takes the first queued job, gathers whatever else arrives within the
commit window, runs them all in one transaction and commits once, then resolves every job's
future. Jobs of a *batchable* kind (the same ``BatchKind`` object) are handed over together so
the kind can turn N requests into a handful of statements (one multi-row INSERT instead of N).

If any job raises, the whole transaction is rolled back and every job of the batch is run again
alone, so one bad job never takes the others with it and nothing is half-written. Jobs must
therefore be plain functions of the connection, safe to run again after a rollback.

SQLite gets WAL with ``synchronous=NORMAL``: a process crash loses nothing committed; a power
cut may lose the last few group commits. PostgreSQL uses the same code through psycopg.

On SQLite a process whose event loop is busy with other work (the delivery worker) can commit
on that loop instead (``commit_on_loop``). A writer thread there shares the interpreter with
the loop: inside its transaction it waits for the loop at every statement and was preempted
while it held the write lock, so the worker held SQLite's one write lock about twice as long
as its own CPU time needed, and the API process waited behind it (bench/README.md, "Commits
on the worker's event loop"). On the loop the transaction runs straight through; only the
wait for the lock is awaited, so the loop keeps serving while another process holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.pool import QueuePool

from smscloud.private_files import create_private

log = logging.getLogger(__name__)
T = TypeVar("T")
J = TypeVar("J", contravariant=True)


def run_many(conn: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> int:
    """``executemany`` straight on the driver, for hot multi-row statements.

    ``sql`` uses ``?`` placeholders; they become ``%s`` for psycopg. This skips SQLAlchemy's
    per-row parameter processing, which costs more than the database itself on big batches.
    Returns the total row count (or -1 where the driver cannot tell).
    """
    if not rows:
        return 0
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    result = conn.exec_driver_sql(sql, list(rows))
    return int(result.rowcount)


def query(conn: Connection, sql: str, params: Sequence[Any]) -> list[Any]:
    """Rows of one statement straight on the driver (``?`` placeholders, as ``run_many``),
    for hot reads whose statement compilation cost more than the database's work."""
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    return list(conn.exec_driver_sql(sql, tuple(params)))


def inserted_id(result: Any) -> int:
    """The primary key of the row an ``insert()`` just added."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class BatchKind(Protocol[J]):
    """Runs many jobs of one kind together; returns one result per job, in order."""

    def run_many(self, conn: Connection, jobs: Sequence[J]) -> Sequence[Any]: ...


@dataclass(slots=True)
class _Job(Generic[T]):
    fn: Callable[[Connection], T] | None
    kind: BatchKind[Any] | None
    payload: Any
    future: asyncio.Future[T] | None
    loop: asyncio.AbstractEventLoop | None
    done: threading.Event | None = None
    result: Any = None
    error: BaseException | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_STOP = object()
WRITER = "smscloud_writer"  # execution option marking a connection that writes


def make_engine(url: str) -> Engine:
    """Create a synchronous engine with the pragmas the write path relies on."""
    if url.startswith("sqlite"):
        _create_sqlite_file(url)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=QueuePool,
            pool_size=8,
            max_overflow=8,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver's own transaction handling is disabled so that BEGIN is ours to issue:
            # pysqlite otherwise defers BEGIN and breaks SAVEPOINT and read consistency.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Checkpoints run in the background (Database._checkpoints), never inside a commit
            # that a request is waiting for.
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            writer = bool(conn.get_execution_options().get(WRITER, False))
            # A pooled connection keeps its busy timeout between uses: switch it only when its
            # role changes (writers retry by themselves, readers let SQLite wait).
            info = conn.connection.info
            dbapi_conn: Any = conn.connection.dbapi_connection
            if info.get(WRITER, False) != writer:
                dbapi_conn.execute(f"PRAGMA busy_timeout = {0 if writer else 30000}")
                info[WRITER] = writer
            if writer:
                if not dbapi_conn.in_transaction:  # the loop writer began it (_lock_on_loop)
                    _begin_immediate(dbapi_conn)
            else:
                dbapi_conn.execute("BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _create_sqlite_file(url: str) -> None:
    """Make a new database file 0600 before SQLite opens it: SQLite would make it 0644
    (readable by every local user), and it gives its ``-wal`` and ``-shm`` the file's mode."""
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        create_private(Path(path))


def _begin_immediate(dbapi_conn: Any, timeout: float = 30.0) -> None:
    """Take SQLite's write lock, retrying briefly while another process holds it.

    IMMEDIATE takes the lock up front, so two processes never deadlock upgrading a read lock.
    SQLite's own busy handler sleeps 1, 2, 5, 10, 25... ms between tries, far longer than a
    group commit holds the lock; retrying every few hundred microseconds keeps a second
    process (the delivery worker) from adding tens of milliseconds to API latency.
    """
    for pause in _lock_pauses(timeout):
        if _try_begin_immediate(dbapi_conn):
            return
        time.sleep(pause)


async def _lock_on_loop(conn: Connection, give_up_after: float = 30.0) -> None:
    """``_begin_immediate`` for a writer on an event loop: the tries are the same, the
    pauses between them are awaited, so the loop serves while another process commits."""
    dbapi_conn: Any = conn.connection.dbapi_connection
    if conn.connection.info.get(WRITER) is not True:
        dbapi_conn.execute("PRAGMA busy_timeout = 0")  # as the begin hook sets for writers
        conn.connection.info[WRITER] = True
    for pause in _lock_pauses(give_up_after):
        if _try_begin_immediate(dbapi_conn):
            return
        await asyncio.sleep(pause)


def _try_begin_immediate(dbapi_conn: Any) -> bool:
    """Begin a write transaction if the lock is free; False if another process holds it."""
    try:
        dbapi_conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False
    return True


def _lock_pauses(give_up_after: float) -> Iterator[float]:
    """The pauses between tries for the write lock; raises once ``give_up_after`` passed."""
    deadline = time.monotonic() + give_up_after
    pause = 0.0001
    while time.monotonic() <= deadline:
        yield pause
        pause = min(pause * 1.5, 0.002)
    raise sqlite3.OperationalError(f"database is locked (waited {give_up_after:g} s)")


class Database:
    """The store's one entry point: ``await db.write(fn)``, ``await db.read(fn)``."""

    def __init__(
        self,
        url: str,
        *,
        commit_window_ms: float = 1.0,
        commit_max_jobs: int = 256,
        readers: int = 4,
        commit_on_loop: bool = False,
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        # Only SQLite has a write lock to hold briefly; psycopg's round trips would block the loop.
        self._on_loop = commit_on_loop and self.dialect == "sqlite"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._wake: asyncio.Event | None = None
        self._loop_writer: asyncio.Task[None] | None = None
        self.lock_patience = 30.0  # seconds the loop writer tries for SQLite's write lock
        self._window = commit_window_ms / 1000.0
        self._max_jobs = commit_max_jobs
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="db-read")
        self._thread: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        self.commits = 0
        self.jobs = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the writer (with ``commit_on_loop``: from the loop that is to run it)."""
        if self._thread is None and self._loop_writer is None:
            if self._on_loop:
                self._loop = asyncio.get_running_loop()
                self._loop_thread = threading.get_ident()
                self._wake = asyncio.Event()
                self._loop_writer = self._loop.create_task(self._run_on_loop(), name="db-writer")
            else:
                self._thread = threading.Thread(target=self._run, name="db-writer", daemon=True)
                self._thread.start()
            if self.dialect == "sqlite":
                self._checkpointer = threading.Thread(
                    target=self._checkpoints, name="db-checkpoint", daemon=True
                )
                self._checkpointer.start()

    def _checkpoints(self, interval: float = 0.5) -> None:
        """Copy the WAL into the database file now and then, off the request path.

        PASSIVE never blocks readers or the writer; with autocheckpoint off, SQLite would
        otherwise let the WAL grow without bound.
        """
        while not self._closing.wait(interval):
            try:
                with self.engine.connect() as conn:
                    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    )
            except Exception:
                log.exception("WAL checkpoint failed")

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._loop_writer is not None:
            self._stop_loop_writer()
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    # -- API -------------------------------------------------------------------------------
    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in the next group commit; return after the commit."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(fn, None, None, fut, loop))
        self._notify()
        return await fut

    async def write_batched(self, kind: BatchKind[J], payload: J) -> Any:
        """Queue ``payload`` for ``kind.run_many`` in the next group commit."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(None, kind, payload, fut, loop))
        self._notify()
        return await fut

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """Blocking write for threads and commands: through the writer when it runs."""
        if self._thread is None and (
            self._loop_writer is None or threading.get_ident() == self._loop_thread
        ):
            # No writer, or the loop writer's own thread (which must not wait for itself):
            # a transaction of its own, between the loop writer's (which never await inside).
            with self.connect() as conn:
                return fn(conn)
        done = threading.Event()
        job: _Job[T] = _Job(fn, None, None, None, None, done)
        self._queue.put(job)
        self._notify()
        done.wait()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[no-any-return]

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a reader connection in the thread pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn)

    @contextlib.contextmanager
    def connect(self) -> Iterator[Connection]:
        """A plain transaction, for migrations, seeding and commands."""
        with self.engine.connect().execution_options(**{WRITER: True}) as conn, conn.begin():
            yield conn

    # -- the writer on the event loop (commit_on_loop) ---------------------------------------
    def _notify(self) -> None:
        """Wake the loop writer, from its loop or from any other thread."""
        if self._loop is None or self._wake is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to wake
                self._loop.call_soon_threadsafe(self._wake.set)

    async def _run_on_loop(self) -> None:
        assert self._wake is not None
        conn = self.engine.connect().execution_options(**{WRITER: True})
        try:
            while True:
                try:
                    first = self._queue.get_nowait()
                except queue.Empty:
                    self._wake.clear()
                    if self._queue.empty():  # not queued between the get and the clear
                        await self._wake.wait()
                    continue
                if first is _STOP:
                    return
                # The commit window, as the thread's _gather: what comes meanwhile joins.
                await asyncio.sleep(self._window)
                batch = [first]
                try:
                    await _lock_on_loop(conn, self.lock_patience)
                except Exception:
                    # The lock was not to be had (another process held it for the whole
                    # timeout): these jobs fail, as the thread's would, and the next are tried.
                    stop = self._top_up(batch)
                    for job in batch:
                        self._fail(job)
                    self._resolve(batch)
                    if stop:
                        return
                    continue
                if self._execute(conn, batch):
                    return
        finally:
            conn.close()

    def _stop_loop_writer(self) -> None:
        task, self._loop_writer = self._loop_writer, None
        assert task is not None
        self._queue.put(_STOP)
        if not task.done():
            self._notify()  # it finishes what is queued before the stop, then returns
        self._loop = self._wake = None

    async def stop(self) -> None:
        """Finish the loop writer's queued jobs (from its loop), then close."""
        task = self._loop_writer
        if task is not None:
            self._stop_loop_writer()
            await task
        self.close()

    # -- the writer thread -----------------------------------------------------------------
    def _gather(self, first: _Job[Any]) -> tuple[list[_Job[Any]], bool]:
        batch = [first]
        deadline = time.monotonic() + self._window
        stop = False
        while len(batch) < self._max_jobs:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                stop = True
                break
            batch.append(item)
        return batch, stop

    def _top_up(self, batch: list[_Job[Any]]) -> bool:
        """Add to ``batch`` what was queued while its transaction began; True if that
        included the stop."""
        while len(batch) < self._max_jobs:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            batch.append(item)
        return False

    def _run(self) -> None:
        conn = self.engine.connect().execution_options(**{WRITER: True})
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch, stop = self._gather(first)
                stop = self._execute(conn, batch) or stop
                if stop:
                    return
        finally:
            conn.close()

    def _execute(self, conn: Connection, batch: list[_Job[Any]]) -> bool:
        """Commit ``batch`` (topped up once the transaction began) and settle its jobs;
        True if the stop was taken from the queue meanwhile."""
        stop = False
        try:
            with conn.begin():
                # On SQLite, beginning waits for the write lock, which another process (the
                # delivery worker, a second API) may hold for milliseconds: what was queued
                # meanwhile commits now, rather than waiting for the lock a second time.
                stop = self._top_up(batch)
                self._apply(conn, batch)
        except Exception:
            if len(batch) == 1:
                self._fail(batch[0])
            else:
                # Isolate the culprit: run every job again on its own.
                for job in batch:
                    job.error = None
                    try:
                        with conn.begin():
                            self._apply(conn, [job])
                    except Exception:
                        self._fail(job)
        else:
            self.commits += 1
            self.jobs += len(batch)
        self._resolve(batch)
        return stop

    @staticmethod
    def _apply(conn: Connection, batch: list[_Job[Any]]) -> None:
        groups: dict[int, list[_Job[Any]]] = {}
        for job in batch:
            if job.kind is None:
                assert job.fn is not None
                job.result = job.fn(conn)
            else:
                groups.setdefault(id(job.kind), []).append(job)
        for jobs in groups.values():
            kind = jobs[0].kind
            assert kind is not None
            results = kind.run_many(conn, [j.payload for j in jobs])
            for job, result in zip(jobs, results, strict=True):
                job.result = result

    @staticmethod
    def _fail(job: _Job[Any]) -> None:
        import sys

        job.error = sys.exc_info()[1]
        job.result = None
        log.debug("write job failed", exc_info=job.error)

    @staticmethod
    def _resolve(batch: list[_Job[Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        for job in batch:
            if job.loop is not None:
                by_loop.setdefault(job.loop, []).append(job)
            elif job.done is not None:
                job.done.set()
        for loop, jobs in by_loop.items():
            # One wake-up per loop per commit, not one per job.
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(_settle, jobs)


def _settle(jobs: list[_Job[Any]]) -> None:
    for job in jobs:
        fut = job.future
        if fut is None or fut.done():
            continue
        if job.error is not None:
            fut.set_exception(job.error)
        else:
            fut.set_result(job.result)
