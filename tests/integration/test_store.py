"""The store on SQLite and PostgreSQL: migrations, group commit, exact billing under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select, text

from smscloud.domain.errors import RuleViolation
from smscloud.platform import Platform
from smscloud.services import accounts
from smscloud.services.sending import SendRequest
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


def _tenant(db: Database, units: int) -> tuple[int, str, str]:
    def make(conn: Connection) -> tuple[int, str, str]:
        t = accounts.create_tenant(conn, "T", "enterprise", verified=True)
        app = accounts.create_app(conn, t["id"], "a", freq_30s=None, freq_hour=None, freq_day=None)
        accounts.grant_package(conn, t["id"], units)
        approved_sign(conn, t["id"], "签名")
        tid = approved_template(conn, t["id"], "验证码{1}")
        return t["id"], app["sdk_app_id"], str(tid)

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
    finally:
        db.close()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        mode = db.read_sync(lambda c: c.execute(text("PRAGMA journal_mode")).scalar())
        assert mode == "wal"
    finally:
        db.close()
