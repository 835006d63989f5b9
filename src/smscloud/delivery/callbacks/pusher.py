"""Pushing status reports, replies and voice callbacks to each application's callback URLs.

Tencent's formats (Tencent SMS docs: status report callback and reply callback,
cloud.tencent.com/document/product/382/59178 and 382/59179): status reports go as a JSON array
of up to 100 objects per request, replies as one JSON object each; the receiver answers
``{"result": 0, ...}``. Voice callbacks (Tencent voice messaging: callback API) go one object
per request to the application's voice callback URL, as ``delivery/call_records`` wrote them.
Anything else (a timeout, another status, another body, a blocked address) is a failure,
retried with backoff; after ``MAX_ATTEMPTS`` the push is given up and logged. Pushes are
claimed under a short lease like messages, so several workers never push the same report twice
at once, and they run in the delivery worker, never on the send path.

Tenants' receivers are isolated from each other:
- Claims are fair: one takes at most ``PER_APP_REQUESTS`` requests' worth of due pushes per
  application and skips the applications that still have pushes in flight in this worker,
  those whose destination is saturated or backing off, and those it served since everyone
  last had a turn. One application's backlog fills one share, then waits while the others
  are served.
- The claim loop never waits for a push. Each request runs in its destination's lane
  (:mod:`smscloud.delivery.callbacks.destinations`): a few connections per receiving server, and a
  back-off that keeps a dead one from being tried more than rarely.
- Each push goes only to an allowed address, within a total deadline, reading a bounded
  answer (:mod:`smscloud.delivery.callbacks.client`).
- Outcomes are recorded as each request ends; the store's group commit joins the writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, bindparam, select, text, update

from smscloud.clock import Clock, system_clock
from smscloud.delivery.callbacks.client import PushClient, PushOutcome, Verdict
from smscloud.delivery.callbacks.destinations import Lane
from smscloud.delivery.rounds import stop_task
from smscloud.domain.addresses import NO_NETWORKS, AllowedNetworks
from smscloud.domain.callback_urls import CallbackUrl, judge_url
from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import MessageState
from smscloud.services.reports import RECEIPT_TEXT
from smscloud.store import schema as s
from smscloud.store.database import Database

log = logging.getLogger(__name__)
BATCH = 100  # at most 100 reports per push (Tencent status report callback)
MAX_ATTEMPTS = 6
BACKOFF = (1.0, 6.0, 24.0, 120.0, 360.0)  # times the base pause, before attempts 2..6
LEASE = 30.0
PER_APP_REQUESTS = 5  # requests one application may have claimed at once, per worker
CLAIM_LIMIT = 500  # pushes of each kind one claim takes at most (one short write transaction)
MAX_IN_FLIGHT = 4000  # pushes claimed and not yet recorded, per worker
LANE_QUIET = 60.0  # seconds after which an unused destination's connections are closed
MAX_SERVED = 5000  # applications remembered as served this turn (bounds the claim's NOT IN)
LEASE_MARGIN = 1.0  # a push starts only if its lease outlasts its deadline by this much
m, rp, vp, a = s.messages, s.replies, s.voice_pushes, s.applications
# Each kind of push: its outbox table. Voice pushes are the bodies call_records wrote.
OUTBOXES = (("status", m), ("reply", rp), ("voice", vp))
# The message columns a status report is made of, in the order status_body takes them.
STATUS_COLUMNS = (
    "nation_code", "phone", "receive_time", "done_at", "state", "receipt_code", "serial_no",
    "session_context",
)  # fmt: skip
_HEAD = ("id", "app_id", "callback_attempts", "callback_next_at")  # of every claimed row
# What a claim reads of a status report: the columns of its Push and of its body, not the
# whole message row (its text, its billing): most of a claim's cost was reading and
# converting columns no push sends.
_CLAIMED = {"status": tuple(m.c[name] for name in (*_HEAD, *STATUS_COLUMNS))}


@dataclass(frozen=True, slots=True)
class Push:
    kind: str  # "status" | "reply" | "voice"
    row_id: int
    app_id: int
    url: str
    attempts: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Request:
    """One POST: a reply, or up to ``BATCH`` status reports of one application."""

    url: str
    pushes: tuple[Push, ...]
    body: bytes
    leased_until: float


def _clock(ts: float | None, tz: ZoneInfo) -> str:
    return _second(math.floor(ts), tz) if ts else ""


@functools.lru_cache(maxsize=256)
def _second(ts: int, tz: ZoneInfo) -> str:
    # Receipts arrive in bursts of the same second: each second is written out once.
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M:%S")


def status_body(values: Sequence[Any], tz: ZoneInfo) -> dict[str, Any]:
    """One status report in the callback's shape (Tencent SMS docs: status report callback),
    from a message's ``STATUS_COLUMNS`` values in order. (By position: reading them as a
    row's attributes cost five times the rest of making the body.)"""
    nation, phone, receive_time, done_at, state, code, serial_no, context = values
    body = {
        "user_receive_time": _clock(receive_time or done_at, tz),
        "nationcode": nation,
        "mobile": phone[len(nation) + 1 :] if nation else phone,
        "report_status": "SUCCESS" if state == MessageState.DELIVERED else "FAIL",
        "errmsg": code or state,
        "description": RECEIPT_TEXT.get(code, code or state),
        "sid": serial_no,
    }
    if context:
        body["ext"] = context
    return body


