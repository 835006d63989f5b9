"""Delivery counters kept in the database, so /metrics in any process sees every worker's.

Each is added to in the transaction that does what it counts, so a counter never runs ahead
of (or behind) the rows it describes, and it survives restarts as a Prometheus counter must.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from smscloud.store import schema as s
from smscloud.store.database import run_many

__all__ = ["COUNTERS", "PARTS_RESENT", "PARTS_RESUMED", "REPLIES_UNMATCHED", "add", "load"]

# A part of a long message the carrier had taken, sent again (a second copy at the handset).
PARTS_RESENT = "parts_resent"
# A part of a long message the carrier had taken, skipped when the message was retried.
PARTS_RESUMED = "parts_resumed"
# A reply that matched no message sent, kept in unmatched_replies.
REPLIES_UNMATCHED = "replies_unmatched"

COUNTERS = {
    PARTS_RESENT: "parts of long messages the carrier had taken that were sent again",
    PARTS_RESUMED: "parts of long messages the carrier had taken, not sent again on a retry",
    REPLIES_UNMATCHED: "replies that matched no message sent, kept for the operator",
}


def add(conn: Connection, name: str, n: int) -> None:
    """Add ``n`` to counter ``name`` (nothing when ``n`` is 0)."""
    if n:
        run_many(
            conn,
            "INSERT INTO delivery_counters (name, value) VALUES (?, ?) ON CONFLICT (name)"
            " DO UPDATE SET value = delivery_counters.value + excluded.value",
            [(name, n)],
        )


def load(conn: Connection) -> dict[str, int]:
    """Every counter of ``COUNTERS``, 0 for those never added to."""
    c = s.delivery_counters
    found = {name: int(value) for name, value in conn.execute(select(c.c.name, c.c.value))}
    return {name: found.get(name, 0) for name in COUNTERS}
