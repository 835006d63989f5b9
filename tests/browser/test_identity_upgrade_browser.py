"""An individual account upgraded to an enterprise through a real browser: the dashboard and
the operator's tenant list say the upgrade is pending, and once the operator approves it, the
account is called by the company's name everywhere."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import Connection

from smscloud.services.accounts import tenants as accounts
from tests.browser.screens import shoot
from tests.browser.test_console_browser import USCC, image, operator_login
from tests.support.live import LiveServer

PASSWORD = "browser journey 1"  # the operator log-in of test_console_browser uses it too
PERSON = "林小安"
COMPANY = "小安商贸有限公司"
EMAIL = "upgrade@example.com"


def test_an_upgrade_shows_as_pending_then_renames_the_account(page: Page, live: LiveServer) -> None:
    def make(conn: Connection) -> None:
        tenant = accounts.create_tenant(conn, PERSON, "individual", verified=True)
        accounts.create_tenant_user(conn, tenant.id, EMAIL, PASSWORD)
        accounts.create_operator(conn, "upgrader", PASSWORD)

    live.admin(make)
    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/login")
    page.get_by_label("邮箱").fill(EMAIL)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button").click()
    expect(page).to_have_url(f"{base}/console/")
    expect(page.locator("h1")).to_contain_text(PERSON)

    page.get_by_role("navigation").get_by_role("link", name="实名认证").click()
    expect(page.locator("#upgrade-note")).to_be_visible()
    page.get_by_role("radio", name="企业").check()
    page.get_by_label("姓名或企业名称").fill(COMPANY)
    page.get_by_label("证件号码").fill(USCC)
    page.get_by_label("证件图片").set_input_files(image("licence.png"))
    page.get_by_role("button", name="提交认证").click()
    expect(page.locator("#identity-pending")).to_have_text("企业认证审核中")
    expect(page.locator("#upgrade-pending-note")).to_contain_text(COMPANY)

    page.get_by_role("navigation").get_by_role("link", name="概览").click()
    expect(page.locator("h1")).to_contain_text(PERSON)
    expect(page.get_by_role("link", name="企业认证审核中")).to_be_visible()
    expect(page.locator("#upgrade-pending-note")).to_contain_text(COMPANY)
    shoot(page, "console-dashboard-upgrade-pending", "概览")

    op = page.context.new_page()
    op.set_default_timeout(10_000)
    try:
        operator_login(op, base, "upgrader")
        op.goto(f"{base}/admin/tenants")
        row = op.get_by_role("row", name=PERSON)
        expect(row.get_by_role("link", name="企业认证审核中")).to_be_visible()
        shoot(op, "admin-tenants-upgrade-pending", "租户管理")
        row.get_by_role("link", name="企业认证审核中").click()
        card = op.locator("section[id^=identity-]", has_text=COMPANY)
        card.get_by_role("button", name="通过").click()
        op.goto(f"{base}/admin/tenants")
        row = op.get_by_role("row", name=COMPANY)
        expect(row).to_contain_text("已认证")
        expect(row.get_by_role("link", name="企业认证审核中")).to_have_count(0)
        expect(op.get_by_role("row", name=PERSON)).to_have_count(0)
    finally:
        op.close()

    page.reload()
    expect(page.locator("h1")).to_contain_text(COMPANY)
    expect(page.locator("#identity")).to_have_text("已认证")
    expect(page.get_by_text("企业", exact=True)).to_be_visible()
    expect(page.locator("#identity-pending")).to_have_count(0)
    shoot(page, "console-dashboard-upgraded", "概览")
    page.goto(f"{base}/console/?lang=en")
    expect(page.locator("h1")).to_contain_text(COMPANY)
    expect(page.locator("#identity")).to_have_text("Verified")
    page.goto(f"{base}/console/?lang=zh")  # the browser's remembered choice back as it was
