"""The tenant's control of a task and what the console shows of it: ``TaskService``
(upload, confirm, discard, suspend, resume, cancel, progress) and the progress counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from smscloud.clock import Clock, system_clock
from smscloud.domain import bulk
from smscloud.domain.errors import RuleViolation
from smscloud.domain.outcomes import Outcome, outcome_of
from smscloud.domain.task_progress import is_finished, tally
from smscloud.services.sending.sms import SendService
from smscloud.services.tasks.states import cancel, hold, release
from smscloud.services.tasks.upload import (
    DEFAULT_RATE,
    Draft,
    DraftPreview,
    load_preview,
    store_draft,
)
from smscloud.store import schema as s
from smscloud.store.database import Database

t, n, m = s.send_tasks, s.task_numbers, s.messages

NOT_FOUND = ("ResourceNotExist.TaskNotExist", "No such task.")


def _not_found() -> RuleViolation:
    return RuleViolation(*NOT_FOUND)


class TaskService:
    """The tenant's side: upload, confirm, suspend, resume, cancel, and reading progress."""

    def __init__(self, db: Database, sender: SendService, clock: Clock = system_clock) -> None:
        self.db = db
        self.sender = sender
        self.clock = clock

    async def draft(
        self,
        tenant_id: int,
        *,
        sdk_app_id: str,
        sign_name: str,
        template_id: str,
        name: str,
        rows: Sequence[bulk.RowLike],
        rate: int = DEFAULT_RATE,
        start_at: float | None = None,
    ) -> Draft:
        """Check the list against the template and store it as a draft."""
        return await store_draft(
            self.db,
            self.sender,
            self.clock,
            tenant_id,
            sdk_app_id=sdk_app_id,
            sign_name=sign_name,
            template_id=template_id,
            name=name,
            rows=rows,
            rate=rate,
            start_at=start_at,
        )

    async def confirm(self, tenant_id: int, task_id: int) -> float:
        """Start a draft (at its start time, which is returned); the template and signature
        are checked again."""
        task = await self.task(tenant_id, task_id)
        if task.state != "draft":
            raise RuleViolation("FailedOperation", "The task was confirmed already.")
        tenant = await self.sender.usable_tenant(tenant_id)
        tpl = await self.sender.approved_template(tenant_id, str(task.template_id))
        await self.sender.check_rights(tenant, tpl, task.international, task.sign_name)
        now = self.clock()
        start = max(float(task.start_at), now)
        changed = await self.db.write(
            lambda c: (
                c.execute(
                    update(t)
                    .where(t.c.id == task_id, t.c.tenant_id == tenant_id, t.c.state == "draft")
                    .values(state="running", start_at=start, fed_at=start, confirmed_at=now)
                ).rowcount
            )
        )
        if not changed:
            raise RuleViolation("FailedOperation", "The task was confirmed already.")
        return start

    async def discard(self, tenant_id: int, task_id: int) -> None:
        """Delete a draft that was not confirmed."""

        def drop(conn: Connection) -> int:
            gone = conn.execute(
                delete(t).where(t.c.id == task_id, t.c.tenant_id == tenant_id, t.c.state == "draft")
            ).rowcount
            if gone:
                conn.execute(delete(n).where(n.c.task_id == task_id))
            return int(gone)

        if not await self.db.write(drop):
            raise _not_found()

    async def suspend(self, tenant_id: int, task_id: int) -> None:
        """Stop feeding and hold the task's queued messages."""
        await self._change(tenant_id, task_id, lambda c: hold(c, task_id, ""), ("running",))

    async def resume(self, tenant_id: int, task_id: int) -> None:
        """Feed again from now on and queue the held messages."""
        now = self.clock()
        await self._change(tenant_id, task_id, lambda c: release(c, task_id, now), ("suspended",))

    async def cancel(self, tenant_id: int, task_id: int) -> None:
        """End the task: nothing more of it is sent, and what was not sent is refunded."""
        now = self.clock()
        await self._change(
            tenant_id, task_id, lambda c: cancel(c, task_id, now), ("running", "suspended")
        )

    async def _change(
        self,
        tenant_id: int,
        task_id: int,
        work: Callable[[Connection], Any],
        allowed: tuple[str, ...],
    ) -> None:
        def run(conn: Connection) -> bool:
            q = select(t.c.state).where(t.c.id == task_id, t.c.tenant_id == tenant_id)
            if conn.dialect.name == "postgresql":
                q = q.with_for_update()  # one change at a time, and none during a feed
            state = conn.execute(q).scalar()
            if state is None:
                raise _not_found()
            if state not in allowed:
                return False
            work(conn)
            return True

        if not await self.db.write(run):
            raise RuleViolation("FailedOperation", "The task is not in a state that allows this.")

    async def task(self, tenant_id: int, task_id: int) -> Any:
        """The tenant's task row, or ResourceNotExist."""
        row = await self.db.read(
            lambda c: c.execute(
                select(t).where(
                    t.c.id == task_id, t.c.tenant_id == tenant_id, t.c.state != "uploading"
                )
            ).first()
        )
        if row is None:
            raise _not_found()
        return row

    async def progress(self, tenant_id: int, task_id: int) -> dict[str, Any]:
        """The task, its numbers by state and its messages by state and receipt code."""
        task = await self.task(tenant_id, task_id)

        def load(conn: Connection) -> dict[str, Any]:
            numbers = {
                int(state): int(count)
                for state, count in conn.execute(
                    select(n.c.state, func.count())
                    .where(n.c.task_id == task_id)
                    .group_by(n.c.state)
                )
            }
            messages = conn.execute(
                select(m.c.state, m.c.receipt_code, func.count())
                .where(m.c.task_id == task_id, s.IN_TASK)
                .group_by(m.c.state, m.c.receipt_code)
            ).all()
            refusals = conn.execute(
                select(n.c.state, n.c.code, func.count())
                .where(
                    n.c.task_id == task_id,
                    n.c.state.in_((bulk.REFUSED, bulk.INVALID, bulk.DUPLICATE)),
                )
                .group_by(n.c.state, n.c.code)
            ).all()
            return {"numbers": numbers, "messages": messages, "refusals": refusals}

        data = await self.db.read(load)
        return {"task": task} | summarize(data["numbers"], data["messages"], data["refusals"])

    async def recent(self, tenant_id: int, limit: int = 50) -> list[Any]:
        """The tenant's newest confirmed tasks."""
        query = (
            select(t)
            .where(t.c.tenant_id == tenant_id, t.c.state.not_in(("uploading", "draft")))
            .order_by(t.c.id.desc())
            .limit(limit)
        )
        return await self.db.read(lambda c: list(c.execute(query).all()))

    async def fed_counts(self, task_ids: Sequence[int]) -> dict[int, int]:
        """Numbers of each task already handed over (accepted or refused), for its progress."""
        n = s.task_numbers
        if not task_ids:
            return {}
        query = (
            select(n.c.task_id, func.count())
            .where(n.c.task_id.in_(task_ids), n.c.state.in_((bulk.ACCEPTED, bulk.REFUSED)))
            .group_by(n.c.task_id)
        )
        return await self.db.read(lambda c: {int(i): int(k) for i, k in c.execute(query)})

    async def draft_preview(self, tenant_id: int, task: Any, now: float) -> DraftPreview:
        """What a tenant confirms a draft on: its template, the counts of valid, invalid and
        repeated numbers, the first problems and sample messages, and the units left."""
        return await load_preview(self.db, tenant_id, task, now)


