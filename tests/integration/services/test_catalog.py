"""The per-process metadata cache on both databases: an expired entry is read once however many
requests miss it at the same moment, and a write's ``forget`` wins over a read already under
way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, update

from smscloud.services.accounts import tenants
from smscloud.services.metadata.cache import Catalog
from smscloud.store import schema as s
from smscloud.store.database import Database
from tests.support.clocks import DAYTIME, ManualClock

pytestmark = pytest.mark.postgres
T = TypeVar("T")


class GatedReads:
    """Counts the catalog's reads of the real database and holds each until released."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads = 0
        self.gate = asyncio.Event()

    async def read(self, fn: Callable[[Connection], T]) -> T:
        self.reads += 1
        await self.gate.wait()
        return await self.db.read(fn)


@pytest.fixture
def secret_id(db: Database) -> str:
    with db.connect() as conn:
        t = tenants.create_tenant(conn, "T", "enterprise", verified=True, now=0.0)
        return tenants.create_key(conn, t.id, now=0.0).secret_id


def _catalog(db: Database) -> tuple[Catalog, GatedReads, ManualClock]:
    clock = ManualClock(DAYTIME)
    reads = GatedReads(db)
    catalog = Catalog(db, ttl=5.0, clock=clock)
    catalog.db = reads  # type: ignore[assignment]
    return catalog, reads, clock


async def _settle(condition: Callable[[], bool]) -> None:
    for _ in range(1000):  # loop turns, not time: every waiter is on this loop
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("never settled")


def _disable(db: Database, secret_id: str) -> None:
    with db.connect() as conn:
        k = s.api_keys
        conn.execute(update(k).where(k.c.secret_id == secret_id).values(status="disabled"))


def test_a_hundred_misses_of_one_key_are_one_read(db: Database, secret_id: str) -> None:
    async def scenario() -> list[Any]:
        catalog, reads, clock = _catalog(db)
        callers = [asyncio.ensure_future(catalog.key(secret_id)) for _ in range(100)]
        await _settle(lambda: reads.reads == 1)
        reads.gate.set()
        found = await asyncio.gather(*callers)
        assert reads.reads == 1
        await catalog.key(secret_id)  # cached now
        assert reads.reads == 1
        clock.advance(5.1)  # expired: read again, once
        again = await asyncio.gather(*(catalog.key(secret_id) for _ in range(50)))
        assert reads.reads == 2
        return found + again

    found = asyncio.run(scenario())
    assert {k.secret_id for k in found} == {secret_id}
    assert all(k.active for k in found)


def test_forget_during_a_read_starts_a_fresh_one_and_keeps_nothing_stale(
    db: Database, secret_id: str
) -> None:
    async def scenario() -> None:
        catalog, reads, _ = _catalog(db)
        reads.gate.clear()
        early = asyncio.ensure_future(catalog.key(secret_id))
        await _settle(lambda: reads.reads == 1)
        _disable(db, secret_id)  # a write through this process, then its forget
        catalog.forget("key", secret_id)
        reads.gate.set()
        late = await catalog.key(secret_id)
        assert reads.reads == 2, "a caller after forget joined the read from before the write"
        assert late is not None and not late.active
        await early  # the read from before the write answers its own caller ...
        reads.gate.clear()
        blocked = asyncio.ensure_future(catalog.key(secret_id))
        await _settle(lambda: reads.reads == 3)  # ... and was not kept: the next call reads
        reads.gate.set()
        now = await blocked
        assert now is not None and not now.active

    asyncio.run(scenario())


def test_a_failed_read_fails_its_callers_and_the_next_call_reads_again(
    db: Database, secret_id: str
) -> None:
    async def scenario() -> None:
        catalog, reads, _ = _catalog(db)
        real = reads.db

        class Broken:
            async def read(self, fn: Callable[[Connection], T]) -> T:
                raise OSError("database unreachable")

        reads.db = Broken()  # type: ignore[assignment]
        callers = [asyncio.ensure_future(catalog.key(secret_id)) for _ in range(10)]
        await _settle(lambda: reads.reads == 1)
        reads.gate.set()
        results = await asyncio.gather(*callers, return_exceptions=True)
        assert all(isinstance(r, OSError) for r in results)
        reads.db = real
        key = await catalog.key(secret_id)
        assert key is not None and key.active and reads.reads == 2

    asyncio.run(scenario())


def test_a_caller_that_gives_up_leaves_the_read_to_the_others(db: Database, secret_id: str) -> None:
    async def scenario() -> None:
        catalog, reads, _ = _catalog(db)
        quitter = asyncio.ensure_future(catalog.key(secret_id))
        stayer = asyncio.ensure_future(catalog.key(secret_id))
        await _settle(lambda: reads.reads == 1)
        quitter.cancel()
        await asyncio.sleep(0)
        reads.gate.set()
        key = await stayer
        assert key is not None and key.secret_id == secret_id
        assert quitter.cancelled() and reads.reads == 1

    asyncio.run(scenario())
