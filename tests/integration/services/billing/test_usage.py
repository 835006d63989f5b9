"""Billing at acceptance: the free allowance, alarms, daily limits, postpaid usage, arrears."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, update

from smscloud.cli.demo_data import DEMO_INTL_PRICE
from smscloud.domain.billing.periods import month_of, previous_month
from smscloud.services.billing import ledger, postpaid
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.delivery.callbacks.test_pusher import send
from tests.integration.notify.test_mail import Collector, smtp_server  # noqa: F401 (a fixture)
from tests.support.live import LiveServer

TZ = "Asia/Shanghai"


@pytest.fixture
def live(
    tmp_path: Path,
    database_url: str,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> Iterator[LiveServer]:
    _, port = smtp_server
    settings = make_settings(
        tmp_path,
        database_url,
        free_monthly_units=5,
        smtp_url=f"smtp://mailer:s3cret%3A%E5%AF%86@127.0.0.1:{port}",
        mail_from="smscloud <noreply@smscloud.test>",
    )
    with LiveServer(settings) as server:
        yield server


def _until(check: Any, within: float = 15.0) -> None:
    deadline = time.time() + within
    while not check():
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _codes(out: list[Any]) -> list[str]:
    return [o.Code for o in out]


def test_the_monthly_free_allowance_is_spent_first_and_granted_once(live: LiveServer) -> None:
    t = live.tenant(units=10)
    send(live, t, ["+8613800138000"])
    send(live, t, ["+8613800138001", "+8613800138002"])
    p = s.packages
    rows = live.query(
        lambda c: c.execute(
            select(p.c.source, p.c.amount, p.c.used, p.c.package_type)
            .where(p.c.tenant_id == t.id)
            .order_by(p.c.id)
        ).all()
    )
    month = month_of(time.time(), live.platform.settings.tz)
    assert [tuple(r) for r in rows] == [("", 10, 0, 0), (f"free:{month}", 5, 3, 0)]
    assert live.query(ledger.check) == []
    # 5 free + 10 bought: the 16th number is refused.
    out = send(live, t, [f"+86138001381{i:02d}" for i in range(13)])
    assert _codes(out) == ["Ok"] * 12 + ["FailedOperation.InsufficientBalanceInSmsPackage"]


def test_a_package_alarm_is_sent_once_per_crossing(
    live: LiveServer,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> None:
    collector, _ = smtp_server
    t = live.tenant(units=5)  # + 5 free: 10 in all
    live.admin(
        lambda c: c.execute(
            update(s.tenants)
            .where(s.tenants.c.id == t.id)
            .values(
                alarm_threshold=4,
                contact_emails="ops@acme.test\nboss@acme.test",
                contact_phones="+8613900000000",
            )
        )
    )
    for i in range(8):  # 10 -> 2 units left: crosses 4 once, on the 6th message
        assert _codes(send(live, t, [f"+861380013{i:04d}"])) == ["Ok"]
    _until(lambda: len(collector.received) == 1)
    time.sleep(1.5)  # the notifier polls every second: nothing more may come
    assert len(collector.received) == 1
    mail = collector.received[0]
    assert sorted(mail.rcpt_tos) == ["boss@acme.test", "ops@acme.test"]
    assert "4" in mail.message.get_content()
    n = s.notifications
    assert live.query(lambda c: c.execute(select(n.c.state)).scalars().all()) == [1]
    # And one SMS, sent by the platform itself through its own delivery path.
    m = s.messages
    sms = live.query(
        lambda c: c.execute(
            select(m.c.serial_no, m.c.content).where(m.c.phone == "+8613900000000")
        ).all()
    )
    assert len(sms) == 1 and sms[0].content.startswith("【云短信平台】")
    assert live.wait_final([sms[0].serial_no]) == {sms[0].serial_no: "DELIVERED"}
    assert live.query(ledger.check) == []  # the platform does not bill itself


def test_application_daily_limits(live: LiveServer, smtp_server: tuple[Collector, int]) -> None:  # noqa: F811
    collector, _ = smtp_server
    t = live.tenant(units=100)
    live.admin(
        lambda c: c.execute(
            update(s.tenants).where(s.tenants.c.id == t.id).values(contact_emails="ops@acme.test")
        )
    )
    live.admin(
        lambda c: c.execute(
            update(s.applications).where(s.applications.c.id == t.app_id).values(daily_limit=3)
        )
    )
    out = send(live, t, [f"+8613800138{i:03d}" for i in range(5)])
    assert _codes(out) == ["Ok"] * 3 + ["LimitExceeded.AppDailyLimit"] * 2
    assert _codes(send(live, t, ["+8613800138999"])) == ["LimitExceeded.AppDailyLimit"]
    _until(lambda: len(collector.received) == 1)  # reaching the limit is told once
    live.admin(
        lambda c: c.execute(
            update(s.applications)
            .where(s.applications.c.id == t.app_id)
            .values(daily_limit=0, mainland_daily_limit=4)
        )
    )
    live.platform.catalog.forget()
    out = send(live, t, ["+8613800138100", "+8613800138101"])
    assert _codes(out) == ["Ok", "LimitExceeded.AppMainlandChinaDailyLimit"]


def test_international_sms_is_metered_at_its_price_and_refunded_when_refused(
    live: LiveServer,
) -> None:
    t = live.tenant(template="Your code is {1}", international=1, sign="Acme", units=0)
    # 0000003 is refused at submission: its usage is given back.
    out = send(live, t, ["+60123456789", "+60120000003", "+61412345678"])
    assert _codes(out) == ["Ok"] * 3
    live.wait_final([o.SerialNo for o in out])
    u = s.usage
    rows = live.query(
        lambda c: c.execute(
            select(u.c.iso_code, func.sum(u.c.quantity), func.sum(u.c.amount))
            .where(u.c.tenant_id == t.id)
            .group_by(u.c.iso_code)
            .order_by(u.c.iso_code)
        ).all()
    )
    assert [tuple(r) for r in rows] == [("AU", 1, DEMO_INTL_PRICE), ("MY", 1, DEMO_INTL_PRICE)]
    live.admin(lambda c: c.execute(delete(s.prices).where(s.prices.c.iso_code == "AU")))
    out = send(live, t, ["+61412345679"])
    assert _codes(out) == ["UnsupportedOperation.UnsupportedRegion"]
    assert live.query(ledger.check) == []  # usage agrees with what the messages cost
    live.admin(lambda c: c.execute(update(u).values(amount=u.c.amount + 1)))
    assert live.query(ledger.check) == [
        f"tenant {t.id}: postpaid messages cost {2 * DEMO_INTL_PRICE} micro-yuan"
        f" but its usage adds up to {2 * DEMO_INTL_PRICE + 3}"
    ]


def test_an_overdue_bill_suspends_sending_until_it_is_paid(live: LiveServer) -> None:
    t = live.tenant(units=10)
    tz = live.platform.settings.tz
    last = previous_month(month_of(time.time(), tz))
    mid = datetime.strptime(f"{last}-15", "%Y-%m-%d").replace(tzinfo=tz).timestamp()
    live.admin(
        lambda c: c.execute(
            insert(s.usage).values(
                tenant_id=t.id, product="sms_intl", iso_code="MY", nation_code="60",
                quantity=10, unit_price=DEMO_INTL_PRICE, amount=10 * DEMO_INTL_PRICE,
                created_at=mid,
            )
        )
    )  # fmt: skip
    bills = live.admin(lambda c: postpaid.close_month(c, last, tz, time.time(), due_days=0))
    assert [b["total"] for b in bills] == [10 * DEMO_INTL_PRICE]
    live.platform.catalog.forget()
    assert _codes_or_error(live, t) == "UnauthorizedOperation.ServiceSuspendDueToArrears"
    live.admin(lambda c: postpaid.pay_bill(c, bills[0]["id"], time.time()))
    _until(lambda: _codes_or_error(live, t) == "Ok", within=10)  # resumes by itself


def _codes_or_error(live: LiveServer, t: Any) -> str:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
        TencentCloudSDKException,
    )

    try:
        return str(send(live, t, ["+8613800138000"])[0].Code)
    except TencentCloudSDKException as exc:
        return str(exc.code)
