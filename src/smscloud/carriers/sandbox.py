"""The built-in sandbox carrier: behaves like a network, reaches no one.

It takes every submission, then after ``delay`` reports a receipt. Documented magic numbers
(the last seven digits of the national number) produce each failure so tenants can test their
failure paths:

===========  ============================================================================
ends with    outcome
===========  ============================================================================
``0000001``  receipt UNDELIV: unknown or empty number (``UNDELIVERED``)
``0000002``  receipt EXPIRED: handset unreachable until the validity ran out (``EXPIRED``)
``0000003``  refused at submission (permanent): the message is ``REJECTED`` and refunded
``0000004``  no receipt ever: the message stays ``SUBMITTED`` until the receipt timeout
``0000005``  receipt REJECTD: taken, then rejected by the network (``REJECTED``, billed)
``0000007``  delivered, and the handset replies "收到" a moment later (a reply to pull)
===========  ============================================================================
Every other number is delivered (``DELIVRD``).

Like an SMSC it keeps a report until the sink says it is stored: reports whose storing
failed are offered again ``retry`` seconds later.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Awaitable, Sequence

from smscloud.carriers.base import (
    DELIVERED,
    InFlight,
    Receipt,
    Reply,
    ReportSink,
    Submission,
    SubmitResult,
)
from smscloud.carriers.magic import MAGIC, REFUSE_SUFFIX, REPLY_SUFFIX, REPLY_TEXT
from smscloud.clock import Clock, system_clock


class SandboxCarrier:
    """In-process simulated carrier (see module docstring)."""

    def __init__(
        self,
        name: str = "sandbox",
        delay: float = 0.2,
        rate: float = 0.0,
        retry: float = 1.0,
        clock: Clock = system_clock,
    ) -> None:
        self.name = name
        self.delay = delay
        self.rate = rate
        self.retry = retry
        # Stands in for the network in this process, so its receipts carry the platform's time.
        self.clock = clock
        # Ids unique across restarts: seeded by the machine's clock, which a test clock that
        # starts every run at the same moment would not be.
        self._ids = itertools.count(int(time.time() * 1000) % 10**9 * 1000)
        self._sink: ReportSink | None = None
        # A heap of (due, seq, report): the next report due is always first.
        self._pending: list[tuple[float, int, Receipt | Reply]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_slot = 0.0

    async def start(self, sink: ReportSink) -> None:
        self._sink = sink
        self._task = asyncio.create_task(self._report_loop(), name=f"{self.name}-reports")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, batch: Sequence[Submission]) -> list[SubmitResult]:
        if self.rate > 0:
            # A throughput cap like a real bind's: wait for this batch's slots.
            now = time.monotonic()
            start = max(self._next_slot, now)
            self._next_slot = start + len(batch) / self.rate
            if start > now:
                await asyncio.sleep(start - now)
        results = []
        due = self.clock() + self.delay
        for sub in batch:
            suffix = sub.phone[-7:]
            if suffix == REFUSE_SUFFIX:
                results.append(SubmitResult(sub.message_id, None, "REJECTD", permanent=True))
                continue
            cid = f"{next(self._ids):x}"
            results.append(SubmitResult(sub.message_id, cid))
            outcome = MAGIC.get(suffix, (DELIVERED, "DELIVRD"))
            if outcome is not None:
                self._later(due, Receipt(cid, outcome[0], outcome[1], due))
            if suffix == REPLY_SUFFIX:
                self._later(due + self.delay, Reply(sub.phone, REPLY_TEXT, due, carrier=self.name))
        self._wake.set()
        return results

    async def resume(self, in_flight: Sequence[InFlight]) -> None:
        # The simulated network died with the previous process; its outcome for a number is
        # fixed, so replay the receipts it would have sent.
        due = self.clock() + self.delay
        for item in in_flight:
            outcome = MAGIC.get(item.phone[-7:], (DELIVERED, "DELIVRD"))
            if outcome is not None:
                self._later(due, Receipt(item.carrier_msg_id, *outcome, due))
        self._wake.set()

    def _later(self, due: float, report: Receipt | Reply) -> None:
        heapq.heappush(self._pending, (due, next(self._seq), report))

    def _offer(self, stored: Awaitable[None], reports: Sequence[Receipt | Reply]) -> None:
        """Keep ``reports`` until ``stored`` says they are; offer them again if it fails."""

        def settled(fut: asyncio.Future[None]) -> None:
            if fut.cancelled() or fut.exception() is None:
                return
            due = self.clock() + self.retry
            for report in reports:
                self._later(due, report)
            self._wake.set()

        asyncio.ensure_future(stored).add_done_callback(settled)

    async def _report_loop(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            now = self.clock()
            receipts: list[Receipt] = []
            replies: list[Reply] = []
            while self._pending and self._pending[0][0] <= now:
                report = heapq.heappop(self._pending)[2]
                if isinstance(report, Receipt):
                    receipts.append(report)
                else:
                    replies.append(report)
            assert self._sink is not None
            if receipts:
                self._offer(self._sink.receipts(receipts), receipts)
            if replies:
                self._offer(self._sink.replies(replies), replies)
            if self._pending:
                wait = self._pending[0][0] - now
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.002, min(wait, 1.0))):
                        await self._wake.wait()
