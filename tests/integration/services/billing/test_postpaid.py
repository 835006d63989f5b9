"""Postpaid billing on both databases: prices, monthly bills, payments, arrears, and the
notifier that e-mails arrears notices through a real SMTP server."""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Connection, func, insert, select, text

from smscloud.cli import postpaid as cli_postpaid
from smscloud.config import Settings
from smscloud.delivery.notifier import Notifier
from smscloud.domain.billing.bills import BillLine
from smscloud.domain.billing.documents import bill_csv
from smscloud.domain.billing.prices import SMS_INTL, VOICE
from smscloud.domain.errors import RuleViolation
from smscloud.notify.mail import SmtpMailer
from smscloud.services.billing import postpaid
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id
from tests.integration.notify.test_mail import Collector
from tests.support.clocks import DAYTIME, ManualClock
from tests.support.live import free_port

SH = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
SENDER = "smscloud <billing@sms.example.com>"
HEADER = "product,iso_code,nation_code,unit_price_yuan"
PRICES = (
    f"\ufeff{HEADER}\r\nsms_intl,us,1,0.045\r\n\r\nsms_intl,HK,852,0.05\r\nvoice, US ,1,0.12\r\n"
)
EXPORTED = f"{HEADER}\nsms_intl,HK,852,0.05\nsms_intl,US,1,0.045\nvoice,US,1,0.12\n"


def at(tz: ZoneInfo, *when: int) -> float:
    return datetime(*when, tzinfo=tz).timestamp()


AFTER_FEB = at(SH, 2026, 3, 2)  # both January and February have ended, in any zone used


@pytest.fixture
def smtp() -> Iterator[tuple[Collector, int]]:
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield collector, port
    finally:
        controller.stop()


def _tenant(db: Database, name: str, emails: str = "") -> int:
    return db.write_sync(
        lambda c: inserted_id(
            c.execute(
                insert(s.tenants).values(
                    name=name,
                    account_type="enterprise",
                    verified=True,
                    status="active",
                    created_at=0.0,
                    contact_emails=emails,
                )
            )
        )
    )


def _use(db: Database, tenant: int, product: str, iso: str, quantity: int, when: float) -> None:
    """Meter usage as acceptance does: priced from the current price table."""

    def run(c: Connection) -> None:
        row = postpaid.load_prices(c).lookup(product, iso)
        assert row is not None
        c.execute(
            insert(s.usage).values(
                tenant_id=tenant,
                product=product,
                iso_code=row.iso_code,
                nation_code=row.nation_code,
                quantity=quantity,
                unit_price=row.unit_price,
                amount=row.unit_price * quantity,
                created_at=when,
            )
        )

    db.write_sync(run)


def _rows(db: Database, table: Any, *where: Any) -> list[Any]:
    return db.read_sync(lambda c: c.execute(select(table).where(*where).order_by(table.c.id)).all())


# -- prices -------------------------------------------------------------------------------------
def test_price_import_replaces_the_table_and_exports_round_trip(db: Database) -> None:
    assert db.write_sync(lambda c: postpaid.import_prices(c, PRICES)) == {
        "prices": 3,
        "replaced": 0,
    }
    exported = db.read_sync(postpaid.export_prices)
    assert exported == EXPORTED
    table = db.read_sync(postpaid.load_prices)
    us = table.lookup(SMS_INTL, "us")
    assert us is not None and (us.nation_code, us.unit_price) == ("1", 45_000)

    # What export wrote imports back to the same table.
    assert db.write_sync(lambda c: postpaid.import_prices(c, exported)) == {
        "prices": 3,
        "replaced": 3,
    }
    assert db.read_sync(postpaid.load_prices) == table
    # An import replaces the whole table: rows it does not list are gone.
    db.write_sync(lambda c: postpaid.import_prices(c, f"{HEADER}\nvoice,GB,44,0.3\n"))
    assert db.read_sync(postpaid.export_prices) == f"{HEADER}\nvoice,GB,44,0.30\n"


