"""Bulk send tasks: drafts, paced feeding, suspend/resume/cancel, holds, exactly-once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, select, update

from smscloud.carriers.base import Receipt, SubmitResult
from smscloud.delivery import claims, receipts, submits
from smscloud.delivery.task_feeder import TaskFeeder
from smscloud.domain import bulk
from smscloud.domain.errors import RuleViolation
from smscloud.domain.message_states import MessageState
from smscloud.domain.outcomes import Failure
from smscloud.platform import Platform
from smscloud.services import statistics
from smscloud.services.accounts import tenants
from smscloud.services.billing import ledger, wallet
from smscloud.services.tasks import Draft
from smscloud.services.tasks import upload as task_upload
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.support.live import approved_sign, approved_template

pytestmark = pytest.mark.postgres
SIGN = "测试签名"
TEMPLATE = "尊敬的{1}，您的订单{2}已发货。"


@dataclass(frozen=True)
class Row:
    line: int
    cells: tuple[str, ...]


@dataclass
class Shop:
    tenant_id: int
    sdk_app_id: str
    template_id: str


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def on_platform(body: Callable[[Platform], Awaitable[None]]) -> Callable[[Path, str], None]:
    """A test running ``body`` on a started platform whose delivery is left to the test."""

    def test(tmp_path: Path, database_url: str) -> None:
        async def main() -> None:
            p = Platform(make_settings(tmp_path, database_url))
            await p.start(deliver=False)
            try:
                await body(p)
            finally:
                await p.stop()

        asyncio.run(main())

    return test


async def shop(p: Platform, units: int = 1000, **app: Any) -> Shop:
    def make(conn: Connection) -> Shop:
        t = tenants.create_tenant(conn, f"T{time.time_ns()}", "enterprise", verified=True)
        a = tenants.create_app(conn, t.id, "app", **app)
        if units:
            wallet.grant_package(conn, t.id, units)
        approved_sign(conn, t.id, SIGN)
        return Shop(t.id, a.sdk_app_id, str(approved_template(conn, t.id, TEMPLATE, 2)))

    return await p.db.write(make)


def rows(count: int, start: int = 0) -> list[Row]:
    return [Row(i + 2, (f"+86138{start + i:08d}", f"客户{i}", f"NO{i}")) for i in range(count)]


async def upload(p: Platform, sh: Shop, listed: list[Row], **options: Any) -> Draft:
    """The shop's list as a draft task, with its template and signature."""
    return await p.tasks.draft(
        sh.tenant_id,
        sdk_app_id=sh.sdk_app_id,
        sign_name=SIGN,
        template_id=sh.template_id,
        name="list.csv",
        rows=listed,
        **options,
    )


def feeder(p: Platform, clock: Clock) -> TaskFeeder:
    return TaskFeeder(p.db, p.settings.tz, clock=clock)


async def running(
    p: Platform, sh: Shop, listed: list[Row], start_in: float | None = None, **options: Any
) -> tuple[int, Clock, TaskFeeder]:
    """A confirmed task, the hand-driven clock it runs on, and a feeder on that clock."""
    clock = Clock()
    p.tasks.clock = clock
    if start_in is not None:
        options["start_at"] = clock.now + start_in
    made = await upload(p, sh, listed, **options)
    await p.tasks.confirm(sh.tenant_id, made.task_id)
    return made.task_id, clock, feeder(p, clock)


async def numbers(p: Platform, task_id: int) -> dict[int, int]:
    n = s.task_numbers
    q = select(n.c.state, func.count()).where(n.c.task_id == task_id).group_by(n.c.state)
    return {int(k): int(v) for k, v in await p.db.read(lambda c: c.execute(q).all())}


async def message_states(p: Platform, task_id: int) -> dict[str, int]:
    m = s.messages
    q = select(m.c.state, func.count()).where(m.c.task_id == task_id).group_by(m.c.state)
    return {k: int(v) for k, v in await p.db.read(lambda c: c.execute(q).all())}