def reply_body(row: Any) -> dict[str, Any]:
    """One reply in the callback's shape (Tencent SMS docs: reply callback)."""
    nation = row.nation_code
    return {
        "extend": row.extend_code,
        "mobile": row.phone[len(nation) + 1 :] if nation else row.phone,
        "nationcode": nation,
        "sign": row.sign_name,
        "text": row.content,
        "time": int(row.reply_time),
    }


def _body(kind: str, row: Any) -> dict[str, Any]:
    if kind == "reply":
        return reply_body(row)
    body: dict[str, Any] = orjson.loads(row.body)  # written in Tencent's shape already
    return body


@dataclass(frozen=True, slots=True)
class _Statements:
    """One outbox's claim statements, built once with bound parameters: built per claim,
    SQLAlchemy's construction and cache keys cost more than running them."""

    due: Any  # (is anything due) -> its first id; params now [, skip]
    due_skipping: Any
    candidates: Any  # (id, app_id) oldest first; params now, limit [, skip]
    candidates_skipping: Any
    rows: Any  # what a Push is made of, due again under the lock; params ids, now
    rows_locked: Any  # the same, locked (PostgreSQL)
    lease: Any  # params ids, until
    done: Any  # params ids


def _statements(table: Any, url_col: Any, columns: tuple[Any, ...]) -> _Statements:
    due = [s.CALLBACK_DUE, table.c.callback_next_at <= bindparam("now")]
    skipping = table.c.app_id.not_in(bindparam("skip", expanding=True))
    first = select(table.c.id).limit(1)
    oldest = (
        select(table.c.id, table.c.app_id)
        .order_by(table.c.callback_next_at)
        .limit(bindparam("limit"))
    )
    ids = table.c.id.in_(bindparam("ids", expanding=True))
    # Due is tested again with the lock: on PostgreSQL a row another worker leased since
    # the candidates were read is re-checked after the lock wait (READ COMMITTED), skipped.
    rows = (
        select(*columns, url_col.label("url"))
        .join(a, a.c.id == table.c.app_id)
        .where(
            ids,
            text(f"{table.name}.{s.STILL_CALLBACK_DUE}"),  # not by the due index (schema)
            table.c.callback_next_at <= bindparam("now"),
        )
    )
    return _Statements(
        due=first.where(*due),
        due_skipping=first.where(*due, skipping),
        candidates=oldest.where(*due),
        candidates_skipping=oldest.where(*due, skipping),
        rows=rows,
        rows_locked=rows.with_for_update(of=table, skip_locked=True),
        lease=update(table).where(ids).values(callback_next_at=bindparam("until")),
        done=update(table).where(ids).values(callback_state=2),
    )


_STATEMENTS = {
    "status": _statements(m, a.c.status_callback_url, _CLAIMED["status"]),
    "reply": _statements(rp, a.c.reply_callback_url, (rp,)),
    "voice": _statements(vp, a.c.voice_callback_url, (vp,)),
}


def _due_params(now: float, skip: Collection[int]) -> dict[str, Any]:
    return {"now": now, "skip": sorted(skip)} if skip else {"now": now}


def has_due(conn: Connection, now: float, busy: Mapping[str, Collection[int]] = {}) -> bool:
    """Whether a claim would find anything: a read, so idle polling takes no write lock."""
    for kind, _ in OUTBOXES:
        skip = busy.get(kind, ())
        st = _STATEMENTS[kind]
        query = st.due_skipping if skip else st.due
        if conn.execute(query, _due_params(now, skip)).first() is not None:
            return True
    return False


