"""The records and statistics pages' filters and exports, in Chromium: a tenant with two
applications and two templates narrows its records by label, sees the list refresh itself
with the filters kept, and downloads what it chose as CSV and XLSX."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import Connection, update
from tencentcloud.sms.v20210111 import models

from smscloud.services.accounts import tenants as accounts
from smscloud.store import schema as s
from tests.browser.screens import shoot
from tests.support.live import LiveServer, Tenant, approved_template

PASSWORD = "correct horse battery"


def send(live: LiveServer, t: Tenant, app: str, template: str, phones: list[str]) -> list[str]:
    req = models.SendSmsRequest()
    req.from_json_string(
        json.dumps(
            {
                "PhoneNumberSet": phones,
                "SmsSdkAppId": app,
                "SignName": t.sign_name,
                "TemplateId": template,
                "TemplateParamSet": ["1234"],
            }
        )
    )
    return [o.SerialNo for o in live.client(t).SendSms(req).SendStatusSet]


def test_filter_by_label_then_export(page: Page, live: LiveServer, tmp_path: Path) -> None:
    t = live.tenant(units=1000)

    def arrange(conn: Connection) -> tuple[str, int]:
        accounts.create_tenant_user(conn, t.id, "exporter@example.com", PASSWORD)
        app = accounts.create_app(conn, t.id, "营销应用")
        template = approved_template(conn, t.id, "您的订单{1}已发货。")
        tp = s.templates
        conn.execute(update(tp).where(tp.c.id == int(t.template_id)).values(name="验证码"))
        conn.execute(update(tp).where(tp.c.id == template).values(name="发货通知"))
        return app.sdk_app_id, template

    app2, template2 = live.admin(arrange)
    first = send(live, t, t.sdk_app_id, t.template_id, ["+8613800138000", "+8613800000001"])
    second = send(live, t, app2, str(template2), ["+8613700000002"])
    live.wait_final(first + second)

    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/login")
    page.fill("#f-email", "exporter@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/console/")

    page.goto(f"{base}/console/records")
    rows = page.locator("#records-table tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_label("应用", exact=True).select_option(label=f"营销应用 ({app2})")
    page.get_by_label("模板", exact=True).select_option(label=f"发货通知 ({template2})")
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+8613700000002")
    expect(page.get_by_label("应用", exact=True)).to_have_value(app2)

    # The list asks for itself again every 10 s, with the same filters.
    page.evaluate(
        """() => new Promise(done => document.querySelector('#records')
            .addEventListener('htmx:afterSwap', done, {once: true}))"""
    )
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("+8613700000002")
    # A failed row's receipt words are long ("关机、停机或不在服务区"): the table still fits
    # its card at 1280 px, the words wrapping inside their column.
    assert page.evaluate(
        """async () => {
            await document.fonts.ready;  // measured as shown, with the page's own fonts
            // The card scrolls sideways when its table is wider: nothing to scroll is a fit.
            const card = document.querySelector('#records-table').closest('.card');
            return card.scrollWidth <= card.clientWidth;
        }"""
    )
    shoot(page, "console-records", "发送记录")
    badge = rows.first.locator("[data-state]")  # the file says what the page says
    state_words, state = badge.inner_text(), badge.get_attribute("title")

    with page.expect_download() as caught:
        page.get_by_role("link", name="导出 CSV").click()
    download = caught.value
    assert download.suggested_filename.startswith("records-")
    assert download.suggested_filename.endswith(".csv")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(body[3:].decode("utf-8"))))
    assert table[0][:3] == ["发送时间", "手机号码", "应用 SdkAppId"]
    assert [(row[1], row[2], row[5], row[8]) for row in table[1:]] == [
        ("+8613700000002", app2, "发货通知", state_words)
    ]

    with page.expect_download() as caught:
        page.get_by_role("link", name="导出 XLSX").click()
    saved = tmp_path / caught.value.suggested_filename
    assert saved.suffix == ".xlsx"
    caught.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    cells = list(sheet.iter_rows(values_only=True))
    assert len(cells) == 2 and cells[1][1] == "+8613700000002" and cells[1][9] == state

    # The statistics, narrowed to the first application.
    page.get_by_role("link", name="发送统计").first.click()
    page.get_by_label("应用", exact=True).select_option(label=f"app ({t.sdk_app_id})")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_label("应用", exact=True)).to_have_value(t.sdk_app_id)
    last_day = page.locator("#table-days tbody tr").last
    expect(last_day.locator("td").nth(1)).to_have_text("2")
    shoot(page, "console-stats", "发送统计")
    with page.expect_download() as caught:
        page.get_by_role("link", name="导出 CSV").click()
    saved = tmp_path / caught.value.suggested_filename
    assert saved.name.startswith("stats-") and saved.suffix == ".csv"
    caught.value.save_as(saved)
    stats = list(csv.reader(io.StringIO(saved.read_bytes()[3:].decode("utf-8"))))
    assert sum(int(row[2]) for row in stats[1:] if row[0] == "按天") == 2

    # Another tenant's application typed into the address: told beside the field.
    page.goto(f"{base}/console/records?app=1400999999")
    expect(page.locator("#e-app")).to_contain_text("本账号没有这个应用")
    expect(page.locator("#filter-invalid")).to_be_visible()
