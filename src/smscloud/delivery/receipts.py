"""Delivery receipts: matched to their messages by carrier message id, in batches.

A receipt for a message not yet known (it can overtake the submit's answer) is kept as an
orphan and tried again; a long message is final when every part has its receipt; messages
the carrier never reports on expire after the documented receipt timeout.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    select,
    update,
)

from smscloud.carriers.base import (
    InFlight,
    Receipt,
    canonical_id,
)
from smscloud.domain.message_states import MessageState
from smscloud.store import schema as s
from smscloud.store.database import query, run_many
from smscloud.store.messages import CALLBACK_DUE_IF_WANTED, reported

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


def _known(conn: Connection, select_where: str, carrier: str, ids: list[str]) -> dict[str, Any]:
    """{carrier_msg_id: value} of the rows ``select_where`` finds among ``ids``; raw SQL,
    as building the statement with its IN list cost more than running it."""
    found: dict[str, Any] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = f"{select_where} AND carrier_msg_id IN ({', '.join('?' * len(chunk))})"
        found.update((cid, value) for cid, value in query(conn, sql, [carrier, *chunk]))
    return found


def apply_receipts(conn: Connection, carrier: str, receipts: Sequence[Receipt]) -> list[Receipt]:
    """Finish the messages these receipts name; return the receipts that matched nothing.

    A single-part message finishes with its receipt. A part of a long message is recorded,
    and its message finishes with the last part's receipt: DELIVERED when every part was,
    else as its first part that was not.
    """
    keys = [canonical_id(r.carrier_msg_id) for r in receipts]
    single = _known(
        conn,
        "SELECT carrier_msg_id, id FROM messages WHERE carrier = ? AND wire_parts = 1",
        carrier,
        list(set(keys)),
    )
    run_many(
        conn,
        "UPDATE messages SET state = ?, receipt_code = ?, done_at = ?, receive_time = ?,"
        f" report_state = 1, {CALLBACK_DUE_IF_WANTED} WHERE carrier = ? AND carrier_msg_id = ?"
        f" AND wire_parts = 1 AND {s.STILL_SUBMITTED}",
        [
            (r.state, r.code[:32], r.done_at, r.done_at, r.done_at, carrier, k)
            for k, r in zip(keys, receipts, strict=True)
            if k in single
        ],
    )
    rest = list({k for k in keys if k not in single})
    parts = (
        _known(
            conn,
            "SELECT carrier_msg_id, message_id FROM message_parts WHERE carrier = ?",
            carrier,
            rest,
        )
        if rest
        else {}
    )
    if parts:
        run_many(
            conn,
            "UPDATE message_parts SET state = ?, receipt_code = ?, done_at = ?"
            " WHERE carrier = ? AND carrier_msg_id = ? AND state IS NULL",
            [
                (r.state, r.code[:32], r.done_at, carrier, k)
                for k, r in zip(keys, receipts, strict=True)
                if k in parts
            ],
        )
        _finish_long_messages(conn, set(parts.values()))
    return [r for k, r in zip(keys, receipts, strict=True) if k not in single and k not in parts]


def keep_orphans(conn: Connection, carrier: str, receipts: Sequence[Receipt], now: float) -> None:
    """Keep receipts that matched nothing, to match them again later."""
    run_many(
        conn,
        "INSERT INTO orphan_receipts (carrier, carrier_msg_id, state, receipt_code, done_at,"
        " first_seen) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (carrier, canonical_id(r.carrier_msg_id), r.state, r.code[:32], r.done_at, now)
            for r in receipts
        ],
    )


def has_orphans(conn: Connection) -> bool:
    return conn.execute(select(s.orphan_receipts.c.id).limit(1)).first() is not None


def retry_orphans(conn: Connection, now: float, ttl: float) -> tuple[int, int]:
    """Match kept receipts again; drop (and count) those older than ``ttl``.

    Returns (matched, expired).
    """
    o = s.orphan_receipts
    rows = conn.execute(select(o).order_by(o.c.id).limit(2000)).all()
    by_carrier: dict[str, list[tuple[int, float, Receipt]]] = defaultdict(list)
    for r in rows:
        receipt = Receipt(r.carrier_msg_id, MessageState(r.state), r.receipt_code, r.done_at)
        by_carrier[r.carrier].append((r.id, r.first_seen, receipt))
    matched: list[int] = []
    expired: list[int] = []
    for carrier, items in by_carrier.items():
        left = {id(x) for x in apply_receipts(conn, carrier, [rc for _, _, rc in items])}
        for row_id, first_seen, receipt in items:
            if id(receipt) not in left:
                matched.append(row_id)
            elif now - first_seen > ttl:
                expired.append(row_id)
                log.warning(
                    "receipt %s from %s matched no message", receipt.carrier_msg_id, carrier
                )
    if matched or expired:
        conn.execute(delete(o).where(o.c.id.in_(matched + expired)))
    return len(matched), len(expired)


def _finish_long_messages(conn: Connection, message_ids: set[int]) -> None:
    rows = conn.execute(
        select(mp.c.message_id, mp.c.part_no, mp.c.state, mp.c.receipt_code, mp.c.done_at)
        .where(mp.c.message_id.in_(list(message_ids)))
        .order_by(mp.c.message_id, mp.c.part_no)
    ).all()
    by_message: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_message[row.message_id].append(row)
    finished = []
    for mid, part_rows in by_message.items():
        if any(p.state is None for p in part_rows):
            continue  # a part still waits for its receipt
        failed = [p for p in part_rows if p.state != MessageState.DELIVERED]
        first = failed[0] if failed else part_rows[-1]
        at = max(p.done_at or 0.0 for p in part_rows)
        finished.append((first.state, first.receipt_code, at, at, at, mid))
    run_many(
        conn,
        "UPDATE messages SET state = ?, receipt_code = ?, done_at = ?, receive_time = ?,"
        f" report_state = 1, {CALLBACK_DUE_IF_WANTED} WHERE id = ?"
        f" AND {s.STILL_SUBMITTED}",
        finished,
    )


def in_flight(conn: Connection, carrier: str) -> list[InFlight]:
    """Messages this carrier took that still wait for a receipt."""
    rows = conn.execute(
        select(m.c.carrier_msg_id, m.c.phone).where(s.IN_FLIGHT, m.c.carrier == carrier)
    )
    return [InFlight(cid, phone) for cid, phone in rows]


def expire_silent(conn: Connection, older_than: float, now: float) -> int:
    """Close messages whose receipt never came: final state UNKNOWN, not refunded."""
    result = conn.execute(
        update(m)
        .where(s.IN_FLIGHT, m.c.submitted_at < older_than)
        .values(
            state=MessageState.UNKNOWN,
            # No receipt, so no carrier's word: the code says what the state says.
            receipt_code=MessageState.UNKNOWN.value,
            done_at=now,
            **reported(now),
        )
    )
    return int(result.rowcount or 0)
