"""The moves of a task that carry its messages along, each inside the caller's transaction:
*hold* (suspend: queued messages HELD, so no claim takes them), *release* (resume: HELD
messages QUEUED again) and *cancel* (waiting numbers and untaken messages CANCELLED and
refunded).
"""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from smscloud.domain import bulk
from smscloud.domain.message_states import CANCELLABLE, MessageState
from smscloud.services.billing import wallet
from smscloud.store import schema as s
from smscloud.store.messages import reported

t, n, m = s.send_tasks, s.task_numbers, s.messages


def hold(conn: Connection, task_id: int, reason: str) -> None:
    """Suspend a task and hold its queued messages (the caller checked it may)."""
    conn.execute(update(t).where(t.c.id == task_id).values(state="suspended", hold_reason=reason))
    conn.execute(
        update(m)
        .where(m.c.task_id == task_id, s.IN_TASK, m.c.state == MessageState.QUEUED)
        .values(state=MessageState.HELD)
    )


def release(conn: Connection, task_id: int, now: float) -> None:
    """Resume a task from now on and queue its held messages (the caller checked it may)."""
    conn.execute(
        update(t).where(t.c.id == task_id).values(state="running", hold_reason="", fed_at=now)
    )
    conn.execute(
        update(m)
        .where(m.c.task_id == task_id, s.IN_TASK, m.c.state == MessageState.HELD)
        .values(state=MessageState.QUEUED)
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