def test_bad_price_table_lists_every_error_and_changes_nothing(db: Database) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    bad = (
        f"{HEADER}\n"
        "sms_intl,USA,1,0.045\n"
        "fax,US,1,0.1\n"
        "sms_intl,HK,0852,-1\n"
        "sms_intl,GB,44\n"
        "sms_intl,FR,33,0.06\n"
        "sms_intl,FR,33,0.07\n"
    )
    with pytest.raises(RuleViolation) as info:
        db.write_sync(lambda c: postpaid.import_prices(c, bad))
    assert info.value.code == "InvalidParameterValue"
    problems = info.value.message.splitlines()[1:]
    assert [p.split(":")[0] for p in problems] == [
        "line 2",
        "line 3",
        "line 4",
        "line 4",
        "line 5",
        "line 7",
    ]
    message = info.value.message
    assert "iso_code must be 2 letters" in message
    assert "unknown product 'fax'" in message
    assert "nation_code must be 1-4 digits" in message
    assert "invalid yuan amount '-1'" in message
    assert "expected 4 fields, got 3" in message
    assert "duplicate price for sms_intl FR (first on line 6)" in message
    assert db.read_sync(postpaid.export_prices) == EXPORTED


# -- bills -------------------------------------------------------------------------------------
def test_month_boundary_follows_the_time_zone(db: Database) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    late_jan = at(UTC, 2026, 1, 31, 15)  # 23:00 on Jan 31 in Shanghai
    early_feb = at(UTC, 2026, 1, 31, 20)  # 04:00 on Feb 1 in Shanghai, still January in UTC
    a = _tenant(db, "Alpha")
    _use(db, a, SMS_INTL, "US", 1, late_jan)
    _use(db, a, SMS_INTL, "US", 2, early_feb)

    jan = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, AFTER_FEB))
    assert [(b["tenant_id"], b["total"], b["lines"]) for b in jan] == [(a, 50_000, 1)]
    assert jan[0]["due_at"] == at(SH, 2026, 2, 16)
    assert db.read_sync(lambda c: postpaid.bill(c, jan[0]["id"])).lines == (
        BillLine(SMS_INTL, "US", "1", 45_000, 1, 45_000),
    )
    feb = db.write_sync(lambda c: postpaid.close_month(c, "2026-02", SH, AFTER_FEB))
    assert db.read_sync(lambda c: postpaid.bill(c, feb[0]["id"])).lines == (
        BillLine(SMS_INTL, "US", "1", 45_000, 2, 90_000),
    )

    # The same usage of another tenant, billed in UTC: both rows are January's.
    b = _tenant(db, "Beta")
    _use(db, b, SMS_INTL, "US", 1, late_jan)
    _use(db, b, SMS_INTL, "US", 2, early_feb)
    jan_utc = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", UTC, AFTER_FEB))
    assert [(x["tenant_id"], x["total"]) for x in jan_utc] == [(b, 140_000)]  # 0.135 -> 0.14
    assert jan_utc[0]["due_at"] == at(UTC, 2026, 2, 16)
    assert db.write_sync(lambda c: postpaid.close_month(c, "2026-02", UTC, AFTER_FEB)) == []
    months = [(x["tenant_id"], x["month"]) for x in db.read_sync(postpaid.list_bills)]
    assert sorted(months) == [(a, "2026-01"), (a, "2026-02"), (b, "2026-01")]
    assert [x["month"] for x in db.read_sync(lambda c: postpaid.list_bills(c, a))] == [
        "2026-02",
        "2026-01",
    ]


