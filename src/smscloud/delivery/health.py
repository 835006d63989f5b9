"""Per-worker carrier health snapshots, kept in the database so ``/metrics`` sees them all."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    insert,
    select,
)

from smscloud.store import schema as s

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


def save_health(conn: Connection, worker: str, snapshots: Sequence[dict[str, Any]]) -> None:
    """Replace this worker's health rows with the current snapshots."""
    h = s.carrier_health
    conn.execute(delete(h).where(h.c.worker == worker))
    if snapshots:
        conn.execute(insert(h), [dict(row, worker=worker) for row in snapshots])


def load_health(conn: Connection) -> list[Any]:
    h = s.carrier_health
    return list(conn.execute(select(h).order_by(h.c.carrier, h.c.worker)))
