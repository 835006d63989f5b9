"""Bulk send tasks: a recipient list checked at upload, then fed to ACCEPT at a steady rate.

A task is a *draft* once uploaded: every row is checked and rendered (``domain.bulk``) and
stored, so the tenant confirms exactly what will be sent. Confirmed, it is *running* (from its
start time on) and the delivery workers feed its waiting numbers to ACCEPT, ``rate`` a second,
in the same transaction that marks them accepted or refused: a number is sent once, however
many workers feed and whenever one dies. Pacing keeps a large campaign from crowding out the
verification codes that arrive through the API meanwhile.

*Suspend* stops the feeding and holds the task's messages still queued (state HELD) in one
transaction, so nothing more of the task reaches a carrier; *resume* queues them again.
*Cancel* ends the task: waiting numbers are cancelled, held and queued messages are CANCELLED
and their units refunded. The platform suspends a task itself (``hold_reason``) when the
packages run out or a daily limit is reached, keeping the numbers concerned waiting, and when
the account may no longer send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, func, insert, select, update

from smscloud.clock import Clock, system_clock
from smscloud.domain import bulk
from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import (
    CANCELLABLE,
    FAILURES,
    PENDING,
    REPORTED,
    MessageState,
)
from smscloud.services.billing import postpaid, usage, wallet
from smscloud.services.metadata.cache import app_from_row, load_tenant
from smscloud.services.sending.accept import ACCEPT, INSUFFICIENT, OK, AcceptRequest, Candidate
from smscloud.services.sending.sms import (
    SendService,
    content_key,
    param_length_limit,
    usable_tenant,
)
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id, run_many
from smscloud.store.messages import reported

t, n, m = s.send_tasks, s.task_numbers, s.messages

RATES = (100, 500, 1000, 2000)  # numbers a second a tenant may choose
DEFAULT_RATE = 500
MAX_FEED = 1000  # numbers one feed transaction takes, whatever the rate
BURST_SECONDS = 1.0  # a feeder that fell behind catches up by at most this much
DRAFT_TTL = 86400.0  # unconfirmed drafts are deleted after a day
UPLOAD_SLICE = 10_000  # rows of a list stored in one transaction
MAX_SCHEDULE = 30 * 86400.0

# Codes that hold the task (and keep the number waiting) instead of refusing the number.
HOLDS = {
    INSUFFICIENT: "package",
    usage.APP_DAILY: "daily_limit",
    usage.APP_MAINLAND_DAILY: "daily_limit",
    usage.APP_GLOBAL_DAILY: "daily_limit",
}
NOT_FOUND = ("ResourceNotExist.TaskNotExist", "No such task.")
SHOWN_PROBLEMS = 100  # rows with a problem a draft's preview lists
SHOWN_SAMPLES = 3


@dataclass(frozen=True, slots=True)
class Draft:
    """What an upload produced: the stored draft and the verdict on its rows."""

    task_id: int
    plan: bulk.Plan


@dataclass(frozen=True, slots=True)
class DraftTemplate:
    name: str
    content: str


@dataclass(frozen=True, slots=True)
class DraftProblem:
    """A row of the list that is not sent: its line, what it held, and the error code."""

    line: int
    raw: str
    code: str


@dataclass(frozen=True, slots=True)
class DraftSample:
    phone: str
    content: str
    parts: int


@dataclass(frozen=True, slots=True)
class DraftPreview:
    template: DraftTemplate | None
    valid: int
    invalid: int
    duplicates: int
    problems: list[DraftProblem]
    samples: list[DraftSample]
    units_left: int


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
        tenant = await self.sender.usable_tenant(tenant_id)
        app = await self.sender.owned_app(tenant_id, sdk_app_id)
        tpl = await self.sender.approved_template(tenant_id, template_id)
        international = tpl.international == 1
        sms_type, sign = await self.sender.check_rights(tenant, tpl, international, sign_name)
        if rate not in RATES:
            speeds = ", ".join(str(r) for r in RATES)
            raise RuleViolation(
                "InvalidParameterValue", f"The speed must be one of {speeds} numbers a second."
            )
        now = self.clock()
        if start_at is not None and not now - 60 <= start_at <= now + MAX_SCHEDULE:
            raise RuleViolation(
                "InvalidParameterValue", "The start time must be between now and 30 days ahead."
            )
        plan = await asyncio.to_thread(
            bulk.plan_rows,
            rows,
            template=tpl.content,
            sms_type=sms_type,
            sign=sign or None,
            international=international,
            max_param_length=param_length_limit(tenant, app),
        )
        if not plan.rows:
            raise RuleViolation("InvalidParameterValue", "The list holds no numbers.")

        def create(conn: Connection) -> int:
            return inserted_id(
                conn.execute(
                    insert(t).values(
                        tenant_id=tenant_id,
                        app_id=app.id,
                        name=name[:128],
                        sign_name=sign,
                        template_id=tpl.id,
                        sms_type=int(sms_type),
                        international=international,
                        state="uploading",
                        hold_reason="",
                        rate=rate,
                        start_at=max(start_at or now, now),
                        fed_at=now,
                        numbers=plan.valid,
                        parts=plan.parts,
                        created_at=now,
                    )
                )
            )

        task_id = await self.db.write(create)
        # In slices, each its own transaction, so a long list never holds the write lock long
        # enough to delay the API's sends; the task is a draft once the last slice is in.
        records = [
            (task_id, seq, p.line, p.raw, p.phone, p.nation_code, p.iso_code, p.content,
             p.parts, p.state, p.code)
            for seq, p in enumerate(plan.rows)
        ]  # fmt: skip
        for i in range(0, len(records), UPLOAD_SLICE):
            await self.db.write(
                _slice_writer(records[i : i + UPLOAD_SLICE], i + UPLOAD_SLICE >= len(records))
            )
        return Draft(task_id, plan)

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

        def run(conn: Connection) -> None:
            conn.execute(
                update(t)
                .where(t.c.id == task_id)
                .values(state="running", hold_reason="", fed_at=now)
            )
            conn.execute(
                update(m)
                .where(m.c.task_id == task_id, s.IN_TASK, m.c.state == MessageState.HELD)
                .values(state=MessageState.QUEUED)
            )

        await self._change(tenant_id, task_id, run, ("suspended",))

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
        n, tpl = s.task_numbers, s.templates

        def load(conn: Connection) -> DraftPreview:
            counts = {
                int(state): int(count)
                for state, count in conn.execute(
                    select(n.c.state, func.count())
                    .where(n.c.task_id == task.id)
                    .group_by(n.c.state)
                )
            }
            problems = conn.execute(
                select(n.c.line, n.c.raw, n.c.code)
                .where(n.c.task_id == task.id, n.c.state.in_((bulk.INVALID, bulk.DUPLICATE)))
                .order_by(n.c.seq)
                .limit(SHOWN_PROBLEMS)
            )
            samples = conn.execute(
                select(n.c.phone, n.c.content, n.c.parts)
                .where(n.c.task_id == task.id, n.c.state == bulk.WAITING)
                .order_by(n.c.seq)
                .limit(SHOWN_SAMPLES)
            )
            template = conn.execute(
                select(tpl.c.name, tpl.c.content).where(tpl.c.id == task.template_id)
            ).first()
            return DraftPreview(
                template=None if template is None else DraftTemplate(*template),
                valid=counts.get(bulk.WAITING, 0),
                invalid=counts.get(bulk.INVALID, 0),
                duplicates=counts.get(bulk.DUPLICATE, 0),
                problems=[DraftProblem(*row) for row in problems],
                samples=[DraftSample(*row) for row in samples],
                units_left=int(wallet.units_left(conn, tenant_id, now)),
            )

        return await self.db.read(load)


def _slice_writer(rows: Sequence[tuple[Any, ...]], last: bool) -> Callable[[Connection], None]:
    """Store a slice of a list's rows; the last slice makes the task a draft."""
    return lambda conn: _store_slice(conn, rows, last)


