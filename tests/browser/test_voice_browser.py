"""The console's voice section through a real browser, with real calls.

An enterprise tenant applies for a voice template (lint errors shown beside the field first)
and uploads a recording; the operator, in a second tab, approves the template and rejects the
recording with a reason; the tenant sends a voice code and a template notification to the
built-in phone network, and a call to its busy number; the records list follows each call by
itself to its end (ended with a fee, or failed with its reason in words), and the recording
plays, served to its own tenant only. Bad input is refused beside its field and stores
nothing; an individual account is told why voice is not for it.

Calls are real: espeak-ng speaks, SIP and RTP go over loopback to the built-in phone network,
which rings ``voice_ring_ms`` and records what it hears. Every wait has a deadline (Playwright's
``expect`` timeouts), never a fixed sleep. Screenshots are ``voice-*.png`` and
``admin-voice-reviews.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import FilePayload, Locator, Page, expect
from sqlalchemy import func, select

from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.browser.screens import shoot
from tests.conftest import make_settings
from tests.support.audio import pcm_wav
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer

PASSWORD = "browser voice 1"
CALL_DEADLINE = 60_000  # ms: speech rendered and played in real time on a busy machine
CODE_PHONE = "+8613812345678"
NOTICE_PHONE = "+8613912345678"
BUSY_PHONE = "+8613800000001"  # the built-in network's busy phone (carriers/voice/phone_numbers)
TEMPLATE = "您好，您的订单{1}已发货。"
REASON = "录音不清晰，请重新录制"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with delivery and the built-in phone network, its phones ringing briefly, at
    a daytime moment (voice codes are not called in quiet hours, whenever the suite runs)."""
    tmp = tmp_path_factory.mktemp("voice-live")
    settings = make_settings(tmp, f"sqlite:///{tmp / 'voice.db'}", voice_ring_ms=100)
    with LiveServer(settings, clock=running_from(DAYTIME)) as server:
        server.admin(lambda c: tenants.create_operator(c, "voice-reviewer", PASSWORD))
        yield server


def user(live: LiveServer, email: str, account_type: str = "enterprise") -> int:
    """A verified tenant with an application and the console user ``email``; its id."""
    t = live.tenant(account_type=account_type, units=0, sign=None, template=None)
    live.admin(lambda c: tenants.create_tenant_user(c, t.id, email, PASSWORD))
    return t.id


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base}/console/")


def operator_log_in(op: Page, base: str) -> None:
    op.goto(f"{base}/admin/login")
    op.get_by_label("用户名").fill("voice-reviewer")
    op.get_by_label("密码").fill(PASSWORD)
    op.locator("main").get_by_role("button", name="登录").click()
    expect(op).to_have_url(f"{base}/admin/")


def flash(page: Page, text: str) -> None:
    expect(page.locator(".flash-ok").first).to_contain_text(text)


def voice_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="语音").get_by_role("link", name=name).click()


def wav(name: str, seconds: float) -> FilePayload:
    return {"name": name, "mimeType": "audio/wav", "buffer": pcm_wav(seconds)}


def rows_of(live: LiveServer, table: object, tenant_id: int) -> int:
    t = table
    q = select(func.count()).select_from(t).where(t.c.tenant_id == tenant_id)  # type: ignore[attr-defined]
    return int(live.query(lambda c: c.execute(q).scalar_one()))


# -- the journey, step by step ----------------------------------------------------------------
def apply_for_template(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="语音", exact=True).click()
    voice_nav(page, "语音模板")
    expect(page.get_by_text("暂无语音模板。")).to_be_visible()
    form = page.get_by_role("form", name="申请语音模板")
    form.get_by_label("模板名称").fill("发货语音通知")
    form.get_by_label("语音内容").fill("您的订单{1}{2}已发货")
    form.get_by_role("button", name="提交审核").click()
    # The lint finding beside the content, in Chinese; what was typed is kept.
    expect(page.locator("#e-content")).to_have_text("两个变量不能紧挨着，如 {1}{2}。")
    form = page.get_by_role("form", name="申请语音模板")
    expect(form.get_by_label("模板名称")).to_have_value("发货语音通知")
    expect(form.get_by_label("语音内容")).to_have_value("您的订单{1}{2}已发货")
    form.get_by_label("语音内容").fill(TEMPLATE)
    form.get_by_label("备注").fill("发货后通知客户")
    form.get_by_role("button", name="提交审核").click()
    flash(page, "语音模板已提交审核。")
    row = page.get_by_role("row", name=re.compile("发货语音通知"))
    expect(row).to_contain_text("待审核")
    shoot(page, "voice-templates", "语音模板")


