"""Notification contacts and console messages through a real browser.

A tenant adds an email contact, reads its code from the mail the platform wrote (the
embedded outbox), types a wrong code first (told beside the field), then the right one, and
chooses which notices the contact gets. The operator rejects a template; the tenant sees the
unread count in the top bar, opens the message list by its link, opens the message (its
reason shown) and the count is gone. Screenshots: ``console-contacts.png`` and
``console-messages.png``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Connection, update

from smscloud.notify.mail import outbox
from smscloud.services import inbox
from smscloud.services.accounts import tenants
from smscloud.services.registry import review
from smscloud.store import schema as s
from tests.browser.screens import shoot
from tests.conftest import make_settings
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, approved_template

PASSWORD = "browser notices 1"
CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
REASON = "变量用途不明确，请说明订单号的来源"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("notices-live")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'notices.db'}")
    with LiveServer(settings, clock=running_from(DAYTIME)) as server:
        yield server


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/console/")


def mailed(live: LiveServer, address: str, words: str) -> str:
    """The subject of the newest mail to ``address`` with ``words`` in it, from the outbox."""
    deadline = time.time() + 20  # the notifier's polling
    while time.time() < deadline:
        for _, message in outbox(live.settings.data_dir / "outbox"):
            if address in str(message["To"]) and words in str(message["Subject"]):
                return str(message["Subject"])
        time.sleep(0.1)
    raise AssertionError(f"no mail to {address} about {words}")


def mailed_code(live: LiveServer, address: str) -> str:
    found = CODE.search(mailed(live, address, "验证码"))
    assert found
    return found.group(1)


def test_contacts_and_messages(live: LiveServer, page: Page) -> None:
    base = f"http://{live.endpoint}"
    t = live.tenant(units=0)
    live.admin(lambda c: tenants.create_tenant_user(c, t.id, "owner@shop.test", PASSWORD))
    log_in(page, base, "owner@shop.test")
    expect(page.locator("#unread-count")).to_have_count(0)

    # Contacts: reached from the messages page.
    page.get_by_role("link", name="站内信").click()
    page.get_by_role("link", name="管理通知联系人").click()
    expect(page.get_by_role("heading", name="通知联系人")).to_be_visible()
    page.get_by_label("类型").select_option("email")
    page.get_by_label("邮箱地址或手机号码").fill("ops-at-shop")
    page.get_by_role("button", name="添加并发送验证码").click()
    expect(page.locator("#e-address")).to_have_text("请输入有效的邮箱地址。")
    expect(page.get_by_label("邮箱地址或手机号码")).to_have_value("ops-at-shop")
    page.get_by_label("邮箱地址或手机号码").fill("ops@shop.test")
    page.get_by_role("button", name="添加并发送验证码").click()
    expect(page.locator(".flash-ok")).to_contain_text("验证码已发送")
    row = page.locator("tr", has_text="ops@shop.test")
    expect(row).to_contain_text("待验证")
    code = mailed_code(live, "ops@shop.test")
    wrong = "000000" if code != "000000" else "111111"
    row.get_by_label("验证码").fill(wrong)
    row.get_by_role("button", name="验证", exact=True).click()
    row = page.locator("tr", has_text="ops@shop.test")
    expect(row.locator(".error")).to_have_text("验证码不正确。")
    row.get_by_label("验证码").fill(code)
    row.get_by_role("button", name="验证", exact=True).click()
    expect(page.locator(".flash-ok")).to_contain_text("联系人已验证。")
    row = page.locator("tr", has_text="ops@shop.test")
    expect(row).to_contain_text("已验证")
    row.get_by_label("欠费", exact=True).uncheck()
    row.get_by_role("button", name="保存选择").click()
    expect(page.locator(".flash-ok")).to_contain_text("已保存接收的通知。")
    row = page.locator("tr", has_text="ops@shop.test")
    expect(row.get_by_label("欠费", exact=True)).not_to_be_checked()
    expect(row.get_by_label("审核结果")).to_be_checked()
    # A second contact, waiting for its code, for the picture.
    page.get_by_label("类型").select_option("sms")
    page.get_by_label("邮箱地址或手机号码").fill("13800138000")
    page.get_by_role("button", name="添加并发送验证码").click()
    expect(page.locator("tr", has_text="+8613800138000")).to_contain_text("待验证")
    shoot(page, "console-contacts", "通知联系人")

    # A review result, an alarm and a bill arrive.
    now = live.platform.clock()

    def arrange(conn: Connection) -> int:
        tid = approved_template(conn, t.id, "您的订单{1}已发货。", 2)
        conn.execute(
            update(s.templates).where(s.templates.c.id == tid).values(status=1, name="发货通知")
        )
        bill = {"month": "2026-05", "amount": "128.40", "due_at": now + 15 * 86400, "bill": 1}
        inbox.post(conn, t.id, "bill", bill, now - 86400)
        inbox.post(conn, t.id, "balance", {"remaining": 95, "threshold": 100}, now - 3600)
        return tid

    template_id = live.admin(arrange)
    live.admin(
        lambda c: review.decide(
            c, "template", template_id, approve=False, reason=REASON, now=live.platform.clock()
        )
    )
    page.goto(f"{base}/console/send")
    expect(page.locator("#unread-count")).to_have_text("3")
    page.get_by_role("link", name=re.compile("站内信")).click()
    expect(page.get_by_role("heading", name="站内信")).to_be_visible()
    expect(page.locator("tr.unread")).to_have_count(3)
    shoot(page, "console-messages", "站内信")
    page.get_by_role("link", name=re.compile("模板审核未通过")).click()
    expect(page.locator("#msg-reason")).to_have_text(REASON)
    expect(page.locator("#unread-count")).to_have_text("2")
    page.get_by_role("link", name="返回站内信").click()
    expect(page.locator("tr.unread")).to_have_count(2)
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator(".flash-ok")).to_contain_text("所有消息已标为已读。")
    expect(page.locator("#unread-count")).to_have_count(0)
    expect(page.locator("tr.unread")).to_have_count(0)
    # The contact that chose review results got the rejection too.
    assert mailed(live, "ops@shop.test", "审核未通过")
