"""DISPATCH: claim due messages, hand them to the carrier, record what comes back.

One :class:`Dispatcher` per worker process. It claims batches under a lease, so a worker that
dies mid-batch loses nothing: when the lease runs out another claim takes the messages again
(the carrier may then see a message twice; it is still billed once). Receipts and replies are
buffered and written in batches; each report's future completes when the commit holding it
has committed (or fails with the write), and the carrier acknowledges its network only then.
A receipt that names no known message yet (it can overtake the record of its own submission)
is stored in ``orphan_receipts`` by the same transaction and matched again every half second
for ``unmatched_ttl`` seconds, so a worker crash loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import socket
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from smscloud.carriers.base import Carrier, Receipt, Reply, Submission, SubmitResult
from smscloud.carriers.smpp import SmppCarrier
from smscloud.clock import Clock, system_clock
from smscloud.delivery import claims, health, receipts, slots, submits
from smscloud.delivery.replies import store_replies
from smscloud.domain.routing import NoRoute, Route, choose
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
    started: float = field(default_factory=system_clock)


class _CarrierSink:
    """What one carrier reports, tagged with its name (receipts are matched per carrier)."""

    def __init__(self, dispatcher: Dispatcher, name: str) -> None:
        self.dispatcher = dispatcher
        self.name = name

    def receipts(self, receipts: Sequence[Receipt]) -> asyncio.Future[None]:
        return self.dispatcher.add_receipts(self.name, receipts)

    def replies(self, replies: Sequence[Reply]) -> asyncio.Future[None]:
        return self.dispatcher.replies(replies)


NO_ROUTE = "NOROUTE"
EXPIRED_EVERY = 1.0  # seconds between a busy worker's looks for leases that ran out
HAND_BACK_SECONDS = 1.0  # how soon a message routed to a slot held elsewhere is claimable
WORKER = f"{socket.gethostname()}:{os.getpid()}"


class Dispatcher:
    """Moves QUEUED messages to their carriers and receipts back into the store.

    With no routes every message goes to the first carrier, the others serving as failover in
    order. With routes, each message goes to its route's carriers (weighted primary first);
    a temporary refusal moves it to the next one in the same round; a message no route
    matches is refused (``NOROUTE``) and refunded.
    """

    def __init__(
        self,
        db: Database,
        carriers: Carrier | Mapping[str, Carrier],
        *,
        routes: Sequence[Route] = (),
        load_routes: Callable[[Connection], list[Route]] | None = None,
        batch: int = 500,
        lease_seconds: float = 30.0,
        max_attempts: int = 5,
        poll_interval: float = 0.5,
        receipt_timeout: float = 72 * 3600,
        unmatched_ttl: float = 600.0,
        pipelines: int = 2,
        record_every: int = 50,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.clock = clock
        self.carriers: dict[str, Carrier] = (
            dict(carriers) if isinstance(carriers, Mapping) else {carriers.name: carriers}
        )
        self.routes = list(routes)
        self._load_routes = load_routes
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.receipt_timeout = receipt_timeout
        self.unmatched_ttl = unmatched_ttl
        self.pipelines = pipelines
        self.record_every = record_every  # submissions recorded together (dispatch_once)
        self.stats = DispatchStats()
        self._wake = asyncio.Event()
        self._reports = asyncio.Event()
        self._receipts: list[tuple[float, str, Receipt]] = []
        self._replies: list[Reply] = []
        # Told when the reports buffered beside them are committed (or could not be).
        self._receipts_stored: list[asyncio.Future[None]] = []
        self._replies_stored: list[asyncio.Future[None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._orphans = False  # receipts are waiting in orphan_receipts
        # A claim that found messages is followed by another without asking first whether
        # any are due (the read would find them: under load it only doubled the statements).
        self._found = False
        self._expired_checked = -math.inf  # when claims last looked for expired leases

    # What carriers report ---------------------------------------------------------------
    def add_receipts(self, carrier: str, receipts: Sequence[Receipt]) -> asyncio.Future[None]:
        """Buffer ``carrier``'s receipts; the future completes when their commit has."""
        now = self.clock()
        self._receipts.extend((now, carrier, r) for r in receipts)
        stored = asyncio.get_running_loop().create_future()
        self._receipts_stored.append(stored)
        self._reports.set()
        return stored

    def replies(self, replies: Sequence[Reply]) -> asyncio.Future[None]:
        """Buffer replies; the future completes when their commit has."""
        self._replies.extend(replies)
        stored = asyncio.get_running_loop().create_future()
        self._replies_stored.append(stored)
        self._reports.set()
        return stored

    # lifecycle --------------------------------------------------------------------------
    def notify(self) -> None:
        """Something was queued: claim now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        if self._load_routes is not None:
            self.routes = await self.db.read(self._load_routes)
        for name, carrier in self.carriers.items():
            await carrier.start(_CarrierSink(self, name))
            pending = await self.db.read(lambda c, n=name: receipts.in_flight(c, n))  # type: ignore[misc]
            if pending:
                await carrier.resume(pending)
        if self._leased():
            await self.save_health()  # other workers count us in before sharing slots
            await self.sync_slots()
        for i in range(self.pipelines):
            self._tasks.append(asyncio.create_task(self._dispatch_loop(), name=f"dispatch-{i}"))
        self._tasks.append(asyncio.create_task(self._report_loop(), name="reports"))
        self._tasks.append(asyncio.create_task(self._sweep_loop(), name="sweep"))

    async def stop(self) -> None:
        # Reports keep being recorded while the carriers stop: a bind answers what it
        # received before it unbinds, and only a stored report may be answered.
        reports = [t for t in self._tasks if t.get_name() == "reports"]
        await _cancel([t for t in self._tasks if t not in reports])
        for carrier in self.carriers.values():
            await carrier.stop()
        await _cancel(reports)
        self._tasks.clear()
        if leased := self._leased():
            await self.db.write(lambda c: slots.release(c, WORKER, list(leased)))

    def _leased(self) -> dict[str, SmppCarrier]:
        return {n: c for n, c in self.carriers.items() if isinstance(c, SmppCarrier) and c.leased}

    async def sync_slots(self) -> None:
        """Renew, take or give back bind slots; open and close sessions to match."""
        for name, carrier in self._leased().items():
            now, binds = self.clock(), carrier.config.binds
            held = await self.db.write(
                lambda c, n=name, b=binds, t=now: slots.sync(c, n, b, WORKER, t)  # type: ignore[misc]
            )
            for slot in sorted(carrier.slots - held):
                await carrier.close_slot(slot)
            for slot in sorted(held - carrier.slots):
                carrier.open_slot(slot)

    def _here(self, name: str) -> bool:
        return bool(getattr(self.carriers[name], "available", True))

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
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()

    async def dispatch_once(self) -> int:
        """Claim one batch, submit it, record the outcome; returns how many were claimed."""
        now = self.clock()
        if self._found:
            # Leases run out rarely (a worker died): a busy worker looks for them once a
            # second, not in every claim.
            expired = not 0 <= now - self._expired_checked < EXPIRED_EVERY
        elif not await self.db.read(lambda c: claims.has_due(c, now)):
            return 0
        else:
            expired = True
        if expired:
            self._expired_checked = now
        claimed = await self.db.write(
            lambda c: claims.claim(c, self.batch, now, self.lease_seconds, expired=expired)
        )
        self._found = bool(claimed)
        if not claimed:
            return 0
        self.stats.claimed += len(claimed)
        # Each slice is recorded as soon as its own answers are in, not when the whole
        # claim's are: a receipt that overtakes the record of its submission becomes an
        # orphan, stored and matched again later (a write each way). Recording the claim of
        # 500 at once made a quarter of all receipts orphans at 2,000 messages/s, the SMSC
        # answering 200 ms after each submit (bench/README.md, "Submissions recorded by
        # slice"). The slices are in flight together; the group commit joins their records.
        step = self.record_every
        slices = [claimed[i : i + step] for i in range(0, len(claimed), step)]
        outcomes = await asyncio.gather(
            *(self._submit_and_record(part) for part in slices), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # the other slices were recorded; this one's lease runs out
        return len(claimed)

    async def _submit_and_record(self, claimed: Sequence[claims.Claimed]) -> None:
        final = await self._submit_with_failover(claimed)
        attempts = {c.id: c.attempts for c in claimed}
        done = self.clock()

        def record(conn: Connection) -> None:
            for name, results in final.items():
                submits.record_submits(
                    conn, name, results, done, max_attempts=self.max_attempts, attempts=attempts
                )

        await self.db.write(record)
        results = [r for rs in final.values() for r in rs]
        taken = sum(1 for r in results if r.carrier_msg_id is not None)
        self.stats.submitted += taken
        self.stats.refused += len(results) - taken

    def order(self, c: claims.Claimed) -> list[str]:
        """The carriers to try for one message, primary first, among those running.

        A long message a carrier took some parts of stays with that carrier: no other can
        complete its concatenation, and sending it whole elsewhere would show the handset
        the parts it has twice. It fails over only if that carrier is no longer configured.
        """
        if c.held_by in self.carriers:
            return [c.held_by]
        if c.held_by:
            log.warning("message %d: carrier %s holds parts but is gone", c.id, c.held_by)
        if not self.routes:
            return list(self.carriers)
        try:
            names = choose(
                self.routes,
                nation_code=c.nation_code,
                subscriber=c.phone[len(c.nation_code) + 1 :],
                sms_type=c.sms_type,
                key=c.id,
            )
        except NoRoute:
            return []
        return [n for n in names if n in self.carriers]

    async def _submit_with_failover(
        self, claimed: Sequence[claims.Claimed]
    ) -> dict[str, list[SubmitResult]]:
        """Submit each message to its carriers in order until one takes it or refuses it."""
        routes = {c.id: self.order(c) for c in claimed}
        orders = {mid: [n for n in names if self._here(n)] for mid, names in routes.items()}
        final: dict[str, list[SubmitResult]] = defaultdict(list)
        step: dict[int, int] = defaultdict(int)
        pending = {}
        elsewhere = []
        for c in claimed:
            if orders[c.id]:
                pending[c.id] = c
            elif routes[c.id]:  # routed, but another worker holds the carriers' bind slots
                elsewhere.append(c.id)
            else:
                final[""].append(SubmitResult(c.id, None, NO_ROUTE, permanent=True))
        if elsewhere:
            until = self.clock() + HAND_BACK_SECONDS
            await self.db.write(lambda c: claims.hand_back(c, elsewhere, until))
        while pending:
            groups: dict[str, list[Submission]] = defaultdict(list)
            for mid, c in pending.items():
                name = orders[mid][step[mid]]
                held = c.held_by == name
                groups[name].append(
                    Submission(
                        c.id,
                        c.phone,
                        c.content,
                        c.sender_id,
                        c.extend_code,
                        taken=c.taken if held else (),
                        parts=c.wire_parts if held else 0,
                    )
                )
            names = list(groups)
            answers = await asyncio.gather(*(self.carriers[n].submit(groups[n]) for n in names))
            retry = {}
            for name, results in zip(names, answers, strict=True):
                for r in results:
                    # A carrier that took some parts keeps the message (see ``order``).
                    temporary = r.carrier_msg_id is None and not r.permanent and not r.taken
                    if temporary and step[r.message_id] + 1 < len(orders[r.message_id]):
                        step[r.message_id] += 1  # fail over to the next carrier
                        retry[r.message_id] = pending[r.message_id]
                    else:
                        final[name].append(r)
            pending = retry
        return final

    async def _report_loop(self) -> None:
        while True:
            await self._reports.wait()
            self._reports.clear()
            await self.flush_reports()

    async def flush_reports(self) -> None:
        """Write buffered receipts and replies (unmatched receipts kept to match later), then
        tell their carriers: stored, or the write's error (the network then sends again)."""
        batch, self._receipts = self._receipts, []
        replies, self._replies = self._replies, []
        receipts_stored, self._receipts_stored = self._receipts_stored, []
        replies_stored, self._replies_stored = self._replies_stored, []
        # Both writes are queued at once, so they usually share one group commit.
        await asyncio.gather(
            _settle(receipts_stored, self._write_receipts(batch)),
            _settle(replies_stored, self._write_replies(replies)),
        )

    async def _write_receipts(self, batch: Sequence[tuple[float, str, Receipt]]) -> None:
        if not batch:
            return
        by_carrier: dict[str, list[Receipt]] = defaultdict(list)
        for _, name, r in batch:
            by_carrier[name].append(r)
        now = self.clock()

        def apply(conn: Connection) -> int:
            kept = 0
            for name, got in by_carrier.items():
                unmatched = receipts.apply_receipts(conn, name, got)
                receipts.keep_orphans(conn, name, unmatched, now)
                kept += len(unmatched)
            return kept

        try:
            kept = await self.db.write(apply)
        except Exception:
            self.stats.errors += 1
            log.exception(
                "recording %d receipts failed; the carrier is to send them again", len(batch)
            )
            raise
        self.stats.receipts += len(batch) - kept
        self._orphans = self._orphans or kept > 0

    async def _write_replies(self, replies: Sequence[Reply]) -> None:
        if not replies:
            return
        now = self.clock()
        try:
            stored = await self.db.write(lambda c: store_replies(c, replies, now))
        except Exception:
            self.stats.errors += 1
            log.exception(
                "recording %d replies failed; the carrier is to send them again", len(replies)
            )
            raise
        self.stats.replies += stored

    async def retry_orphans(self) -> None:
        """Match kept receipts again (their messages may be recorded by now)."""
        now = self.clock()
        matched, expired = await self.db.write(
            lambda c: receipts.retry_orphans(c, now, self.unmatched_ttl)
        )
        self.stats.receipts += matched
        self.stats.unmatched += expired
        self._orphans = await self.db.read(receipts.has_orphans)

    async def expire_silent(self, now: float) -> int:
        """End messages whose receipt is overdue; returns how many."""
        cutoff = now - self.receipt_timeout
        return await self.db.write(lambda c: receipts.expire_silent(c, cutoff, now))

    def health(self) -> list[dict[str, Any]]:
        """A snapshot of every carrier: what SMPP binds report, or up for in-process ones."""
        now = self.clock()
        rows = []
        for name, carrier in self.carriers.items():
            report = getattr(carrier, "health", None)
            h = report() if callable(report) else None
            rows.append(
                {
                    "carrier": name,
                    "updated_at": now,
                    "binds": getattr(h, "binds", 1),
                    "bound": getattr(h, "bound", 1),
                    "window_in_use": getattr(h, "window_in_use", 0),
                    "window_size": getattr(h, "window_size", 0),
                    "submits_per_s": float(getattr(h, "submits_per_s", 0.0)),
                    "reconnects": getattr(h, "reconnects", 0),
                    "errors": json.dumps(getattr(h, "errors", {})),
                }
            )
        return rows

    async def save_health(self) -> None:
        rows = self.health()
        await self.db.write(lambda c: health.save_health(c, WORKER, rows))

    async def _sweep_loop(self) -> None:
        # Housekeeping on its own clock: nothing here may take the write lock every poll.
        # The first sweep looks for orphans a previous run left (inside the loop, so that a
        # database not yet reachable at start delays housekeeping instead of ending it).
        self._orphans = True
        tick = 0
        while True:
            await asyncio.sleep(0.5)
            tick += 1
            try:
                if self._orphans:
                    await self.retry_orphans()
                if tick % 4 == 0 and self._leased():
                    await self.sync_slots()
                if tick % 10 == 0:
                    await self.save_health()
                    if self._load_routes is not None:  # an operator's change takes effect
                        self.routes = await self.db.read(self._load_routes)
                    self.stats.expired += await self.expire_silent(self.clock())
            except asyncio.CancelledError:
                raise
            except Exception:
                self.stats.errors += 1
                log.exception("sweep failed")


async def _settle(waiters: Sequence[asyncio.Future[None]], write: Awaitable[None]) -> None:
    """Await ``write``, then complete ``waiters`` with its outcome (never raises: each
    carrier hears of a failure through its own future)."""
    try:
        await write
    except asyncio.CancelledError:
        for w in waiters:
            w.cancel()  # stopping: nothing is acknowledged, the network keeps it
        raise
    except Exception as exc:
        for w in waiters:
            if not w.done():
                w.set_exception(exc)
    else:
        for w in waiters:
            if not w.done():
                w.set_result(None)


async def _cancel(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
