"""Bulk tasks in the console over real HTTP: upload, preview, confirm, watch, control."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import base, csrf_of, login
from tests.integration.console.test_records import send, user_of
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, Tenant

NOTICE = "尊敬的{1}，您的订单{2}已发货。"


_clients: list[httpx.Client] = []


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server
        while _clients:
            _clients.pop().close()


def shop(live: LiveServer, email: str, units: int = 1000) -> tuple[httpx.Client, Tenant]:
    tenant = user_of(live, email, template=NOTICE, sms_type=2, units=units)
    client = httpx.Client(base_url=base(live), follow_redirects=True)
    _clients.append(client)
    login(client, email)
    return client, tenant


def upload(
    client: httpx.Client,
    tenant: Tenant,
    name: str,
    data: bytes,
    **fields: str,
) -> httpx.Response:
    token = csrf_of(client.get("/console/tasks").text)
    form = {"csrf_token": token, "app": tenant.sdk_app_id, "sign": tenant.sign_name}
    form |= {"template": tenant.template_id, "rate": "2000"} | fields
    return client.post("/console/tasks", data=form, files={"file": (name, data)})


def csv_of(count: int, start: int = 0) -> bytes:
    lines = ["手机号,姓名,订单号"]
    # 139 1xxxxxx: clear of the simulated carrier's magic suffixes (0000001 fails...).
    lines += [f"139{1_000_000 + start + i:08d},客户{i},NO{i}" for i in range(count)]
    return "\n".join(lines).encode()


def post(client: httpx.Client, path: str, page: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf_of(client.get(page).text)} | fields)


def task_messages(live: LiveServer, task: str) -> dict[str, int]:
    m = s.messages
    q = select(m.c.state, func.count()).where(m.c.task_id == int(task)).group_by(m.c.state)
    return {state: int(k) for state, k in live.admin(lambda c: c.execute(q).all())}


def shown(html: str, name: str) -> int:
    found = re.search(rf'id="n-{name}" data-value="(\d+)"', html)
    assert found, (name, html)
    return int(found.group(1))


def count(html: str, name: str) -> int:
    found = re.search(rf'id="count-{name}">([\d,]+)<', html)
    assert found, html
    return int(found.group(1).replace(",", ""))


def listed(client: httpx.Client, task: str) -> tuple[str, int]:
    """A task's state in words and its bar's percent, as the task list shows them."""
    row = re.search(rf'<tr id="task-{task}">.*?</tr>', client.get("/console/tasks").text, re.S)
    assert row, task
    found = re.search(r'class="badge[^"]*">([^<]+)<.*?aria-valuenow="(\d+)"', row.group(0), re.S)
    assert found, row.group(0)
    return found.group(1), int(found.group(2))


def fed(client: httpx.Client, task: str) -> tuple[str, int]:
    html = client.get(f"/console/tasks/{task}/progress", headers={"HX-Request": "true"}).text
    state = re.search(r'data-state="(\w+)"', html)
    done = re.search(r'id="n-fed" data-value="(\d+)"', html)
    assert state and done, html
    return state.group(1), int(done.group(1))


def test_upload_preview_confirm_and_follow_a_task(live: LiveServer) -> None:
    client, tenant = shop(live, "bulk@example.com")
    data = csv_of(40) + b"\n13800000001x,a,b\n13901000000,again,dup\n+8613900000009,one\n"
    r = upload(client, tenant, "客户.csv", data)
    assert r.status_code == 200
    task = r.url.path.rsplit("/", 1)[1]
    assert (count(r.text, "valid"), count(r.text, "invalid"), count(r.text, "duplicates")) == (
        40,
        2,
        1,
    )
    assert count(r.text, "parts") == 40
    assert "【测试签名】尊敬的客户0，您的订单NO0已发货。" in r.text
    assert "号码格式不正确" in r.text and "与前面的行重复" in r.text
    assert "参数个数与模板不符" in r.text
    # Nothing is sent before confirming, and the draft is not in the list.
    assert fed(client, task) == ("draft", 0)
    assert f'id="task-{task}"' not in client.get("/console/tasks").text

    r = post(client, f"/console/tasks/{task}/confirm", f"/console/tasks/{task}")
    assert r.url.path == f"/console/tasks/{task}"
    assert 'id="task-progress"' in r.text and 'hx-trigger="every 5s"' in r.text
    deadline = time.time() + 30
    while fed(client, task) != ("finished", 40):
        assert time.time() < deadline, fed(client, task)
        time.sleep(0.2)
    html = client.get(f"/console/tasks/{task}/progress").text
    assert shown(html, "delivered") == shown(html, "total") == 40  # finished: all delivered
    assert "DELIVERED DELIVRD" in html  # the receipt analysis
    listing = client.get("/console/tasks/rows").text
    assert f'id="task-{task}"' in listing and 'aria-valuenow="100"' in listing
    records = client.get(f"/console/records?task={task}").text
    assert records.count('data-state="DELIVERED"') == 40


def test_an_xlsx_list_with_numeric_cells(live: LiveServer) -> None:
    client, tenant = shop(live, "xlsx@example.com")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["号码", "姓名", "订单"])
    for i in range(5):
        sheet.append([13800000000 + i, f"客户{i}", 1000 + i])
    buffer = io.BytesIO()
    book.save(buffer)
    r = upload(client, tenant, "list.xlsx", buffer.getvalue())
    assert count(r.text, "valid") == 5 and count(r.text, "invalid") == 0
    assert "您的订单1000已发货" in r.text


def test_bad_uploads_are_refused_with_a_message(live: LiveServer) -> None:
    client, tenant = shop(live, "bad@example.com")
    cases = [
        ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel"),
        ("list.pdf", b"%PDF-1.4", "只支持 CSV 或 XLSX"),
        ("list.xlsx", b"PK\x03\x04not really a zip", "无法读取该文件"),
        ("list.csv", b"\xef\xbb\xbf\n\n", "文件中没有号码"),
        ("list.csv", b"13800138000\x00,a", "只支持 CSV 或 XLSX"),
    ]
    for name, data, message in cases:
        r = upload(client, tenant, name, data)
        assert r.status_code == 400, name
        assert message in r.text, name
    big = b"13800138000,a,b\n" * (10 * 1024 * 1024 // 16 + 10)
    r = upload(client, tenant, "big.csv", big)
    assert r.status_code == 413 and "文件超过 10 MB" in r.text
    # Every field's problem at once, each beside its field, with nothing made: a template and
    # a signature that are not the tenant's, a speed not offered, a start time past 30 days.
    before = live.admin(lambda c: c.execute(select(func.count()).select_from(s.send_tasks)))
    before_n = before.scalar_one()
    r = upload(client, tenant, "list.csv", csv_of(2), template="999999", sign="别人的签名",
               rate="300", start="2099-01-01T09:00")  # fmt: skip
    assert r.status_code == 400 and 'id="task-fix"' in r.text
    assert 'id="e-template">请从列表中选择' in r.text and 'id="e-sign">请从列表中选择' in r.text
    assert 'id="e-rate">请从列表中选择发送速度。<' in r.text
    assert 'id="e-start">定时时间须在现在到 30 天之内。<' in r.text
    assert 'id="e-app"' not in r.text and 'value="2099-01-01T09:00"' in r.text
    after = live.admin(lambda c: c.execute(select(func.count()).select_from(s.send_tasks)))
    assert after.scalar_one() == before_n


def test_suspend_resume_and_cancel_from_the_task_page(live: LiveServer) -> None:
    client, tenant = shop(live, "control@example.com", units=5000)
    r = upload(client, tenant, "list.csv", csv_of(3000), rate="100")
    task = r.url.path.rsplit("/", 1)[1]
    page = f"/console/tasks/{task}"
    post(client, f"{page}/confirm", page, typed_count="3,000")
    deadline = time.time() + 10
    while fed(client, task)[1] == 0:
        assert time.time() < deadline
        time.sleep(0.1)
    r = post(client, f"{page}/suspend", page)
    assert 'data-state="suspended"' in r.text and 'id="resume"' in r.text
    paused = fed(client, task)[1]
    time.sleep(0.6)
    assert fed(client, task) == ("suspended", paused)  # it took effect at once
    r = post(client, f"{page}/suspend", page)
    assert "任务当前状态不允许此操作" in r.text
    post(client, f"{page}/resume", page)
    deadline = time.time() + 10
    while fed(client, task)[1] <= paused:
        assert time.time() < deadline
        time.sleep(0.1)
    r = post(client, f"{page}/cancel", page)
    assert 'data-state="cancelled"' in r.text
    state, done = fed(client, task)
    assert state == "cancelled" and done < 3000
    assert 'id="suspend"' not in r.text and 'id="resume"' not in r.text


def test_another_tenants_task_is_not_found(live: LiveServer) -> None:
    owner, tenant = shop(live, "owner@example.com")
    r = upload(owner, tenant, "list.csv", csv_of(3))
    task = r.url.path.rsplit("/", 1)[1]
    other, _ = shop(live, "other@example.com")
    for path in (f"/console/tasks/{task}", f"/console/tasks/{task}/progress"):
        assert other.get(path).status_code == 404
    token = csrf_of(other.get("/console/tasks").text)
    for action in ("confirm", "discard", "suspend", "resume", "cancel"):
        r = other.post(f"/console/tasks/{task}/{action}", data={"csrf_token": token})
        assert r.status_code == 404, action
    # Without the CSRF token, even the owner is refused.
    r = owner.post(f"/console/tasks/{task}/confirm", data={})
    assert r.status_code == 403
    assert fed(owner, task) == ("draft", 0)


def test_a_scheduled_task_waits_and_says_so(live: LiveServer) -> None:
    client, tenant = shop(live, "later@example.com")
    start = datetime.now(live.settings.tz) + timedelta(hours=2)
    r = upload(client, tenant, "list.csv", csv_of(5), start=start.strftime("%Y-%m-%dT%H:%M"))
    task = r.url.path.rsplit("/", 1)[1]
    assert start.strftime("%Y-%m-%d %H:%M") in r.text
    r = post(client, f"/console/tasks/{task}/confirm", f"/console/tasks/{task}")
    assert "任务已确认，将按时开始" in r.text
    time.sleep(0.5)
    assert fed(client, task) == ("scheduled", 0)
    english = client.get(f"/console/tasks/{task}?lang=en").text
    assert "Scheduled" in english and "Cancel task" in english
    # A start time that is not a time, or too far ahead, is refused on the form.
    r = upload(client, tenant, "list.csv", csv_of(5), start="tomorrow")
    assert r.status_code == 400 and "The start time is not a valid time." in r.text
    far = (datetime.now(live.settings.tz) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M")
    r = upload(client, tenant, "list.csv", csv_of(5), start=far)
    assert r.status_code == 400 and "30 days" in r.text


def test_the_sample_list_of_a_template_uploads_as_is(live: LiveServer) -> None:
    client, tenant = shop(live, "sample@example.com")
    page = client.get("/console/tasks").text
    assert f'href="/console/tasks/sample.csv?template={tenant.template_id}"' in page
    r = client.get(f"/console/tasks/sample.csv?template={tenant.template_id}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.decode("utf-8-sig").splitlines() == [
        "手机号,{1},{2}",
        "13800138000,示例1,示例2",
    ]
    r = upload(client, tenant, "sample.csv", r.content)
    assert count(r.text, "valid") == 1
    assert "【测试签名】尊敬的示例1，您的订单示例2已发货。" in r.text
    other, _ = shop(live, "sample2@example.com")
    assert other.get(f"/console/tasks/sample.csv?template={tenant.template_id}").status_code == 404
    assert other.get("/console/tasks/sample.csv?template=x").status_code == 404


def test_a_large_task_starts_only_once_its_count_is_typed(live: LiveServer) -> None:
    client, tenant = shop(live, "large@example.com", units=2000)
    r = upload(client, tenant, "list.csv", csv_of(1200))
    task = r.url.path.rsplit("/", 1)[1]
    page = f"/console/tasks/{task}"
    assert "请输入号码数 1,200 以确认" in r.text and 'name="typed_count"' in r.text
    for typed, message in (
        ("", "请输入号码数以确认发送。"),
        ("1,199", "号码数不符：本任务有 1,200 个号码，未发送任何号码。"),
        ("一千二百", "号码数不符"),
    ):
        r = post(client, f"{page}/confirm", page, typed_count=typed)
        assert r.status_code == 400, typed
        field = re.search(r'<small class="error" id="e-typed_count" role="alert">([^<]*)<', r.text)
        assert field and message in field.group(1), r.text
        assert f'value="{typed}"' in r.text  # what was typed is kept
        assert fed(client, task) == ("draft", 0)
    r = client.post(
        f"{page}/confirm?lang=en",
        data={"csrf_token": csrf_of(client.get(page).text), "typed_count": "12000"},
    )
    assert r.status_code == 400
    assert "That is not the count: this task has 1,200 numbers. Nothing was sent." in r.text
    time.sleep(0.5)
    assert task_messages(live, task) == {}  # nothing was sent
    assert f'id="task-{task}"' not in client.get("/console/tasks").text  # still a draft
    # The right count, as people type it (a full-width digit, a comma), starts the task.
    client.get(f"{page}?lang=zh")
    r = post(client, f"{page}/confirm", page, typed_count="1,２00")
    assert r.status_code == 200 and "任务已开始" in r.text
    assert fed(client, task)[0] in ("running", "settling", "finished")
    # A small task asks for nothing.
    small = upload(client, tenant, "small.csv", csv_of(5, start=5000))
    assert 'name="typed_count"' not in small.text


@pytest.fixture
def timed(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}", receipt_timeout=3)
    with LiveServer(settings, clock=running_from(DAYTIME)) as server:
        yield server
        while _clients:
            _clients.pop().close()


def test_every_number_ends_in_one_count_and_the_task_then_finishes(timed: LiveServer) -> None:
    client, tenant = shop(timed, "outcomes@example.com")
    # The sandbox carrier's magic numbers (last seven digits): 0000001 undelivered (UNDELIV),
    # 0000002 expired, 0000003 refused at submit, 0000004 no receipt, 0000005 rejected.
    lines = ["手机号,姓名,订单号"]
    lines += [f"1390000000{d},客户,NO{d}" for d in "12345"]
    lines += [f"13911111{i:03d},客户,NO{i}" for i in range(5)]
    # Sent the same text a moment before: refused at acceptance (30-second limit).
    assert "已受理" in send(client, tenant, "13922222222", "客户", "NO9").text
    lines += ["13922222222,客户,NO9"]
    r = upload(client, tenant, "list.csv", "\n".join(lines).encode())
    task = r.url.path.rsplit("/", 1)[1]
    post(client, f"/console/tasks/{task}/confirm", f"/console/tasks/{task}")
    deadline = time.time() + 60
    while fed(client, task)[0] != "finished":
        html = client.get(f"/console/tasks/{task}/progress").text
        # At every moment the columns add up to the task's numbers.
        parts = ("waiting", "sending", "delivered", "failed", "refused")
        assert sum(shown(html, k) for k in parts) == shown(html, "total") == 11
        # The task list reads the task as its page does: its bar is the share with a final
        # outcome, so a full bar is a finished task, never one still sending.
        state, percent = listed(client, task)
        assert percent < 100 or state == "已完成", (state, percent)
        assert time.time() < deadline, html
        time.sleep(0.3)
    assert listed(client, task) == ("已完成", 100)
    html = client.get(f"/console/tasks/{task}/progress").text
    assert (shown(html, "delivered"), shown(html, "failed"), shown(html, "refused")) == (5, 5, 1)
    assert (shown(html, "waiting"), shown(html, "sending")) == (0, 0)
    assert "已完成" in html
    failures = re.search(r'<table class="table" id="failures">.*?</table>', html, re.S)
    assert failures, html
    for words in (
        "空号或号码不存在",
        "关机、停机或不在服务区",
        "被运营商拒绝",
        "运营商未返回明确结果",
    ):
        assert words in failures.group(0), words
    assert 'data-bucket="carrier_refused"><td>被运营商拒绝</td><td class="num">2<' in html
    english = client.get(f"/console/tasks/{task}/progress?lang=en").text
    assert "Finished" in english and "Refused by the carrier" in english
    # The statistics page counts the same messages the same way (the one send included).
    stats = client.get("/console/stats").text
    day = re.search(r'<table class="table" id="table-days">.*?</table>', stats, re.S)
    assert day, stats
    last = re.findall(
        r'<tr><td>[^<]*</td><td class="num">(\d+)</td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)</td>',
        day.group(0),
    )[-1]
    assert tuple(int(x) for x in last) == (11, 6, 5)