async def used_units(p: Platform, tenant_id: int) -> int:
    return int((await p.db.read(lambda c: ledger.balances(c, tenant_id)))["used"])


@on_platform
async def test_an_upload_is_checked_rendered_and_kept_as_a_draft(platform: Platform) -> None:
    sh = await shop(platform)
    listed = [
        *rows(3),
        Row(5, ("13800000001x", "a", "b")),  # not a number
        Row(6, ("+86 138 0000 0000", "again", "dup")),  # the first row again, spelled otherwise
        Row(7, ("+14155550100", "x", "y")),  # abroad, with a Mainland template
        Row(8, ("+8613900000009", "only one parameter")),
    ]
    draft = await platform.tasks.draft(
        sh.tenant_id,
        sdk_app_id=sh.sdk_app_id,
        sign_name=SIGN,
        template_id=sh.template_id,
        name="list.csv",
        rows=listed,
    )
    plan = draft.plan
    assert (plan.valid, plan.invalid, plan.duplicates) == (3, 3, 1)
    assert plan.rows[0].content == "【测试签名】尊敬的客户0，您的订单NO0已发货。"
    assert plan.parts == 3
    codes = [r.code for r in plan.rows if r.state == bulk.INVALID]
    assert codes == [
        "InvalidParameterValue.IncorrectPhoneNumber",
        bulk.MAINLAND_TEMPLATE_ABROAD,
        "FailedOperation.TemplateParamSetNotMatchApprovedTemplate",
    ]
    assert await numbers(platform, draft.task_id) == {bulk.WAITING: 3, bulk.INVALID: 3, 4: 1}
    # A draft is not fed, and is not in the task list.
    clock = Clock()
    clock.now += 60
    assert await feeder(platform, clock).feed_round() == 0
    assert await platform.tasks.recent(sh.tenant_id) == []
    await platform.tasks.discard(sh.tenant_id, draft.task_id)
    assert await numbers(platform, draft.task_id) == {}


@on_platform
async def test_a_task_is_fed_at_its_rate_and_each_number_sent_once(platform: Platform) -> None:
    sh = await shop(platform)
    task_id, clock, feed = await running(platform, sh, rows(250), rate=100)
    with pytest.raises(RuleViolation):
        await platform.tasks.confirm(sh.tenant_id, task_id)
    clock.now += 0.5
    assert await feed.feed_round() == 50  # 100 a second for half a second
    assert await feed.feed_round() == 0  # nothing more is owed yet
    clock.now += 10  # long behind: it catches up by one second only
    assert await feed.feed_round() == 100
    clock.now += 1
    assert await feed.feed_round() == 100
    assert await message_states(platform, task_id) == {"QUEUED": 250}
    assert await used_units(platform, sh.tenant_id) == 250
    clock.now += 1
    assert await feed.feed_round() == 0
    task = await platform.tasks.task(sh.tenant_id, task_id)
    assert task.state == "running"  # every number handed over, none with its outcome yet
    progress = await platform.tasks.progress(sh.tenant_id, task_id)
    assert (progress["fed"], progress["percent"], progress["counts"].sending) == (250, 0, 250)
    assert not progress["finished"]


@on_platform
async def test_suspend_holds_what_was_not_handed_over_and_resume_sends_it(
    platform: Platform,
) -> None:
    sh = await shop(platform)
    task_id, clock, feed = await running(platform, sh, rows(300), rate=100)
    clock.now += 1
    assert await feed.feed_round() == 100
    # A dispatcher has claimed 30 of them: those are on their way to the carrier.
    claimed = await platform.db.write(lambda c: claims.claim(c, 30, clock.now, 30))
    assert len(claimed) == 30

    await platform.tasks.suspend(sh.tenant_id, task_id)
    assert await message_states(platform, task_id) == {"SENDING": 30, "HELD": 70}
    assert await platform.db.write(lambda c: claims.claim(c, 100, clock.now, 30)) == []
    clock.now += 5
    assert await feed.feed_round() == 0  # a suspended task is not fed
    with pytest.raises(RuleViolation):
        await platform.tasks.suspend(sh.tenant_id, task_id)

    await platform.tasks.resume(sh.tenant_id, task_id)
    assert await message_states(platform, task_id) == {"SENDING": 30, "QUEUED": 70}
    assert await feed.feed_round() == 0  # resuming does not make up for the pause
    clock.now += 1
    assert await feed.feed_round() == 100
    assert await numbers(platform, task_id) == {bulk.ACCEPTED: 200, bulk.WAITING: 100}


