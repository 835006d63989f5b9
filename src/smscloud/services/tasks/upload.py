"""A recipient list checked and stored as a draft, and the preview the tenant confirms it on.

Every row is checked and rendered (``domain.bulk``) and stored, so the tenant confirms exactly
what will be sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from smscloud.clock import Clock
from smscloud.domain import bulk
from smscloud.domain.errors import RuleViolation
from smscloud.services.billing import wallet
from smscloud.services.sending.sms import SendService, param_length_limit
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id, run_many

t = s.send_tasks

RATES = (100, 500, 1000, 2000)  # numbers a second a tenant may choose
DEFAULT_RATE = 500
UPLOAD_SLICE = 10_000  # rows of a list stored in one transaction
MAX_SCHEDULE = 30 * 86400.0


def start_in_window(start_at: float, now: float) -> bool:
    """Whether a task may be scheduled to start at ``start_at``: from now (a minute's grace for
    the time the form took) to ``MAX_SCHEDULE`` ahead."""
    return now - 60 <= start_at <= now + MAX_SCHEDULE


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


async def store_draft(
    db: Database,
    sender: SendService,
    clock: Clock,
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
    tenant = await sender.usable_tenant(tenant_id)
    app = await sender.owned_app(tenant_id, sdk_app_id)
    tpl = await sender.approved_template(tenant_id, template_id)
    international = tpl.international == 1
    sms_type, sign = await sender.check_rights(tenant, tpl, international, sign_name)
    if rate not in RATES:
        speeds = ", ".join(str(r) for r in RATES)
        raise RuleViolation(
            "InvalidParameterValue", f"The speed must be one of {speeds} numbers a second."
        )
    now = clock()
    if start_at is not None and not start_in_window(start_at, now):
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

    task_id = await db.write(create)
    # In slices, each its own transaction, so a long list never holds the write lock long
    # enough to delay the API's sends; the task is a draft once the last slice is in.
    records = [
        (task_id, seq, p.line, p.raw, p.phone, p.nation_code, p.iso_code, p.content,
         p.parts, p.state, p.code)
        for seq, p in enumerate(plan.rows)
    ]  # fmt: skip
    for i in range(0, len(records), UPLOAD_SLICE):
        await db.write(
            _slice_writer(records[i : i + UPLOAD_SLICE], i + UPLOAD_SLICE >= len(records))
        )
    return Draft(task_id, plan)


async def load_preview(db: Database, tenant_id: int, task: Any, now: float) -> DraftPreview:
    """What a tenant confirms a draft on: its template, the counts of valid, invalid and
    repeated numbers, the first problems and sample messages, and the units left."""
    n, tpl = s.task_numbers, s.templates

    def load(conn: Connection) -> DraftPreview:
        counts = {
            int(state): int(count)
            for state, count in conn.execute(
                select(n.c.state, func.count()).where(n.c.task_id == task.id).group_by(n.c.state)
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

    return await db.read(load)


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