def upload_recording(page: Page) -> None:
    voice_nav(page, "语音文件")
    expect(page.get_by_text("暂无语音文件。")).to_be_visible()
    page.get_by_label("录音文件").set_input_files(wav("welcome.wav", 1.0))
    page.get_by_role("button", name="上传").click()
    flash(page, "语音文件已上传，等待审核。")
    row = page.get_by_role("row", name=re.compile("WAV"))
    expect(row).to_contain_text("待审核")
    expect(row).to_contain_text("1.0 秒")


def review(op: Page) -> None:
    """The operator hears the recording, rejects it with a reason, approves the template."""
    op.get_by_role("banner").get_by_role("link", name="语音审核").click()
    expect(op.locator("#pending-voice-templates")).to_have_text("1")
    expect(op.locator("#pending-voice-files")).to_have_text("1")
    expect(op.get_by_text(TEMPLATE)).to_be_visible()
    audio = op.locator("audio").first
    answer = op.request.get(audio.evaluate("a => a.src"))  # absolute
    assert answer.status == 200 and answer.headers["content-type"] == "audio/wav"
    op.wait_for_function("a => a.duration > 0", arg=audio.element_handle())
    assert audio.evaluate("a => a.duration") == pytest.approx(1.0, abs=0.05)
    shoot(op, "admin-voice-reviews", "语音模板与文件审核")

    file_form = op.get_by_role("form", name=re.compile("^语音文件 "))
    file_form.get_by_role("button", name="驳回").click()
    expect(op.get_by_role("alert")).to_have_text("驳回时必须填写原因。")
    file_form = op.get_by_role("form", name=re.compile("^语音文件 "))
    file_form.get_by_placeholder("审核意见").fill(REASON)
    file_form.get_by_role("button", name="驳回").click()
    flash(op, "审核结果已保存")
    op.get_by_role("form", name="语音模板 发货语音通知").get_by_role("button", name="通过").click()
    flash(op, "审核结果已保存")
    expect(op.locator("#pending-voice-templates")).to_have_text("0")
    expect(op.locator("#pending-voice-files")).to_have_text("0")
    op.get_by_role("banner").get_by_role("link", name="概览").click()
    expect(op.locator("#pending-voice-count")).to_have_text("0")


def see_decisions(page: Page) -> None:
    page.reload()
    row = page.get_by_role("row", name=re.compile("WAV"))
    expect(row).to_contain_text("未通过")
    expect(row).to_contain_text(REASON)
    shoot(page, "voice-files", "语音文件")
    voice_nav(page, "语音模板")
    row = page.get_by_role("row", name=re.compile("发货语音通知"))
    expect(row).to_contain_text("已通过")
    expect(row.get_by_role("link", name="修改")).to_have_count(0)


def send(page: Page, form_name: str, phone: str, **fields: str) -> str:
    """Fill one of the send page's forms, call, and return the accepted call's id."""
    form = page.get_by_role("form", name=form_name)
    for label, value in fields.items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_label("被叫号码").fill(phone)
    form.get_by_label("播放次数（1–3）").fill("1")
    form.get_by_role("button", name="拨打").click()
    expect(page.get_by_role("heading", name="呼叫已受理")).to_be_visible()
    call_id = page.locator("#call-id").inner_text()
    assert re.fullmatch(r"[0-9a-f-]{36}", call_id), call_id
    return call_id


def send_three_calls(page: Page) -> tuple[str, str, str]:
    voice_nav(page, "发送语音")
    notice = page.get_by_role("form", name="语音通知")
    expect(notice.get_by_label("语音模板")).to_contain_text("发货语音通知")
    expect(notice.get_by_text(TEMPLATE)).to_be_visible()
    shoot(page, "voice-send", "发送语音")
    code = send(page, "语音验证码", CODE_PHONE, 验证码="2468")
    expect(page.get_by_role("link", name="查看通话记录")).to_have_attribute(
        "href", f"/console/voice/records/{code}"
    )
    shoot(page, "voice-send-result", "发送语音")
    notification = send(page, "语音通知", NOTICE_PHONE, **{"{1}": "JD0501"})
    busy = send(page, "语音验证码", BUSY_PHONE, 验证码="1357")
    return code, notification, busy


