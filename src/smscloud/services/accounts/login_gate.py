"""The failed log-in limits of ``domain/login_limits.py``, kept in the database so that every
process (and every API machine on one PostgreSQL) counts against the same numbers.

Both functions run inside the writer's transaction. ``reserve`` tests and counts in one step:
the key rows are locked (``FOR UPDATE`` on PostgreSQL, in key order so two attempts never wait
on each other crosswise; on SQLite the writer already holds the database's write lock), read,
judged and written before the transaction ends, so no two attempts can both see room for
the last check.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from smscloud.domain.login_limits import Counter, Limits, Refused, give_back, reserve
from smscloud.store import schema as s

__all__ = ["check_passed", "reserve_check"]

f = s.login_failures
SWEEP = 100  # ended windows deleted per attempt, so that the table stays small


def _insert_missing(conn: Connection, keys: list[str], now: float) -> None:
    rows = [{"key": key, "failures": 0, "since": now} for key in keys]
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(f).on_conflict_do_nothing(), rows)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(f).on_conflict_do_nothing(), rows)


def _sweep(conn: Connection, now: float, window: float) -> None:
    """Delete some rows whose window has ended (those another attempt holds are skipped)."""
    ended = (
        select(f.c.key)
        .where(f.c.since < now - window)
        .order_by(f.c.since)
        .limit(SWEEP)
        .with_for_update(skip_locked=True)
    )
    conn.execute(delete(f).where(f.c.key.in_(ended.scalar_subquery())))


def _lock_rows(conn: Connection, keys: list[str], now: float) -> dict[str, Counter]:
    """The keys' counters, their rows made if missing and locked until the commit.

    On PostgreSQL another attempt's sweep may delete a row between our insert (which found
    it) and our lock (which waited for that delete): then the row is made again, now ours."""
    for _ in range(3):
        _insert_missing(conn, keys, now)
        counters = _locked(conn, keys)
        if len(counters) == len(keys):
            return counters
    raise RuntimeError("login_failures rows vanish as they are made")


def _locked(conn: Connection, keys: list[str]) -> dict[str, Counter]:
    rows = conn.execute(
        select(f.c.key, f.c.failures, f.c.since)
        .where(f.c.key.in_(keys))
        .order_by(f.c.key)
        .with_for_update()
    ).all()
    return {row.key: Counter(int(row.failures), float(row.since)) for row in rows}


def reserve_check(
    conn: Connection, account: str, address: str, now: float, limits: Limits
) -> Refused | None:
    """Reserve one password check for an attempt on ``account`` from ``address``; a
    ``Refused`` (and nothing counted) when either key is at its limit."""
    _sweep(conn, now, limits.window)
    counters = _lock_rows(conn, sorted({account, address}), now)
    verdict = reserve(counters[account], counters[address], now, limits)
    if isinstance(verdict, Refused):
        return verdict
    for key, counter in ((account, verdict.account), (address, verdict.address)):
        conn.execute(
            update(f).where(f.c.key == key).values(failures=counter.failures, since=counter.since)
        )
    return None


def check_passed(conn: Connection, account: str, address: str) -> None:
    """The reserved check proved the password: the account starts clean, and the address
    gets its reservation back."""
    conn.execute(delete(f).where(f.c.key == account))
    row = _locked(conn, [address]).get(address)
    if row is not None:
        left = give_back(row)
        conn.execute(update(f).where(f.c.key == address).values(failures=left.failures))
