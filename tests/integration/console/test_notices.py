"""Notification contacts and console messages over HTTP, with a real SMTP server.

A contact is added on its page, gets its code by email (read at the SMTP server) or by the
platform's own SMS (read from the platform's message), and is verified with it; codes expire
by the injected clock and run out of attempts. A review decided by the operator becomes a
console message (counted in the header, read by opening it) and goes to the contacts that
chose review results, not to the others. Another tenant reaches none of it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, func, insert, select, update

from smscloud.domain.notice_contacts import CODE_LIFETIME, MAX_ATTEMPTS, RESEND_AFTER
from smscloud.services import inbox
from smscloud.services.accounts import tenants
from smscloud.services.sending.platform_sms import PLATFORM_SIGN
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form
from tests.integration.notify.test_mail import Collector, smtp_server  # noqa: F401 (a fixture)
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, Tenant, approved_template

CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
nc = s.notice_contacts


class JumpingClock:
    """The platform's clock: runs like real time from a fixed moment, and jumps when told."""

    def __init__(self) -> None:
        self.running = running_from(DAYTIME)
        self.offset = 0.0

    def __call__(self) -> float:
        return self.running() + self.offset


@pytest.fixture
def clock() -> JumpingClock:
    return JumpingClock()


@pytest.fixture
def live(
    tmp_path: Path,
    clock: JumpingClock,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> Iterator[LiveServer]:
    _, port = smtp_server
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'x.db'}",
        smtp_url=f"smtp://mailer:s3cret%3A%E5%AF%86@127.0.0.1:{port}",
        mail_from="smscloud <noreply@smscloud.test>",
    )
    with LiveServer(settings, clock=clock) as server:
        yield server


def user(live: LiveServer, email: str) -> Tenant:
    tenant = live.tenant(units=0)
    live.admin(lambda c: tenants.create_tenant_user(c, tenant.id, email, PASSWORD))
    return tenant


def mails_to(collector: Collector, address: str, count: int = 1) -> list[str]:
    """The subjects of the mails ``address`` got, once there are ``count`` of them."""
    deadline = time.time() + 15  # the notifier's polling, not the platform's clock
    while time.time() < deadline:
        got = [str(m.message["Subject"]) for m in collector.received if address in m.rcpt_tos]
        if len(got) >= count:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{address} got fewer than {count} mails")


def sms_codes(live: LiveServer, phone: str) -> list[str]:
    """The codes the platform texted to ``phone``, oldest first."""
    m = s.messages
    rows = live.query(
        lambda c: (
            c.execute(
                select(m.c.content)
                .where(m.c.phone == phone, m.c.sign_name == PLATFORM_SIGN)
                .order_by(m.c.id)
            )
            .scalars()
            .all()
        )
    )
    return [found.group(1) for row in rows if (found := CODE.search(row))]


def contact_rows(live: LiveServer, tenant_id: int) -> list[dict[str, object]]:
    return [
        dict(r)
        for r in live.query(
            lambda c: (
                c.execute(select(nc).where(nc.c.tenant_id == tenant_id).order_by(nc.c.id))
                .mappings()
                .all()
            )
        )
    ]


def post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    token = csrf_of(client.get("/console/contacts").text)
    return client.post(path, data=data | {"csrf_token": token})


def test_an_email_contact_is_verified_by_the_code_it_was_mailed(
    live: LiveServer,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> None:
    collector, _ = smtp_server
    t = user(live, "ann@acme.test")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "ann@acme.test")
        # The page is reachable from the messages page and the packages page.
        assert 'href="/console/contacts"' in client.get("/console/messages").text
        assert 'href="/console/contacts"' in client.get("/console/packages").text
        page = client.get("/console/contacts")
        assert page.status_code == 200 and "通知联系人" in page.text

        # Bad input: a message beside the field, what was typed kept, nothing stored.
        r = post(client, "/console/contacts", {"channel": "email", "address": "ops-at-acme"})
        assert r.status_code == 400
        assert '<small class="error" id="e-address">请输入有效的邮箱地址。' in r.text
        assert 'value="ops-at-acme"' in r.text
        r = post(client, "/console/contacts", {"channel": "sms", "address": "12345"})
        assert r.status_code == 400 and 'id="e-address">请输入有效的手机号码。' in r.text
        r = post(client, "/console/contacts", {"channel": "fax", "address": ""})
        assert r.status_code == 400
        assert (
            'id="e-channel">请选择邮箱或手机。' in r.text and 'id="e-address">此项必填。' in r.text
        )
        assert contact_rows(live, t.id) == []

        r = post(client, "/console/contacts", {"channel": "email", "address": "Ops@Acme.test"})
        assert r.status_code == 303
        [row] = contact_rows(live, t.id)
        assert row["address"] == "ops@acme.test" and row["verified_at"] is None
        [subject] = mails_to(collector, "ops@acme.test")
        code = CODE.findall(subject)[-1]
        assert code not in str(row["code_hash"]) and code not in str(row["code_salt"])
        page = client.get("/console/contacts").text
        assert "待验证" in page and "ops@acme.test" in page

        # The same address again (in other letters) is a duplicate.
        r = post(client, "/console/contacts", {"channel": "email", "address": "OPS@acme.test"})
        assert r.status_code == 400 and 'id="e-address">该联系人已添加。' in r.text
        assert len(contact_rows(live, t.id)) == 1

        verify = f"/console/contacts/{row['id']}/verify"
        r = post(client, verify, {"code": "12ab"})
        assert r.status_code == 400 and f'id="e-code-{row["id"]}">验证码为 6 位数字。' in r.text
        wrong = "000000" if code != "000000" else "111111"
        r = post(client, verify, {"code": wrong})
        assert r.status_code == 400 and "验证码不正确。" in r.text and f'value="{wrong}"' in r.text
        [row] = contact_rows(live, t.id)
        assert row["verified_at"] is None and row["code_attempts"] == 1

        r = post(client, verify, {"code": code})
        assert r.status_code == 303
        [row] = contact_rows(live, t.id)
        assert row["verified_at"] is not None and row["code_hash"] == ""
        page = client.get("/console/contacts").text
        assert "已验证" in page and "联系人已验证。" in page


