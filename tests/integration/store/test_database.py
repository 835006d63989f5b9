"""The store on SQLite and PostgreSQL: migrations, group commit, exact billing under concurrency."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Connection,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
    update,
)

from smscloud.delivery import receipts
from smscloud.domain.errors import RuleViolation
from smscloud.platform import Platform
from smscloud.services.accounts import tenants
from smscloud.services.billing import ledger, wallet
from smscloud.services.sending.sms import SendRequest
from smscloud.store import database
from smscloud.store import schema as s
from smscloud.store.database import Database
from smscloud.store.migrate import upgrade
from tests.conftest import make_settings
from tests.support import postgres
from tests.support.live import approved_sign, approved_template


def test_migrations_build_exactly_the_declared_schema(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine)
        upgrade(db.engine)  # idempotent
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), s.metadata)
        assert diff == []
    finally:
        db.close()


def test_upgrade_leaves_the_hourly_limit_off_where_it_was_the_old_default(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine, "0013")

        def apps(conn: Connection) -> list[int]:
            # The applications table as revision 0013 left it: today's has more columns.
            old = Table("applications", MetaData(), autoload_with=conn)
            t = tenants.create_tenant(conn, "T", "enterprise")
            ids = []
            for hour in (5, 3, None):
                row: dict[str, object] = {
                    "sdk_app_id": f"14000{hour}",
                    "tenant_id": t.id,
                    "name": str(hour),
                    "freq_hour": hour,
                }
                for c in old.columns:  # every other NOT NULL column: an empty value
                    if c.name not in row and not c.nullable and not c.primary_key:
                        row[c.name] = "" if isinstance(c.type, String | Text) else 0
                ids.append(int(conn.execute(insert(old).values(**row)).inserted_primary_key[0]))
            return ids

        ids = db.write_sync(apps)
        upgrade(db.engine)
        a = s.applications
        hours = db.read_sync(
            lambda c: c.execute(select(a.c.id, a.c.freq_hour).where(a.c.id.in_(ids))).all()
        )
        assert sorted(hours) == sorted(zip(ids, [None, 3, None], strict=True))
    finally:
        db.close()


def test_a_failing_job_does_not_take_its_batch_down(database_url: str) -> None:
    db = Database(database_url, commit_window_ms=50)
    upgrade(db.engine)
    db.start()

    def good(n: int):  # type: ignore[no-untyped-def]
        def write(conn: Connection) -> int:
            conn.execute(
                insert(s.tenants).values(
                    name=f"t{n}",
                    account_type="enterprise",
                    verified=True,
                    status="active",
                    created_at=0,
                )
            )
            return n

        return write

    def bad(conn: Connection) -> None:
        conn.execute(
            insert(s.tenants).values(
                name="bad", account_type="enterprise", verified=True, status="active", created_at=0
            )
        )
        raise RuleViolation("FailedOperation", "refused")

    async def main() -> list[object]:
        jobs = [db.write(good(i)) for i in range(10)] + [db.write(bad)]
        return await asyncio.gather(*jobs, return_exceptions=True)

    try:
        results = asyncio.run(main())
        assert results[:10] == list(range(10))
        assert isinstance(results[10], RuleViolation)
        names = db.read_sync(lambda c: c.execute(select(s.tenants.c.name)).scalars().all())
        assert sorted(names) == sorted(f"t{i}" for i in range(10))  # "bad" rolled back alone
        assert db.commits < 11  # grouped, then the culprit isolated
    finally:
        db.close()


def test_writes_queued_while_the_write_lock_is_awaited_join_that_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has one write lock for every process: while the writer waits for it (the
    delivery worker holds it), what is queued meanwhile commits in the same transaction
    instead of waiting for the lock again after it."""
    path = tmp_path / "lock.db"
    db = Database(f"sqlite:///{path}", commit_window_ms=0)
    upgrade(db.engine)
    asking = threading.Event()
    take_lock = database._begin_immediate

    def asked(dbapi_conn: Any) -> None:
        asking.set()  # the writer is about to wait for the lock
        take_lock(dbapi_conn)

    monkeypatch.setattr(database, "_begin_immediate", asked)

    def tenant(name: str):  # type: ignore[no-untyped-def]
        def write(conn: Connection) -> str:
            conn.execute(
                insert(s.tenants).values(
                    name=name, account_type="enterprise", verified=True, status="active",
                    created_at=0,
                )
            )  # fmt: skip
            return name

        return write

    db.start()
    db.write_sync(tenant("first"))  # the writer's connection is open and set up
    asking.clear()
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, say
    other.execute("BEGIN IMMEDIATE")

    async def main() -> list[str]:
        first = asyncio.ensure_future(db.write(tenant("a")))
        assert await asyncio.to_thread(asking.wait, 30), "the writer never asked for the lock"
        later = [asyncio.ensure_future(db.write(tenant(n))) for n in ("b", "c")]
        await asyncio.sleep(0)  # both queued while the lock is held
        other.execute("COMMIT")
        return await asyncio.gather(first, *later)

    try:
        commits = db.commits
        assert asyncio.run(main()) == ["a", "b", "c"]
        assert db.commits == commits + 1
    finally:
        other.close()
        db.close()


