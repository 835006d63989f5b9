"""Replies (mobile-originated messages): attributed to the message they answer, in batches.

A reply is matched by number and extend code to the latest message sent to that number; an
unsubscribe keyword puts the number on the tenant's opt-out list; a reply that answers no
message is kept for the operator, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    insert,
    select,
)

from smscloud.carriers.base import (
    Reply,
)
from smscloud.delivery import counters
from smscloud.domain.message_states import MessageState
from smscloud.domain.opt_out import opt_out_keyword
from smscloud.store import schema as s

log = logging.getLogger(__name__)
m = s.messages
mp = s.message_parts


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
            .where(m.c.phone == rep.phone, m.c.state != MessageState.REFUSED)
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
                # An address is at most 20 characters (SMPP 3.4 §4.4.1), "+" read in front of it.
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