def test_a_phone_code_expires_and_runs_out_of_attempts(
    live: LiveServer, clock: JumpingClock
) -> None:
    t = user(live, "bo@acme.test")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "bo@acme.test")
        r = post(client, "/console/contacts", {"channel": "sms", "address": "13800138001"})
        assert r.status_code == 303
        [row] = contact_rows(live, t.id)
        verify = f"/console/contacts/{row['id']}/verify"
        resend = f"/console/contacts/{row['id']}/resend"
        [first] = sms_codes(live, "+8613800138001")

        # Too soon for a new code.
        r = post(client, resend, {})
        assert r.status_code == 429 and "请一分钟后再试" in r.text
        clock.offset += CODE_LIFETIME + 1
        r = post(client, verify, {"code": first})
        assert r.status_code == 400 and "验证码已过期，请重新发送。" in r.text
        assert contact_rows(live, t.id)[0]["verified_at"] is None

        assert post(client, resend, {}).status_code == 303
        first, second = sms_codes(live, "+8613800138001")
        if first != second:  # the old code stops working
            assert post(client, verify, {"code": first}).status_code == 400
        wrong = "000000" if second != "000000" else "111111"
        while int(str(contact_rows(live, t.id)[0]["code_attempts"])) < MAX_ATTEMPTS:
            assert post(client, verify, {"code": wrong}).status_code == 400
        r = post(client, verify, {"code": second})
        assert r.status_code == 400 and "输错次数过多，请重新发送验证码。" in r.text
        assert contact_rows(live, t.id)[0]["verified_at"] is None

        clock.offset += RESEND_AFTER
        assert post(client, resend, {}).status_code == 303
        third = sms_codes(live, "+8613800138001")[-1]
        assert post(client, verify, {"code": third}).status_code == 303
        assert contact_rows(live, t.id)[0]["verified_at"] is not None


def test_another_tenant_cannot_see_verify_or_delete_a_contact(live: LiveServer) -> None:
    owner = user(live, "own@acme.test")
    user(live, "eve@evil.test")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "own@acme.test")
        r = post(client, "/console/contacts", {"channel": "email", "address": "ops@acme.test"})
        assert r.status_code == 303
    [before] = contact_rows(live, owner.id)
    one = f"/console/contacts/{before['id']}"
    with httpx.Client(base_url=base(live)) as eve:
        login(eve, "eve@evil.test")
        assert "ops@acme.test" not in eve.get("/console/contacts").text
        for action, data in (
            ("/verify", {"code": "123456"}),
            ("/resend", {}),
            ("/kinds", {"kinds": "bill"}),
            ("/delete", {}),
        ):
            assert post(eve, one + action, data).status_code == 404, action
    assert contact_rows(live, owner.id) == [before]


def verified_contact(live: LiveServer, tenant_id: int, channel: str, address: str) -> int:
    def add(conn: Connection) -> int:
        result = conn.execute(
            insert(nc).values(
                tenant_id=tenant_id,
                channel=channel,
                address=address,
                kinds="review balance limit bill",
                verified_at=1.0,
                code_hash="",
                code_salt="",
                code_expires_at=0.0,
                code_attempts=0,
                created_at=1.0,
            )
        )
        return int(result.inserted_primary_key[0])

    return live.admin(add)