def _named_tenant(name: str):  # type: ignore[no-untyped-def]
    def write(conn: Connection) -> str:
        conn.execute(
            insert(s.tenants).values(
                name=name, account_type="enterprise", verified=True, status="active", created_at=0
            )
        )
        return name

    return write


def _names(db: Database) -> list[str]:
    return sorted(db.read_sync(lambda c: c.execute(select(s.tenants.c.name)).scalars().all()))


def test_a_writer_on_the_event_loop_serves_the_loop_while_another_process_commits(
    tmp_path: Path,
) -> None:
    """The delivery worker commits on its event loop: while another process holds SQLite's
    write lock, the loop goes on (SMPP, pushes) and the writes wait, then commit together.
    Threads hand it writes; the loop's own thread writes directly, never waiting for itself."""
    path = tmp_path / "loop.db"
    db = Database(f"sqlite:///{path}", commit_window_ms=0, commit_on_loop=True)
    upgrade(db.engine)
    other = sqlite3.connect(path, isolation_level=None)  # another process's writer, say

    async def main() -> tuple[list[str], int, int]:
        db.start()
        assert await asyncio.to_thread(db.write_sync, _named_tenant("from a thread")) == (
            "from a thread"
        )
        assert db.write_sync(_named_tenant("from the loop")) == "from the loop"
        commits = db.commits
        other.execute("BEGIN IMMEDIATE")
        pending = [asyncio.ensure_future(db.write(_named_tenant(n))) for n in ("a", "b")]
        turns = 0
        while turns < 200:  # the loop turns while the writes wait for the lock
            await asyncio.sleep(0)
            turns += 1
            assert not any(p.done() for p in pending)
        other.execute("COMMIT")
        names = await asyncio.gather(*pending)
        await db.stop()
        return names, db.commits - commits, turns

    try:
        names, commits, turns = asyncio.run(main())
    finally:
        other.close()
    assert names == ["a", "b"]
    assert commits == 1  # both waited for the lock and took it once
    assert turns == 200
    assert _names(db) == ["a", "b", "from a thread", "from the loop"]


def test_a_writer_on_the_event_loop_fails_what_it_cannot_lock_for_and_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "loop.db"
    db = Database(f"sqlite:///{path}", commit_window_ms=0, commit_on_loop=True)
    db.lock_patience = 0.2
    upgrade(db.engine)
    other = sqlite3.connect(path, isolation_level=None)

    async def main() -> tuple[BaseException | str, str]:
        db.start()
        other.execute("BEGIN IMMEDIATE")
        [refused] = await asyncio.gather(db.write(_named_tenant("a")), return_exceptions=True)
        other.execute("COMMIT")
        taken = await db.write(_named_tenant("b"))
        await db.stop()
        return refused, taken

    try:
        refused, taken = asyncio.run(main())
    finally:
        other.close()
    assert isinstance(refused, sqlite3.OperationalError)
    assert "locked" in str(refused)
    assert taken == "b"
    assert _names(db) == ["b"]