def test_close_month_is_idempotent_and_refuses_the_running_month(db: Database) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    t = _tenant(db, "Gamma", "ops@gamma.example\n")
    _use(db, t, SMS_INTL, "HK", 3, at(SH, 2026, 1, 10))
    _use(db, t, SMS_INTL, "HK", 1, at(SH, 2026, 2, 10))

    in_feb = at(SH, 2026, 2, 28, 23, 59)
    with pytest.raises(RuleViolation) as info:
        db.write_sync(lambda c: postpaid.close_month(c, "2026-02", SH, in_feb))
    assert info.value.code == "UnsupportedOperation"
    assert "has not ended yet in Asia/Shanghai" in info.value.message
    with pytest.raises(RuleViolation, match="invalid bill month"):
        db.write_sync(lambda c: postpaid.close_month(c, "2026-13", SH, in_feb))

    [made] = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, in_feb))
    assert (made["total"], made["total_yuan"], made["notified"]) == (150_000, "0.15", True)
    assert db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, AFTER_FEB)) == []
    [stored] = _rows(db, s.bills)
    assert (stored.month, stored.total, stored.issued_at) == ("2026-01", 150_000, in_feb)
    assert stored.paid_at is None
    [entry] = _rows(db, s.ledger)
    assert (entry.kind, entry.amount, entry.note, entry.package_id) == (
        "bill",
        -150_000,
        "bill:2026-01",
        None,
    )
    assert len(_rows(db, s.notifications)) == 1


def test_price_change_mid_month_gives_two_lines(db: Database, tmp_path: Path) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    t = _tenant(db, "=Delta 德尔塔")
    _use(db, t, SMS_INTL, "US", 3, at(SH, 2026, 1, 5))
    _use(db, t, VOICE, "US", 2, at(SH, 2026, 1, 6))
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES.replace("0.045", "0.05")))
    _use(db, t, SMS_INTL, "US", 2, at(SH, 2026, 1, 20))
    _use(db, t, SMS_INTL, "US", -1, at(SH, 2026, 1, 21))  # a refund at the new price
    _use(db, t, SMS_INTL, "HK", 1, at(SH, 2026, 1, 22))

    [made] = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, AFTER_FEB, 10))
    bill = db.read_sync(lambda c: postpaid.bill(c, made["id"]))
    assert bill.lines == (
        BillLine(SMS_INTL, "HK", "852", 50_000, 1, 50_000),
        BillLine(SMS_INTL, "US", "1", 45_000, 3, 135_000),
        BillLine(SMS_INTL, "US", "1", 50_000, 1, 50_000),
        BillLine(VOICE, "US", "1", 120_000, 2, 240_000),
    )
    # 0.475 yuan exactly, rounded once to the fen.
    assert bill.total == made["total"] == 480_000
    assert (bill.tenant_name, bill.month, bill.issued_at) == ("=Delta 德尔塔", "2026-01", AFTER_FEB)
    assert bill.due_at == at(SH, 2026, 2, 11)
    assert made["notified"] is False  # no contact e-mails
    assert _rows(db, s.notifications) == []
    assert bill_csv(bill, SH).splitlines()[-1] == "total,,,,,0.48"


def test_concurrent_close_bills_each_tenant_once(db: Database) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    t = _tenant(db, "Epsilon", "e@epsilon.example")
    _use(db, t, SMS_INTL, "US", 10, at(SH, 2026, 1, 3))
    other: list[Any] = []

    def second() -> None:
        try:
            with db.connect() as c:
                other.append(postpaid.close_month(c, "2026-01", SH, AFTER_FEB))
        except BaseException as exc:  # reported by the assertion below
            other.append(exc)

    thread = threading.Thread(target=second)
    with db.connect() as c:
        first = postpaid.close_month(c, "2026-01", SH, AFTER_FEB)
        thread.start()
        if db.dialect == "postgresql":
            # Wait until the second run sits on the unique index, behind our uncommitted bill.
            deadline = time.monotonic() + 10
            waiting = 0
            while waiting == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
                waiting = db.read_sync(
                    lambda r: r.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()"
                        )
                    ).scalar_one()
                )
            assert waiting == 1
        else:
            time.sleep(0.2)  # the second run waits for SQLite's write lock
    thread.join(10)
    assert [b["tenant_id"] for b in first] == [t]
    assert other == [[]]
    assert len(_rows(db, s.bills)) == 1
    assert [e.kind for e in _rows(db, s.ledger)] == ["bill"]
    assert len(_rows(db, s.notifications)) == 1


