"""The console's statistics: one grouped pass in quarter hours, folded into hours and days."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from smscloud.console.pages.records import fold
from smscloud.services.accounts import tenants
from smscloud.services.statistics import SLOT, quarter_hours
from smscloud.store.database import Database, run_many
from smscloud.store.messages import INSERT_MESSAGES, new_serial_no

pytestmark = pytest.mark.postgres
SHANGHAI = ZoneInfo("Asia/Shanghai")
KOLKATA = ZoneInfo("Asia/Kolkata")  # +05:30: its hours start on a half hour of UTC


def at(tz: ZoneInfo, text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz).timestamp()


def store(db: Database, tenant: int, app: int, sends: list[tuple[float, str, int]]) -> None:
    def write(conn: Connection) -> None:
        rows = [
            (new_serial_no(when), "r", tenant, app, f"+86139{i:08d}", "86", "CN", False, "s", 1, 2,
             "text", "k", parts, "", "", "", "", state, "Ok", when, None)
            for i, (when, state, parts) in enumerate(sends)
        ]  # fmt: skip
        run_many(conn, INSERT_MESSAGES, rows)

    db.write_sync(write)


@pytest.mark.parametrize("tz", [SHANGHAI, KOLKATA], ids=["shanghai", "kolkata"])
def test_counts_land_in_the_local_hour_and_day(db: Database, tz: ZoneInfo) -> None:
    made = db.write_sync(lambda c: tenants.create_tenant(c, "T", "enterprise", verified=True))
    tenant = int(made.id)
    app = int(db.write_sync(lambda c: tenants.create_app(c, tenant, "a")).id)
    store(
        db,
        tenant,
        app,
        [
            (at(tz, "2026-11-24 09:59:59"), "DELIVERED", 1),
            (at(tz, "2026-11-24 10:00:00"), "DELIVERED", 2),
            (at(tz, "2026-11-24 10:59:00"), "UNDELIVERED", 1),
            (at(tz, "2026-11-24 10:30:00"), "REFUSED", 0),
            (at(tz, "2026-11-24 23:59:59"), "QUEUED", 3),
            (at(tz, "2026-11-25 00:00:00"), "DELIVERED", 1),
        ],
    )
    since = at(tz, "2026-11-24 00:00:00")
    slots = db.read_sync(lambda c: quarter_hours(c, tenant, since))
    assert all(isinstance(k, int) for k in slots)
    assert sum(v[0] for v in slots.values()) == 5  # the refused one is not "sent"
    hours = fold(
        slots,
        [
            (
                at(tz, f"2026-11-24 {h:02d}:00:00"),
                at(tz, f"2026-11-24 {h:02d}:00:00") + 3600,
                f"{h}",
            )
            for h in (9, 10, 11)
        ],
    )
    assert [(b["label"], b["sent"], b["delivered"], b["failed"], b["parts"]) for b in hours] == [
        ("9", 1, 1, 0, 1),
        ("10", 2, 1, 1, 3),
        ("11", 0, 0, 0, 0),
    ]
    assert hours[1]["rate"] == "50.0%" and hours[2]["rate"] == "–"
    days = fold(
        slots,
        [
            (at(tz, "2026-11-24 00:00:00"), at(tz, "2026-11-25 00:00:00"), "24"),
            (at(tz, "2026-11-25 00:00:00"), at(tz, "2026-11-26 00:00:00"), "25"),
        ],
    )
    assert [(b["sent"], b["parts"]) for b in days] == [(4, 7), (1, 1)]
    # Bucket edges fall on slot edges, so nothing is counted twice or lost at a boundary.
    assert at(tz, "2026-11-24 10:00:00") % SLOT == 0
