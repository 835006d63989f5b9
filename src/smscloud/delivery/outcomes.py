"""Statements that move messages through their states, each for a whole batch.

Every function here runs inside the writer's group commit and takes a list, so a thousand
receipts cost a few statements rather than a thousand transactions.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    update,
)

from smscloud.carriers.base import (
    DELIVERED,
    InFlight,
    Receipt,
    Reply,
    SubmitResult,
    canonical_id,
)
from smscloud.delivery import counters
from smscloud.services import accept_billing, ledger
from smscloud.store import schema as s
from smscloud.store.database import run_many

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


# Set with every final state: due for a push when the application has a status callback URL.
# A subquery by primary key, so the flag costs no extra statement.
_WANTED = (
    "COALESCE((SELECT 1 FROM applications a WHERE a.id = messages.app_id"
    " AND a.status_callback_url <> ''), 0)"
)
CALLBACK_DUE_IF_WANTED = f"callback_state = {_WANTED}, callback_next_at = ?"


def reported(now: float) -> dict[str, Any]:
    """Column values that make a message's final state due to pulls and to its callback."""
    return {
        "report_state": 1,
        "callback_state": literal_column(_WANTED),
        "callback_next_at": now,
    }


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


def claim(conn: Connection, limit: int, now: float, lease_seconds: float) -> list[Claimed]:
    """Lease up to ``limit`` due messages: queued ones, or ones whose lease ran out."""
    pg = conn.dialect.name == "postgresql"
    due = select(m.c.id).where(s.QUEUED).order_by(m.c.id).limit(limit)
    expired = select(m.c.id).where(s.LEASED, m.c.lease_until < now).limit(limit)
    if pg:
        due = due.with_for_update(skip_locked=True)
        expired = expired.with_for_update(skip_locked=True)
    ids = [r[0] for r in conn.execute(due)]
    if len(ids) < limit:
        ids += [r[0] for r in conn.execute(expired.limit(limit - len(ids)))]
    if not ids:
        return []
    rows = conn.execute(
        update(m)
        .where(m.c.id.in_(ids))
        .values(state="SENDING", lease_until=now + lease_seconds, attempts=m.c.attempts + 1)
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
    ).all()
    # Only a message tried before can hold parts: a first claim costs no extra query.
    held = _held_parts(conn, [r.id for r in rows if r.attempts > 1])
    claimed = []
    for r in rows:
        carrier, taken = held.get(r.id, ("", ()))
        claimed.append(
            Claimed(
                id=r.id,
                phone=r.phone,
                content=r.content,
                sender_id=r.sender_id,
                extend_code=r.extend_code,
                attempts=r.attempts,
                nation_code=r.nation_code,
                sms_type=r.sms_type,
                wire_parts=r.wire_parts,
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
        .where(m.c.id.in_(list(ids)), m.c.state == "SENDING")
        .values(lease_until=until, attempts=m.c.attempts - 1)
    )


def has_due(conn: Connection, now: float) -> bool:
    """Whether a claim would find anything; a cheap read, so idle polling takes no write lock."""
    queued = conn.execute(select(m.c.id).where(s.QUEUED).limit(1)).first()
    if queued is not None:
        return True
    expired = conn.execute(select(m.c.id).where(s.LEASED, m.c.lease_until < now).limit(1)).first()
    return expired is not None


def pending_counts(conn: Connection) -> dict[str, int]:
    """Messages not yet final, by state (each count runs on its partial index)."""
    return {
        state: int(conn.execute(select(func.count()).select_from(m).where(predicate)).scalar_one())
        for state, predicate in (
            ("QUEUED", s.QUEUED),
            ("SENDING", s.LEASED),
            ("SUBMITTED", s.IN_FLIGHT),
        )
    }


def refund(conn: Connection, ids: Sequence[int], now: float) -> None:
    """Give back the units of messages the carrier never took (billed once, refunded once)."""
    rows = conn.execute(
        select(m.c.id, m.c.debits, m.c.tenant_id, m.c.iso_code, m.c.nation_code, m.c.parts).where(
            m.c.id.in_(ids), m.c.refunded.is_(False)
        )
    ).all()
    back: dict[int, int] = defaultdict(int)
    postpaid = []
    for _, debits, tenant, iso, nation, parts in rows:
        if debits.startswith(accept_billing.PRICE_MARK):
            postpaid.append((tenant, iso, nation, debits, parts))
            continue
        for item in filter(None, debits.split(",")):
            pid, units = item.split(":")
            back[int(pid)] += int(units)
    accept_billing.refund_usage(conn, postpaid, now)
    if back:
        p = s.packages
        conn.execute(
            update(p).where(p.c.id == bindparam("pid")).values(used=p.c.used - bindparam("n")),
            [{"pid": k, "n": v} for k, v in back.items()],
        )
        ledger.package_entries(conn, ledger.REFUND, back, ledger.owners_of(conn, back), now)
    if rows:
        conn.execute(update(m).where(m.c.id.in_([r[0] for r in rows])).values(refunded=True))


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
        "UPDATE messages SET state = 'SUBMITTED', carrier = ?, carrier_msg_id = ?,"
        " wire_parts = ?, submitted_at = ?, lease_until = NULL"
        " WHERE id = ? AND state = 'SENDING'",
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
            .where(m.c.id.in_(retry), m.c.state == "SENDING")
            .values(state="QUEUED", lease_until=None)
        )
    refused = [r for r in results if r.carrier_msg_id is None and r.message_id not in set(retry)]
    if refused:
        conn.execute(
            update(m)
            .where(m.c.id == bindparam("mid"), m.c.state == "SENDING")
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
                    "st": "REJECTED" if r.permanent else "FAILED",
                    "code": (r.error or "FAILED")[:32],
                }
                for r in refused
            ],
        )
        refund(conn, [r.message_id for r in refused], now)