def _store_slice(conn: Connection, rows: Sequence[tuple[Any, ...]], last: bool) -> None:
    run_many(
        conn,
        "INSERT INTO task_numbers (task_id, seq, line, raw, phone, nation_code,"
        " iso_code, content, parts, state, code, serial_no)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '')",
        rows,
    )
    if last:
        task_id = rows[0][0]
        conn.execute(update(t).where(t.c.id == task_id).values(state="draft"))


def summarize(
    numbers: dict[int, int], messages: Sequence[Any], refusals: Sequence[Any]
) -> dict[str, Any]:
    """Counts for a progress bar and a receipt analysis."""
    by_state: dict[str, int] = {}
    receipts: dict[str, int] = {}
    for state, code, count in messages:
        by_state[state] = by_state.get(state, 0) + int(count)
        if state in REPORTED:
            key = f"{state} {code}".strip()
            receipts[key] = receipts.get(key, 0) + int(count)
    valid = sum(numbers.get(k, 0) for k in (bulk.WAITING, bulk.ACCEPTED, bulk.REFUSED))
    valid += numbers.get(bulk.CANCELLED, 0)
    fed = numbers.get(bulk.ACCEPTED, 0) + numbers.get(bulk.REFUSED, 0)
    delivered = by_state.get(MessageState.DELIVERED, 0)
    failed = sum(by_state.get(k, 0) for k in FAILURES)
    return {
        "valid": valid,
        "waiting": numbers.get(bulk.WAITING, 0),
        "accepted": numbers.get(bulk.ACCEPTED, 0),
        "refused": numbers.get(bulk.REFUSED, 0),
        "invalid": numbers.get(bulk.INVALID, 0),
        "duplicates": numbers.get(bulk.DUPLICATE, 0),
        "cancelled": numbers.get(bulk.CANCELLED, 0) + by_state.get(MessageState.CANCELLED, 0),
        "fed": fed,
        "held": by_state.get(MessageState.HELD, 0),
        "in_flight": sum(by_state.get(k, 0) for k in PENDING),
        "delivered": delivered,
        "failed": failed,
        "unknown": by_state.get(MessageState.UNKNOWN, 0),
        "percent": 100 * fed // valid if valid else 100,
        "receipts": sorted(receipts.items(), key=lambda kv: (-kv[1], kv[0])),
        "refusals": sorted(
            ((int(state), code, int(count)) for state, code, count in refusals),
            key=lambda r: (-r[2], r[1]),
        ),
    }