@on_platform
async def test_cancel_refunds_what_was_not_sent(platform: Platform) -> None:
    sh = await shop(platform, units=1000)
    task_id, clock, feed = await running(platform, sh, rows(300), rate=100)
    clock.now += 1
    await feed.feed_round()
    await platform.db.write(lambda c: claims.claim(c, 40, clock.now, 30))
    await platform.tasks.suspend(sh.tenant_id, task_id)
    await platform.tasks.cancel(sh.tenant_id, task_id)

    assert await message_states(platform, task_id) == {"SENDING": 40, "CANCELLED": 60}
    assert await numbers(platform, task_id) == {bulk.ACCEPTED: 100, bulk.CANCELLED: 200}
    assert await used_units(platform, sh.tenant_id) == 40
    assert await platform.db.read(ledger.check) == []
    progress = await platform.tasks.progress(sh.tenant_id, task_id)
    assert progress["counts"].cancelled == 260
    assert progress["counts"].total == 300 and progress["counts"].sending == 40
    # In the API's send records, a cancelled message is a failure that was never sent.
    app_id = (await platform.tasks.task(sh.tenant_id, task_id)).app_id
    _, records = await platform.reports.send_records(
        app_id, "+8613800000099", int(clock.now) - 60, int(clock.now) + 60, 10, 0
    )
    assert [(r.send_status, r.status_code) for r in records] == [(4, "CANCELLED")]
    # They were accepted, so their end is reported like any final state, once.
    reports = await platform.reports.pull_status(app_id, 100)
    assert [(r.delivered, r.description) for r in reports] == [(False, "CANCELLED")] * 60
    assert await platform.reports.pull_status(app_id, 100) == []
    with pytest.raises(RuleViolation):
        await platform.tasks.resume(sh.tenant_id, task_id)


@on_platform
async def test_an_empty_package_holds_the_task_until_units_are_added(
    platform: Platform,
) -> None:
    sh = await shop(platform, units=120)
    task_id, clock, feed = await running(platform, sh, rows(200), rate=100)
    clock.now += 1
    assert await feed.feed_round() == 100
    clock.now += 1
    assert await feed.feed_round() == 20
    task = await platform.tasks.task(sh.tenant_id, task_id)
    assert (task.state, task.hold_reason) == ("suspended", "package")
    # Nothing was refused for want of units: the 80 wait, and no REFUSED rows were written.
    assert await numbers(platform, task_id) == {bulk.ACCEPTED: 120, bulk.WAITING: 80}
    assert "REFUSED" not in await message_states(platform, task_id)

    # Granted at the task's time: the feeder judges the package by that clock, not the machine's.
    await platform.db.write(lambda c: wallet.grant_package(c, sh.tenant_id, 100, now=clock.now))
    await platform.tasks.resume(sh.tenant_id, task_id)
    clock.now += 1
    assert await feed.feed_round() == 80
    assert await numbers(platform, task_id) == {bulk.ACCEPTED: 200}
    assert await platform.db.read(ledger.check) == []


@on_platform
async def test_a_scheduled_task_waits_for_its_start(platform: Platform) -> None:
    sh = await shop(platform)
    _, clock, feed = await running(platform, sh, rows(10), rate=100, start_in=3600)
    clock.now += 3599
    assert await feed.feed_round() == 0
    clock.now += 2
    assert await feed.feed_round() == 10