def test_pay_bill_and_arrears(db: Database) -> None:
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    payer = _tenant(db, "Zeta", "z@zeta.example")
    even = _tenant(db, "Eta", "h@eta.example")
    _use(db, payer, SMS_INTL, "US", 100, at(SH, 2026, 1, 3))
    _use(db, even, SMS_INTL, "US", 1, at(SH, 2026, 1, 3))
    _use(db, even, SMS_INTL, "US", -1, at(SH, 2026, 1, 4))  # refunded: nothing to pay
    made = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, at(SH, 2026, 2, 1)))
    by_tenant = {b["tenant_id"]: b for b in made}
    assert (by_tenant[payer]["total"], by_tenant[even]["total"]) == (4_500_000, 0)
    assert [n.tenant_id for n in _rows(db, s.notifications)] == [payer]  # none for a zero bill

    due = at(SH, 2026, 2, 16)
    assert not db.read_sync(lambda c: postpaid.in_arrears(c, payer, due - 1))
    assert not db.read_sync(lambda c: postpaid.in_arrears(c, payer, due))
    assert db.read_sync(lambda c: postpaid.in_arrears(c, payer, due + 1))
    assert not db.read_sync(lambda c: postpaid.in_arrears(c, even, due + 86_400))

    bill_id = by_tenant[payer]["id"]
    paid = db.write_sync(lambda c: postpaid.pay_bill(c, bill_id, due + 2))
    assert (paid["id"], paid["paid_at"], paid["total_yuan"]) == (bill_id, due + 2, "4.50")
    assert not db.read_sync(lambda c: postpaid.in_arrears(c, payer, due + 3))
    with pytest.raises(RuleViolation) as info:
        db.write_sync(lambda c: postpaid.pay_bill(c, bill_id, due + 4))
    assert info.value.code == "FailedOperation"
    with pytest.raises(RuleViolation) as info:
        db.write_sync(lambda c: postpaid.pay_bill(c, 999_999, due + 4))
    assert info.value.code == "ResourceNotFound"
    entries = _rows(db, s.ledger, s.ledger.c.tenant_id == payer)
    assert [(e.kind, e.amount, e.note) for e in entries] == [
        ("bill", -4_500_000, "bill:2026-01"),
        ("payment", 4_500_000, "bill:2026-01"),
    ]
    assert [b["paid_at"] for b in db.read_sync(lambda c: postpaid.list_bills(c, payer))] == [
        due + 2
    ]