def _still_sending(conn: Connection, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    q = select(m.c.id).where(m.c.id.in_(list(ids)), s.LEASED)
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


def _known(conn: Connection, column: Any, where: Any, ids: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for i in range(0, len(ids), 500):
        q = select(column.table.c.carrier_msg_id, column).where(
            where, column.table.c.carrier_msg_id.in_(ids[i : i + 500])
        )
        found.update((cid, value) for cid, value in conn.execute(q))
    return found


def apply_receipts(conn: Connection, carrier: str, receipts: Sequence[Receipt]) -> list[Receipt]:
    """Finish the messages these receipts name; return the receipts that matched nothing.

    A single-part message finishes with its receipt. A part of a long message is recorded,
    and its message finishes with the last part's receipt: DELIVERED when every part was,
    else as its first part that was not.
    """
    keys = [canonical_id(r.carrier_msg_id) for r in receipts]
    single = _known(
        conn, m.c.id, and_(m.c.carrier == carrier, m.c.wire_parts == 1), list(set(keys))
    )
    run_many(
        conn,
        "UPDATE messages SET state = ?, receipt_code = ?, done_at = ?, receive_time = ?,"
        f" report_state = 1, {CALLBACK_DUE_IF_WANTED} WHERE carrier = ? AND carrier_msg_id = ?"
        " AND wire_parts = 1 AND state = 'SUBMITTED'",
        [
            (r.state, r.code[:32], r.done_at, r.done_at, r.done_at, carrier, k)
            for k, r in zip(keys, receipts, strict=True)
            if k in single
        ],
    )
    rest = list({k for k in keys if k not in single})
    parts = _known(conn, mp.c.message_id, mp.c.carrier == carrier, rest) if rest else {}
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
        receipt = Receipt(r.carrier_msg_id, r.state, r.receipt_code, r.done_at)
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
        failed = [p for p in part_rows if p.state != DELIVERED]
        first = failed[0] if failed else part_rows[-1]
        at = max(p.done_at or 0.0 for p in part_rows)
        finished.append((first.state, first.receipt_code, at, at, at, mid))
    run_many(
        conn,
        "UPDATE messages SET state = ?, receipt_code = ?, done_at = ?, receive_time = ?,"
        f" report_state = 1, {CALLBACK_DUE_IF_WANTED} WHERE id = ? AND state = 'SUBMITTED'",
        finished,
    )


OPT_OUT_KEYWORDS = frozenset({"R", "TD", "T", "N", "退订", "STOP", "UNSUBSCRIBE"})


def opt_out_keyword(text: str) -> str | None:
    """The opt-out keyword a reply consists of, if any (case- and space-insensitive)."""
    word = text.strip().strip("。.!！").upper()
    return word if word in OPT_OUT_KEYWORDS else None


def store_replies(conn: Connection, replies: Sequence[Reply], now: float) -> int:
    """Attribute each reply to the message it answers, keep it, honour opt-outs.

    The message answered is the latest one sent to that number; when the reply was addressed
    to a number ending in an extend code, the latest one sent with that extend code wins.
    A reply that answers no message is kept in ``unmatched_replies`` for the operator.
    """
    a = s.applications
    rows: list[dict[str, Any]] = []
    unmatched: list[Reply] = []
    opt_outs: dict[tuple[int, str], str] = {}
    for rep in replies:
        recent = conn.execute(
            select(
                m.c.tenant_id,
                m.c.app_id,
                m.c.nation_code,
                m.c.sign_name,
                m.c.extend_code,
                a.c.reply_callback_url,
            )
            .join(a, a.c.id == m.c.app_id)
            .where(m.c.phone == rep.phone, m.c.state != "REFUSED")
            .order_by(m.c.created_at.desc())
            .limit(20)
        ).all()
        if not recent:
            unmatched.append(rep)  # nobody sent to this number: not a reply to any tenant
            continue
        last = next(
            (r for r in recent if r.extend_code and rep.destination.endswith(r.extend_code)),
            recent[0],
        )
        rows.append(
            {
                "tenant_id": last.tenant_id,
                "app_id": last.app_id,
                "phone": rep.phone,
                "nation_code": last.nation_code,
                "sign_name": last.sign_name,
                "extend_code": last.extend_code,
                "content": rep.text,
                "reply_time": rep.received_at,
                "pulled": 0,
                "callback_state": 1 if last.reply_callback_url else 0,
                "callback_attempts": 0,
                "callback_next_at": now,
            }
        )
        keyword = opt_out_keyword(rep.text)
        if keyword is not None:
            opt_outs[(last.tenant_id, rep.phone)] = keyword
    if rows:
        conn.execute(insert(s.replies), rows)
    keep_unmatched(conn, unmatched, now)
    if opt_outs:
        o = s.opt_outs
        known = {
            (t, p)
            for t, p in conn.execute(
                select(o.c.tenant_id, o.c.phone).where(o.c.phone.in_([p for _, p in opt_outs]))
            )
        }
        fresh = [
            {"tenant_id": t, "phone": p, "keyword": k, "created_at": now}
            for (t, p), k in opt_outs.items()
            if (t, p) not in known
        ]
        if fresh:
            conn.execute(insert(o), fresh)
    return len(rows)


def keep_unmatched(conn: Connection, replies: Sequence[Reply], now: float) -> None:
    """Keep replies that answer no message, for the operator (never dropped)."""
    if not replies:
        return
    conn.execute(
        insert(s.unmatched_replies),
        [
            {
                "carrier": rep.carrier[:32],
                # An address is at most 20 characters (§4.4.1), "+" read in front of it.
                "phone": rep.phone[:24],
                "destination": rep.destination[:24],
                "content": rep.text,
                "received_at": rep.received_at,
                "stored_at": now,
            }
            for rep in replies
        ],
    )
    counters.add(conn, counters.REPLIES_UNMATCHED, len(replies))


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
            state="UNKNOWN",
            receipt_code="UNKNOWN",
            done_at=now,
            **reported(now),
        )
    )
    return int(result.rowcount or 0)


def save_health(conn: Connection, worker: str, snapshots: Sequence[dict[str, Any]]) -> None:
    """Replace this worker's health rows with the current snapshots."""
    h = s.carrier_health
    conn.execute(delete(h).where(h.c.worker == worker))
    if snapshots:
        conn.execute(insert(h), [dict(row, worker=worker) for row in snapshots])


def load_health(conn: Connection) -> list[Any]:
    h = s.carrier_health
    return list(conn.execute(select(h).order_by(h.c.carrier, h.c.worker)))
