"""Claiming due messages for a delivery worker: leases, hand-backs, what is pending.

A worker claims a batch of QUEUED messages in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) under a lease; a message whose lease runs out is due again, so a worker that dies
loses nothing. Every function takes a batch and runs inside the writer's group commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    func,
    select,
    text,
    update,
)

from smscloud.domain.message_states import MessageState
from smscloud.store import schema as s

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    phone: str
    content: str
    sender_id: str
    extend_code: str
    attempts: int
    nation_code: str = ""
    sms_type: int = 0
    wire_parts: int = 1
    # A long message some of whose parts a carrier took in an earlier attempt: that carrier,
    # and the parts as (part number, carrier id). Only that carrier can complete it.
    held_by: str = ""
    taken: tuple[tuple[int, str], ...] = ()


# A claim's statements, built once with bound parameters: built per claim, SQLAlchemy's
# construction and cache keys cost more than running them.
_DUE = select(m.c.id).where(s.QUEUED).order_by(m.c.id).limit(bindparam("limit"))
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True)
_RAN_OUT = (
    select(m.c.id).where(s.LEASED, m.c.lease_until < bindparam("now")).limit(bindparam("limit"))
)
_RAN_OUT_LOCKED = _RAN_OUT.with_for_update(skip_locked=True)
_LEASE = (
    update(m)
    .where(m.c.id.in_(bindparam("ids", expanding=True)))
    .values(state=MessageState.SENDING, lease_until=bindparam("until"), attempts=m.c.attempts + 1)
    .returning(
        m.c.id,
        m.c.phone,
        m.c.content,
        m.c.sender_id,
        m.c.extend_code,
        m.c.attempts,
        m.c.nation_code,
        m.c.sms_type,
        m.c.wire_parts,
    )
)


def claim(
    conn: Connection, limit: int, now: float, lease_seconds: float, *, expired: bool = True
) -> list[Claimed]:
    """Lease up to ``limit`` due messages: queued ones, or (``expired``) ones whose lease ran
    out."""
    pg = conn.dialect.name == "postgresql"
    ids = [r[0] for r in conn.execute(_DUE_LOCKED if pg else _DUE, {"limit": limit})]
    if expired and len(ids) < limit:
        params = {"now": now, "limit": limit - len(ids)}
        ids += [r[0] for r in conn.execute(_RAN_OUT_LOCKED if pg else _RAN_OUT, params)]
    if not ids:
        return []
    rows = conn.execute(_LEASE, {"ids": ids, "until": now + lease_seconds}).all()
    # Only a message tried before can hold parts: a first claim costs no extra query.
    held = _held_parts(conn, [r[0] for r in rows if r[5] > 1])
    claimed = []
    # By position, in _LEASE's RETURNING order: a row's attributes cost more to read.
    for mid, phone, content, sender_id, extend_code, attempts, nation, sms_type, wire in rows:
        carrier, taken = held.get(mid, ("", ()))
        claimed.append(
            Claimed(
                id=mid,
                phone=phone,
                content=content,
                sender_id=sender_id,
                extend_code=extend_code,
                attempts=attempts,
                nation_code=nation,
                sms_type=sms_type,
                wire_parts=wire,
                held_by=carrier,
                taken=taken,
            )
        )
    return sorted(claimed, key=lambda c: c.id)


def _held_parts(
    conn: Connection, ids: Sequence[int]
) -> dict[int, tuple[str, tuple[tuple[int, str], ...]]]:
    """The parts a carrier holds of each of ``ids``: {message: (carrier, ((no, id), ...))}."""
    if not ids:
        return {}
    rows = conn.execute(
        select(mp.c.message_id, mp.c.carrier, mp.c.part_no, mp.c.carrier_msg_id)
        .where(mp.c.message_id.in_(list(ids)))
        .order_by(mp.c.message_id, mp.c.part_no)
    ).all()
    by_message: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_message[row.message_id].append(row)
    held = {}
    for mid, parts in by_message.items():
        carriers = {p.carrier for p in parts}
        if len(carriers) == 1:  # rows of two carriers cannot be continued by either
            held[mid] = (parts[0].carrier, tuple((p.part_no, p.carrier_msg_id) for p in parts))
    return held


def hand_back(conn: Connection, ids: Sequence[int], until: float) -> None:
    """Leave claimed messages to another worker: their carrier has no bind slot here.

    The lease is cut short to ``until`` and the attempt it counted is given back, so the
    worker that holds the slot claims them soon and no attempt is spent on the handover.
    """
    conn.execute(
        update(m)
        .where(m.c.id.in_(list(ids)), text(s.STILL_SENDING))
        .values(lease_until=until, attempts=m.c.attempts - 1)
    )


def has_due(conn: Connection, now: float) -> bool:
    """Whether a claim would find anything; a cheap read, so idle polling takes no write lock."""
    queued = conn.execute(select(m.c.id).where(s.QUEUED).limit(1)).first()
    if queued is not None:
        return True
    expired = conn.execute(select(m.c.id).where(s.LEASED, m.c.lease_until < now).limit(1)).first()
    return expired is not None


def pending_counts(conn: Connection) -> dict[MessageState, int]:
    """Messages not yet final, by state (each count runs on its partial index)."""
    return {
        state: int(conn.execute(select(func.count()).select_from(m).where(predicate)).scalar_one())
        for state, predicate in (
            (MessageState.QUEUED, s.QUEUED),
            (MessageState.SENDING, s.LEASED),
            (MessageState.SUBMITTED, s.IN_FLIGHT),
        )
    }