def hold(conn: Connection, task_id: int, reason: str) -> None:
    """Suspend a task and hold its queued messages (the caller checked it may)."""
    conn.execute(update(t).where(t.c.id == task_id).values(state="suspended", hold_reason=reason))
    conn.execute(
        update(m)
        .where(m.c.task_id == task_id, s.IN_TASK, m.c.state == MessageState.QUEUED)
        .values(state=MessageState.HELD)
    )


def cancel(conn: Connection, task_id: int, now: float) -> None:
    """Cancel a task: waiting numbers, and messages not handed to a carrier, refunded. Those
    messages were accepted, so their end is reported like any other final state."""
    conn.execute(update(t).where(t.c.id == task_id).values(state="cancelled", finished_at=now))
    conn.execute(
        update(n)
        .where(n.c.task_id == task_id, s.TASK_PENDING, n.c.state == bulk.WAITING)
        .values(state=bulk.CANCELLED)
    )
    ids = [
        r[0]
        for r in conn.execute(
            select(m.c.id).where(m.c.task_id == task_id, s.IN_TASK, m.c.state.in_(CANCELLABLE))
        )
    ]
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        conn.execute(
            update(m)
            .where(m.c.id.in_(chunk), m.c.state.in_(CANCELLABLE))
            .values(
                state=MessageState.CANCELLED,
                done_at=now,
                # No carrier had it, so no carrier's word: the code says what the state says.
                receipt_code=MessageState.CANCELLED.value,
                **reported(now),
            )
        )
        wallet.refund_messages(conn, chunk, now)


# -- feeding (delivery workers) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fed:
    accepted: int = 0
    refused: int = 0
    held: str = ""  # why the task was suspended, if it was
    finished: bool = False


