"""ACCEPT: the one transaction that makes a send durable.

``AcceptKind.run_many`` receives every SendSms request gathered into one group commit and, in
a handful of statements for all of them: reads the frequency history of their numbers, checks
each number against its application's policy, debits the tenant's prepaid packages (domestic
SMS only; international is postpaid and metered), and inserts every message row. Requests are
processed in arrival order, so a later request sees the sends and debits of an earlier one.

On PostgreSQL the package rows are locked (``FOR UPDATE``) before they are read, so concurrent
processes cannot spend the same units; on SQLite the writer holds the database lock already.
Frequency limits get the same care: before the history is read, a transaction lock is taken on
every (application, number) about to be checked, so of two processes sending to one number the
second reads the history only once the first has committed its sends.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text

from smscloud.domain.frequency import FREQUENCY_MESSAGES, FrequencyPolicy, Sent, check_frequency
from smscloud.domain.frequency import day_start as natural_day_start
from smscloud.domain.message_states import MessageState
from smscloud.services.billing import usage, wallet
from smscloud.store import schema as s
from smscloud.store.database import run_many
from smscloud.store.messages import INSERT_MESSAGES, new_serial_nos

OK = "Ok"
SEND_SUCCESS = "send success"
INSUFFICIENT = "FailedOperation.InsufficientBalanceInSmsPackage"
INSUFFICIENT_MESSAGE = "insufficient balance in SMS package"
_CHUNK = 500  # bound parameters per IN list, well under SQLite's limit
# Plain str values: the sqlite3 driver adapts a str subclass (StrEnum) through its adapter
# registry, which costs more per row than storing the value.
_QUEUED = MessageState.QUEUED.value
_REFUSED = MessageState.REFUSED.value


@dataclass(slots=True)
class Candidate:
    """One requested number, validated as far as the request alone allows."""

    raw: str
    phone: str  # E.164 when parsed, else the raw text
    nation_code: str
    iso_code: str
    content: str
    content_key: str
    parts: int
    code: str = OK
    message: str = SEND_SUCCESS
    serial_no: str = ""
    fee: int = 0


@dataclass(slots=True)
class AcceptRequest:
    request_id: str
    tenant_id: int
    app_id: int
    policy: FrequencyPolicy
    allowlist: frozenset[str]
    template_id: int
    sms_type: int
    sign_name: str
    international: bool
    session_context: str
    extend_code: str
    sender_id: str
    now: float
    tz: ZoneInfo
    candidates: list[Candidate] = field(default_factory=list)
    daily_limits: tuple[int, int, int] = (0, 0, 0)  # all, mainland, international; 0: none
    free_units: int = 0  # the monthly free allowance
    task_id: int | None = None  # the bulk task feeding these numbers
    # Codes a bulk task waits out instead of refusing its numbers (an empty package, a daily
    # limit): a number refused with one of them is answered so, but no row is written for it.
    keep: frozenset[str] = frozenset()


def lock_key(app_id: int, phone: str) -> int:
    """The PostgreSQL advisory lock (a signed 64-bit key) guarding one number's history."""
    digest = hashlib.blake2b(f"frequency:{app_id}:{phone}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# unnest yields the keys in the order given, and each lock is taken as its row is produced.
_LOCK_NUMBERS = text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k")


def _lock_numbers(conn: Connection, wanted: dict[int, set[str]]) -> None:
    """Serialise ACCEPT per (application, number) across processes (PostgreSQL).

    Under READ COMMITTED two transactions would otherwise both read a history without the
    other's sends and both accept. The locks are held to commit and taken in one statement, in
    ascending key order, so two transactions never wait for each other in a cycle. SQLite needs
    none: its writer holds the database's write lock (BEGIN IMMEDIATE) for the transaction.
    """
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({lock_key(app_id, phone) for app_id, ps in wanted.items() for phone in ps})
    if keys:
        conn.execute(_LOCK_NUMBERS, {"keys": keys})


def _history(
    conn: Connection, requests: Sequence[AcceptRequest]
) -> dict[tuple[int, str], list[Sent]]:
    """Recent accepted sends of every number in these requests, keyed by (app, phone)."""
    wanted: dict[int, set[str]] = defaultdict(set)
    since = min(min(natural_day_start(r.now, r.tz), r.now - 3600) for r in requests)
    for r in requests:
        if r.policy.unlimited:  # nothing to count: neither read nor lock
            continue
        for c in r.candidates:
            if c.code == OK and c.phone not in r.allowlist:
                wanted[r.app_id].add(c.phone)
    _lock_numbers(conn, wanted)
    m = s.messages
    found: dict[tuple[int, str], list[Sent]] = defaultdict(list)
    for app_id, phones in wanted.items():
        ordered = sorted(phones)
        for i in range(0, len(ordered), _CHUNK):
            rows = conn.execute(
                select(m.c.phone, m.c.created_at, m.c.content_key).where(
                    m.c.app_id == app_id,
                    m.c.phone.in_(ordered[i : i + _CHUNK]),
                    m.c.created_at >= since,
                    m.c.state != MessageState.REFUSED,
                )
            )
            for phone, at, key in rows:
                found[(app_id, phone)].append(Sent(at, key))
    return found


MARKETING = 1
BLACKLISTED = "FailedOperation.PhoneNumberInBlacklist"
BLACKLISTED_MESSAGE = "the number has unsubscribed from this sender's marketing messages"


def _opted_out(conn: Connection, requests: Sequence[AcceptRequest]) -> set[tuple[int, str]]:
    """(tenant, phone) pairs of marketing sends whose number asked the tenant to stop."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for r in requests:
        if r.sms_type == MARKETING:
            wanted[r.tenant_id].update(c.phone for c in r.candidates if c.code == OK)
    o = s.opt_outs
    found: set[tuple[int, str]] = set()
    for tenant_id, phones in wanted.items():
        ordered = sorted(phones)
        for i in range(0, len(ordered), _CHUNK):
            rows = conn.execute(
                select(o.c.phone).where(
                    o.c.tenant_id == tenant_id, o.c.phone.in_(ordered[i : i + _CHUNK])
                )
            )
            found.update((tenant_id, phone) for (phone,) in rows)
    return found


class AcceptKind:
    """The batchable ACCEPT job (see module docstring)."""

    def run_many(
        self, conn: Connection, requests: Sequence[AcceptRequest]
    ) -> list[list[Candidate]]:
        history = _history(conn, requests)
        opted_out = _opted_out(conn, requests)
        wallets: dict[int, list[list[int]]] = {}
        alarms: dict[int, usage.Alarm] = {}
        spent: dict[int, int] = defaultdict(int)
        owners: dict[int, int] = {}
        days = usage.load_days(
            conn, {(r.app_id, usage.day_of(r.now, r.tz)): r.daily_limits for r in requests}
        )
        prices = usage.intl_prices(
            conn, (c.iso_code for r in requests if r.international for c in r.candidates)
        )
        metered: dict[tuple[int, str, str, int], int] = defaultdict(int)
        rows: list[tuple[Any, ...]] = []
        # Applications whose history some request of this batch reads: only their sends need
        # recording as the batch goes (a later request may be judged by a newer policy).
        counted = {r.app_id for r in requests if not r.policy.unlimited}
        # PostgreSQL's boolean column takes a bool; sqlite3 stores 0/1 and adapts a bool (an
        # int subclass) through its registry, row by row.
        native_bool = conn.dialect.name == "postgresql"
        for r in requests:
            day = days[(r.app_id, usage.day_of(r.now, r.tz))]
            limited = not r.policy.unlimited
            recorded = r.app_id in counted
            international = r.international if native_bool else int(r.international)
            serials = iter(new_serial_nos(len(r.candidates), r.now))
            for c in r.candidates:
                debits = ""
                if c.code == OK and (r.tenant_id, c.phone) in opted_out:
                    c.code, c.message = BLACKLISTED, BLACKLISTED_MESSAGE
                if c.code == OK and r.international and c.iso_code not in prices:
                    c.code, c.message = usage.UNSUPPORTED_REGION, usage.UNSUPPORTED_REGION_MESSAGE
                if c.code == OK and limited and c.phone not in r.allowlist:
                    past = history[(r.app_id, c.phone)]
                    code = check_frequency(
                        r.policy, past, now=r.now, content_key=c.content_key, tz=r.tz
                    )
                    if code is not None:
                        c.code, c.message = code, FREQUENCY_MESSAGES[code]
                if c.code == OK and (limit := day.refuse(r.international)) is not None:
                    c.code, c.message = limit, usage.DAILY_MESSAGES[limit]
                if c.code == OK and not r.international:
                    if r.tenant_id not in wallets:
                        wallet.ensure_free_package(conn, r.tenant_id, r.now, r.tz, r.free_units)
                        wallets[r.tenant_id] = wallet.open_packages(conn, r.tenant_id, r.now)
                        left = sum(units for _, units in wallets[r.tenant_id])
                        if (alarm := usage.load_alarm(conn, r.tenant_id, left)) is not None:
                            alarms[r.tenant_id] = alarm
                    taken = wallet.take(wallets[r.tenant_id], c.parts)
                    if taken is None:
                        c.code, c.message = INSUFFICIENT, INSUFFICIENT_MESSAGE
                    else:
                        for pid, units in taken:
                            spent[pid] += units
                            owners[pid] = r.tenant_id
                        debits = (
                            f"{taken[0][0]}:{taken[0][1]}"
                            if len(taken) == 1
                            else ",".join(f"{pid}:{units}" for pid, units in taken)
                        )
                if c.code == OK and r.international:
                    nation, price = prices[c.iso_code]
                    metered[(r.tenant_id, c.iso_code, nation, price)] += c.parts
                    debits = f"{usage.PRICE_MARK}{price}"
                accepted = c.code == OK
                if not accepted and c.code in r.keep:
                    continue
                if accepted:
                    if recorded:  # even when this request's own policy counts nothing
                        history[(r.app_id, c.phone)].append(Sent(r.now, c.content_key))
                    c.fee = c.parts
                serial = next(serials)
                c.serial_no = serial if accepted else ""
                rows.append(
                    (
                        serial,
                        r.request_id,
                        r.tenant_id,
                        r.app_id,
                        c.phone[:24],
                        c.nation_code,
                        c.iso_code,
                        international,
                        r.sign_name,
                        r.template_id,
                        r.sms_type,
                        c.content,
                        c.content_key,
                        c.fee,
                        debits,
                        r.session_context,
                        r.extend_code,
                        r.sender_id,
                        _QUEUED if accepted else _REFUSED,
                        c.code,
                        r.now,
                        r.task_id,
                    )
                )
        wallet.spend(conn, spent, owners, requests[0].now)
        run_many(conn, INSERT_MESSAGES, rows)
        now = requests[0].now
        usage.save_days(conn, days)
        usage.daily_limit_alarms(conn, days, now)
        usage.meter(conn, metered, now)
        if alarms:
            after = {tid: sum(units for _, units in wallets[tid]) for tid in alarms}
            usage.fire_alarms(conn, alarms, after, now)
        return [r.candidates for r in requests]


ACCEPT = AcceptKind()
