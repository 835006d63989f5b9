"""A bulk task of 10,000 numbers through a real browser: upload, preview, confirm (typing the
number count), watch the progress bar move, suspend (it stops at once), resume, and see every
message delivered and the task finished."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from smscloud.domain import bulk
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.browser.screens import shoot
from tests.support.live import LiveServer

PASSWORD = "browser bulk task 1"
NUMBERS = 10_000


def recipient_list(path: Path) -> Path:
    rows = ["手机号,姓名,订单号"]
    # 1391 2xxxxxx: clear of the simulated carrier's magic suffixes (0000001 fails...).
    rows += [f"1391{2_000_000 + i:07d},客户{i},NO{i:05d}" for i in range(NUMBERS)]
    rows += ["1390000123x,坏,号码", "13912000000,重复,的"]
    path.write_text("\n".join(rows), encoding="utf-8")
    return path


def number_of(page: Page, selector: str) -> int:
    return int(page.locator(selector).get_attribute("data-value") or "0")


def task_states(live: LiveServer, task_id: int) -> dict[str, int]:
    m, n = s.messages, s.task_numbers
    messages = live.query(
        lambda c: c.execute(
            select(m.c.state, func.count()).where(m.c.task_id == task_id).group_by(m.c.state)
        ).all()
    )
    accepted = live.query(
        lambda c: c.execute(
            select(func.count()).where(n.c.task_id == task_id, n.c.state == bulk.ACCEPTED)
        ).scalar_one()
    )
    return {str(k): int(v) for k, v in messages} | {"accepted": int(accepted)}


def test_suspend_and_resume_a_running_task_of_ten_thousand_numbers(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    t = live.tenant(units=NUMBERS + 100, template="尊敬的{1}，您的订单{2}已发货。", sms_type=2)
    live.admin(lambda c: tenants.create_tenant_user(c, t.id, "bulk@example.com", PASSWORD))
    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/login")
    page.fill("#f-email", "bulk@example.com")
    page.fill("#f-password", PASSWORD)
    page.click("main button[type=submit]")
    expect(page).to_have_url(f"{base}/console/")

    page.click("nav >> text=群发任务")
    expect(page.locator("#no-tasks")).to_be_visible()
    shoot(page, "console-tasks-new", "群发任务")
    # A start time past 30 days and no list: both told at once, beside their fields.
    page.get_by_label("定时发送").fill("2099-01-01T09:00")
    page.locator("#task-form").evaluate("form => form.noValidate = true")
    page.click("#upload")
    expect(page.get_by_role("alert").first).to_contain_text("任务未创建")
    expect(page.get_by_label("定时发送")).to_have_accessible_description(
        "定时时间须在现在到 30 天之内。"
    )
    expect(page.get_by_label("定时发送")).to_have_value("2099-01-01T09:00")
    expect(page.locator("#e-file")).to_contain_text("请选择号码文件")
    shoot(page, "console-task-errors", "群发任务")
    page.get_by_label("定时发送").fill("")
    page.set_input_files("#f-file", str(recipient_list(tmp_path / "客户名单.csv")))
    page.select_option("#f-rate", "1000")
    page.click("#upload")

    # The preview: counts, billed parts against the package, samples, and the bad rows.
    expect(page.locator("h1")).to_contain_text("确认群发任务")
    expect(page.locator("#count-valid")).to_have_text("10,000")
    expect(page.locator("#count-invalid")).to_have_text("1")
    expect(page.locator("#count-duplicates")).to_have_text("1")
    expect(page.locator("#count-parts")).to_have_text("10,000")
    expect(page.locator("#units-left")).to_have_text("10,100")
    expect(page.locator("#short")).to_have_count(0)
    expect(page.locator(".sample").first).to_contain_text(
        "【测试签名】尊敬的客户0，您的订单NO00000已发货。"
    )
    expect(page.locator("#problems")).to_contain_text("号码格式不正确")
    expect(page.locator("#problems")).to_contain_text("与前面的行重复")
    shoot(page, "console-task-preview", "确认群发任务")
    task_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert task_states(live, task_id) == {"accepted": 0}  # nothing is sent before confirming

    # A task this large starts only once its number count is typed: none, or a wrong one, is
    # refused beside the field and the task stays a draft.
    count = page.get_by_label("确认号码数")
    confirm = page.get_by_role("button", name="确认发送")
    expect(page.get_by_text("请输入号码数 10,000 以确认")).to_be_visible()
    page.evaluate("document.getElementById('confirm-form').noValidate = true")
    confirm.click()
    expect(page.get_by_role("alert")).to_contain_text("请输入号码数以确认发送")
    count.fill("1,000")
    confirm.click()
    expect(page.get_by_role("alert")).to_contain_text("号码数不符：本任务有 10,000 个号码")
    expect(page.get_by_label("确认号码数")).to_have_value("1,000")
    shoot(page, "console-task-confirm-count", "确认群发任务")
    assert task_states(live, task_id) == {"accepted": 0}
    page.get_by_label("确认号码数").fill("10,000")
    page.get_by_role("button", name="确认发送").click()
    expect(page.locator(".flash-ok")).to_contain_text("任务已开始")
    # The progress section refreshes itself (every 5 s): wait for it to show numbers fed.
    expect(page.locator("#task-state")).to_have_attribute("data-state", "running")
    expect(page.locator("#n-fed")).not_to_have_attribute("data-value", "0", timeout=15_000)
    fed_before = number_of(page, "#n-fed")
    assert 0 < fed_before < NUMBERS, "the task finished before it could be suspended"
    shoot(page, "console-task-running", "群发任务")

    page.click("#suspend")
    expect(page.locator("#task-state")).to_have_attribute("data-state", "suspended")
    expect(page.locator(".flash-ok")).to_contain_text("任务已暂停")
    paused = task_states(live, task_id)
    assert paused["accepted"] < NUMBERS
    assert "QUEUED" not in paused  # whatever a carrier did not have yet is held
    fed_paused = number_of(page, "#n-fed")
    assert fed_paused == paused["accepted"]
    # Through two refreshes of the page, nothing more is fed or queued.
    page.wait_for_timeout(6_000)
    expect(page.locator("#task-state")).to_have_attribute("data-state", "suspended")
    assert number_of(page, "#n-fed") == fed_paused
    later = task_states(live, task_id)
    assert later["accepted"] == paused["accepted"] and "QUEUED" not in later
    assert later.get("HELD", 0) == paused.get("HELD", 0)
    shoot(page, "console-task-suspended", "群发任务")

    page.click("#resume")
    expect(page.locator(".flash-ok")).to_contain_text("任务已继续")
    expect(page.locator("#n-delivered")).to_have_attribute(
        "data-value", str(NUMBERS), timeout=60_000
    )
    # Finished once every number has its outcome, not when the last one is handed over.
    expect(page.locator("#task-state")).to_have_attribute("data-state", "finished", timeout=30_000)
    expect(page.locator("#task-state")).to_have_text("已完成")
    expect(page.locator("#n-total")).to_have_attribute("data-value", str(NUMBERS))
    expect(page.locator("#n-sending")).to_have_attribute("data-value", "0")
    expect(page.locator("#task-bar")).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#receipts")).to_contain_text("DELIVERED DELIVRD")
    expect(page.locator("#refusals")).to_contain_text("号码格式不正确")
    shoot(page, "console-task", "群发任务")
    done = task_states(live, task_id)
    assert done == {"DELIVERED": NUMBERS, "accepted": NUMBERS}

    # The task's records, and its row in the list with a full progress bar.
    page.click("#task-records")
    expect(page.locator("#f-task")).to_have_value(str(task_id))
    expect(page.locator("#records")).to_contain_text("已送达")
    page.goto(f"{base}/console/tasks")
    row = page.locator(f"#task-{task_id}")
    expect(row).to_contain_text("已完成")
    expect(row.locator(".progress")).to_have_attribute("aria-valuenow", "100")
    assert re.search(r"10,000", row.inner_text())


def test_a_task_with_failures_reads_them_in_words_and_finishes(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    t = live.tenant(units=100, template="尊敬的{1}，您的订单{2}已发货。", sms_type=2)
    live.admin(lambda c: tenants.create_tenant_user(c, t.id, "outcomes@example.com", PASSWORD))
    base = f"http://{live.endpoint}"
    page.goto(f"{base}/console/login")
    page.get_by_label("邮箱").fill("outcomes@example.com")
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button").click()
    expect(page).to_have_url(f"{base}/console/")
    # The sandbox carrier's magic numbers: 0000001 undelivered, 0000002 expired, 0000003
    # refused at submit, 0000005 rejected; the others are delivered.
    rows = ["手机号,姓名,订单号"]
    rows += [f"1360000000{d},客户{d},NO{d}" for d in "1235"]
    rows += [f"1361234{i:04d},客户{i},NO{i}" for i in range(8)]
    listed = tmp_path / "outcomes.csv"
    listed.write_text("\n".join(rows), encoding="utf-8")
    page.goto(f"{base}/console/tasks")
    page.get_by_label("号码文件").set_input_files(str(listed))
    page.get_by_role("button", name="上传并校验").click()
    expect(page.get_by_label("确认号码数")).to_have_count(0)  # a small task asks for nothing
    page.get_by_role("button", name="确认发送").click()
    expect(page.locator("#task-state")).to_have_text("已完成", timeout=40_000)
    expect(page.locator("#n-total")).to_have_text("12")
    expect(page.locator("#n-delivered")).to_have_text("8")
    expect(page.locator("#n-failed")).to_have_text("4")
    failures = page.get_by_role("table", name="失败原因")
    expect(failures.get_by_role("row", name="被运营商拒绝")).to_contain_text("2")
    expect(failures.get_by_role("row", name="空号或号码不存在")).to_contain_text("1")
    expect(failures.get_by_role("row", name="关机、停机或不在服务区")).to_contain_text("1")
    shoot(page, "console-task-outcomes", "群发任务")