def test_stopping_a_writer_on_the_event_loop_commits_what_was_queued(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'loop.db'}", commit_window_ms=5, commit_on_loop=True)
    upgrade(db.engine)

    async def main() -> list[str]:
        db.start()
        pending = [asyncio.ensure_future(db.write(_named_tenant(f"t{i}"))) for i in range(5)]
        await asyncio.sleep(0)  # queued, inside the commit window
        await db.stop()
        return list(await asyncio.gather(*pending))

    assert asyncio.run(main()) == [f"t{i}" for i in range(5)]
    assert _names(db) == [f"t{i}" for i in range(5)]


def _tenant(db: Database, units: int) -> tuple[int, str, str]:
    def make(conn: Connection) -> tuple[int, str, str]:
        t = tenants.create_tenant(conn, "T", "enterprise", verified=True)
        app = tenants.create_app(conn, t.id, "a", freq_30s=None, freq_hour=None, freq_day=None)
        wallet.grant_package(conn, t.id, units)
        approved_sign(conn, t.id, "签名")
        tid = approved_template(conn, t.id, "验证码{1}")
        return t.id, app.sdk_app_id, str(tid)

    with db.connect() as conn:
        return make(conn)


def test_concurrent_senders_never_oversell_a_package(tmp_path: Path, database_url: str) -> None:
    _oversell(tmp_path, database_url, writers=1)


def test_two_platforms_on_postgresql_never_oversell_a_package(
    tmp_path: Path, pg_cluster: postgres.Cluster
) -> None:
    # Two writers with their own connections: the package rows' locks must serialise them.
    name = "t_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {name}")
    _oversell(tmp_path, pg_cluster.url(name), writers=2)


def _oversell(tmp_path: Path, database_url: str, writers: int) -> None:
    platforms = [Platform(make_settings(tmp_path / str(i), database_url)) for i in range(writers)]

    async def main() -> list[int]:
        for p in platforms:
            await p.start(deliver=False)
        try:
            tenant_id, sdk_app_id, template_id = _tenant(platforms[0].db, 157)

            async def sender(p: Platform, worker: int) -> int:
                ok = 0
                for batch in range(6):
                    phones = [f"+86138{worker:03d}{batch:02d}{i + 10:03d}" for i in range(10)]
                    _, out = await p.sender.send(
                        SendRequest(tenant_id, sdk_app_id, phones, template_id, "签名", ["1234"])
                    )
                    ok += sum(1 for c in out if c.code == "Ok")
                    codes = {c.code for c in out}
                    assert codes <= {"Ok", "FailedOperation.InsufficientBalanceInSmsPackage"}
                return ok

            counts = await asyncio.gather(*(sender(platforms[w % writers], w) for w in range(24)))
            return list(counts)
        finally:
            for p in platforms:
                await p.stop()

    counts = asyncio.run(main())
    assert sum(counts) == 157  # exactly the package, though 1,440 numbers were asked for
    db = Database(database_url)
    try:
        used, billed, refused = db.read_sync(
            lambda c: c.execute(
                select(
                    select(func.sum(s.packages.c.used)).scalar_subquery(),
                    select(func.sum(s.messages.c.parts))
                    .where(s.messages.c.state == "QUEUED")
                    .scalar_subquery(),
                    select(func.count()).where(s.messages.c.state == "REFUSED").scalar_subquery(),
                )
            ).one()
        )
        assert (used, billed, refused) == (157, 157, 24 * 60 - 157)
        assert db.read_sync(ledger.check) == []  # the reconciliation is clean
        tenant = db.read_sync(lambda c: c.execute(select(s.packages.c.tenant_id)).scalar_one())
        assert db.read_sync(lambda c: ledger.balances(c, tenant)) == {
            "granted": 157,
            "used": 157,
            "left": 0,
        }
    finally:
        db.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        mode = db.read_sync(lambda c: c.execute(text("PRAGMA journal_mode")).scalar())
        assert mode == "wal"
    finally:
        db.close()


