"""DISPATCH: claim due messages, hand them to the carrier, record what comes back.

One :class:`Dispatcher` per worker process. It claims batches under a lease, so a worker that
dies mid-batch loses nothing: when the lease runs out another claim takes the messages again
(the carrier may then see a message twice; it is still billed once). Receipts and replies are
buffered and written in batches. A receipt that names no known message yet (it can overtake
the record of its own submission) is kept and tried again for ``unmatched_ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from smscloud.carriers.base import Carrier, Receipt, Reply, Submission
from smscloud.delivery import outcomes
from smscloud.store.database import Database

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DispatchStats:
    claimed: int = 0
    submitted: int = 0
    refused: int = 0
    receipts: int = 0
    unmatched: int = 0
    replies: int = 0
    expired: int = 0
    errors: int = 0
    started: float = field(default_factory=time.time)


class Dispatcher:
    """Moves QUEUED messages to a carrier and receipts back into the store."""

    def __init__(
        self,
        db: Database,
        carrier: Carrier,
        *,
        batch: int = 500,
        lease_seconds: float = 30.0,
        max_attempts: int = 5,
        poll_interval: float = 0.5,
        receipt_timeout: float = 72 * 3600,
        unmatched_ttl: float = 600.0,
        pipelines: int = 2,
    ) -> None:
        self.db = db
        self.carrier = carrier
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.receipt_timeout = receipt_timeout
        self.unmatched_ttl = unmatched_ttl
        self.pipelines = pipelines
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._reports = asyncio.Event()
        self._receipts: list[tuple[float, Receipt]] = []
        self._replies: list[Reply] = []
        self._tasks: list[asyncio.Task[None]] = []

    # ReportSink -------------------------------------------------------------------------
    def receipts(self, receipts: Sequence[Receipt]) -> None:
        now = time.time()
        self._receipts.extend((now, r) for r in receipts)
        self._reports.set()

    def replies(self, replies: Sequence[Reply]) -> None:
        self._replies.extend(replies)
        self._reports.set()

    # lifecycle --------------------------------------------------------------------------
    def notify(self) -> None:
        """Something was queued: claim now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        await self.carrier.start(self)
        pending = await self.db.read(lambda c: outcomes.in_flight(c, self.carrier.name))
        if pending:
            await self.carrier.resume(pending)
        for i in range(self.pipelines):
            self._tasks.append(asyncio.create_task(self._dispatch_loop(), name=f"dispatch-{i}"))
        self._tasks.append(asyncio.create_task(self._report_loop(), name="reports"))
        self._tasks.append(asyncio.create_task(self._sweep_loop(), name="sweep"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.carrier.stop()

    # loops ------------------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        while True:
            try:
                moved = await self.dispatch_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.errors += 1
                log.exception("dispatch failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if moved < self.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def dispatch_once(self) -> int:
        """Claim one batch, submit it, record the outcome; returns how many were claimed."""
        now = time.time()
        if not await self.db.read(lambda c: outcomes.has_due(c, now)):
            return 0
        claimed = await self.db.write(
            lambda c: outcomes.claim(c, self.batch, now, self.lease_seconds)
        )
        if not claimed:
            return 0
        self.stats.claimed += len(claimed)
        subs = [Submission(c.id, c.phone, c.content, c.sender_id, c.extend_code) for c in claimed]
        results = await self.carrier.submit(subs)
        attempts = {c.id: c.attempts for c in claimed}
        done = time.time()
        await self.db.write(
            lambda c: outcomes.record_submits(
                c,
                self.carrier.name,
                results,
                done,
                max_attempts=self.max_attempts,
                attempts=attempts,
            )
        )
        taken = sum(1 for r in results if r.carrier_msg_id is not None)
        self.stats.submitted += taken
        self.stats.refused += len(results) - taken
        return len(claimed)

    async def _report_loop(self) -> None:
        while True:
            await self._reports.wait()
            self._reports.clear()
            try:
                await self.flush_reports()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.errors += 1
                log.exception("recording receipts failed; retrying")
                await asyncio.sleep(1.0)
                self._reports.set()

    async def flush_reports(self) -> None:
        """Write buffered receipts and replies; keep unmatched receipts for another try."""
        batch, self._receipts = self._receipts, []
        replies, self._replies = self._replies, []
        try:
            if batch:
                receipts = [r for _, r in batch]
                unmatched = await self.db.write(
                    lambda c: outcomes.apply_receipts(c, self.carrier.name, receipts)
                )
                self.stats.receipts += len(receipts) - len(unmatched)
                if unmatched:
                    now = time.time()
                    seen = {id(r): t for t, r in batch}
                    keep: list[tuple[float, Receipt]] = []
                    for r in unmatched:
                        if now - seen[id(r)] < self.unmatched_ttl:
                            keep.append((seen[id(r)], r))
                        else:
                            self.stats.unmatched += 1
                            log.warning("receipt for unknown message %s dropped", r.carrier_msg_id)
                    self._receipts = keep + self._receipts
            if replies:
                now = time.time()
                stored = await self.db.write(lambda c: outcomes.store_replies(c, replies, now))
                self.stats.replies += stored
        except BaseException:
            self._receipts = batch + self._receipts
            self._replies = replies + self._replies
            raise

    async def expire_silent(self, now: float) -> int:
        """End messages whose receipt is overdue; returns how many."""
        cutoff = now - self.receipt_timeout
        return await self.db.write(lambda c: outcomes.expire_silent(c, cutoff, now))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, max(self.poll_interval, 0.05)))
            if self._receipts:
                self._reports.set()  # retry unmatched receipts
            try:
                self.stats.expired += await self.expire_silent(time.time())
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.errors += 1
                log.exception("sweep failed")
