"""The operator's review queues in a real browser, at a fixed platform time.

The platform's clock reads Monday 15 June 2026, 16:00 in Shanghai, so what is overdue
against the half-work-day promise is known whatever the machine's time. The operator sees a
signature's proof image and letter of authorisation and an identity document as images (by
their alt text), the overdue items first and marked in words, in Chinese and in English;
nobody else gets the images.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Connection, insert, update

from smscloud.private_files import write_private
from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from smscloud.store.database import inserted_id
from tests.browser.screens import shoot
from tests.browser.test_console_browser import PASSWORD, operator_login, png
from tests.conftest import make_settings
from tests.support.clocks import SHANGHAI, ManualClock
from tests.support.live import LiveServer

MONDAY_4PM = datetime(2026, 6, 15, 16, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int) -> float:
    """June ``day`` 2026 at ``hour``:00 in Shanghai (the 12th is a Friday)."""
    return datetime(2026, 6, day, hour, tzinfo=SHANGHAI).timestamp()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("review-live")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'console.db'}")
    with LiveServer(settings, clock=ManualClock(MONDAY_4PM)) as server:
        yield server


def queue(live: LiveServer) -> dict[str, int]:
    """Two signatures, two templates and two identity applications waiting; one of each
    since Friday afternoon (overdue), one since Monday 15:00 (in time)."""
    tenant = live.tenant(sign=None, template=None, units=0)
    other = live.tenant(sign=None, template=None, units=0)
    image = base64.b64encode(png()).decode()
    folder = live.settings.data_dir / "uploads" / "identity"

    def make(conn: Connection) -> dict[str, int]:
        def row(table: Any, **values: Any) -> int:
            return inserted_id(conn.execute(insert(table).values(**values)))

        sign = {"sign_type": 0, "document_type": 1, "international": 0, "status": 1}
        sign |= {"proof_image": image, "remark": "公司全称：旅程科技有限公司"}
        template = {"sms_type": 2, "international": 0, "status": 1}
        ids = {
            "sign_fresh": row(
                s.signs, **sign, tenant_id=tenant.id, name="新签名", purpose=0,
                commission_image="", created_at=at(15, 15),
            ),
            "sign_overdue": row(
                s.signs, **sign, tenant_id=other.id, name="代理签名", purpose=1,
                commission_image=image, created_at=at(12, 14),
            ),
            "template_fresh": row(
                s.templates, **template, tenant_id=tenant.id, name="发货通知",
                content="您的订单{1}已发货。", created_at=at(15, 15),
            ),
            "template_overdue": row(
                s.templates, **template, tenant_id=other.id, name="取件通知",
                content="您的包裹{1}已到站，请取件。", created_at=at(12, 14),
            ),
        }  # fmt: skip
        for key, tid, name, number, created in (
            ("identity_fresh", tenant.id, "旅程科技有限公司", "91350100M000100Y43", at(15, 15)),
            ("identity_overdue", other.id, "代理商贸有限公司", "91110108MA01A2B3C4", at(12, 14)),
        ):
            document = f"{secrets.token_hex(16)}.png"
            write_private(folder / document, png())
            ids[key] = row(
                s.identities, tenant_id=tid, account_type="enterprise", name=name,
                id_number=number, document=document, status=1, created_at=created,
            )  # fmt: skip
        for tid, name in ((tenant.id, "旅程科技有限公司"), (other.id, "代理商贸有限公司")):
            conn.execute(update(s.tenants).where(s.tenants.c.id == tid).values(name=name))
        accounts.create_operator(conn, "reviewer", PASSWORD)
        return ids

    return live.admin(make)


def loaded(page: Page, name: str) -> None:
    """Every image named ``name`` is shown, decoded from a real PNG."""
    images = page.get_by_role("img", name=name)
    expect(images.first).to_be_visible()
    for i in range(images.count()):
        expect(images.nth(i)).to_have_js_property("complete", True)
        assert images.nth(i).evaluate("img => img.naturalWidth") == 160


def test_the_operator_reviews_with_the_evidence_and_the_promise(
    page: Page, live: LiveServer
) -> None:
    ids = queue(live)
    base = f"http://{live.endpoint}"
    operator_login(page, base, "reviewer")

    page.goto(f"{base}/admin/reviews")
    signs = page.locator("div[id^=review-sign-]")
    expect(signs).to_have_count(2)
    # Overdue first, marked in words; the other within the promise.
    first, second = signs.nth(0), signs.nth(1)
    expect(first).to_have_id(f"review-sign-{ids['sign_overdue']}")
    expect(first).to_contain_text("已超时")
    expect(first).to_contain_text("已超过半个工作日的审核承诺")
    expect(first).to_contain_text("10 小时 0 分钟（工作时间）")  # Fri 14-18, Mon 9-12, 13-16
    expect(second).to_contain_text("未超时")
    expect(second).to_contain_text("1 小时 0 分钟（工作时间）")
    templates = page.locator("div[id^=review-template-]")
    expect(templates.nth(0)).to_have_id(f"review-template-{ids['template_overdue']}")
    # The evidence: both proofs, and the letter of the signature used for others.
    loaded(page, "签名证明材料图片")
    expect(page.get_by_role("img", name="签名证明材料图片")).to_have_count(2)
    loaded(page, "委托授权书图片")
    expect(first.get_by_role("img", name="委托授权书图片")).to_be_visible()
    expect(second.get_by_role("img", name="委托授权书图片")).to_have_count(0)
    full = first.get_by_role("link", name="查看原图").first
    assert full.get_attribute("href") == f"/admin/reviews/sign/{ids['sign_overdue']}/proof"
    shoot(page, "admin-reviews", "签名与模板审核")

    page.goto(f"{base}/admin/reviews?lang=en")
    expect(page.locator("h1")).to_have_text("Signature and template review")
    loaded(page, "The signature's proof document")
    loaded(page, "The letter of authorisation")
    expect(signs.nth(0)).to_contain_text("Overdue")
    expect(signs.nth(0)).to_contain_text("10 h 0 min of working time")
    expect(signs.nth(1)).to_contain_text("Within the promise")

    page.goto(f"{base}/admin/identities?lang=zh")
    cards = page.locator("section[id^=identity-]")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_id(f"identity-{ids['identity_overdue']}")
    expect(cards.nth(0)).to_contain_text("已超时")
    expect(cards.nth(1)).to_contain_text("未超时")
    loaded(page, "证件图片")
    shoot(page, "admin-identities", "实名认证审核")

    # The full-size image opens in a tab of its own, for the operator.
    with page.context.expect_page() as opened:
        full_link = cards.nth(0).get_by_role("link", name="查看原图")
        full_link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.endswith(f"/admin/identities/{ids['identity_overdue']}/document")
    tab.close()

    # Signed out, the image is nobody's: the browser lands on the operator's log-in.
    page.context.clear_cookies()
    page.goto(f"{base}/admin/reviews/sign/{ids['sign_overdue']}/proof")
    expect(page).to_have_url(f"{base}/admin/login")