def claim(
    conn: Connection,
    now: float,
    limit: int,
    tz: ZoneInfo,
    *,
    per_app_requests: int = PER_APP_REQUESTS,
    skip: Mapping[str, Collection[int]] = {},
    lease: float = LEASE,
) -> list[Push]:
    """Lease due pushes, oldest first, up to ``limit`` of each kind: at most
    ``per_app_requests`` requests' worth per application, none of an application in ``skip``
    (kind -> application ids: those with pushes in flight, those served earlier this turn).

    The candidates are read by the due index in order (no sort, however large the backlog),
    and the per-application cap is applied to them here.
    """
    pg = conn.dialect.name == "postgresql"
    pushes: list[Push] = []
    for kind, _ in OUTBOXES:
        st = _STATEMENTS[kind]
        cap = per_app_requests * (BATCH if kind == "status" else 1)
        skipped = skip.get(kind, ())
        query = st.candidates_skipping if skipped else st.candidates
        candidates = conn.execute(query, {**_due_params(now, skipped), "limit": limit}).all()
        taken: Counter[int] = Counter()
        ids = []
        for row_id, app_id in candidates:
            if taken[app_id] < cap:
                taken[app_id] += 1
                ids.append(row_id)
        if not ids:
            continue
        rows = conn.execute(st.rows_locked if pg else st.rows, {"ids": ids, "now": now}).all()
        if not rows:
            continue
        conn.execute(st.lease, {"ids": [r[0] for r in rows], "until": now + lease})
        if kind == "status":  # by position (_CLAIMED, then the URL): attributes cost more
            for r in sorted(rows, key=lambda r: (r[3], r[0])):
                body = status_body(r[len(_HEAD) : -1], tz)
                pushes.append(Push(kind, r[0], r[1], r[-1], r[2], body))
            continue
        for r in sorted(rows, key=lambda r: (r.callback_next_at, r.id)):
            body = _body(kind, r)
            pushes.append(Push(kind, r.id, r.app_id, r.url, r.callback_attempts, body))
    return pushes


def record(
    conn: Connection,
    done: Sequence[Push],
    failed: Sequence[Push],
    now: float,
    retry_s: float,
    *,
    not_before: float = 0.0,
) -> None:
    """Mark pushed reports done; schedule failed ones again (not before ``not_before``, when
    their destination may be tried again), or give them up."""
    for kind, table in OUTBOXES:
        ok = [p.row_id for p in done if p.kind == kind]
        if ok:
            conn.execute(_STATEMENTS[kind].done, {"ids": ok})
        for p in (p for p in failed if p.kind == kind):
            tries = p.attempts + 1
            values: dict[str, Any] = {"callback_attempts": tries}
            if tries >= MAX_ATTEMPTS:
                values["callback_state"] = 3
                log.warning("gave up pushing %s %s to %s", kind, p.row_id, p.url)
            else:
                values["callback_next_at"] = max(now + retry_s * BACKOFF[tries - 1], not_before)
            conn.execute(update(table).where(table.c.id == p.row_id).values(**values))


def release(conn: Connection, pushes: Sequence[Push], now: float) -> None:
    """Hand pushes back unattempted: due again at once, no attempt counted."""
    for kind, table in OUTBOXES:
        ids = [p.row_id for p in pushes if p.kind == kind]
        if ids:
            conn.execute(
                update(table)
                .where(table.c.id.in_(ids), s.CALLBACK_DUE)
                .values(callback_next_at=now)
            )


def requests_of(pushes: Sequence[Push], leased_until: float) -> list[Request]:
    """The POSTs that carry ``pushes``: replies one each, status reports by application and
    URL in arrays of up to ``BATCH``."""
    out: list[Request] = []
    statuses: dict[tuple[int, str], list[Push]] = defaultdict(list)
    for p in pushes:
        if p.kind != "status":  # a reply, a voice callback: one object per POST
            out.append(Request(p.url, (p,), orjson.dumps(p.body), leased_until))
        else:
            statuses[(p.app_id, p.url)].append(p)
    for (_, url), group in statuses.items():
        for i in range(0, len(group), BATCH):
            chunk = tuple(group[i : i + BATCH])
            out.append(Request(url, chunk, orjson.dumps([p.body for p in chunk]), leased_until))
    return out


