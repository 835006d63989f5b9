"""Pushing status reports and replies to each application's callback URLs.

Tencent's formats (§4.2, §4.3): status reports go as a JSON array of up to 100 objects per
request, replies as one JSON object each; the receiver answers ``{"result": 0, ...}``.
Anything else (a timeout, another status, another body) is a failure, retried with backoff;
after ``MAX_ATTEMPTS`` the push is given up and logged. Pushes are claimed under a short lease
like messages, so several workers never push the same report twice at once, and they run in
the delivery worker, never on the send path.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from sqlalchemy import Connection, select, update

from smscloud.clock import Clock, system_clock
from smscloud.delivery.rounds import run_rounds, stop_task
from smscloud.services.reports import RECEIPT_TEXT
from smscloud.store import schema as s
from smscloud.store.database import Database

log = logging.getLogger(__name__)
BATCH = 100  # §4.2: at most 100 reports per push
MAX_ATTEMPTS = 6
BACKOFF = (1.0, 6.0, 24.0, 120.0, 360.0)  # times the base pause, before attempts 2..6
LEASE = 30.0
m, rp, a = s.messages, s.replies, s.applications


@dataclass(frozen=True, slots=True)
class Push:
    kind: str  # "status" | "reply"
    row_id: int
    url: str
    attempts: int
    body: dict[str, Any]


def _clock(ts: float | None, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def status_body(row: Any, tz: ZoneInfo) -> dict[str, Any]:
    """One status report in the callback's shape (§4.2)."""
    nation = row.nation_code
    body = {
        "user_receive_time": _clock(row.receive_time or row.done_at, tz),
        "nationcode": nation,
        "mobile": row.phone[len(nation) + 1 :] if nation else row.phone,
        "report_status": "SUCCESS" if row.state == "DELIVERED" else "FAIL",
        "errmsg": row.receipt_code or row.state,
        "description": RECEIPT_TEXT.get(row.receipt_code, row.receipt_code or row.state),
        "sid": row.serial_no,
    }
    if row.session_context:
        body["ext"] = row.session_context
    return body


def reply_body(row: Any) -> dict[str, Any]:
    """One reply in the callback's shape (§4.3)."""
    nation = row.nation_code
    return {
        "extend": row.extend_code,
        "mobile": row.phone[len(nation) + 1 :] if nation else row.phone,
        "nationcode": nation,
        "sign": row.sign_name,
        "text": row.content,
        "time": int(row.reply_time),
    }


def has_due(conn: Connection, now: float) -> bool:
    """Whether a claim would find anything: a read, so idle polling takes no write lock."""
    return any(
        conn.execute(
            select(table.c.id).where(s.CALLBACK_DUE, table.c.callback_next_at <= now).limit(1)
        ).first()
        is not None
        for table in (m, rp)
    )


def claim(conn: Connection, now: float, limit: int, tz: ZoneInfo) -> list[Push]:
    """Lease the pushes that are due."""
    pg = conn.dialect.name == "postgresql"
    pushes: list[Push] = []
    for kind, table, url_col in (
        ("status", m, a.c.status_callback_url),
        ("reply", rp, a.c.reply_callback_url),
    ):
        q = (
            select(table, url_col.label("url"))
            .join(a, a.c.id == table.c.app_id)
            .where(s.CALLBACK_DUE, table.c.callback_next_at <= now)
            .order_by(table.c.callback_next_at)
            .limit(limit)
        )
        if pg:
            q = q.with_for_update(of=table, skip_locked=True)
        rows = conn.execute(q).all()
        if not rows:
            continue
        conn.execute(
            update(table)
            .where(table.c.id.in_([r.id for r in rows]))
            .values(callback_next_at=now + LEASE)
        )
        for r in rows:
            body = status_body(r, tz) if kind == "status" else reply_body(r)
            pushes.append(Push(kind, r.id, r.url, r.callback_attempts, body))
    return pushes


def record(
    conn: Connection, done: Sequence[Push], failed: Sequence[Push], now: float, retry_s: float
) -> None:
    """Mark pushed reports done; schedule failed ones again, or give them up."""
    for kind, table in (("status", m), ("reply", rp)):
        ok = [p.row_id for p in done if p.kind == kind]
        if ok:
            conn.execute(update(table).where(table.c.id.in_(ok)).values(callback_state=2))
        for p in (p for p in failed if p.kind == kind):
            tries = p.attempts + 1
            values: dict[str, Any] = {"callback_attempts": tries}
            if tries >= MAX_ATTEMPTS:
                values["callback_state"] = 3
                log.warning("gave up pushing %s %s to %s", kind, p.row_id, p.url)
            else:
                values["callback_next_at"] = now + retry_s * BACKOFF[tries - 1]
            conn.execute(update(table).where(table.c.id == p.row_id).values(**values))


def accepted(response: httpx.Response) -> bool:
    """The receiver's answer means success: HTTP 200 and ``{"result": 0}``."""
    if response.status_code != 200:
        return False
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return False
    return isinstance(body, dict) and body.get("result") == 0


class CallbackPusher:
    """Claims due pushes, sends them on pooled keep-alive connections, records the outcome."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        *,
        poll_interval: float = 0.2,
        timeout: float = 5.0,
        retry_s: float = 5.0,
        client: httpx.AsyncClient | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.tz = tz
        self.clock = clock
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.retry_s = retry_s
        self._client = client
        self._task: asyncio.Task[None] | None = None
        self.pushed = 0
        self.failed = 0

    async def start(self) -> None:
        if self._client is None:  # made here: only delivery processes push
            self._client = httpx.AsyncClient(
                timeout=self.timeout, limits=httpx.Limits(max_keepalive_connections=20)
            )
        self._task = asyncio.create_task(self._loop(), name="callbacks")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _loop(self) -> None:
        await run_rounds(self.push_once, self.poll_interval, "callback")

    async def push_once(self) -> int:
        """One round: claim, push, record; returns how many reports were attempted."""
        now = self.clock()
        if not await self.db.read(lambda c: has_due(c, now)):
            return 0
        pushes = await self.db.write(lambda c: claim(c, now, 500, self.tz))
        if not pushes:
            return 0
        requests: list[tuple[str, list[Push], Any]] = []
        statuses: dict[str, list[Push]] = defaultdict(list)
        for p in pushes:
            if p.kind == "reply":
                requests.append((p.url, [p], p.body))
            else:
                statuses[p.url].append(p)
        for url, group in statuses.items():
            for i in range(0, len(group), BATCH):
                chunk = group[i : i + BATCH]
                requests.append((url, chunk, [p.body for p in chunk]))
        outcomes = await asyncio.gather(*(self._post(url, body) for url, _, body in requests))
        done = [
            p for (_, group, _), ok in zip(requests, outcomes, strict=True) if ok for p in group
        ]
        failed = [
            p for (_, group, _), ok in zip(requests, outcomes, strict=True) if not ok for p in group
        ]
        self.pushed += len(done)
        self.failed += len(failed)
        finished = self.clock()
        await self.db.write(lambda c: record(c, done, failed, finished, self.retry_s))
        return len(pushes)

    async def _post(self, url: str, body: Any) -> bool:
        assert self._client is not None
        try:
            response = await self._client.post(
                url, content=orjson.dumps(body), headers={"Content-Type": "application/json"}
            )
        except httpx.HTTPError as exc:
            log.info("push to %s failed: %s", url, exc)
            return False
        return accepted(response)