def follow_records(page: Page, code: str, notification: str, busy: str) -> str:
    """The list refreshes itself until every call ended; returns the code call's recording."""
    voice_nav(page, "通话记录")
    for call_id, phone in ((code, CODE_PHONE), (notification, NOTICE_PHONE)):
        row = page.locator(f"tr[id='call-{call_id}']")
        expect(row).to_contain_text(phone)
        expect(row.locator("[data-state]")).to_have_text("已结束", timeout=CALL_DEADLINE)
        expect(row).to_contain_text("¥0.15")  # one started minute at the seeded price
        # The recording is written once the call is over: the next refresh shows it.
        expect(row.locator("audio")).to_have_count(1, timeout=CALL_DEADLINE)
    expect(page.locator(f"tr[id='call-{code}']")).to_contain_text("语音验证码")
    expect(page.locator(f"tr[id='call-{notification}']")).to_contain_text("语音通知")
    failed = page.locator(f"tr[id='call-{busy}']")
    expect(failed.locator("[data-state]")).to_have_text("失败", timeout=CALL_DEADLINE)
    expect(failed).to_contain_text("用户正忙")
    expect(failed.locator("audio")).to_have_count(0)

    # The recording plays (muted: a page may play muted audio without a gesture).
    audio = page.locator(f"tr[id='call-{code}'] audio")
    source = audio.get_attribute("src") or ""
    assert source == f"/console/voice/records/{code}/recording"
    source = audio.evaluate("a => a.src")  # absolute, for the request below
    answer = page.request.get(source)
    assert answer.status == 200 and answer.headers["content-type"] == "audio/wav"
    assert answer.body()[:4] == b"RIFF"
    audio.evaluate("a => { a.muted = true; return a.play(); }")
    page.wait_for_function("a => a.currentTime > 0.1 || a.ended", arg=audio.element_handle())

    # Filters: by state, then by application (the only one: every call).
    page.get_by_label("状态").select_option(label="失败")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tr[id^='call-']")).to_have_count(1)
    expect(page.locator(f"tr[id='call-{busy}']")).to_be_visible()
    page.get_by_label("状态").select_option(label="全部状态")
    page.get_by_label("应用").select_option(index=1)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("tr[id^='call-']")).to_have_count(3)
    shoot(page, "voice-records", "通话记录")

    # The same list in English: states and reasons in words of the page's language.
    page.get_by_role("link", name="English").click()
    expect(page.locator(f"tr[id='call-{code}'] [data-state]")).to_have_text("Ended")
    expect(page.locator(f"tr[id='call-{busy}']")).to_contain_text("User busy")
    expect(page.locator("main")).not_to_contain_text(re.compile("[\u4e00-\u9fff]"))
    page.get_by_role("link", name="中文").click()
    return source


def call_page(page: Page, code: str) -> None:
    page.locator(f"tr[id='call-{code}']").get_by_role("link").first.click()
    expect(page.locator("#call-state")).to_have_text("已结束")
    expect(page.locator("#call-minutes")).to_have_text("1")
    expect(page.locator("#call-fee")).to_have_text("¥0.15")
    expect(page.locator("#call-text")).to_have_text("2468")
    recording = page.locator("#recording").element_handle()
    page.wait_for_function("a => a.duration > 1", arg=recording)  # the code, read aloud
    shoot(page, "voice-call", "通话详情")


def statistics(page: Page) -> None:
    voice_nav(page, "语音统计")
    today = page.locator("#voice-days tbody tr").last
    cells = today.locator("td")
    expect(cells).to_have_text([re.compile(r"\d\d-\d\d"), "3", "2", "1", "2", "66.7%"])
    shoot(page, "voice-stats", "发送统计")


def test_voice_from_template_to_recording(page: Page, live: LiveServer) -> None:
    """An enterprise tenant's voice, every decision taken by the operator in a second tab."""
    base = f"http://{live.endpoint}"
    user(live, "voice@example.com")
    user(live, "voice-other@example.com")
    op = page.context.new_page()
    op.set_default_timeout(10_000)
    try:
        operator_log_in(op, base)
        log_in(page, base, "voice@example.com")
        apply_for_template(page)
        upload_recording(page)
        review(op)
    finally:
        op.close()
    see_decisions(page)
    code, notification, busy = send_three_calls(page)
    recording = follow_records(page, code, notification, busy)
    call_page(page, code)
    statistics(page)

    # Another tenant gets nothing of this one's: no recording, no call.
    page.locator("header").get_by_role("button", name="退出").click()
    log_in(page, base, "voice-other@example.com")
    assert page.request.get(recording).status == 404
    page.goto(f"{base}/console/voice/records/{code}")
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    page.goto(f"{base}/console/voice/records")
    expect(page.get_by_text("最近 7 天没有通话。")).to_be_visible()


