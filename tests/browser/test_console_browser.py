"""A real browser through the console: sign up, log in, create an application, log out; an
operator sees the new tenant. Full-page screenshots of each main page go to a temporary
directory, or to docs/screenshots/ (the README's) with SMSCLOUD_SCREENSHOTS=docs/screenshots."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select
from tencentcloud.sms.v20210111 import models

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


def test_the_main_pages_of_a_sending_tenant_and_of_the_operator(
    page: Page, live: LiveServer
) -> None:
    """A verified tenant that has sent: every main page renders, in Chinese, with its data."""
    t = live.tenant(units=1000)
    live.admin(lambda c: accounts.create_tenant_user(c, t.id, "sender@example.com", PASSWORD))
    client = live.client(t)
    req = models.SendSmsRequest()
    req.from_json_string(
        json.dumps(
            {
                "PhoneNumberSet": ["+8613800138000", "+8613800000001"],
                "SmsSdkAppId": t.sdk_app_id,
                "SignName": t.sign_name,
                "TemplateId": t.template_id,
                "TemplateParamSet": ["1234"],
            }
        )
    )
    serials = [o.SerialNo for o in client.SendSms(req).SendStatusSet]
    live.wait_final(serials)

    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/login")
    page.fill("#f-email", "sender@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/console/")
    for path, name, heading, shows in (
        ("/console/send", "console-send", "发送短信", t.sign_name),
        ("/console/records", "console-records", "发送记录", "+8613800138000"),
        ("/console/stats", "console-stats", "发送统计", "UNDELIV"),
        ("/console/templates", "console-templates", "模板管理", "{1}"),
        ("/console/packages", "console-packages", "套餐包", "1,000"),
    ):
        page.goto(f"{base}{path}")
        expect(page.locator("main")).to_contain_text(shows)
        shoot(page, name, heading)
    page.click("text=退出")

    live.admin(lambda c: accounts.create_operator(c, "reviewer", PASSWORD))
    page.goto(f"{base}/admin/login")
    page.fill("#f-username", "reviewer")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/admin/")
    for path, name, heading in (
        ("/admin/reviews", "admin-reviews", "签名与模板审核"),
        ("/admin/billing", "admin-billing", "计费管理"),
        ("/admin/carriers", "admin-carriers", "通道与路由"),
    ):
        page.goto(f"{base}{path}")
        shoot(page, name, heading)
