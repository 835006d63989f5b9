"""Every write of a call's life after ACCEPT, one function per move of ``domain/call_states``.

Each function runs inside one transaction (the store's group commit) and moves only calls
that are still where the move starts: an update names the states it leaves from, so a call a
recovering worker already ended is never ended (or billed) again by the worker that placed
it, and the other way round. A move that ends a call writes, in the same transaction, its
talk time to the usage meter (answered calls only, per started minute) and its callbacks to
the ``voice_pushes`` outbox, when the application has a voice callback URL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from smscloud.carriers.voice.base import CallOutcome
from smscloud.delivery.callbacks.voice_bodies import failure_body, key_body, status_body
from smscloud.domain.billing.prices import VOICE
from smscloud.domain.call_states import IN_CALL, CallState
from smscloud.domain.voice_failures import INTERRUPTED, SYSTEM_BUSY
from smscloud.domain.voice_rules import billed_minutes
from smscloud.services.billing import usage
from smscloud.store import schema as s

__all__ = [
    "ClaimedCall",
    "answered",
    "claim",
    "dialled",
    "end",
    "expire_too_late",
    "expire_waiting",
    "hand_back",
    "interrupt",
    "key_pressed",
    "recorded",
    "recover",
    "renew",
    "ringing",
]

S = CallState
vc, vp, a = s.voice_calls, s.voice_pushes, s.applications
_LIVE = (S.CLAIMED, *IN_CALL)


@dataclass(frozen=True, slots=True)
class ClaimedCall:
    """A call a worker holds, with what it needs to place it."""

    row_id: int
    call_id: str
    tenant_id: int
    phone: str
    nation_code: str
    kind: str
    text: str
    file_id: int | None
    play_times: int
    created_at: float


def _values(states: Iterable[CallState]) -> list[str]:
    return [state.value for state in states]


def claim(
    conn: Connection, now: float, limit: int, *, lease: float, per_tenant: int
) -> list[ClaimedCall]:
    """Lease up to ``limit`` calls, oldest first: QUEUED ones, and CLAIMED ones whose lease
    ran out before they were dialled. No tenant gets more than ``per_tenant`` live calls
    (counted across every worker)."""
    if limit <= 0:
        return []
    live: Counter[int] = Counter(
        dict(
            conn.execute(
                select(vc.c.tenant_id, func.count())
                .where(vc.c.state.in_(_values(_LIVE)), vc.c.lease_until >= now)
                .group_by(vc.c.tenant_id)
            ).all()
        )
    )
    due = (vc.c.state == S.QUEUED.value) | (
        (vc.c.state == S.CLAIMED.value) & (vc.c.lease_until < now)
    )
    q = select(vc).where(due).order_by(vc.c.id).limit(limit * 4)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    taken: list[Any] = []
    for row in conn.execute(q):
        if len(taken) == limit:
            break
        if live[row.tenant_id] < per_tenant:
            live[row.tenant_id] += 1
            taken.append(row)
    if not taken:
        return []
    conn.execute(
        update(vc)
        .where(vc.c.id.in_([r.id for r in taken]))
        .values(state=S.CLAIMED.value, lease_until=now + lease, attempts=vc.c.attempts + 1)
    )
    return [
        ClaimedCall(
            r.id,
            r.call_id,
            r.tenant_id,
            r.phone,
            r.nation_code,
            r.kind,
            r.text,
            r.file_id,
            r.play_times,
            r.created_at,
        )
        for r in taken
    ]


def hand_back(conn: Connection, row_ids: Sequence[int]) -> None:
    """No line was free: the calls are QUEUED again, as if never claimed."""
    if row_ids:
        conn.execute(
            update(vc)
            .where(vc.c.id.in_(list(row_ids)), vc.c.state == S.CLAIMED.value)
            .values(state=S.QUEUED.value, lease_until=None)
        )


def renew(conn: Connection, row_ids: Sequence[int], until: float) -> None:
    """Extend the leases of the live calls this worker holds."""
    if row_ids:
        conn.execute(
            update(vc)
            .where(vc.c.id.in_(list(row_ids)), vc.c.state.in_(_values(_LIVE)))
            .values(lease_until=until)
        )


def dialled(conn: Connection, row_id: int, carrier: str, now: float, lease: float) -> bool:
    """CLAIMED to CALLING, committed before the INVITE leaves; False if the call is no
    longer ours to dial (a lease ran out and another worker took it)."""
    done = conn.execute(
        update(vc)
        .where(vc.c.id == row_id, vc.c.state == S.CLAIMED.value)
        .values(state=S.CALLING.value, carrier=carrier, dialled_at=now, lease_until=now + lease)
    )
    return bool(done.rowcount)


def ringing(conn: Connection, row_id: int, at: float) -> None:
    """CALLING to RINGING."""
    conn.execute(
        update(vc)
        .where(vc.c.id == row_id, vc.c.state == S.CALLING.value)
        .values(state=S.RINGING.value, ringing_at=at)
    )


def answered(conn: Connection, row_id: int, at: float) -> None:
    """CALLING or RINGING to ANSWERED."""
    conn.execute(
        update(vc)
        .where(vc.c.id == row_id, vc.c.state.in_(_values((S.CALLING, S.RINGING))))
        .values(state=S.ANSWERED.value, answered_at=at)
    )


def key_pressed(conn: Connection, row_id: int, key: str, now: float) -> None:
    """A key the callee pressed: kept on the call, and pushed."""
    row = _call(conn, row_id)
    if row is None or row.state not in _values(IN_CALL):
        return
    conn.execute(update(vc).where(vc.c.id == row_id).values(keys=(row.keys + key)[-64:]))
    _push(conn, row, [key_body(row, key)], now)


def end(conn: Connection, row_id: int, outcome: CallOutcome, now: float) -> bool:
    """The call is over: ENDED (answered; talk time billed) or FAILED, reported. False if
    it had been ended already."""
    minutes = billed_minutes(outcome.talk_seconds, answered=outcome.answered)
    values: dict[str, Any] = {
        "state": (S.ENDED if outcome.answered else S.FAILED).value,
        "lease_until": None,
        "ringing_at": outcome.ringing_at,
        "answered_at": outcome.answered_at,
        "ended_at": outcome.ended_at,
        "sip_status": outcome.sip_status,
        "failure_code": 0 if outcome.answered else outcome.failure_code,
        "hung_up_by": outcome.hung_up_by,
        "fee_minutes": minutes,
    }
    return _finish(conn, row_id, IN_CALL, values, now, bill=True)


def expire_too_late(conn: Connection, row_id: int, now: float) -> bool:
    """A claimed call that waited past the start deadline: FAILED (system busy), reported,
    never dialled."""
    values = {
        "state": S.FAILED.value,
        "lease_until": None,
        "ended_at": now,
        "failure_code": SYSTEM_BUSY.code,
    }
    return _finish(conn, row_id, (S.CLAIMED,), values, now, bill=False)


def expire_waiting(conn: Connection, accepted_before: float, now: float, limit: int = 500) -> int:
    """Fail the calls still waiting for a line that were accepted before ``accepted_before``
    (the start deadline): FAILED (system busy), reported, never dialled. Returns how many."""
    waiting = (vc.c.state == S.QUEUED.value) | (
        (vc.c.state == S.CLAIMED.value) & (vc.c.lease_until < now)
    )
    rows = conn.execute(
        select(vc.c.id)
        .where(waiting, vc.c.created_at < accepted_before)
        .order_by(vc.c.id)
        .limit(limit)
    ).scalars()
    values = {
        "state": S.FAILED.value,
        "lease_until": None,
        "ended_at": now,
        "failure_code": SYSTEM_BUSY.code,
    }
    return sum(
        _finish(conn, row_id, (S.QUEUED, S.CLAIMED), values, now, bill=False)
        for row_id in list(rows)
    )


def recover(conn: Connection, now: float) -> int:
    """End the calls a dead worker left in a call (lease run out). Returns how many."""
    rows = conn.execute(
        select(vc.c.id).where(vc.c.state.in_(_values(IN_CALL)), vc.c.lease_until < now)
    ).scalars()
    return sum(interrupt(conn, row_id, now) for row_id in list(rows))


def interrupt(conn: Connection, row_id: int, now: float) -> bool:
    """End a call whose end nobody saw (its worker died or stopped during it): never dialled
    again; FAILED (other) if unanswered, ENDED unbilled if answered."""
    answered_at = conn.execute(select(vc.c.answered_at).where(vc.c.id == row_id)).scalar()
    values: dict[str, Any] = {"lease_until": None, "ended_at": now, "hung_up_by": ""}
    if answered_at is None:
        values.update(state=S.FAILED.value, failure_code=INTERRUPTED.code)
    else:
        values.update(state=S.ENDED.value, fee_minutes=0)
    return _finish(conn, row_id, IN_CALL, values, now, bill=False)


def recorded(conn: Connection, call_id: str, path: str) -> None:
    """Where the built-in phone network kept what it heard of a call."""
    conn.execute(update(vc).where(vc.c.call_id == call_id).values(recording=path))


def _call(conn: Connection, row_id: int) -> Any:
    return conn.execute(
        select(vc, a.c.voice_callback_url.label("url"))
        .join(a, a.c.id == vc.c.app_id)
        .where(vc.c.id == row_id)
    ).first()


def _finish(
    conn: Connection,
    row_id: int,
    leaving: Iterable[CallState],
    values: dict[str, Any],
    now: float,
    *,
    bill: bool,
) -> bool:
    done = conn.execute(
        update(vc).where(vc.c.id == row_id, vc.c.state.in_(_values(leaving))).values(**values)
    )
    if not done.rowcount:
        return False
    row = _call(conn, row_id)
    if bill and row.fee_minutes:
        usage.meter(
            conn,
            {(row.tenant_id, row.iso_code, row.nation_code, row.unit_price): row.fee_minutes},
            now,
            product=VOICE,
        )
    bodies = [status_body(row)]
    if row.state == S.FAILED.value:
        bodies.append(failure_body(row))
    _push(conn, row, bodies, now)
    return True


def _push(conn: Connection, row: Any, bodies: Sequence[dict[str, Any]], now: float) -> None:
    """Queue callbacks to the application's voice callback URL, if it has one."""
    if not row.url:
        return
    conn.execute(
        insert(vp),
        [
            {
                "call_row": row.id,
                "app_id": row.app_id,
                "body": orjson.dumps(body).decode(),
                "created_at": now,
                "callback_state": 1,
                "callback_attempts": 0,
                "callback_next_at": now,
            }
            for body in bodies
        ],
    )
