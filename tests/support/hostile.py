"""Values a hostile or careless client may send, for property tests of every parser.

``TRICKY`` holds strings that look like numbers to one reader and not to another
(``"²".isdigit()`` is true but ``int("²")`` fails; ``int("١٢")`` is 12), NUL characters
(which PostgreSQL text cannot hold) and integers just outside 64 bits (which neither SQLite
nor PostgreSQL can bind). ``VALUES`` draws one of them a third of the time, text longer than
a column a third of the time, else any JSON.
"""

from __future__ import annotations

import gc
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select, update

from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support import postgres
from tests.support.inprocess import InProcess
from tests.support.live import Tenant, approved_sign, approved_template

TRICKY: list[Any] = [
    "²",
    "١٢",
    "０",
    "-",
    "--1",
    "-0",
    "+1",
    " 1",
    "1_000",
    "1e3",
    "0x10",
    "NaN",
    "inf",
    "9" * 30,
    "-" + "9" * 30,
    "9" * 5000,
    "\x00",
    "a\x00b",
    "",
    " ",
    "2021050113",
    "²" * 10,
    "9999123123",
]
BOUNDS: list[Any] = [2**63 - 1, 2**63, 2**64 - 1, -(2**63), -(2**63) - 1, 2**64, 10**30, -1, 0]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(TRICKY + BOUNDS)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Text longer than a column: SQLite keeps it, PostgreSQL refuses it (VARCHAR(n)).
LONG = st.sampled_from(["x" * 65, "x" * 129, "一" * 257, "x" * 5000]) | st.text(
    min_size=100, max_size=600
)
VALUES = st.one_of(
    st.sampled_from([*TRICKY, *BOUNDS, 1.5, True, [], {}, [None], [True], ["²"], [2**63]]),
    JSON,
    LONG,
)
# Few examples per parameter, as there are hundreds of parameters (SMSCLOUD_INPUT_EXAMPLES
# asks for more, for a deeper run); no deadline, as the store's speed is not what is tested.
EXAMPLES = int(os.environ.get("SMSCLOUD_INPUT_EXAMPLES", "3"))
FEW = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Kept:
    """What a tenant's sends rely on, kept as it was whatever examples delete or modify, and a
    rejected signature and template for examples to modify."""

    sign_id: int
    template_id: int
    rejected_sign: int
    rejected_template: int


NOTHING_KEPT = Kept(1, 1, 1, 1)  # for listing parameter names before any store exists


def arrange_tenant(app: InProcess, t: Tenant) -> Kept:
    def make(conn: Connection) -> Kept:
        sign = conn.execute(
            select(s.signs.c.id).where(s.signs.c.tenant_id == t.id, s.signs.c.name == t.sign_name)
        ).scalar_one()
        rejected_sign = approved_sign(conn, t.id, "被拒签名")
        rejected_template = approved_template(conn, t.id, "您的验证码是{1}。")
        for table, row in ((s.signs, rejected_sign), (s.templates, rejected_template)):
            conn.execute(update(table).where(table.c.id == row).values(status=-1))
        return Kept(int(sign), int(t.template_id), rejected_sign, rejected_template)

    return app.admin(make)


class World(NamedTuple):
    """A module's application, its tenant, and what that tenant's sends rely on."""

    app: InProcess
    tenant: Tenant
    kept: Kept


def world_of(app: InProcess) -> World:
    t = app.tenant()
    return World(app, t, arrange_tenant(app, t))


def restore(app: InProcess, kept: Kept) -> None:
    """Undo what an example may have done to the sign and template every send uses."""

    def fix(conn: Connection) -> None:
        for table, row in ((s.signs, kept.sign_id), (s.templates, kept.template_id)):
            conn.execute(update(table).where(table.c.id == row).values(status=0, deleted=False))

    app.admin(fix)
    app.platform.catalog.forget()


class ErrorLog(logging.Handler):
    """Collects the errors the application logs: a request that fails logs one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        out = [r.getMessage() for r in self.records]
        self.records.clear()
        return out


def in_process(request: pytest.FixtureRequest, tmp: Path) -> Iterator[InProcess]:
    """The application over SQLite or PostgreSQL (``request.param``), logging errors to
    ``app.errors``."""
    url = f"sqlite:///{tmp / 'inputs.db'}"
    if request.param == "postgresql":
        cluster: postgres.Cluster = request.getfixturevalue("pg_cluster")
        name = "t_" + uuid.uuid4().hex[:12]
        cluster.psql(f"CREATE DATABASE {name}")
        url = cluster.url(name)
    errors = ErrorLog()
    logger = logging.getLogger("smscloud")
    logger.addHandler(errors)
    try:
        with InProcess(make_settings(tmp, url)) as app:
            app.errors = errors
            # pytest collects garbage after every test to find unraisable exceptions; with
            # the whole application loaded that costs a fifth of a second each, so what is
            # loaded now is left out of collections (as ``serve`` does after startup).
            gc.freeze()
            try:
                yield app
            finally:
                gc.unfreeze()
    finally:
        logger.removeHandler(errors)
