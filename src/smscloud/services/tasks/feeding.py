"""Feeding running tasks to ACCEPT: what each delivery worker's ``TaskFeeder``
(``delivery/task_feeder.py``) runs, and the sweep of drafts nobody confirmed.

A task is fed ``rate`` numbers a second, in the same transaction that marks them accepted or
refused: a number is sent once, however many workers feed and whenever one dies. Pacing keeps
a large campaign from crowding out the verification codes that arrive through the API
meanwhile. A task fed to the end is *finished* once every number has its final outcome
(``domain.task_progress``), not before: the feeder looks at it again now and then until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, select, update

from smscloud.domain import bulk
from smscloud.domain.errors import RuleViolation
from smscloud.domain.outcomes import STATES, Outcome
from smscloud.services.billing import postpaid, usage
from smscloud.services.metadata.cache import app_from_row, load_tenant
from smscloud.services.sending.accept import ACCEPT, INSUFFICIENT, OK, AcceptRequest, Candidate
from smscloud.services.sending.sms import content_key, usable_tenant
from smscloud.services.tasks.states import hold
from smscloud.store import schema as s
from smscloud.store.database import run_many

t, n, m = s.send_tasks, s.task_numbers, s.messages

MAX_FEED = 1000  # numbers one feed transaction takes, whatever the rate
BURST_SECONDS = 1.0  # a feeder that fell behind catches up by at most this much
DRAFT_TTL = 86400.0  # unconfirmed drafts are deleted after a day
# A task fed to the end waits for its messages' outcomes; it is looked at this often meanwhile
# (its ``fed_at`` is set this far ahead), so a task waiting for receipts costs no write a round.
SETTLE_POLL = 5.0

# Codes that hold the task (and keep the number waiting) instead of refusing the number.
HOLDS = {
    INSUFFICIENT: "package",
    usage.APP_DAILY: "daily_limit",
    usage.APP_MAINLAND_DAILY: "daily_limit",
    usage.APP_GLOBAL_DAILY: "daily_limit",
}


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
        return _settle(conn, task_id, now)
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


def _settle(conn: Connection, task_id: int, now: float) -> Fed:
    """Every number is handed over: the task is finished once none of its messages is still
    on its way (``domain.task_progress``: every number has its final outcome). Until then it
    is looked at again every ``SETTLE_POLL`` seconds, not every round."""
    on_the_way = conn.execute(
        select(m.c.id)
        .where(m.c.task_id == task_id, s.IN_TASK, m.c.state.in_(STATES[Outcome.SENDING]))
        .limit(1)
    ).first()
    if on_the_way is not None:
        conn.execute(update(t).where(t.c.id == task_id).values(fed_at=now + SETTLE_POLL))
        return Fed()
    conn.execute(update(t).where(t.c.id == task_id).values(state="finished", finished_at=now))
    return Fed(finished=True)


def due_tasks(conn: Connection, now: float) -> list[tuple[int, int]]:
    """(id, sms_type) of running tasks whose start time has come."""
    return [
        (int(i), int(st))
        for i, st in conn.execute(
            select(t.c.id, t.c.sms_type).where(
                s.TASK_LIVE, t.c.state == "running", t.c.start_at <= now, t.c.fed_at <= now
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
