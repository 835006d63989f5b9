"""Bind slots leased through the database, so that no slot is ever bound by two workers.

An SMPP carrier configured with ``binds = n`` has n slots, shared by every delivery worker.
A worker holds a slot by a lease it renews every round; it opens the slot's sessions while it
holds it and closes them as soon as a renewal fails. Each round a worker takes at most one free
slot while it holds less than its fair share (slots / live workers, the workers that reported
the carrier's health lately), and gives one back while it holds more, so workers that start
one after the other end up sharing. A crashed worker's slots are free once its leases run out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sqlalchemy import Connection, or_, select, update

from smscloud.store import schema as s

LEASE_SECONDS = 10.0
LIVE_SECONDS = 15.0  # a worker whose health row is older than this is gone
cs = s.carrier_slots


def _ensure(conn: Connection, carrier: str, binds: int) -> None:
    have = set(conn.execute(select(cs.c.slot).where(cs.c.carrier == carrier)).scalars())
    missing = [i for i in range(binds) if i not in have]
    if not missing:
        return
    rows = [{"carrier": carrier, "slot": i, "holder": "", "lease_until": 0.0} for i in missing]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(cs).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(cs).on_conflict_do_nothing(), rows)


def live_workers(conn: Connection, carrier: str, now: float) -> set[str]:
    """Workers that reported this carrier's health within ``LIVE_SECONDS``."""
    h = s.carrier_health
    query = select(h.c.worker).where(h.c.carrier == carrier, h.c.updated_at >= now - LIVE_SECONDS)
    return set(conn.execute(query).scalars())


def sync(
    conn: Connection, carrier: str, binds: int, me: str, now: float, lease: float = LEASE_SECONDS
) -> set[int]:
    """Renew ``me``'s leases on ``carrier``, take or give back one slot; the slots held now."""
    _ensure(conn, carrier, binds)
    mine = (cs.c.carrier == carrier) & (cs.c.holder == me)
    conn.execute(update(cs).where(mine, cs.c.slot < binds).values(lease_until=now + lease))
    conn.execute(update(cs).where(mine, cs.c.slot >= binds).values(holder="", lease_until=0.0))
    rows = conn.execute(
        select(cs.c.slot, cs.c.holder, cs.c.lease_until).where(
            cs.c.carrier == carrier, cs.c.slot < binds
        )
    ).all()
    held = {r.slot for r in rows if r.holder == me}
    share = math.ceil(binds / len(live_workers(conn, carrier, now) | {me}))
    if len(held) > share:
        give = max(held)
        conn.execute(update(cs).where(mine, cs.c.slot == give).values(holder="", lease_until=0.0))
        held.discard(give)
    elif len(held) < share:
        free = sorted(r.slot for r in rows if r.holder != me and r.lease_until < now)
        for slot in free:
            taken = conn.execute(
                update(cs)
                .where(
                    cs.c.carrier == carrier,
                    cs.c.slot == slot,
                    or_(cs.c.holder == "", cs.c.lease_until < now),  # still free when we write
                )
                .values(holder=me, lease_until=now + lease)
            )
            if taken.rowcount == 1:
                held.add(slot)
                break
    return held


def release(conn: Connection, me: str, carriers: Sequence[str]) -> None:
    """Give back every slot ``me`` holds (a clean stop)."""
    conn.execute(
        update(cs)
        .where(cs.c.holder == me, cs.c.carrier.in_(list(carriers)))
        .values(holder="", lease_until=0.0)
    )


def holders(conn: Connection) -> list[tuple[str, int, str, float]]:
    """Every slot row: (carrier, slot, holder, lease_until)."""
    rows = conn.execute(select(cs).order_by(cs.c.carrier, cs.c.slot)).all()
    return [(r.carrier, r.slot, r.holder, r.lease_until) for r in rows]
