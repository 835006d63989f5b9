"""Every kind of notice, on both databases: a console message, the account's own addresses as
before, and the verified contacts that chose its kind (and no other contact)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from smscloud.delivery.notifier import Notifier
from smscloud.domain.billing.prices import SMS_INTL
from smscloud.notify.mail import Mail
from smscloud.services import notice_contacts
from smscloud.services.billing import postpaid, usage
from smscloud.services.sending.platform_sms import PLATFORM_SIGN
from smscloud.store import schema as s
from smscloud.store.database import Database, inserted_id

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 1, 10, tzinfo=SH).timestamp()


def arrange(conn: Connection) -> int:
    """A tenant with alarm contacts, and contacts: each kind chosen by one email and one
    phone, and an unverified contact that chose everything."""
    tid = inserted_id(
        conn.execute(
            insert(s.tenants).values(
                name="Acme", account_type="enterprise", verified=True, status="active",
                created_at=0.0, alarm_threshold=10, contact_emails="own@acme.test",
                contact_phones="+8613800000100",
            )
        )
    )  # fmt: skip
    kinds = (("balance", 1), ("limit", 2), ("bill", 3), ("review", 4), ("arrears", 5))
    for kind, number in kinds:
        for channel, address in (("email", f"{kind}@acme.test"), ("sms", f"+861380000000{number}")):
            contact = notice_contacts.add(conn, tid, channel, address, NOW)
            notice_contacts.set_kinds(conn, tid, contact, [kind])
            conn.execute(
                s.notice_contacts.update()
                .where(s.notice_contacts.c.id == contact)
                .values(verified_at=NOW)
            )
    notice_contacts.add(conn, tid, "email", "new@acme.test", NOW)  # unverified, every kind
    conn.execute(s.notifications.delete())  # the codes
    conn.execute(s.messages.delete())
    return tid


def sent(conn: Connection) -> tuple[list[str], list[str], list[tuple[str, dict[str, object]]]]:
    """(email recipients, texted numbers, console messages) so far."""
    emails = [r for (r,) in conn.execute(select(s.notifications.c.recipients))]
    m = s.messages
    phones = list(
        conn.execute(
            select(m.c.phone).where(m.c.sign_name == PLATFORM_SIGN).order_by(m.c.phone)
        ).scalars()
    )
    cm = s.console_messages
    inbox = [(k, json.loads(p)) for k, p in conn.execute(select(cm.c.kind, cm.c.params))]
    return emails, phones, inbox


def test_low_balance_goes_to_its_contacts(db: Database) -> None:
    tid = db.write_sync(arrange)
    alarm = usage.Alarm("Acme", 10, ("own@acme.test",), ("+8613800000100",), 11)
    db.write_sync(lambda c: usage.fire_alarms(c, {tid: alarm}, {tid: 9}, NOW))
    emails, phones, inbox = db.read_sync(sent)
    assert emails == ["own@acme.test\nbalance@acme.test"]
    assert phones == ["+8613800000001", "+8613800000100"]
    assert inbox == [("balance", {"remaining": 9, "threshold": 10})]


def test_a_daily_limit_goes_to_its_contacts(db: Database) -> None:
    tid = db.write_sync(arrange)

    def app(conn: Connection) -> int:
        row = {"tenant_id": tid, "sdk_app_id": "1499999999", "app_key": "k", "name": "商城"}
        return inserted_id(conn.execute(insert(s.applications).values(**row, created_at=0.0)))

    app_id = db.write_sync(app)
    days = {(app_id, "2026-02-01"): usage.DayCount((100, 0, 0), 99, 0, added_mainland=1)}
    db.write_sync(lambda c: usage.daily_limit_alarms(c, days, NOW))
    emails, phones, inbox = db.read_sync(sent)
    assert emails == ["own@acme.test\nlimit@acme.test"]
    assert phones == ["+8613800000002", "+8613800000100"]
    assert inbox == [("limit", {"app": "商城", "limit": 100})]


def bill_january(db: Database, tid: int) -> dict[str, Any]:
    def used(conn: Connection) -> None:
        postpaid.import_prices(
            conn, "product,iso_code,nation_code,unit_price_yuan\nsms_intl,US,1,0.05\n"
        )
        conn.execute(
            insert(s.usage).values(
                tenant_id=tid, product=SMS_INTL, iso_code="US", nation_code="1", quantity=10,
                unit_price=50_000, amount=500_000,
                created_at=datetime(2026, 1, 5, tzinfo=SH).timestamp(),
            )
        )  # fmt: skip

    db.write_sync(used)
    [made] = db.write_sync(lambda c: postpaid.close_month(c, "2026-01", SH, NOW))
    return made


def test_a_bill_goes_to_its_contacts_by_email_and_sms(db: Database) -> None:
    tid = db.write_sync(arrange)
    made = bill_january(db, tid)
    assert made["notified"]
    emails, phones, inbox = db.read_sync(sent)
    assert emails == ["own@acme.test\nbill@acme.test"]
    assert phones == ["+8613800000003"]  # the account's own phones never had bills by SMS
    [(kind, params)] = inbox
    assert kind == "bill" and params["month"] == "2026-01" and params["amount"] == "0.50"


class Outbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []

    async def send(self, mail: Mail) -> None:
        self.mails.append(mail)


def test_an_overdue_bill_is_told_once_by_the_notifier(db: Database) -> None:
    tid = db.write_sync(arrange)
    due = float(bill_january(db, tid)["due_at"])
    db.write_sync(lambda c: c.execute(s.notifications.delete()))
    db.write_sync(lambda c: c.execute(s.messages.delete()))
    assert db.write_sync(lambda c: postpaid.notice_overdue(c, SH, due)) == 0  # not yet

    outbox = Outbox()
    notifier = Notifier(db, outbox, clock=lambda: due + 1, tz=SH)
    asyncio.run(notifier.send_once())
    [mail] = outbox.mails
    assert mail.to == ("own@acme.test", "arrears@acme.test")
    assert "2026-01" in mail.subject and "逾期" in mail.subject
    _, phones, inbox = db.read_sync(sent)
    assert phones == ["+8613800000005"]
    assert [kind for kind, _ in inbox] == ["bill", "arrears"]
    # Told once, whoever looks again.
    assert db.write_sync(lambda c: postpaid.notice_overdue(c, SH, due + 3600)) == 0
    assert asyncio.run(notifier.notice_overdue(due + 3600)) == 0
    # Nothing is left to tell.
    assert not db.read_sync(lambda c: postpaid.overdue_unnoticed(c, due + 86_400))