# -- the operator's commands -------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="smscloud")
    admin = parser.add_subparsers(dest="area", required=True)

    def cmd(area: argparse._SubParsersAction[Any], name: str, help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = area.add_parser(name, help=help)
        p.add_argument("--json", action="store_true")
        return p

    cli_postpaid.register(admin, cmd)
    return parser


def _run(db: Database, settings: Settings, *argv: str) -> Any:
    args = _parser().parse_args(argv)
    with db.connect() as c:
        return cli_postpaid.actions(args, settings)[(args.area, args.op)](c)


def test_cli_prices_bills_and_pdf_export(db: Database, tmp_path: Path) -> None:
    settings = Settings(database_url=db.url, data_dir=tmp_path, timezone="Asia/Shanghai")
    csv_in = tmp_path / "prices.csv"
    csv_in.write_text(PRICES, encoding="utf-8")
    assert _run(db, settings, "price", "import", str(csv_in)) == {"prices": 3, "replaced": 0}
    assert _run(db, settings, "price", "export")[1] == {
        "product": SMS_INTL,
        "iso_code": "US",
        "nation_code": "1",
        "unit_price_yuan": "0.045",
    }
    out = tmp_path / "out.csv"
    assert _run(db, settings, "price", "export", "--out", str(out)) == {
        "out": str(out),
        "prices": 3,
    }
    assert out.read_text(encoding="utf-8") == EXPORTED

    t = _tenant(db, "客户 Theta Ltd")
    _use(db, t, SMS_INTL, "HK", 25, at(SH, 2026, 1, 9))
    [made] = _run(db, settings, "bill", "close", "--month", "2026-01", "--due-days", "5")
    assert made["total_yuan"] == "1.25"
    assert made["due_at"] == at(SH, 2026, 2, 6)
    with pytest.raises(RuleViolation):  # this month has not ended
        _run(db, settings, "bill", "close", "--month", datetime.now(SH).strftime("%Y-%m"))
    assert [b["id"] for b in _run(db, settings, "bill", "list", "--tenant", str(t))] == [made["id"]]

    pdf = tmp_path / "bill.pdf"
    exported = _run(
        db,
        settings,
        "bill",
        "export",
        "--id",
        str(made["id"]),
        "--format",
        "pdf",
        "--out",
        str(pdf),
    )
    assert exported["bytes"] == pdf.stat().st_size > 0
    shown = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "客户 Theta Ltd" in shown
    assert "2026-01" in shown
    assert "CNY 1.25" in shown
    bill_file = tmp_path / "bill.csv"
    _run(db, settings, "bill", "export", "--id", str(made["id"]), "--format", "csv", "--out",
         str(bill_file))  # fmt: skip
    text_lines = bill_file.read_text(encoding="utf-8").splitlines()
    assert text_lines[0] == "tenant,客户 Theta Ltd"
    assert text_lines[-1] == "total,,,,,1.25"

    paid = _run(db, settings, "bill", "pay", "--id", str(made["id"]))
    assert paid["paid_at"] is not None
    assert _run(db, settings, "bill", "list")[0]["paid_at"] == paid["paid_at"]


# -- the notifier ------------------------------------------------------------------------------
def test_notifier_delivers_the_arrears_notice(db: Database, smtp: tuple[Collector, int]) -> None:
    collector, port = smtp
    db.write_sync(lambda c: postpaid.import_prices(c, PRICES))
    t = _tenant(db, "Iota", "alice@iota.example\n\n not an address \nBob <bob@iota.example>\n")
    _use(db, t, SMS_INTL, "US", 30, at(SH, 2026, 1, 9))
    closed = at(SH, 2026, 2, 1)  # before the bill's due date: no arrears notice yet
    [made] = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, closed))
    assert made["notified"]

    async def run() -> None:
        notifier = Notifier(
            db,
            SmtpMailer("127.0.0.1", port, SENDER, timeout=5),
            poll_interval=0.02,
            clock=lambda: closed + 1,
        )
        await notifier.start()
        sent = s.notifications.c.state == 1
        try:
            # Until the round has recorded the send: stopping between the SMTP answer and the
            # record would leave the row claimed, as a crash would.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if _rows(db, s.notifications, sent):
                    break
                await asyncio.sleep(0.02)
        finally:
            await notifier.stop()
        assert notifier.sent == 1

    asyncio.run(run())
    [got] = collector.received
    assert got.rcpt_tos == ["alice@iota.example", "bob@iota.example"]
    assert (
        got.message["Subject"] == "【smscloud】2026-01 账单待支付 / Bill for 2026-01 unpaid: ¥1.35"
    )
    body = got.message.get_content()
    assert "Iota" in body and "2026-02-16 00:00 (Asia/Shanghai)" in body
    [row] = _rows(db, s.notifications)
    assert (row.state, row.attempts, row.error) == (1, 0, "")
    assert row.sent_at is not None