@on_platform
async def test_a_suspended_account_holds_its_running_task(platform: Platform) -> None:
    sh = await shop(platform)
    task_id, clock, _ = await running(platform, sh, rows(10), rate=100)
    t = s.tenants
    await platform.db.write(
        lambda c: c.execute(update(t).where(t.c.id == sh.tenant_id).values(status="suspended"))
    )
    clock.now += 1
    assert await feeder(platform, clock).feed_round() == 0
    task = await platform.tasks.task(sh.tenant_id, task_id)
    assert (task.state, task.hold_reason) == ("suspended", "account")


@on_platform
async def test_another_tenants_task_is_not_found(platform: Platform) -> None:
    mine, theirs = await shop(platform), await shop(platform)
    made = await upload(platform, theirs, rows(5))
    for action in (
        platform.tasks.confirm,
        platform.tasks.suspend,
        platform.tasks.resume,
        platform.tasks.cancel,
        platform.tasks.discard,
        platform.tasks.progress,
    ):
        with pytest.raises(RuleViolation) as e:
            await action(mine.tenant_id, made.task_id)
        assert e.value.code == "ResourceNotExist.TaskNotExist"
    # Nor may a tenant use another's application or template for its own task.
    with pytest.raises(RuleViolation):
        await platform.tasks.draft(
            mine.tenant_id,
            sdk_app_id=theirs.sdk_app_id,
            sign_name=SIGN,
            template_id=mine.template_id,
            name="x.csv",
            rows=rows(1),
        )


@on_platform
async def test_feeders_racing_send_each_number_once(platform: Platform) -> None:
    sh = await shop(platform, units=2000)
    task_id, clock, _ = await running(platform, sh, rows(1500), rate=2000)
    # Four workers' feeders, each with its own connection pool, all owed the whole list.
    others = [Platform(platform.settings) for _ in range(3)]
    for other in others:
        await other.start(deliver=False)
    try:
        clock.now += 1
        feeders = [feeder(p, clock) for p in (platform, *others)]
        for _ in range(3):
            await asyncio.gather(*(f.feed_round() for f in feeders))
            clock.now += 1
    finally:
        for other in others:
            await other.stop()
    m = s.messages
    phones = await platform.db.read(
        lambda c: c.execute(select(m.c.phone).where(m.c.task_id == task_id)).all()
    )
    assert len(phones) == 1500 == len({p for (p,) in phones})
    assert await used_units(platform, sh.tenant_id) == 1500
    assert await numbers(platform, task_id) == {bulk.ACCEPTED: 1500}


