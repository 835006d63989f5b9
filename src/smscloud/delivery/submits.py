"""Recording what the carrier answered to a batch of submits: taken, refused, parts.

A message the carrier took becomes SUBMITTED with its carrier message id per part; one it
refused becomes REJECTED or FAILED and is refunded; the parts of a long message the carrier
took are kept, so a retry sends only the rest (the same concatenation reference).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import (
    Connection,
    bindparam,
    select,
    text,
    update,
)

from smscloud.carriers.base import (
    SubmitResult,
    canonical_id,
)
from smscloud.delivery import counters
from smscloud.domain.message_states import MessageState
from smscloud.services.billing import wallet
from smscloud.store import schema as s
from smscloud.store.database import run_many
from smscloud.store.messages import reported

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


def record_submits(
    conn: Connection,
    carrier: str,
    results: Sequence[SubmitResult],
    now: float,
    *,
    max_attempts: int,
    attempts: dict[int, int],
) -> None:
    """Store what the carrier said about each submission.

    The parts of a long message are kept whether the carrier took all of them or, before a
    temporary failure, only some (``SubmitResult.taken``): the retry sends only the others.
    """
    # Parts are recorded only for messages this claim still holds (a lease that ran out
    # may have let another worker take and record the message meanwhile).
    with_parts = [r for r in results if len(r.part_ids) > 1 or r.taken]
    live = _still_sending(conn, [r.message_id for r in with_parts])
    run_many(
        conn,
        f"UPDATE messages SET state = '{MessageState.SUBMITTED.value}', carrier = ?,"
        " carrier_msg_id = ?, wire_parts = ?, submitted_at = ?, lease_until = NULL"
        f" WHERE id = ? AND {s.STILL_SENDING}",
        [
            (carrier, canonical_id(r.carrier_msg_id), max(1, len(r.part_ids)), now, r.message_id)
            for r in results
            if r.carrier_msg_id is not None
        ],
    )
    parts: dict[int, dict[int, str]] = {}
    for r in with_parts:
        if r.message_id in live:
            taken = enumerate(r.part_ids, start=1) if r.carrier_msg_id is not None else r.taken
            parts[r.message_id] = {no: canonical_id(pid) for no, pid in taken}
    _record_parts(conn, carrier, parts)
    partial = [(r.parts, r.message_id) for r in results if r.taken and r.message_id in live]
    if partial:
        run_many(conn, "UPDATE messages SET wire_parts = ? WHERE id = ?", partial)
    retry = [
        r.message_id
        for r in results
        if r.carrier_msg_id is None and not r.permanent and attempts[r.message_id] < max_attempts
    ]
    if retry:
        conn.execute(
            update(m)
            .where(m.c.id.in_(retry), text(s.STILL_SENDING))
            .values(state=MessageState.QUEUED, lease_until=None)
        )
    refused = [r for r in results if r.carrier_msg_id is None and r.message_id not in set(retry)]
    if refused:
        conn.execute(
            update(m)
            .where(m.c.id == bindparam("mid"), text(s.STILL_SENDING))
            .values(
                state=bindparam("st"),
                carrier=carrier,
                receipt_code=bindparam("code"),
                done_at=now,
                lease_until=None,
                **reported(now),
            ),
            [
                {
                    "mid": r.message_id,
                    "st": MessageState.REJECTED if r.permanent else MessageState.FAILED,
                    # No word from the carrier: the code says what the state says.
                    "code": (r.error or MessageState.FAILED.value)[:32],
                }
                for r in refused
            ],
        )
        wallet.refund_messages(conn, [r.message_id for r in refused], now)


def _still_sending(conn: Connection, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    q = select(m.c.id).where(m.c.id.in_(list(ids)), text(s.STILL_SENDING))
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    return set(conn.execute(q).scalars())


def _record_parts(conn: Connection, carrier: str, parts: dict[int, dict[int, str]]) -> None:
    """Keep the parts the carrier took of each message ({message: {part number: id}}).

    A part already kept with the same id stays as it is, receipt and all: it was resumed, not
    sent again. A kept part this attempt took anew (another id, another carrier) was sent
    twice; it is replaced and counted in ``parts_resent``, which stays 0 while retries
    resume rather than resend.
    """
    if not parts:
        return
    held = conn.execute(
        select(mp.c.message_id, mp.c.part_no, mp.c.carrier, mp.c.carrier_msg_id).where(
            mp.c.message_id.in_(list(parts))
        )
    ).all()
    kept: set[tuple[int, int]] = set()
    stale: list[tuple[str, str]] = []
    for row in held:
        if row.carrier == carrier and parts[row.message_id].get(row.part_no) == row.carrier_msg_id:
            kept.add((row.message_id, row.part_no))
        else:
            stale.append((row.carrier, row.carrier_msg_id))
    run_many(conn, "DELETE FROM message_parts WHERE carrier = ? AND carrier_msg_id = ?", stale)
    run_many(
        conn,
        "INSERT INTO message_parts (carrier, carrier_msg_id, message_id, part_no, receipt_code)"
        " VALUES (?, ?, ?, ?, '')",
        [
            (carrier, pid, mid, no)
            for mid, taken in parts.items()
            for no, pid in sorted(taken.items())
            if (mid, no) not in kept
        ],
    )
    counters.add(conn, counters.PARTS_RESENT, len(stale))
    counters.add(conn, counters.PARTS_RESUMED, len(kept))