m, rp = s.messages, s.replies
HOT_QUERIES = [
    ("claim", select(m.c.id).where(s.QUEUED).order_by(m.c.id).limit(500), "ix_messages_queued"),
    (
        "expired leases",
        select(m.c.id).where(s.LEASED, m.c.lease_until < 1e9).limit(500),
        "ix_messages_leased",
    ),
    (
        "receipt timeout",
        select(m.c.id).where(s.IN_FLIGHT, m.c.submitted_at < 1e9),
        "ix_messages_in_flight",
    ),
    (
        "report pull",
        select(m.c.id).where(m.c.app_id == 7, s.REPORT_PENDING).order_by(m.c.id).limit(100),
        "ix_messages_report_pending",
    ),
    (
        "reply pull",
        select(rp.c.id).where(rp.c.app_id == 7, s.REPLY_PENDING).order_by(rp.c.id).limit(100),
        "ix_replies_pending",
    ),
    (
        "frequency history",
        select(m.c.created_at).where(
            m.c.app_id == 7, m.c.phone.in_(["+8613800138000"]), m.c.created_at >= 0
        ),
        "ix_messages_phone_app_time",
    ),
    # Receipt matching (delivery/receipts.py): the carrier id index keeps submitted messages
    # alone (migration 0022), and these lookups must still find it by implying that.
    (
        "receipt lookup",
        select(m.c.carrier_msg_id, m.c.id).where(
            m.c.carrier == "c1", m.c.wire_parts == 1, m.c.carrier_msg_id.in_(["a1", "b2"])
        ),
        "ix_messages_carrier_id",
    ),
    (
        "receipt record",
        update(m)
        .where(m.c.carrier == "c1", m.c.carrier_msg_id == "a1", m.c.wire_parts == 1)
        .values(state="DELIVERED"),
        "ix_messages_carrier_id",
    ),
]


def _literal(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


@pytest.mark.parametrize(("name", "query", "index"), HOT_QUERIES, ids=[q[0] for q in HOT_QUERIES])
def test_hot_queries_use_their_indexes_with_bound_parameters(
    database_url: str, name: str, query: object, index: str
) -> None:
    """The store's hot queries must find their (partial) indexes as the app executes them:
    with bound parameters, and on PostgreSQL under a generic plan too."""
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            compiled = query.compile(  # type: ignore[attr-defined]
                dialect=conn.dialect, compile_kwargs={"render_postcompile": True}
            )
            sql = str(compiled)
            if conn.dialect.name == "sqlite":
                params = tuple(compiled.params[k] for k in compiled.positiontup)
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).all()
            else:
                # psycopg prepares a statement after five runs, and PostgreSQL may then plan it
                # once for all values (a generic plan): that is the plan to check.
                names = re.findall(r"%\((\w+)\)s", sql)
                prepared = re.sub(r"%\((\w+)\)s", lambda mt: f"${names.index(mt[1]) + 1}", sql)
                conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
                conn.exec_driver_sql("SET enable_seqscan = off")
                conn.exec_driver_sql("PREPARE hot AS " + prepared.replace("%%", "%"))
                args = ", ".join(_literal(compiled.params[n]) for n in names)
                plan = conn.exec_driver_sql(f"EXPLAIN EXECUTE hot({args})").all()
        text_plan = " ".join(str(col) for row in plan for col in row)
        assert index in text_plan, f"{name}: {text_plan}"
    finally:
        db.close()