class CallbackPusher:
    """Claims due pushes fairly and pushes each destination's on its own (module docstring)."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        *,
        allowed: AllowedNetworks = NO_NETWORKS,
        poll_interval: float = 0.2,
        retry_s: float = 5.0,
        client: PushClient | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.db = db
        self.tz = tz
        self.poll_interval = poll_interval
        self.retry_s = retry_s
        self.clock = clock
        self.client = client or PushClient(allowed)  # a client handed in brings its own
        self._task: asyncio.Task[None] | None = None
        self._pushing: set[asyncio.Task[None]] = set()
        self._lanes: dict[tuple[str, str, int], Lane] = {}
        self._busy: dict[str, Counter[int]] = {kind: Counter() for kind, _ in OUTBOXES}
        self._served: dict[str, set[int]] = _no_one()
        # Where each application's pushes last went, to hold back the applications whose
        # destination is saturated or backing off: their pushes would only wait or fail.
        self._lane_of: dict[tuple[str, int], tuple[str, str, int]] = {}
        self._in_flight = 0
        self._found = False  # the last claim found pushes
        self._wake = asyncio.Event()
        self.pushed = 0
        self.failed = 0
        self.blocked = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="callbacks")

    async def stop(self) -> None:
        await stop_task(self._task)
        self._task = None
        pushing, self._pushing = list(self._pushing), set()
        for task in pushing:
            task.cancel()
        await asyncio.gather(*pushing, return_exceptions=True)
        await self.client.aclose()

    async def settle(self) -> None:
        """Wait until every push started so far has ended and been recorded."""
        while self._pushing:
            await asyncio.gather(*self._pushing, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                claimed = await self.push_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("callback round failed")
                claimed = 0
            if claimed == 0:  # wait for a push to end (room, an application free) or a tick
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_interval):
                        await self._wake.wait()

    @staticmethod
    def _apps(by_kind: Mapping[str, Collection[int]]) -> dict[str, list[int]]:
        return {kind: list(apps) for kind, apps in by_kind.items()}

    async def push_once(self) -> int:
        """Claim what is due and start pushing it; returns how many pushes were started.

        Returns before the pushes end: each request records its own outcome. Pushes whose
        destination turns out to be saturated or backing off are handed back unattempted, and
        their applications are held back from claims until it has room. Applications
        take turns: one served by a claim is skipped by the next ones until a claim finds no
        one else, so a backlog at the head of the queue gets one share, then waits its turn.
        """
        now = self.clock()
        await self._close_quiet_lanes(now)
        room = MAX_IN_FLIGHT - self._in_flight
        if room <= 0:
            return 0
        held = self._held(now)
        busy = {kind: list(self._busy[kind]) + held[kind] for kind in held}
        # After a claim that found pushes, the next claims without asking first (the read
        # would find more: under load it only added three statements to every claim).
        if not self._found and not await self.db.read(lambda c: has_due(c, now, busy)):
            self._served = _no_one()
            return 0
        limit = min(CLAIM_LIMIT, room)
        # Long enough for a push to wait its turn in its lane and then run to its deadline.
        lease = max(LEASE, 3 * self.client.deadline)
        served = self._apps(self._served)
        skip = {kind: busy[kind] + served[kind] for kind in busy}
        pushes = await self.db.write(
            lambda c: claim(c, now, limit, self.tz, skip=skip, lease=lease)
        )
        if not pushes and any(served.values()):  # everyone had a turn: a new one begins
            self._served = _no_one()
            pushes = await self.db.write(
                lambda c: claim(c, now, limit, self.tz, skip=busy, lease=lease)
            )
        self._found = bool(pushes)
        for p in pushes:
            self._served[p.kind].add(p.app_id)
        if sum(len(apps) for apps in self._served.values()) > MAX_SERVED:
            self._served = _no_one()
        started: list[Push] = []
        held_back: list[Push] = []
        for request in requests_of(pushes, now + lease):
            if self._unavailable(request, now):
                held_back.extend(request.pushes)
                continue
            for p in request.pushes:
                self._busy[p.kind][p.app_id] += 1
            self._in_flight += len(request.pushes)
            task = asyncio.create_task(self._deliver(request), name="callback push")
            self._pushing.add(task)
            task.add_done_callback(self._pushing.discard)
            started.extend(request.pushes)
        if held_back:  # due again at once, but held until their destination has room
            await self.db.write(lambda c: release(c, held_back, now))
        return len(started)

    def _unavailable(self, request: Request, now: float) -> bool:
        """Whether the request's destination is saturated or backing off (noting it)."""
        try:
            destination = judge_url(request.url, self.client.allowed).destination
        except RuleViolation:
            return False  # pushed, to fail with its reason
        for p in request.pushes:
            self._lane_of[(p.kind, p.app_id)] = destination
        lane = self._lanes.get(destination)
        return lane is not None and _unavailable(lane, now)

    def _held(self, now: float) -> dict[str, list[int]]:
        """Applications whose destination is saturated or backing off, by kind."""
        held: dict[str, list[int]] = {kind: [] for kind, _ in OUTBOXES}
        for (kind, app_id), destination in self._lane_of.items():
            lane = self._lanes.get(destination)
            if lane is not None and _unavailable(lane, now):
                held[kind].append(app_id)
        return held

    async def _close_quiet_lanes(self, now: float) -> None:
        for destination, lane in list(self._lanes.items()):
            if lane.idle_since(now, LANE_QUIET):
                del self._lanes[destination]
                await self.client.forget(destination)
        if len(self._lane_of) > MAX_SERVED or any(
            d not in self._lanes for d in self._lane_of.values()
        ):
            self._lane_of = {k: d for k, d in self._lane_of.items() if d in self._lanes}

    async def _deliver(self, request: Request) -> None:
        try:
            await self._push(request)
        except asyncio.CancelledError:
            raise
        except Exception:  # the rows stay leased and come back when the lease ends
            log.exception("callback push to %s failed", request.url)
        finally:
            for p in request.pushes:
                self._busy[p.kind][p.app_id] -= 1
                if self._busy[p.kind][p.app_id] <= 0:
                    del self._busy[p.kind][p.app_id]
            self._in_flight -= len(request.pushes)
            self._wake.set()

    async def _push(self, request: Request) -> None:
        try:
            url = judge_url(request.url, self.client.allowed)
        except RuleViolation as exc:
            await self._record(request, PushOutcome(Verdict.BLOCKED, exc.message), 0.0)
            return
        lane = self._lanes.get(url.destination)
        if lane is None:
            lane = self._lanes[url.destination] = Lane(url.destination, self.client.per_destination)
        for p in request.pushes:
            self._lane_of[(p.kind, p.app_id)] = url.destination
        lane.busy += 1
        try:
            outcome = await self._in_lane(lane, url, request)
        finally:
            lane.busy -= 1
            lane.last_used = self.clock()
        if outcome is None:
            await self.db.write(lambda c: release(c, request.pushes, self.clock()))
            return
        health = lane.health
        await self._record(request, outcome, health.retry_at if health.failures else 0.0)

    async def _in_lane(self, lane: Lane, url: CallbackUrl, request: Request) -> PushOutcome | None:
        """Push in the destination's lane; None when the lease ran short while waiting."""
        health = lane.health
        probe = health.failures > 0
        if not health.admit(self.clock()):
            return _backing_off(url, health.retry_at - self.clock())
        sent = False
        try:
            async with lane.gate:
                now = self.clock()
                if health.failures > 0 and not probe:  # it failed while this one waited
                    return _backing_off(url, health.retry_at - now)
                if now + self.client.deadline + LEASE_MARGIN > request.leased_until:
                    return None
                outcome = await self.client.post(str(url), request.body)
                sent = True
        finally:
            if probe and not sent:  # the probe did not happen: let another one go
                health.probing = False
        if outcome.destination_failed:
            health.failed(self.clock())
        else:
            health.succeeded()
        return outcome

    async def _record(self, request: Request, outcome: PushOutcome, not_before: float) -> None:
        pushes = request.pushes
        done: tuple[Push, ...]
        failed: tuple[Push, ...]
        if outcome.accepted:
            done, failed = pushes, ()
            self.pushed += len(pushes)
        else:
            done, failed = (), pushes
            self.failed += len(pushes)
            if outcome.verdict is Verdict.BLOCKED:
                self.blocked += len(pushes)
                log.warning("callback to %s refused: %s", request.url, outcome.reason)
            else:
                log.info("callback to %s failed: %s", request.url, outcome.reason)
        finished = self.clock()
        await self.db.write(
            lambda c: record(c, done, failed, finished, self.retry_s, not_before=not_before)
        )


def _no_one() -> dict[str, set[int]]:
    """Applications served this turn, by kind: none yet."""
    return {kind: set() for kind, _ in OUTBOXES}


def _unavailable(lane: Lane, now: float) -> bool:
    """A push to this destination now would only wait for a connection or fail at once."""
    health = lane.health
    return lane.busy >= lane.per_destination or (health.failures > 0 and now < health.retry_at)


def _backing_off(url: CallbackUrl, wait: float) -> PushOutcome:
    return PushOutcome(
        Verdict.UNANSWERED,
        f"{url.host_header} failed recently; it is tried again in {max(wait, 0.0):.0f} s",
    )
