"""Packages, orders, alarm, bills and the operator's billing page over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, insert, select

from smscloud.services.accounts import tenants
from smscloud.services.billing import orders as catalogue
from smscloud.store import schema as s
from smscloud.store.database import inserted_id
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form
from tests.integration.console.test_registry import tenant_user
from tests.support.live import LiveServer

HEADER = "product,iso_code,nation_code,unit_price_yuan"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server


def operator(live: LiveServer, client: httpx.Client) -> None:
    live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
    r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
    assert r.status_code == 303


def order(client: httpx.Client, offer_id: int) -> httpx.Response:
    token = csrf_of(client.get("/console/packages").text)
    return client.post(
        "/console/packages/order", data={"csrf_token": token, "offer_id": str(offer_id)}
    )


def add_bill(live: LiveServer, tid: int, month: str, total: int, due_at: float) -> int:
    line = {
        "product": "sms_intl",
        "iso_code": "US",
        "nation_code": "1",
        "unit_price": 50_000,
        "quantity": total // 50_000,
        "amount": total,
    }

    def make(conn: Connection) -> int:
        return inserted_id(
            conn.execute(
                insert(s.bills).values(
                    tenant_id=tid,
                    month=month,
                    total=total,
                    lines=json.dumps([line]),
                    issued_at=time.time() - 86400,
                    due_at=due_at,
                    paid_at=None,
                )
            )
        )

    return live.admin(make)


def test_order_confirm_free_offer_and_catalogue_admin(live: LiveServer) -> None:
    tid = tenant_user(live, "ann@example.com")
    with httpx.Client(base_url=base(live)) as client, httpx.Client(base_url=base(live)) as op:
        operator(live, op)
        # The operator builds the catalogue; a bad price is reported on its field.
        token = csrf_of(op.get("/admin/billing").text)
        bad = {"name": "", "units": "0", "price": "-1", "validity_days": "x"}
        r = op.post("/admin/billing/offers", data={"csrf_token": token} | bad)
        assert r.status_code == 400
        assert 'id="e-name">此项必填' in r.text and 'id="e-units">请输入正整数' in r.text
        assert 'id="e-price">请输入有效金额' in r.text and 'id="e-validity_days">' in r.text
        good = {"name": "一万条", "units": "10000", "price": "350", "validity_days": "365"}
        assert (
            op.post("/admin/billing/offers", data={"csrf_token": token} | good).status_code == 303
        )
        free = {"name": "体验包", "units": "100", "price": "0", "validity_days": "30"}
        assert (
            op.post("/admin/billing/offers", data={"csrf_token": token} | free).status_code == 303
        )
        hidden = {"name": "旧套餐", "units": "5", "price": "1", "validity_days": "30"}
        assert (
            op.post("/admin/billing/offers", data={"csrf_token": token} | hidden).status_code == 303
        )
        paid_id, free_id, hidden_id = (o["id"] for o in live.query(catalogue.list_offers))
        r = op.post(
            f"/admin/billing/offers/{hidden_id}/active", data={"csrf_token": token, "active": "0"}
        )
        assert r.status_code == 303
        assert f'id="offer-state-{hidden_id}">已停用' in op.get("/admin/billing").text

        login(client, "ann@example.com")
        page = client.get("/console/packages")
        assert page.status_code == 200 and 'id="units-left">0<' in page.text
        assert f'id="offer-{paid_id}"' in page.text and "350.00" in page.text
        assert f'id="offer-{hidden_id}"' not in page.text  # a disabled offer is not shown
        # A disabled offer cannot be ordered even by a crafted post.
        r = order(client, hidden_id)
        assert r.status_code == 400 and 'id="e-order">FailedOperation' in r.text

        # A paid offer waits for the operator.
        assert order(client, paid_id).status_code == 303
        page = client.get("/console/packages")
        assert "运营人员确认付款后" in page.text and 'id="units-left">0<' in page.text
        (order_id,) = (o["id"] for o in live.query(lambda c: catalogue.list_orders(c, tid)))
        assert f'id="order-state-{order_id}">待付款' in page.text
        admin_page = op.get("/admin/billing")
        assert f'id="order-{order_id}"' in admin_page.text
        r = op.post(f"/admin/billing/orders/{order_id}/pay", data={"csrf_token": token})
        assert r.status_code == 303
        assert f'id="order-{order_id}"' not in op.get("/admin/billing").text
        # Paying twice is refused with the service's message.
        r = op.post(f"/admin/billing/orders/{order_id}/pay", data={"csrf_token": token})
        assert (
            r.status_code == 400
            and 'id="e-rule">' in r.text
            and '<code class="muted small">FailedOperation' in r.text
        )
        page = client.get("/console/packages")
        assert 'id="units-left">10,000<' in page.text
        assert f'id="order-state-{order_id}">已支付' in page.text
        packages = page.text.split('id="packages"')[1].split("</table>")[0]
        assert "10,000" in packages and "购买" in packages

        # A free offer is granted at once; a cancelled order grants nothing.
        assert order(client, free_id).status_code == 303
        page = client.get("/console/packages")
        assert "免费套餐已到账" in page.text and 'id="units-left">10,100<' in page.text
        packages = page.text.split('id="packages"')[1].split("</table>")[0]
        assert "赠送" in packages
        assert order(client, paid_id).status_code == 303
        orders = live.query(lambda c: catalogue.list_orders(c, tid))
        pending = [o["id"] for o in orders if o["state"] == "pending"]
        assert len(pending) == 1
        r = op.post(f"/admin/billing/orders/{pending[0]}/cancel", data={"csrf_token": token})
        assert r.status_code == 303
        page = client.get("/console/packages")
        assert f'id="order-state-{pending[0]}">已取消' in page.text
        assert 'id="units-left">10,100<' in page.text
        # An order id that does not exist is a 404.
        r = op.post("/admin/billing/orders/9999/pay", data={"csrf_token": token})
        assert r.status_code == 404


def test_alarm_form_saves_and_validates(live: LiveServer) -> None:
    tid = tenant_user(live, "bob@example.com")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "bob@example.com")
        bad = {"threshold": "-5", "emails": "ops@example.com\nnot-mail", "phones": "12345"}
        token = csrf_of(client.get("/console/packages").text)
        r = client.post("/console/packages/alarm", data={"csrf_token": token} | bad)
        assert r.status_code == 400
        assert 'id="e-threshold">请输入不小于 0 的整数' in r.text
        assert 'id="e-emails">无效的邮箱地址：not-mail' in r.text
        assert 'id="e-phones">无效的手机号码：12345' in r.text
        assert "not-mail</textarea>" in r.text  # the input is kept
        good = {
            "threshold": "500",
            "emails": "ops@example.com\nboss@example.com",
            "phones": "13800138000",
        }
        r = client.post("/console/packages/alarm", data={"csrf_token": token} | good)
        assert r.status_code == 303
        page = client.get("/console/packages")
        assert "告警设置已保存" in page.text and 'value="500"' in page.text
        assert "+8613800138000" in page.text
    row = live.query(lambda c: c.execute(select(s.tenants).where(s.tenants.c.id == tid)).one())
    assert row.alarm_threshold == 500
    assert row.contact_emails == "ops@example.com\nboss@example.com"
    assert row.contact_phones == "+8613800138000"


def test_bills_list_downloads_and_isolation(live: LiveServer) -> None:
    tid = tenant_user(live, "cat@example.com")
    other = tenant_user(live, "dan@example.com")
    now = time.time()
    overdue = add_bill(live, tid, "2026-09", 1_500_000, now - 86400)
    current = add_bill(live, tid, "2026-10", 250_000, now + 10 * 86400)
    foreign = add_bill(live, other, "2026-10", 100_000, now + 86400)
    with httpx.Client(base_url=base(live)) as client, httpx.Client(base_url=base(live)) as op:
        login(client, "cat@example.com")
        page = client.get("/console/bills")
        assert page.status_code == 200
        assert 'id="suspension-warning"' in page.text
        assert f'id="bill-{overdue}"' in page.text and f'id="bill-{current}"' in page.text
        assert f'id="bill-{foreign}"' not in page.text
        assert "1.50" in page.text and "0.25" in page.text
        state = page.text.split(f'id="bill-state-{overdue}">')[1]
        assert state.startswith('<span class="badge warn">已逾期')
        pdf = client.get(f"/console/bills/{overdue}.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        csv = client.get(f"/console/bills/{current}.csv")
        assert csv.status_code == 200 and "2026-10" in csv.text and "sms_intl" in csv.text
        assert client.get(f"/console/bills/{foreign}.pdf").status_code == 404
        assert client.get(f"/console/bills/{foreign}.csv").status_code == 404
        assert client.get("/console/bills/99999.pdf").status_code == 404

        # The operator marks the overdue bill paid; the warning goes away.
        operator(live, op)
        admin_page = op.get("/admin/billing")
        assert f'id="bill-{foreign}"' in admin_page.text
        token = csrf_of(admin_page.text)
        r = op.post(f"/admin/billing/bills/{overdue}/pay", data={"csrf_token": token})
        assert r.status_code == 303
        page = client.get("/console/bills")
        assert 'id="suspension-warning"' not in page.text
        assert page.text.split(f'id="bill-state-{overdue}">')[1].startswith(
            '<span class="badge ok">已支付'
        )
    # Signed out, nothing is served.
    with httpx.Client(base_url=base(live)) as anon:
        r = anon.get(f"/console/bills/{overdue}.pdf")
        assert r.status_code == 303 and r.headers["location"] == "/console/login"


def test_operator_price_table_upload_and_download(live: LiveServer) -> None:
    with httpx.Client(base_url=base(live)) as op:
        operator(live, op)
        token = csrf_of(op.get("/admin/billing").text)
        good = f"{HEADER}\nsms_intl,US,1,0.045\nvoice,GB,44,0.3\n"
        r = op.post(
            "/admin/billing/prices",
            data={"csrf_token": token},
            files={"prices": ("prices.csv", good.encode(), "text/csv")},
        )
        assert r.status_code == 303
        assert 'id="price-rows">2<' in op.get("/admin/billing").text
        bad = f"{HEADER}\nsms_intl,USA,1,0.045\nfax,US,1,0.1\nvoice,FR,33,0.2\n"
        r = op.post(
            "/admin/billing/prices",
            data={"csrf_token": token},
            files={"prices": ("prices.csv", bad.encode(), "text/csv")},
        )
        assert r.status_code == 400
        errors = r.text.split('id="price-errors">')[1].split("</ul>")[0]
        assert errors.count("<li>") == 2 and "line 2" in errors and "line 3" in errors
        r = op.post(
            "/admin/billing/prices",
            data={"csrf_token": token},
            files={"prices": ("prices.csv", b"\xff\xfe\x00bad", "text/csv")},
        )
        assert r.status_code == 400 and 'id="e-prices">' in r.text
        download = op.get("/admin/billing/prices.csv")
        assert download.status_code == 200
        assert download.text == f"{HEADER}\nsms_intl,US,1,0.045\nvoice,GB,44,0.30\n"


def test_posts_need_csrf_and_the_right_session(live: LiveServer) -> None:
    tenant_user(live, "eve@example.com")
    offer = live.admin(lambda c: catalogue.add_offer(c, "免费", 10, 0, 30))
    with httpx.Client(base_url=base(live)) as client, httpx.Client(base_url=base(live)) as op:
        login(client, "eve@example.com")
        client.get("/console/packages")
        r = client.post("/console/packages/order", data={"offer_id": str(offer["id"])})
        assert r.status_code == 403
        r = client.post(
            "/console/packages/order", data={"offer_id": str(offer["id"]), "csrf_token": "x"}
        )
        assert r.status_code == 403
        r = client.post("/console/packages/alarm", data={"threshold": "1"})
        assert r.status_code == 403
        assert live.query(catalogue.list_orders) == []
        # A tenant session does not open the operator's page.
        assert client.get("/admin/billing").headers.get("location") == "/admin/login"
        operator(live, op)
        op.get("/admin/billing")
        for path in (
            "/admin/billing/offers",
            f"/admin/billing/offers/{offer['id']}/active",
            "/admin/billing/prices",
        ):
            assert op.post(path, data={"active": "0"}).status_code == 403
        assert live.query(lambda c: catalogue.list_offers(c))[0]["active"] is True
