"""The loop in each delivery worker that feeds running bulk tasks to ACCEPT.

What one feed does (a slice of numbers, at the task's rate, in one transaction) is
``services/tasks/feeding.py::feed``; this module only runs it: a round every tick for every
due task, marketing tasks held outside Tencent's sending hours, stale drafts swept once an
hour.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from smscloud.clock import Clock, system_clock
from smscloud.delivery.rounds import run_rounds, stop_task
from smscloud.domain.templates import SmsType
from smscloud.services.sending.sms import in_marketing_hours
from smscloud.services.tasks import Fed, drop_stale_drafts, due_tasks, feed
from smscloud.store.database import Database

TICK = 0.2  # seconds between rounds: the rate, not the loop, sets the speed


class TaskFeeder:
    """The loop in each delivery worker that feeds running tasks (see ``feed``)."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        *,
        free_units: int = 0,
        on_accepted: Callable[[], None] | None = None,
        tick: float = TICK,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.tz = tz
        self.free_units = free_units
        self.on_accepted = on_accepted
        self.tick = tick
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._swept = 0.0

    async def start(self) -> None:
        # Paced: a round every tick whether it fed or not (the rate, not the loop, sets speed).
        rounds = run_rounds(self.feed_round, self.tick, "task feeding", busy=self.tick)
        self._task = asyncio.create_task(rounds, name="task-feeder")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None

    def _feeding(self, task_id: int) -> Callable[[Connection], Fed]:
        return lambda conn: feed(conn, task_id, self.clock(), self.tz, self.free_units)

    async def feed_round(self) -> int:
        """Feed every due task once; returns how many numbers were accepted."""
        now = self.clock()
        if now - self._swept > 3600:
            self._swept = now
            await self.db.write(lambda c: drop_stale_drafts(c, now))
        tasks = await self.db.read(lambda c: due_tasks(c, now))
        accepted = 0
        for task_id, sms_type in tasks:
            if sms_type == SmsType.MARKETING and not in_marketing_hours(now, self.tz):
                continue  # it waits for 08:00 rather than having every number refused
            fed = await self.db.write(self._feeding(task_id))
            accepted += fed.accepted
        if accepted and self.on_accepted is not None:
            self.on_accepted()
        return accepted
