"""A review decision in the operator console reaches the tenant's inbox at a real SMTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, update

from smscloud.domain.errors import RuleViolation
from smscloud.services.accounts import tenants
from smscloud.services.registry import review
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, post_form
from tests.integration.notify.test_mail import Collector, smtp_server  # noqa: F401 (a fixture)
from tests.support.live import LiveServer, approved_template


@pytest.fixture
def live(
    tmp_path: Path,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> Iterator[LiveServer]:
    _, port = smtp_server
    settings = make_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 'x.db'}",
        smtp_url=f"smtp://mailer:s3cret%3A%E5%AF%86@127.0.0.1:{port}",
        mail_from="smscloud <noreply@smscloud.test>",
    )
    with LiveServer(settings) as server:
        yield server


def test_a_rejected_template_is_emailed_with_its_reason(
    live: LiveServer,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> None:
    collector, _ = smtp_server
    t = live.tenant(units=0)

    def arrange(conn: Connection) -> int:
        tenants.create_tenant_user(conn, t.id, "owner@acme.test", PASSWORD)
        tenants.create_operator(conn, "root", PASSWORD)
        conn.execute(
            update(s.tenants).where(s.tenants.c.id == t.id).values(contact_emails="ops@acme.test")
        )
        tid = approved_template(conn, t.id, "您的订单{1}已发货。", 2)
        conn.execute(update(s.templates).where(s.templates.c.id == tid).values(status=1))
        return tid

    template_id = live.admin(arrange)
    with httpx.Client(base_url=base(live)) as op:
        assert (
            post_form(op, "/admin/login", {"username": "root", "password": PASSWORD}).status_code
            == 303
        )
        token = csrf_of(op.get("/admin/reviews").text)
        decide = {"csrf_token": token, "decision": "reject", "reason": "变量用途不明确"}
        assert op.post(f"/admin/reviews/template/{template_id}", data=decide).status_code == 303
    deadline = time.time() + 15
    while not collector.received and time.time() < deadline:
        time.sleep(0.05)
    assert len(collector.received) == 1
    mail = collector.received[0]
    assert sorted(mail.rcpt_tos) == ["ops@acme.test", "owner@acme.test"]
    assert mail.mail_from == "noreply@smscloud.test"
    assert "变量用途不明确" in mail.message.get_content()


def test_a_decision_from_the_cli_notifies_the_same_way(
    live: LiveServer,
    smtp_server: tuple[Collector, int],  # noqa: F811
) -> None:
    """``smscloud admin review approve`` goes through ``review.decide`` like the console."""
    collector, _ = smtp_server
    t = live.tenant(units=0)

    def arrange(conn: Connection) -> int:
        conn.execute(
            update(s.tenants).where(s.tenants.c.id == t.id).values(contact_emails="ops@acme.test")
        )
        tid = approved_template(conn, t.id, "您的验证码是{1}。", 3)
        conn.execute(update(s.templates).where(s.templates.c.id == tid).values(status=1))
        return tid

    template_id = live.admin(arrange)
    live.admin(lambda c: review.decide(c, "template", template_id, approve=True))
    with pytest.raises(RuleViolation):  # decided once, whoever asks again
        live.admin(lambda c: review.decide(c, "template", template_id, approve=False))
    deadline = time.time() + 15
    while not collector.received and time.time() < deadline:
        time.sleep(0.05)
    assert [m.rcpt_tos for m in collector.received] == [["ops@acme.test"]]