def test_bad_input_is_refused_beside_its_field_and_stores_nothing(
    page: Page, live: LiveServer
) -> None:
    base = f"http://{live.endpoint}"
    tenant_id = user(live, "careless@example.com")
    log_in(page, base, "careless@example.com")
    page.get_by_role("banner").get_by_role("link", name="语音", exact=True).click()
    form = page.get_by_role("form", name="语音验证码")
    form.get_by_label("被叫号码").fill(CODE_PHONE)
    form.get_by_label("验证码", exact=True).fill("12a4")
    form.get_by_label("播放次数（1–3）").fill("4")
    form.get_by_role("button", name="拨打").click()
    form = page.get_by_role("form", name="语音验证码")
    expect(form.locator("#e-vc-code")).to_have_text("验证码须为 1 到 12 位数字。")
    expect(form.locator("#e-vc-play_times")).to_have_text("播放次数须为 1 到 3 之间的整数。")
    expect(form.get_by_label("验证码", exact=True)).to_have_value("12a4")
    expect(form.get_by_label("播放次数（1–3）")).to_have_value("4")
    expect(form.get_by_label("被叫号码")).to_have_value(CODE_PHONE)
    expect(page.get_by_text("呼叫已受理")).to_have_count(0)
    # With no approved template, the notification cannot be sent at all.
    notice = page.get_by_role("form", name="语音通知")
    expect(notice.get_by_role("button", name="拨打")).to_be_disabled()
    shoot(page, "voice-send-errors", "发送语音")

    voice_nav(page, "语音文件")
    text: FilePayload = {
        "name": "notes.mp3",
        "mimeType": "audio/mpeg",
        "buffer": "这是一份备忘录，不是录音。\n".encode() * 20,
    }
    page.get_by_label("录音文件").set_input_files(text)
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#e-file")).to_have_text(
        "该文件不是有效的 MP3 或 WAV 录音（按文件内容判断）。"
    )
    expect(page.get_by_text("暂无语音文件。")).to_be_visible()
    page.get_by_label("录音文件").set_input_files(wav("long.wav", 30.0))  # 480 KB
    page.get_by_role("button", name="上传").click()
    expect(page.locator("#e-file")).to_have_text("文件不能超过 400 KB。")

    assert rows_of(live, s.voice_calls, tenant_id) == 0
    assert rows_of(live, s.voice_files, tenant_id) == 0


def test_an_individual_is_told_why_there_is_no_voice(page: Page, live: LiveServer) -> None:
    base = f"http://{live.endpoint}"
    user(live, "person@example.com", account_type="individual")
    log_in(page, base, "person@example.com")
    page.get_by_role("banner").get_by_role("link", name="语音", exact=True).click()
    note = page.get_by_role("note")
    expect(note.get_by_role("heading")).to_have_text("语音消息不可用")
    expect(note).to_contain_text("仅向企业认证用户开放")
    expect(note.get_by_role("link", name="前往实名认证")).to_have_attribute(
        "href", "/console/identity"
    )
    expect(page.get_by_role("form", name="语音验证码")).to_have_count(0)
    shoot(page, "voice-denied", "发送语音")
    for name in ("通话记录", "语音模板", "语音文件"):
        voice_nav(page, name)
        expect(page.get_by_role("note")).to_contain_text("仅向企业认证用户开放")
        expect(page.locator("main form")).to_have_count(0)


def test_the_voice_section_in_english(page: Page, live: LiveServer) -> None:
    """Every voice page in English: English words only, none left in Chinese."""
    base = f"http://{live.endpoint}"
    user(live, "english@example.com")
    log_in(page, base, "english@example.com")
    han = re.compile("[\u4e00-\u9fff]")
    for path, heading in (
        ("/console/voice/send", "Send a voice message"),
        ("/console/voice/records", "Call records"),
        ("/console/voice/templates", "Voice templates"),
        ("/console/voice/files", "Voice files"),
    ):
        page.goto(f"{base}{path}?lang=en")
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        main: Locator = page.locator("main")
        expect(main).not_to_contain_text(han)