def test_a_review_result_is_a_message_and_goes_to_the_contacts_that_chose_it(
    live: LiveServer,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> None:
    collector, _ = smtp_server
    t = user(live, "owner@acme.test")
    user(live, "other@else.test")
    chose = verified_contact(live, t.id, "email", "reviews@acme.test")
    declined = verified_contact(live, t.id, "email", "bills@acme.test")
    verified_contact(live, t.id, "sms", "+8613800138002")  # keeps every kind
    phone_declined = verified_contact(live, t.id, "sms", "+8613800138003")
    live.admin(  # an unverified contact gets nothing, whatever it chose
        lambda c: c.execute(
            insert(nc).values(
                tenant_id=t.id, channel="email", address="new@acme.test",
                kinds="review balance limit bill", verified_at=None, code_hash="x",
                code_salt="y", code_expires_at=0.0, code_attempts=0, created_at=1.0,
            )
        )
    )  # fmt: skip

    def arrange(conn: Connection) -> int:
        tenants.create_operator(conn, "root", PASSWORD)
        tid = approved_template(conn, t.id, "您的订单{1}已发货。", 2)
        conn.execute(update(s.templates).where(s.templates.c.id == tid).values(status=1))
        return tid

    template_id = live.admin(arrange)
    with httpx.Client(base_url=base(live)) as client:
        login(client, "owner@acme.test")
        # The contacts' choices, made on the page.
        for contact_id in (declined, phone_declined):
            r = post(client, f"/console/contacts/{contact_id}/kinds", {"kinds": "bill"})
            assert r.status_code == 303
        assert 'id="unread-count"' not in client.get("/console/").text

        with httpx.Client(base_url=base(live)) as op:
            r = post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
            assert r.status_code == 303
            token = csrf_of(op.get("/admin/reviews").text)
            decide = {"csrf_token": token, "decision": "reject", "reason": "变量用途不明确"}
            r = op.post(f"/admin/reviews/template/{template_id}", data=decide)
            assert r.status_code == 303

        mails_to(collector, "owner@acme.test")
        [mail] = collector.received
        assert sorted(mail.rcpt_tos) == ["owner@acme.test", "reviews@acme.test"]
        m = s.messages
        texted = live.query(
            lambda c: (
                c.execute(select(m.c.phone).where(m.c.sign_name == PLATFORM_SIGN)).scalars().all()
            )
        )
        assert texted == ["+8613800138002"]
        assert chose  # the contact that chose review results got the mail above

        # The console message: counted on every page, listed, read by opening it.
        home = client.get("/console/").text
        assert re.search(r'id="unread-count"[^>]*>1<', home)
        listing = client.get("/console/messages").text
        assert re.search(r'id="unread-count"[^>]*>1<', listing)
        found = re.search(r'href="/console/messages/(\d+)"', listing)
        assert found and "模板审核未通过：" in listing
        message_id = int(found.group(1))
        opened = client.get(f"/console/messages/{message_id}")
        assert opened.status_code == 200 and "变量用途不明确" in opened.text
        assert 'id="unread-count"' not in opened.text
        assert 'id="unread-count"' not in client.get("/console/send").text
        english = client.get(f"/console/messages/{message_id}?lang=en").text
        assert "Template rejected: " in english and "Reason" in english

    with httpx.Client(base_url=base(live)) as other:
        login(other, "other@else.test")
        assert other.get(f"/console/messages/{message_id}").status_code == 404
        assert "变量用途不明确" not in other.get("/console/messages").text
    unread = live.query(
        lambda c: c.execute(
            select(func.count()).where(
                s.console_messages.c.tenant_id == t.id, s.console_messages.c.read_at.is_(None)
            )
        ).scalar_one()
    )
    assert unread == 0  # the other tenant's visit changed nothing


def test_mark_all_read(live: LiveServer, clock: JumpingClock) -> None:
    t = user(live, "kim@acme.test")
    other = user(live, "lee@else.test")
    now = clock()
    live.admin(lambda c: inbox.post(c, t.id, "balance", {"remaining": 9, "threshold": 10}, now))
    live.admin(lambda c: inbox.post(c, t.id, "limit", {"app": "商城", "limit": 100}, now))
    live.admin(lambda c: inbox.post(c, other.id, "limit", {"app": "x", "limit": 1}, now))
    with httpx.Client(base_url=base(live)) as client:
        login(client, "kim@acme.test")
        listing = client.get("/console/messages").text
        assert re.search(r'id="unread-count"[^>]*>2<', listing)
        assert "短信套餐包余量不足" in listing and "应用已达日发送上限：" in listing
        token = csrf_of(listing)
        r = client.post("/console/messages/read-all", data={"csrf_token": token})
        assert r.status_code == 303
        listing = client.get("/console/messages").text
        assert 'id="unread-count"' not in listing and "所有消息已标为已读。" in listing
    assert live.query(lambda c: inbox.unread(c, other.id)) == 1
