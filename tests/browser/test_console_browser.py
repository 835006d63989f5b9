"""A real browser through the console: sign up, log in, create an application, log out; an
operator sees the new tenant. Full-page screenshots of each main page go to a temporary
directory, or to docs/screenshots/ (the README's) with SMSCLOUD_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from smscloud.services import accounts
from smscloud.store import schema as s
from tests.support.live import LiveServer

SHOTS = Path(os.environ.get("SMSCLOUD_SCREENSHOTS") or tempfile.mkdtemp(prefix="smscloud-shots-"))
PASSWORD = "browser journey 1"


def shoot(page: Page, name: str, heading: str) -> None:
    """A full-page PNG once the (Chinese) heading shows and the fonts are loaded."""
    expect(page.locator("h1").first).to_contain_text(heading)
    page.evaluate("document.fonts.ready.then(() => true)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000, f"{name}.png is suspiciously small ({len(data)} bytes)"


def test_tenant_journey(page: Page, live: LiveServer) -> None:
    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/signup")
    shoot(page, "console-signup", "注册账号")
    page.fill("#f-email", "journey@example.com")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password2", PASSWORD + "typo")
    page.fill("#f-name", "旅程科技有限公司")
    page.check("input[name=account_type][value=enterprise]")
    page.click("button[type=submit]")
    expect(page.locator("#e-password2")).to_have_text("两次输入的密码不一致。")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password2", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(f"{base}/console/login")
    expect(page.locator(".flash-ok")).to_contain_text("注册成功")
    page.fill("#f-email", "journey@example.com")
    page.fill("#f-password", PASSWORD)
    shoot(page, "console-login", "登录控制台")
    page.click("main button[type=submit]")

    expect(page).to_have_url(f"{base}/console/")
    expect(page.locator("#identity")).to_have_text("未认证")
    expect(page.locator("#unverified-note")).to_be_visible()
    expect(page.locator("#units-left")).to_have_text("0")

    # Create an application through htmx: the AppKey shows once, the table gains a row.
    page.fill("#f-app-name", "我的第一个应用")
    page.click("#new-app >> xpath=preceding-sibling::form[1] >> button")
    key = page.locator("#new-app-key")
    expect(key).to_have_text(re.compile(r"^[0-9a-f]{32}$"))
    app_key = key.inner_text()
    sdk_app_id = page.locator("#new-sdk-app-id").inner_text()
    expect(page.locator("#apps-body")).to_contain_text(sdk_app_id)
    expect(page.locator("#apps-body")).to_contain_text("我的第一个应用")
    shoot(page, "console-app-created", "概览")

    tenant_id = live.query(
        lambda c: c.execute(
            select(s.tenant_users.c.tenant_id).where(
                s.tenant_users.c.email == "journey@example.com"
            )
        ).scalar_one()
    )
    live.admin(lambda c: accounts.grant_package(c, tenant_id, 5000, package_type=1))
    page.reload()
    expect(page.locator("#apps-body")).to_contain_text(sdk_app_id)
    expect(page.locator("#units-left")).to_have_text("5,000")
    expect(page.locator("#packages")).to_contain_text("购买")
    assert app_key not in page.content()  # shown once only
    page.click(f"a[href='/console/apps/{sdk_app_id}']")
    expect(page.locator("h1")).to_contain_text("我的第一个应用")
    page.goto(f"{base}/console/?lang=en")
    expect(page.locator("h1").first).to_contain_text("Dashboard")
    page.goto(f"{base}/console/?lang=zh")
    shoot(page, "console-dashboard", "概览")

    page.click("text=退出")
    expect(page).to_have_url(f"{base}/console/login")
    expect(page.locator(".flash-ok")).to_contain_text("您已退出")
    page.goto(f"{base}/console/")
    expect(page).to_have_url(f"{base}/console/login")


def test_operator_sees_the_tenant(page: Page, live: LiveServer) -> None:
    live.admin(lambda c: accounts.create_operator(c, "ops", PASSWORD))
    base = f"http://{live.endpoint}"
    page.goto(f"{base}/admin/")
    expect(page).to_have_url(f"{base}/admin/login")
    page.fill("#f-username", "ops")
    page.fill("#f-password", PASSWORD)
    shoot(page, "admin-login", "运营人员登录")
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/admin/")
    expect(page.locator("#tenants")).to_contain_text("旅程科技有限公司")
    expect(page.locator("#tenants")).to_contain_text("journey@example.com")
    expect(page.locator("#tenant-count")).to_have_text("1")
    shoot(page, "admin-dashboard", "运营后台")
    page.click("text=退出")
    expect(page).to_have_url(f"{base}/admin/login")
