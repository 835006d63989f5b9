"""Sending the e-mail notifications queued in ``notifications`` (arrears notices, alarms).

Writers queue a row in the transaction that decided it; this loop claims due rows under a
lease, sends them through a ``Mailer`` and records the outcome. A failed send is retried with
backoff (``retry_s``, then 4x, 16x, ... longer) and given up after ``max_attempts``.

Several workers may run it at once: a claim pushes ``next_at`` past a lease in the same
transaction (on PostgreSQL under ``FOR UPDATE SKIP LOCKED``), so a row is claimed by one
worker at a time. A round stops starting sends after ``ROUND_BUDGET`` and bounds each send
by ``SEND_TIMEOUT``; their sum stays well under ``LEASE``, so the outcome is recorded before
another worker could claim the row again. SMS-channel rows are not handled here.

The loop also raises the one notice no request decides: a bill that passed its due date
unpaid (``postpaid.notice_overdue``), looked for once every ``OVERDUE_EVERY`` seconds with a
read, and written, like every notice, in the transaction that marks the bill told.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text, update

from smscloud.clock import Clock, system_clock
from smscloud.delivery.rounds import run_rounds, stop_task
from smscloud.notify.mail import Mail, Mailer, MailError
from smscloud.services.billing import postpaid
from smscloud.store import schema as s
from smscloud.store.database import Database

log = logging.getLogger(__name__)
BATCH = 50
LEASE = 60.0
ROUND_BUDGET = 30.0  # no new send starts later than this into a round
SEND_TIMEOUT = 20.0  # one send; ROUND_BUDGET + SEND_TIMEOUT leaves 10 s of LEASE to record
OVERDUE_EVERY = 60.0  # seconds between looks for bills that became overdue
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")  # Settings.timezone's default
EMAIL = "email"
# The literal predicate of the partial index ix_notifications_due (a bound parameter would
# not match it).
DUE = text("state = 0")
n = s.notifications


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    recipients: tuple[str, ...]
    subject: str
    body: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Failure:
    item: Claimed
    error: str
    permanent: bool  # retrying cannot help (e.g. no valid recipient): give up at once


def has_due(conn: Connection, now: float) -> bool:
    """Whether a claim would find anything: a read, so idle polling takes no write lock."""
    query = select(n.c.id).where(DUE, n.c.next_at <= now, n.c.channel == EMAIL).limit(1)
    return conn.execute(query).first() is not None


def claim(conn: Connection, now: float, limit: int = BATCH) -> list[Claimed]:
    """Lease up to ``limit`` due e-mail notifications, oldest due first."""
    query = (
        select(n.c.id, n.c.recipients, n.c.subject, n.c.body, n.c.attempts)
        .where(DUE, n.c.next_at <= now, n.c.channel == EMAIL)
        .order_by(n.c.next_at, n.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = conn.execute(query).all()
    if not rows:
        return []
    conn.execute(update(n).where(n.c.id.in_([r.id for r in rows])).values(next_at=now + LEASE))
    return [
        Claimed(
            int(r.id),
            tuple(line.strip() for line in r.recipients.splitlines() if line.strip()),
            r.subject,
            r.body,
            int(r.attempts),
        )
        for r in rows
    ]


def record(
    conn: Connection,
    sent: Sequence[int],
    failed: Sequence[Failure],
    released: Sequence[int],
    now: float,
    retry_s: float,
    max_attempts: int,
) -> None:
    """Mark sent rows, schedule failed ones again (or give them up), free unattempted ones."""
    if sent:
        conn.execute(update(n).where(n.c.id.in_(sent), DUE).values(state=1, sent_at=now))
    if released:
        conn.execute(update(n).where(n.c.id.in_(released), DUE).values(next_at=now))
    for f in failed:
        tries = f.item.attempts + 1
        values: dict[str, Any] = {"attempts": tries, "error": f.error[:1000]}
        if f.permanent or tries >= max_attempts:
            values["state"] = 2
            log.warning(
                "gave up notification %s after %s attempt(s): %s", f.item.id, tries, f.error
            )
        else:
            # The n-th retry waits retry_s * 4**(n-1).
            values["next_at"] = now + retry_s * 4**f.item.attempts
        conn.execute(update(n).where(n.c.id == f.item.id, DUE).values(**values))


class Notifier:
    """Claims due e-mail notifications, sends them, records the outcome."""

    def __init__(
        self,
        db: Database,
        mailer: Mailer,
        *,
        retry_s: float = 30.0,
        max_attempts: int = 6,
        poll_interval: float = 1.0,
        clock: Clock = system_clock,
        tz: ZoneInfo = DEFAULT_TZ,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
        self.db = db
        self.mailer = mailer
        self.clock = clock
        self.retry_s = retry_s
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self.tz = tz  # the due dates in arrears notices are written in it
        self._overdue_at = 0.0  # the platform time of the last look for overdue bills
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="notifier")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    async def _loop(self) -> None:
        await run_rounds(self.send_once, self.poll_interval, "notification")

    async def send_once(self) -> int:
        """One round: claim, send, record; returns how many notifications were attempted."""
        now = self.clock()
        await self.notice_overdue(now)
        if not await self.db.read(lambda c: has_due(c, now)):
            return 0
        claimed = await self.db.write(lambda c: claim(c, now))
        if not claimed:
            return 0
        began = time.monotonic()
        sent: list[int] = []
        failed: list[Failure] = []
        released: list[int] = []
        for item in claimed:
            if time.monotonic() - began > ROUND_BUDGET:
                released.append(item.id)  # not attempted: due again at once
                continue
            failure = await self._send(item)
            if failure is None:
                sent.append(item.id)
            else:
                failed.append(failure)
        self.sent += len(sent)
        self.failed += len(failed)
        finished = self.clock()
        await self.db.write(
            lambda c: record(c, sent, failed, released, finished, self.retry_s, self.max_attempts)
        )
        return len(sent) + len(failed)

    async def notice_overdue(self, now: float) -> int:
        """Queue the arrears notices of bills that became overdue, at most once every
        ``OVERDUE_EVERY`` seconds; returns how many."""
        if now - self._overdue_at < OVERDUE_EVERY:
            return 0
        self._overdue_at = now
        if not await self.db.read(lambda c: postpaid.overdue_unnoticed(c, now)):
            return 0
        return await self.db.write(lambda c: postpaid.notice_overdue(c, self.tz, now))

    async def _send(self, item: Claimed) -> Failure | None:
        try:
            mail = Mail(to=item.recipients, subject=item.subject, body=item.body)
        except ValueError as exc:
            return Failure(item, f"unsendable: {exc}", permanent=True)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.mailer.send(mail)
        except MailError as exc:
            log.info("notification %s not sent: %s", item.id, exc)
            return Failure(item, str(exc), permanent=False)
        except TimeoutError:
            return Failure(item, f"no answer within {SEND_TIMEOUT:g} s", permanent=False)
        except Exception as exc:
            log.exception("notification %s: mailer failed", item.id)
            return Failure(item, f"{type(exc).__name__}: {exc}", permanent=False)
        return None