def test_a_long_list_is_stored_in_slices_and_is_a_draft_only_when_whole(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(task_upload, "UPLOAD_SLICE", 7)

    async def body(platform: Platform) -> None:
        sh = await shop(platform)
        seen: list[str] = []
        store = task_upload._store_slice

        def spy(conn: Connection, rows: Any, last: bool) -> None:
            state = conn.execute(select(s.send_tasks.c.state)).scalar_one()
            seen.append(state)
            store(conn, rows, last)

        monkeypatch.setattr(task_upload, "_store_slice", spy)
        draft = await platform.tasks.draft(
            sh.tenant_id,
            sdk_app_id=sh.sdk_app_id,
            sign_name=SIGN,
            template_id=sh.template_id,
            name="list.csv",
            rows=rows(20),
        )
        assert seen == ["uploading"] * 3  # 7 + 7 + 6 rows, hidden until the last is in
        assert await numbers(platform, draft.task_id) == {bulk.WAITING: 20}
        assert (await platform.tasks.task(sh.tenant_id, draft.task_id)).state == "draft"

    on_platform(body)(tmp_path, database_url)


def drive(conn: Connection, now: float, outcomes: dict[str, tuple[str, str] | None]) -> None:
    """Hand every queued message to a carrier and record its answer with the delivery's own
    functions: by the last digit of its number, refused at submit (``None``) or taken and
    then ended by a receipt (state, receipt code), or left with no receipt (``("", "")``)."""
    claimed = claims.claim(conn, 1000, now, 30)
    results = []
    for c in claimed:
        outcome = outcomes[c.phone[-1]]
        if outcome is None:
            results.append(SubmitResult(c.id, None, "0x00000045", permanent=True))
        else:
            results.append(SubmitResult(c.id, f"c{c.id}"))
    attempts = {c.id: c.attempts for c in claimed}
    submits.record_submits(conn, "sim", results, now, max_attempts=3, attempts=attempts)
    got = [
        Receipt(f"c{c.id}", MessageState(o[0]), o[1], now)
        for c in claimed
        if (o := outcomes[c.phone[-1]]) is not None and o[0]
    ]
    receipts.apply_receipts(conn, "sim", got)


@on_platform
async def test_a_task_is_finished_when_every_number_has_its_final_outcome(
    platform: Platform,
) -> None:
    sh = await shop(platform)
    listed = rows(20)
    # A task sending the first number the same text a moment before: the second task's
    # number is refused at acceptance (Tencent's same-content-in-30-seconds limit).
    _, clock, feed = await running(platform, sh, listed[:1], rate=100)
    clock.now += 1
    assert await feed.feed_round() == 1
    made = await upload(platform, sh, listed, rate=100)
    await platform.tasks.confirm(sh.tenant_id, made.task_id)
    task_id = made.task_id
    clock.now += 1
    assert await feed.feed_round() == 19
    clock.now += 1
    assert await feed.feed_round() == 0
    assert (await platform.tasks.task(sh.tenant_id, task_id)).state == "running"

    by_digit: dict[str, tuple[str, str] | None] = {
        **{d: ("DELIVERED", "DELIVRD") for d in "0123"},
        "4": ("UNDELIVERED", "UNDELIV"),
        "5": ("REJECTED", "REJECTD"),  # rejected by the carrier's receipt
        "6": None,  # refused by the carrier at submit
        "7": ("EXPIRED", "EXPIRED"),
        "8": ("", ""),  # no receipt: UNKNOWN once the receipt timeout passes
        "9": ("DELIVERED", "DELIVRD"),
    }
    now = clock.now
    await platform.db.write(lambda c: drive(c, now, by_digit))
    progress = await platform.tasks.progress(sh.tenant_id, task_id)
    counts = progress["counts"]
    assert (counts.delivered, counts.failed, counts.refused, counts.sending) == (9, 8, 1, 2)
    assert counts.total == 20 and counts.waiting == 0 and not progress["finished"]
    # Still waiting for two receipts: looked at again only after a while, and not finished.
    clock.now += 1
    assert await feed.feed_round() == 0
    clock.now += 10
    assert await feed.feed_round() == 0
    assert (await platform.tasks.task(sh.tenant_id, task_id)).state == "running"

    clock.now += 3600
    now = clock.now
    await platform.db.write(lambda c: receipts.expire_silent(c, now - 1800, now))
    clock.now += 10
    await feed.feed_round()
    task = await platform.tasks.task(sh.tenant_id, task_id)
    assert (task.state, task.finished_at) == ("finished", clock.now)
    progress = await platform.tasks.progress(sh.tenant_id, task_id)
    counts = progress["counts"]
    assert progress["finished"] and progress["percent"] == 100
    assert (counts.delivered, counts.failed, counts.refused, counts.sending) == (9, 10, 1, 0)
    assert dict(counts.failures) == {
        Failure.CARRIER_REFUSED: 4,  # 2 rejected by receipt, 2 refused at submit
        Failure.INVALID_NUMBER: 2,
        Failure.SHUTDOWN: 2,
        Failure.NO_RECEIPT: 2,
    }
    # The statistics count the same messages the same way.
    since = clock.now - 86400
    slots = await platform.db.read(lambda c: statistics.quarter_hours(c, sh.tenant_id, since))
    sent, delivered, failed = (sum(v[i] for v in slots.values()) for i in range(3))
    assert (sent, delivered, failed) == (20, counts.delivered + 1, counts.failed)