def test_orphan_receipts_wait_in_the_database_until_their_message_is_recorded(
    database_url: str,
) -> None:
    from smscloud.carriers.base import DELIVERED, Receipt

    db = Database(database_url)
    try:
        upgrade(db.engine)
        now = 1_700_000_000.0
        early = Receipt("ABC1", DELIVERED, "DELIVRD", now)
        stray = Receipt("nobody", DELIVERED, "DELIVRD", now)
        with db.connect() as conn:
            left = receipts.apply_receipts(conn, "c1", [early, stray])
            assert left == [early, stray]
            receipts.keep_orphans(conn, "c1", left, now)
        with db.connect() as conn:  # later, and in another transaction: the message exists
            conn.execute(
                insert(s.messages).values(
                    serial_no="5000:1",
                    request_id="r",
                    tenant_id=1,
                    app_id=1,
                    phone="+8613800138000",
                    nation_code="86",
                    iso_code="CN",
                    international=False,
                    sign_name="x",
                    template_id=1,
                    sms_type=3,
                    content="x",
                    content_key="k",
                    parts=1,
                    state="SUBMITTED",
                    created_at=now,
                    carrier="c1",
                    carrier_msg_id="abc1",
                )
            )
            assert receipts.retry_orphans(conn, now + 1, ttl=600) == (1, 0)
            state = conn.execute(select(s.messages.c.state)).scalar_one()
            assert state == "DELIVERED"
            assert receipts.has_orphans(conn)  # the stray one waits on
            assert receipts.retry_orphans(conn, now + 601, ttl=600) == (0, 1)
            assert not receipts.has_orphans(conn)
    finally:
        db.close()


KEYED = [
    (
        "submitted",
        f"UPDATE messages SET state = 'SUBMITTED' WHERE id = 7 AND {s.STILL_SENDING}",
        "pk_messages",
    ),
    (
        "receipt",
        "UPDATE messages SET state = 'DELIVERED' WHERE carrier = 'c' AND carrier_msg_id = 'x'"
        f" AND wire_parts = 1 AND {s.STILL_SUBMITTED}",
        "ix_messages_carrier_id",
    ),
    (
        "push claim",
        f"SELECT id FROM messages WHERE id IN (7, 8) AND messages.{s.STILL_CALLBACK_DUE}"
        " AND callback_next_at <= 5",
        "pk_messages",
    ),
]


@pytest.mark.parametrize(("name", "sql", "index"), KEYED, ids=[q[0] for q in KEYED])
def test_statements_that_find_rows_by_key_never_search_a_queue_index(
    pg_cluster: postgres.Cluster, name: str, sql: str, index: str
) -> None:
    """A statement that finds its rows by key and only checks their state must go by the key:
    a queue's partial index holds an entry for every row that passed through the state since
    the last vacuum, and reading through them cost hundreds of pages per row."""
    database = "k_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {database}")
    db = Database(pg_cluster.url(database))
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            # What the planner believed after a vacuum with the queues empty: tiny indexes.
            conn.exec_driver_sql("ANALYZE messages")
            plan = conn.exec_driver_sql("EXPLAIN " + sql).all()
        text_plan = " ".join(str(col) for row in plan for col in row)
        assert index in text_plan, f"{name}: {text_plan}"
    finally:
        db.close()


def test_postgresql_vacuums_the_message_tables_by_rows_changed(
    pg_cluster: postgres.Cluster,
) -> None:
    """Migration 0019: the queue tables are vacuumed and analysed after a fixed number of
    changed rows, not a share of a table that only grows."""
    database = "v_" + uuid.uuid4().hex[:12]
    pg_cluster.psql(f"CREATE DATABASE {database}")
    db = Database(pg_cluster.url(database))
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT relname, reloptions FROM pg_class WHERE relname IN"
                " ('messages', 'message_parts', 'replies', 'voice_pushes', 'tenants')"
            ).all()
        options = {name: set(opts or ()) for name, opts in rows}
        for table in ("messages", "message_parts", "replies", "voice_pushes"):
            assert {
                "autovacuum_vacuum_scale_factor=0",
                "autovacuum_vacuum_threshold=10000",
                "autovacuum_analyze_threshold=10000",
            } <= options[table], table
        assert options["tenants"] == set()  # a table that does not churn keeps the defaults
    finally:
        db.close()


def test_the_carrier_id_index_leaves_out_messages_not_yet_submitted(database_url: str) -> None:
    """Migration 0022: an accepted message has no carrier id, and no entry in the index
    receipts are matched by (one each cost every acceptance and served no lookup)."""
    db = Database(database_url)
    try:
        upgrade(db.engine)
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_messages_carrier_id'"
            else:
                sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_messages_carrier_id'"
            definition = conn.exec_driver_sql(sql).scalar_one()
        assert re.search(r"WHERE \(?carrier_msg_id IS NOT NULL\)?", definition), definition
    finally:
        db.close()