def test_notifier_backs_off_then_gives_up(db: Database) -> None:
    refused = SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2)  # nothing listens
    # The notifier's clock moves only when the test moves it: a busy machine taking longer
    # than the back-off between two rounds cannot make a row due early.
    clock = ManualClock(DAYTIME)
    now = clock()
    db.write_sync(
        lambda c: c.execute(
            insert(s.notifications).values(
                channel="email", recipients="x@example.com", subject="s", body="b",
                state=0, attempts=0, next_at=now, created_at=now, error="",
            )
        )
    )  # fmt: skip
    sms_row = db.write_sync(
        lambda c: inserted_id(
            c.execute(
                insert(s.notifications).values(
                    channel="sms", recipients="+8613800000000", subject="", body="b",
                    state=0, attempts=0, next_at=now, created_at=now, error="",
                )
            )
        )
    )  # fmt: skip
    notifier = Notifier(db, refused, retry_s=0.1, max_attempts=3, clock=clock)
    email_only = s.notifications.c.channel == "email"

    async def attempt(expect: int) -> None:
        assert await notifier.send_once() == expect

    async def run() -> None:
        for tries, pause in ((1, 0.1), (2, 0.4)):
            await attempt(1)
            [row] = _rows(db, s.notifications, email_only)
            assert (row.state, row.attempts) == (0, tries)
            assert "cannot send mail via 127.0.0.1" in row.error
            assert row.next_at == pytest.approx(clock() + pause)  # retry_s * 4**(tries-1)
            await attempt(0)  # not due again yet
            clock.advance(pause / 2)
            await attempt(0)
            clock.advance(row.next_at - clock())  # due now, to the microsecond
        await attempt(1)
        await attempt(0)

    asyncio.run(run())
    [row] = _rows(db, s.notifications, email_only)
    assert (row.state, row.attempts, row.sent_at) == (2, 3, None)
    assert "Connect call failed" in row.error
    assert notifier.failed == 3
    [sms] = _rows(db, s.notifications, s.notifications.c.id == sms_row)
    assert (sms.state, sms.attempts) == (0, 0)  # SMS rows are not this notifier's


def test_two_notifiers_never_send_one_twice(db: Database, smtp: tuple[Collector, int]) -> None:
    collector, port = smtp
    now = time.time()
    count = 80
    db.write_sync(
        lambda c: c.execute(
            insert(s.notifications),
            [
                {
                    "channel": "email", "recipients": f"u{i}@example.com", "subject": f"n{i}",
                    "body": "b", "state": 0, "attempts": 0, "next_at": now, "created_at": now,
                    "error": "",
                }
                for i in range(count)
            ],
        )
    )  # fmt: skip
    other_db = Database(db.url)
    other_db.start()

    async def run() -> list[int]:
        mailer = SmtpMailer("127.0.0.1", port, SENDER, timeout=5)
        first, second = Notifier(db, mailer), Notifier(other_db, mailer)
        rounds: list[int] = []
        async with asyncio.timeout(30):
            while True:
                done = await asyncio.gather(first.send_once(), second.send_once())
                if sum(done) == 0:
                    return rounds
                rounds.extend(done)

    try:
        rounds = asyncio.run(run())
    finally:
        other_db.close()
    subjects = sorted(str(r.message["Subject"]) for r in collector.received)
    assert subjects == sorted(f"n{i}" for i in range(count))  # each exactly once
    assert sum(rounds) == count
    # The first round claims everything between them: a batch each, never the same row.
    assert sum(rounds[:2]) == count and max(rounds[:2]) <= 50
    states = db.read_sync(
        lambda c: c.execute(
            select(s.notifications.c.state, func.count()).group_by(s.notifications.c.state)
        ).all()
    )
    assert [tuple(x) for x in states] == [(1, count)]


def test_notifier_gives_up_at_once_on_an_unsendable_row(db: Database) -> None:
    now = time.time()
    db.write_sync(
        lambda c: c.execute(
            insert(s.notifications).values(
                channel="email", recipients="\nnobody\n", subject="s", body="b",
                state=0, attempts=0, next_at=now, created_at=now, error="",
            )
        )
    )  # fmt: skip
    refused = SmtpMailer("127.0.0.1", free_port(), SENDER, timeout=2)
    notifier = Notifier(db, refused, retry_s=0.01, max_attempts=6)
    assert asyncio.run(notifier.send_once()) == 1
    [row] = _rows(db, s.notifications)
    assert (row.state, row.attempts) == (2, 1)
    assert row.error.startswith("unsendable: not an e-mail address: 'nobody'")
