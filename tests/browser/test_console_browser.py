"""A real browser through the console and the operator's back office.

The tenant journey: sign up, log in, identity verification, activation, an application, a
signature and a template (live preview, rejection, modification), a package ordered and paid,
one message sent and followed to DELIVERED, log out. The operator, logged in at the same time
in a second tab (the two areas use different cookies), reviews and confirms each step.

Full-page screenshots of each main page go to a temporary directory, or to docs/screenshots/
(the README's) with SMSCLOUD_SCREENSHOTS=docs/screenshots.
"""

from __future__ import annotations

import json
import re
import struct
import zlib

from playwright.sync_api import FilePayload, Locator, Page, expect
from sqlalchemy import select
from tencentcloud.sms.v20210111 import models

from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from tests.browser.screens import shoot
from tests.support.live import LiveServer

PASSWORD = "browser journey 1"
TENANT_NAME = "旅程科技有限公司"
EMAIL = "journey@example.com"
CONTACT = "notice@journey.example"
USCC = "91350100M000100Y43"  # a valid credit code (GB 32100), see test_identity_numbers
SIGN = "旅程科技"
REASON = "内容需要说明业务场景"
OFFER = "旅程套餐一万条"
PHONE = "+8613800138000"


def png(width: int = 160, height: int = 100) -> bytes:
    """A real (decodable) RGB PNG: the operator's page shows it as an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((x % 256, y * 2 % 256, 160)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def image(name: str) -> FilePayload:
    return {"name": name, "mimeType": "image/png", "buffer": png()}


def flash(page: Page, text: str) -> None:
    expect(page.locator(".flash-ok").first).to_contain_text(text)


def row_id(row: Locator, prefix: str) -> int:
    """The numeric id of a table row whose id attribute is ``<prefix><id>``."""
    value = row.get_attribute("id") or ""
    assert value.startswith(prefix), value
    return int(value.removeprefix(prefix))


def operator_login(op: Page, base: str, username: str) -> None:
    op.goto(f"{base}/admin/login")
    op.fill("#f-username", username)
    op.fill("#f-password", PASSWORD)
    op.click("main button[type=submit]")
    expect(op).to_have_url(f"{base}/admin/")


# -- the tenant journey, step by step -------------------------------------------------------
def sign_up_and_log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/console/signup")
    shoot(page, "console-signup", "注册账号")
    page.fill("#f-email", EMAIL)
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password2", PASSWORD + "typo")
    page.fill("#f-name", TENANT_NAME)
    page.check("input[name=account_type][value=enterprise]")
    page.click("button[type=submit]")
    expect(page.locator("#e-password2")).to_have_text("两次输入的密码不一致。")
    page.fill("#f-password", PASSWORD)
    page.fill("#f-password2", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(f"{base}/console/login")
    flash(page, "注册成功")
    page.fill("#f-email", EMAIL)
    page.fill("#f-password", PASSWORD)
    shoot(page, "console-login", "登录控制台")
    page.click("main button[type=submit]")

    # A new tenant may do nothing yet: not verified, SMS not activated, no way to activate.
    expect(page).to_have_url(f"{base}/console/")
    expect(page.locator("#identity")).to_have_text("未认证")
    expect(page.locator("#unverified-note")).to_be_visible()
    expect(page.locator("#sms-state")).to_have_text("未开通")
    expect(page.locator("#activate")).to_have_count(0)
    expect(page.locator("#units-left")).to_have_text("0")
    shoot(page, "console-dashboard-new", "概览")


def apply_for_identity(page: Page, base: str) -> None:
    page.click("#sms-service a[href='/console/identity']")
    expect(page).to_have_url(f"{base}/console/identity")
    expect(page.locator("#verified")).to_have_text("未认证")
    page.check("input[name=account_type][value=enterprise]")
    page.fill("#f-name", TENANT_NAME)
    # A code with a wrong check character is refused, and so is a file that is no image.
    page.fill("#f-id_number", USCC[:-1] + "4")
    page.set_input_files(
        "#f-document", {"name": "licence.png", "mimeType": "image/png", "buffer": b"not a png"}
    )
    page.click("main button[type=submit]")
    expect(page.locator("#e-id_number")).to_contain_text("统一社会信用代码无效")
    expect(page.locator("#e-document")).to_have_text("只接受 PNG 或 JPEG 图片。")
    page.fill("#f-id_number", USCC)
    page.set_input_files("#f-document", image("licence.png"))
    page.click("main button[type=submit]")

    expect(page).to_have_url(f"{base}/console/identity")
    flash(page, "认证申请已提交")
    expect(page.locator("#application-status")).to_have_text("审核中")
    expect(page.locator("#last-application")).to_contain_text(USCC)
    expect(page.locator("#pending-note")).to_be_visible()
    expect(page.locator("input[type=file]")).to_have_count(0)  # no second application
    shoot(page, "console-identity", "实名认证")


def approve_identity(op: Page, base: str) -> None:
    op.click("a[href='/admin/identities']")
    card = op.locator("section[id^=identity-]", has_text=TENANT_NAME)
    expect(card).to_contain_text(USCC)
    # The licence is served to the operator and decodes as an image.
    licence = card.locator("img")
    expect(licence).to_have_js_property("complete", True)
    assert licence.evaluate("img => img.naturalWidth") == 160
    # The queue's screenshot is test_review_browser's, taken at a fixed platform time.
    card.locator("form[action$='/approve'] button").click()
    flash(op, "已处理。")
    expect(op.locator("#no-identities")).to_be_visible()


def activate_and_create_app(page: Page, base: str) -> None:
    page.reload()  # the identity page, now decided
    expect(page.locator("#verified")).to_have_text("已认证")
    expect(page.locator("#application-status")).to_have_text("已通过")
    expect(page.locator("#done-note")).to_be_visible()

    page.click("header a[href='/console/']")
    expect(page.locator("#identity")).to_have_text("已认证")
    expect(page.locator("#unverified-note")).to_have_count(0)
    expect(page.locator("#sms-state")).to_have_text("未开通")
    page.click("#activate")
    flash(page, "短信服务已开通。")
    expect(page.locator("#sms-state")).to_have_text("已开通")
    expect(page.locator("#activate")).to_have_count(0)

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
    page.reload()
    expect(page.locator("#apps-body")).to_contain_text(sdk_app_id)
    assert app_key not in page.content()  # shown once only
    page.click(f"a[href='/console/apps/{sdk_app_id}']")
    expect(page.locator("h1")).to_contain_text("我的第一个应用")

    # The review notices go to the alarm contacts too, from now on.
    page.click("header a[href='/console/']")
    page.click("#contacts-link")
    page.fill("#f-emails", CONTACT)
    page.click("#alarm button[type=submit]")
    flash(page, "告警设置已保存。")
    expect(page.locator("#f-emails")).to_have_value(CONTACT)


def apply_for_sign(page: Page, base: str) -> int:
    page.click("header a[href='/console/signs']")
    expect(page.locator("#no-signs")).to_be_visible()
    page.fill("#f-name", SIGN)
    page.select_option("#f-sign_type", "0")  # a company
    page.select_option("#f-document_type", "1")  # its business licence
    page.check("input[name=purpose][value='0']")  # for its own use
    page.set_input_files("#f-proof_image", image("proof.png"))
    page.fill("#f-remark", "公司全称：" + TENANT_NAME)
    page.click("#sign-form button[type=submit]")
    expect(page).to_have_url(f"{base}/console/signs")
    flash(page, "签名已提交审核。")
    row = page.locator("#signs tbody tr", has_text=SIGN)
    sign_id = row_id(row, "sign-")
    expect(page.locator(f"#sign-status-{sign_id}")).to_have_text("待审核")
    shoot(page, "console-signs", "签名管理")
    return sign_id


def apply_for_template(page: Page, base: str) -> int:
    page.click("h1 a[href='/console/templates']")
    expect(page.locator("#no-templates")).to_be_visible()
    page.check("#f-sms_type-2")  # a notification
    # The live preview lints as one types, before the rest of the form is filled in:
    # brackets belong to the signature only.
    page.fill("#f-content", "【旅程】您的订单{1}已发货")
    expect(page.locator("#preview-lint")).to_contain_text("模板含有不允许的字符：【")
    page.fill("#f-name", "发货通知")
    page.fill("#f-content", "您的订单{1}已发货，请注意查收。")
    final = f"【{SIGN}】您的订单示例1已发货，请注意查收。"
    expect(page.locator("#preview-text")).to_have_text(final)
    expect(page.locator("#preview-chars")).to_have_text(str(len(final)))
    expect(page.locator("#preview-encoding")).to_have_text("UCS-2")
    expect(page.locator("#preview-parts")).to_have_text("1")
    expect(page.locator("#preview-lint")).to_contain_text("格式检查通过。")
    shoot(page, "console-templates-preview", "模板管理")
    page.click("#template-form button[type=submit]")
    expect(page).to_have_url(f"{base}/console/templates")
    flash(page, "模板已提交审核。")
    row = page.locator("#templates tbody tr", has_text="发货通知")
    template_id = row_id(row, "template-")
    expect(page.locator(f"#template-status-{template_id}")).to_have_text("待审核")
    return template_id


def review_sign_and_template(op: Page, sign_id: int, template_id: int) -> None:
    op.click("a[href='/admin/reviews']")
    expect(op.locator("#pending-signs")).to_have_text("1")
    expect(op.locator("#pending-templates")).to_have_text("1")
    item = op.locator(f"#review-template-{template_id}")
    expect(item).to_contain_text("您的订单{1}已发货，请注意查收。")
    expect(op.locator(f"#review-sign-{sign_id}")).to_contain_text(SIGN)
    shoot(op, "admin-reviews-pending", "签名与模板审核")
    # A rejection needs a reason.
    item.locator("button[value=reject]").click()
    expect(op.locator("#review-error")).to_have_text("驳回时必须填写原因。")
    op.fill(f"#r-template-{template_id}", REASON)
    op.locator(f"#review-template-{template_id} button[value=reject]").click()
    flash(op, "审核结果已保存")
    op.locator(f"#review-sign-{sign_id} button[value=approve]").click()
    flash(op, "审核结果已保存")
    expect(op.locator("#pending-signs")).to_have_text("0")
    expect(op.locator("#pending-templates")).to_have_text("0")


def modify_template(page: Page, base: str, sign_id: int, template_id: int) -> None:
    page.reload()
    expect(page.locator(f"#template-status-{template_id}")).to_have_text("未通过")
    expect(page.locator(f"#template-reason-{template_id}")).to_have_text(REASON)
    page.click(f"a[href='/console/templates/{template_id}']")
    expect(page.locator("#template-form h2")).to_contain_text("修改模板")
    expect(page.locator("#f-content")).to_have_value("您的订单{1}已发货，请注意查收。")
    page.fill("#f-content", "您在旅程商城的订单{1}已发货，请注意查收。")
    expect(page.locator("#preview-text")).to_contain_text("您在旅程商城的订单示例1已发货")
    page.click("#template-form button[type=submit]")
    expect(page).to_have_url(f"{base}/console/templates")
    flash(page, "已修改并重新提交审核。")
    expect(page.locator(f"#template-status-{template_id}")).to_have_text("待审核")
    expect(page.locator(f"#template-reason-{template_id}")).to_have_text("")

    page.click("h1 a[href='/console/signs']")
    expect(page.locator(f"#sign-status-{sign_id}")).to_have_text("已通过")
    expect(page.locator(f"#sign-{sign_id} a[href='/console/signs/{sign_id}']")).to_have_count(0)


def approve_template(op: Page, page: Page, template_id: int) -> None:
    op.reload()
    expect(op.locator(f"#review-template-{template_id}")).to_contain_text("您在旅程商城的订单")
    op.locator(f"#review-template-{template_id} button[value=approve]").click()
    flash(op, "审核结果已保存")
    expect(op.locator("#pending-templates")).to_have_text("0")

    page.click("h1 a[href='/console/templates']")
    expect(page.locator(f"#template-status-{template_id}")).to_have_text("已通过")
    expect(page.locator(f"#template-reason-{template_id}")).to_have_text("通过")
    expect(page.locator(f"a[href='/console/templates/{template_id}']")).to_have_count(0)


def offer_package(op: Page) -> None:
    op.click("a[href='/admin/billing']")
    op.fill("#f-name", OFFER)
    op.fill("#f-units", "10000")
    op.fill("#f-price", "450")
    op.fill("#f-validity_days", "365")
    op.click("#catalogue button.primary")
    flash(op, "套餐已新增。")
    expect(op.locator("#offers")).to_contain_text(OFFER)


def order_and_pay_package(page: Page, op: Page, base: str) -> None:
    page.click("header a[href='/console/packages']")
    expect(page.locator("#units-left")).to_have_text("0")
    offer = page.locator("#offers tbody tr", has_text=OFFER)
    expect(offer).to_contain_text("10,000")
    offer.locator("button").click()
    flash(page, "订单已提交")
    order = page.locator("#orders tbody tr", has_text=OFFER)
    order_id = row_id(order, "order-")
    expect(page.locator(f"#order-state-{order_id}")).to_have_text("待付款")
    expect(page.locator("#units-left")).to_have_text("0")

    op.reload()
    pending = op.locator(f"#pending-orders #order-{order_id}")
    expect(pending).to_contain_text(TENANT_NAME)
    shoot(op, "admin-billing-order", "计费管理")
    pending.locator("form[action$='/pay'] button").click()
    flash(op, "已确认付款")
    expect(op.locator("#no-orders")).to_be_visible()

    page.reload()
    expect(page.locator(f"#order-state-{order_id}")).to_have_text("已支付")
    expect(page.locator("#units-left")).to_have_text("10,000")
    expect(page.locator("#packages")).to_contain_text("购买")
    page.click("header a[href='/console/']")
    expect(page.locator("#units-left")).to_have_text("10,000")
    expect(page.locator("#packages")).to_contain_text("购买")
    page.goto(f"{base}/console/?lang=en")
    expect(page.locator("h1").first).to_contain_text("Dashboard")
    page.goto(f"{base}/console/?lang=zh")
    shoot(page, "console-dashboard", "概览")


def send_and_follow(page: Page, base: str) -> None:
    page.click("header a[href='/console/send']")
    expect(page.locator("#send-missing")).to_have_count(0)
    expect(page.locator("#f-sign")).to_have_value(SIGN)
    expect(page.locator("#send-params")).to_contain_text("您在旅程商城的订单{1}已发货")
    # The preview follows each change, even before the (required) phone is filled in.
    page.fill("#f-param-1", "JD0501")
    page.press("#f-param-1", "Tab")
    final = f"【{SIGN}】您在旅程商城的订单JD0501已发货，请注意查收。"
    expect(page.locator("#preview-text")).to_have_text(final)
    expect(page.locator("#f-param-1")).to_have_value("JD0501")
    # Every problem at once, each beside its field, what was typed kept, nothing sent.
    page.fill("#f-param-1", "a.cn/x")
    page.get_by_label("手机号码").fill("12345")
    page.get_by_role("button", name="发送", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("未发送任何短信")
    expect(page.get_by_label("手机号码")).to_have_accessible_description(
        re.compile("^手机号码格式不正确")
    )
    expect(page.get_by_label("{1}")).to_have_accessible_description(
        re.compile("^参数中不能含有网址")
    )
    expect(page.get_by_label("手机号码")).to_have_value("12345")
    expect(page.locator("#send-result")).to_have_count(0)
    shoot(page, "console-send-errors", "发送短信")
    page.fill("#f-param-1", "JD0501")
    page.fill("#f-phone", PHONE)
    page.click("#send-form button[type=submit]")
    expect(page.locator("#send-code")).to_have_text("Ok")
    # The outcome reads in the page's language; the code is only the small print beside it.
    expect(page.get_by_role("cell", name="已受理 Ok")).to_be_visible()
    expect(page.locator("#send-result")).not_to_contain_text("send success")
    serial = page.locator("#send-serial")
    expect(serial).to_have_text(re.compile(r"\S+"))
    serial_no = serial.inner_text()
    shoot(page, "console-send-result", "发送短信")

    serial.click()
    expect(page).to_have_url(f"{base}/console/records/{serial_no}")
    expect(page.locator("#step-accepted")).to_contain_text("Ok")
    expect(page.locator("main")).to_contain_text(final)

    # The list refreshes itself every 10 s (htmx): no reloading needed to see the receipt.
    page.click("h1 a[href='/console/records']")
    record = page.locator(f"tr[id='record-{serial_no}']")  # a serial number holds a colon
    state = record.locator("[data-state]")
    expect(state).to_have_text("已送达", timeout=15_000)  # the state in words, its name on hover
    expect(state).to_have_attribute("title", "DELIVERED")
    expect(record).to_contain_text(final)
    # At 1280 px the table fits its card, and a signature keeps to one line.
    fits = page.evaluate(
        """() => {
            const table = document.querySelector('#records-table');
            const card = table.closest('.card');
            const sign = table.querySelector('tbody tr td:nth-child(3)');  // the signature
            const text = document.createRange();
            text.selectNodeContents(sign);  // one rectangle per line the name takes
            // The card scrolls sideways when its table is wider: nothing to scroll is a fit.
            return [card.scrollWidth <= card.clientWidth, text.getClientRects().length];
        }"""
    )
    assert fits == [True, 1]
    shoot(page, "console-records-journey", "发送记录")

    record.locator("a").click()
    expect(page.locator("#state")).to_have_text("已送达")
    expect(page.locator("#final-state")).to_have_text("DELIVERED")
    expect(page.locator("#step-submitted #carrier")).not_to_be_empty()
    expect(page.locator("#receipt-code")).to_have_text("DELIVRD")
    shoot(page, "console-record-detail", "状态时间线")

    page.click("header a[href='/console/']")
    expect(page.locator("#units-left")).to_have_text("9,999")


def log_out(page: Page, base: str) -> None:
    page.click("text=退出")
    expect(page).to_have_url(f"{base}/console/login")
    flash(page, "您已退出")
    page.goto(f"{base}/console/")
    expect(page).to_have_url(f"{base}/console/login")


def test_tenant_journey(page: Page, live: LiveServer) -> None:
    """Sign-up to a delivered message, every operator decision taken in the back office."""
    base = f"http://{live.endpoint}"
    live.admin(lambda c: accounts.create_operator(c, "reviewer2", PASSWORD))
    op = page.context.new_page()  # the operator's tab: its /admin cookie leaves /console's be
    op.set_default_timeout(10_000)
    try:
        operator_login(op, base, "reviewer2")
        sign_up_and_log_in(page, base)
        apply_for_identity(page, base)
        approve_identity(op, base)
        activate_and_create_app(page, base)
        sign_id = apply_for_sign(page, base)
        template_id = apply_for_template(page, base)
        review_sign_and_template(op, sign_id, template_id)
        modify_template(page, base, sign_id, template_id)
        approve_template(op, page, template_id)
        offer_package(op)
        order_and_pay_package(page, op, base)
        send_and_follow(page, base)
        log_out(page, base)
        # The operator's session outlived the tenant's.
        op.goto(f"{base}/admin/")
        expect(op.locator("#tenants")).to_contain_text(TENANT_NAME)
    finally:
        op.close()

    # Every decision queued an email to the tenant's users (and contacts, once it had some).
    tenant_id = live.query(
        lambda c: c.execute(
            select(s.tenant_users.c.tenant_id).where(s.tenant_users.c.email == EMAIL)
        ).scalar_one()
    )
    n = s.notifications
    mails = live.query(
        lambda c: c.execute(
            select(n.c.recipients, n.c.subject, n.c.body)
            .where(n.c.tenant_id == tenant_id, n.c.channel == "email")
            .order_by(n.c.id)
        ).all()
    )
    both = f"{CONTACT}\n{EMAIL}"
    assert [(m.recipients, m.subject.split("】", 1)[1]) for m in mails] == [
        (EMAIL, f"资质审核通过 / Identity approved: {TENANT_NAME}"),
        (both, "模板审核未通过 / Template rejected: 发货通知"),
        (both, f"签名审核通过 / Signature approved: {SIGN}"),
        (both, "模板审核通过 / Template approved: 发货通知"),
    ]
    assert f"原因：{REASON}" in mails[1].body


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
    expect(page.locator("#tenants")).to_contain_text(TENANT_NAME)
    expect(page.locator("#tenants")).to_contain_text(EMAIL)
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
    # The records and statistics pages are pictured with their filters in use by
    # test_record_exports_browser.py.
    for path, name, heading, shows in (
        ("/console/send", "console-send", "发送短信", t.sign_name),
        ("/console/records", "", "发送记录", "+8613800138000"),
        ("/console/stats", "", "发送统计", "UNDELIV"),
        ("/console/templates", "console-templates", "模板管理", "{1}"),
        ("/console/packages", "console-packages", "套餐包", "1,000"),
    ):
        page.goto(f"{base}{path}")
        expect(page.locator("main")).to_contain_text(shows)
        if name:
            shoot(page, name, heading)
    page.click("text=退出")

    live.admin(lambda c: accounts.create_operator(c, "reviewer", PASSWORD))
    page.goto(f"{base}/admin/login")
    page.fill("#f-username", "reviewer")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/admin/")
    # admin-reviews and admin-identities are test_review_browser's, at a fixed platform time.
    for path, name, heading in (
        ("/admin/billing", "admin-billing", "计费管理"),
        ("/admin/carriers", "admin-carriers", "通道与路由"),
    ):
        page.goto(f"{base}{path}")
        shoot(page, name, heading)