def feed(conn: Connection, task_id: int, now: float, tz: ZoneInfo, free_units: int = 0) -> Fed:
    """Feed the numbers a running task owes by now to ACCEPT, in this one transaction."""
    q = select(t).where(t.c.id == task_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()  # feeders of other workers wait, then see the new fed_at
    task = conn.execute(q).first()
    if task is None or task.state != "running" or task.start_at > now:
        return Fed()
    owed = min(int(task.rate * min(now - task.fed_at, BURST_SECONDS)), MAX_FEED)
    if owed < 1:
        return Fed()
    try:
        usable_tenant(load_tenant(conn, task.tenant_id))
    except RuleViolation:
        hold(conn, task_id, "account")
        return Fed(held="account")
    if postpaid.in_arrears(conn, task.tenant_id, now):
        hold(conn, task_id, "arrears")
        return Fed(held="arrears")
    app_row = (
        conn.execute(select(s.applications).where(s.applications.c.id == task.app_id))
        .mappings()
        .first()
    )
    if app_row is None or app_row["status"] != "active":
        hold(conn, task_id, "application")
        return Fed(held="application")
    app = app_from_row(app_row)
    rows = conn.execute(
        select(n.c.seq, n.c.raw, n.c.phone, n.c.nation_code, n.c.iso_code, n.c.content, n.c.parts)
        .where(n.c.task_id == task_id, s.TASK_PENDING, n.c.state == bulk.WAITING)
        .order_by(n.c.seq)
        .limit(owed)
    ).all()
    if not rows:
        conn.execute(update(t).where(t.c.id == task_id).values(state="finished", finished_at=now))
        return Fed(finished=True)
    candidates = [
        Candidate(r.raw, r.phone, r.nation_code, r.iso_code, r.content, content_key(r.content),
                  r.parts)
        for r in rows
    ]  # fmt: skip
    request = AcceptRequest(
        request_id=f"task-{task_id}",
        tenant_id=task.tenant_id,
        app_id=task.app_id,
        policy=app.policy,
        allowlist=app.allowlist,
        template_id=task.template_id,
        sms_type=task.sms_type,
        sign_name=task.sign_name,
        international=task.international,
        session_context="",
        extend_code="",
        sender_id="",
        now=now,
        tz=tz,
        candidates=candidates,
        daily_limits=app.daily_limits,
        free_units=free_units,
        task_id=task_id,
        keep=frozenset(HOLDS),
    )
    ACCEPT.run_many(conn, [request])
    done = [
        (bulk.ACCEPTED if c.code == OK else bulk.REFUSED, c.code[:96], c.serial_no, r.seq)
        for r, c in zip(rows, candidates, strict=True)
        if c.code not in HOLDS
    ]
    run_many(
        conn,
        f"UPDATE task_numbers SET state = ?, code = ?, serial_no = ?"
        f" WHERE task_id = {int(task_id)} AND seq = ? AND state = 0",
        done,
    )
    accepted = sum(1 for d in done if d[0] == bulk.ACCEPTED)
    reasons = [HOLDS[c.code] for c in candidates if c.code in HOLDS]
    if reasons:
        hold(conn, task_id, reasons[0])
        return Fed(accepted, len(done) - accepted, held=reasons[0])
    fed_at = max(task.fed_at + len(rows) / task.rate, now - BURST_SECONDS)
    conn.execute(update(t).where(t.c.id == task_id).values(fed_at=fed_at))
    return Fed(accepted, len(done) - accepted)


def due_tasks(conn: Connection, now: float) -> list[tuple[int, int]]:
    """(id, sms_type) of running tasks whose start time has come."""
    return [
        (int(i), int(st))
        for i, st in conn.execute(
            select(t.c.id, t.c.sms_type).where(
                s.TASK_LIVE, t.c.state == "running", t.c.start_at <= now
            )
        )
    ]


def drop_stale_drafts(conn: Connection, now: float) -> int:
    """Delete drafts nobody confirmed within a day."""
    stale = [
        r[0]
        for r in conn.execute(
            select(t.c.id).where(
                t.c.state.in_(("uploading", "draft")), t.c.created_at < now - DRAFT_TTL
            )
        )
    ]
    if stale:
        conn.execute(delete(n).where(n.c.task_id.in_(stale)))
        conn.execute(delete(t).where(t.c.id.in_(stale)))
    return len(stale)