def summarize(
    numbers: dict[int, int], messages: Sequence[Any], refusals: Sequence[Any]
) -> dict[str, Any]:
    """Counts for a progress bar and a receipt analysis: ``counts`` by outcome
    (``domain.task_progress``, the definition the statistics use), the receipts by state and
    code, and why numbers were not sent."""
    counts = tally(numbers, [(str(st), str(code), int(k)) for st, code, k in messages])
    receipts: dict[str, int] = {}
    for state, code, count in messages:
        if outcome_of(state) in (Outcome.DELIVERED, Outcome.FAILED):
            key = f"{state} {code}".strip()
            receipts[key] = receipts.get(key, 0) + int(count)
    fed = numbers.get(bulk.ACCEPTED, 0) + numbers.get(bulk.REFUSED, 0)
    return {
        "counts": counts,
        "finished": is_finished(counts),
        "valid": counts.total,
        "fed": fed,
        "invalid": numbers.get(bulk.INVALID, 0),
        "duplicates": numbers.get(bulk.DUPLICATE, 0),
        "percent": counts.percent,
        "receipts": sorted(receipts.items(), key=lambda kv: (-kv[1], kv[0])),
        "refusals": sorted(
            ((int(state), code, int(count)) for state, code, count in refusals),
            key=lambda r: (-r[2], r[1]),
        ),
    }
