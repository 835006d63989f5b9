"""Records read for an export in keyset batches, and the application/signature/template scope,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Connection

from smscloud.services.accounts import tenants
from smscloud.services.message_scope import MessageScope, scope_choices
from smscloud.services.record_export import ExportRecord, record_batches
from smscloud.services.reports import RecordFilter
from smscloud.services.statistics import failure_reasons, quarter_hours
from smscloud.store.database import Database, run_many
from smscloud.store.messages import INSERT_MESSAGES
from tests.support.live import approved_sign, approved_template

pytestmark = pytest.mark.postgres
NOW = 1_781_575_200.0  # a fixed moment; nothing here reads the clock


def arrange(db: Database) -> tuple[int, int, int, int, int]:
    """Two tenants; the first with two applications and two templates."""

    def make(conn: Connection) -> tuple[int, int, int, int, int]:
        one = int(tenants.create_tenant(conn, "A", "enterprise", verified=True, now=NOW).id)
        other = int(tenants.create_tenant(conn, "B", "enterprise", verified=True, now=NOW).id)
        app1 = int(tenants.create_app(conn, one, "a1", now=NOW).id)
        app2 = int(tenants.create_app(conn, one, "a2", now=NOW).id)
        app3 = int(tenants.create_app(conn, other, "b1", now=NOW).id)
        approved_sign(conn, one, "甲", now=NOW)
        approved_sign(conn, one, "乙", now=NOW)
        approved_sign(conn, other, "丙", now=NOW)
        approved_template(conn, one, "一{1}", now=NOW)
        approved_template(conn, one, "二{1}", now=NOW)
        approved_template(conn, other, "三{1}", now=NOW)
        return one, other, app1, app2, app3

    return db.write_sync(make)


def store(db: Database, rows: list[tuple[int, int, str, int, float, str]]) -> None:
    """(tenant, app, sign, template, created_at, state) rows, serials in insertion order."""

    def write(conn: Connection) -> None:
        run_many(
            conn,
            INSERT_MESSAGES,
            [
                (f"s{i:06d}", "r", tenant, app, f"+86139{i:08d}", "86", "CN", False, sign,
                 template, 2, "text", "k", 1, "", "", "", "", state, "Ok", at, None)
                for i, (tenant, app, sign, template, at, state) in enumerate(rows)
            ],
        )  # fmt: skip

    db.write_sync(write)


def read_all(db: Database, tenant: int, f: RecordFilter, size: int) -> list[list[ExportRecord]]:
    async def go() -> list[list[ExportRecord]]:
        return [batch async for batch in record_batches(db.read, tenant, f, size)]

    return asyncio.run(go())


def test_batches_walk_every_record_once_in_the_pages_order(db: Database) -> None:
    one, other, app1, app2, app3 = arrange(db)
    rows = []
    for i in range(250):
        # Messages share their second in threes: a batch often ends inside a tie.
        rows.append((one, app1 if i % 2 else app2, "甲", 1, NOW - 1000 + i // 3, "DELIVERED"))
    rows.append((other, app3, "丙", 3, NOW - 10, "DELIVERED"))
    store(db, rows)
    wanted = RecordFilter(begin=NOW - 3600, end=NOW)
    batches = read_all(db, one, wanted, 7)
    assert [len(b) for b in batches] == [7] * 35 + [5]
    got = [r.serial_no for b in batches for r in b]
    assert len(got) == len(set(got)) == 250 and "s000250" not in got  # not the other tenant's
    order = [(r.created_at, r.id) for b in batches for r in b]
    assert order == sorted(order, reverse=True)
    # An application of the tenant's, and the names the export writes.
    only = RecordFilter(begin=NOW - 3600, end=NOW, scope=MessageScope(app_id=app1))
    records = [r for b in read_all(db, one, only, 100) for r in b]
    assert len(records) == 125 and {r.template_name for r in records} == {"t"}
    # Another tenant's application, asked for directly, yields nothing of theirs.
    theirs = RecordFilter(begin=NOW - 3600, end=NOW, scope=MessageScope(app_id=app3))
    assert read_all(db, one, theirs, 100) == []


def test_scope_narrows_statistics_and_offers_the_tenants_own(db: Database) -> None:
    one, other, app1, app2, app3 = arrange(db)
    store(
        db,
        [
            (one, app1, "甲", 1, NOW - 100, "DELIVERED"),
            (one, app2, "乙", 1, NOW - 90, "UNDELIVERED"),
            (one, app2, "甲", 2, NOW - 80, "DELIVERED"),
            (other, app3, "丙", 3, NOW - 70, "UNDELIVERED"),
        ],
    )
    choices = db.read_sync(lambda c: scope_choices(c, one))
    assert [a.name for a in choices.apps] == ["a1", "a2"] and choices.signs == ["甲", "乙"]
    assert [t.id for t in choices.templates] == [1, 2]

    def sent(scope: MessageScope) -> int:
        slots = db.read_sync(lambda c: quarter_hours(c, one, NOW - 3600, scope))
        return sum(v[0] for v in slots.values())

    assert sent(MessageScope()) == 3
    assert sent(MessageScope(app_id=app2)) == 2
    assert sent(MessageScope(sign="甲")) == 2
    assert sent(MessageScope(template_id=2)) == 1
    assert sent(MessageScope(app_id=app2, sign="乙")) == 1
    assert sent(MessageScope(app_id=app3)) == 0
    reasons = db.read_sync(
        lambda c: failure_reasons(c, one, NOW - 3600, scope=MessageScope(sign="甲"))
    )
    assert reasons == []
