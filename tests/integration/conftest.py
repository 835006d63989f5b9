from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from smscloud.store.database import Database
from smscloud.store.migrate import upgrade


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after each test so a leaked connection is blamed on the test that leaked it."""
    yield
    gc.collect()


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated, started store on each database (``database_url``)."""
    database = Database(database_url)
    upgrade(database.engine)
    database.start()
    yield database
    database.close()
