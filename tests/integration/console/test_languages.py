"""Every console page speaks one language: Chinese or English, never a mix outside data.

The test walks the console as a tenant and as an operator, following every link it finds, in
both languages, and lists the words of the other language on each page (``page_words``)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Connection, insert, update
from tencentcloud.sms.v20210111 import models

from smscloud.services import inbox, notice_contacts
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, login, post_form
from tests.support.live import LiveServer
from tests.support.page_words import foreign_words

LINK = re.compile(r'href="(/(?:console|admin)/[^"#?]*)"')
NOT_PAGES = re.compile(r"/(logout|export|download|file|image|letter|bills/\d+)")
MAX_PAGES = 80


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("languages")
    with LiveServer(make_settings(tmp, f"sqlite:///{tmp / 'console.db'}")) as server:
        tenant = server.tenant()
        server.admin(lambda c: tenants.create_tenant_user(c, tenant.id, "t@example.com", PASSWORD))
        server.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
        server.admin(lambda c: _waiting_for_review(c, tenant.id, server.platform.clock()))
        # A delivered message and a refused one, so that records and statistics have rows.
        req = models.SendSmsRequest()
        req.from_json_string(
            json.dumps(
                {
                    "PhoneNumberSet": ["+8613800138000", "12345"],
                    "SmsSdkAppId": tenant.sdk_app_id,
                    "TemplateId": tenant.template_id,
                    "SignName": tenant.sign_name,
                    "TemplateParamSet": ["4321"],
                }
            )
        )
        sent = server.client(tenant).SendSms(req).SendStatusSet
        server.wait_final([sent[0].SerialNo])
        server.admin(lambda c: _notices(c, tenant.id, server.platform.clock()))
        yield server


def _waiting_for_review(conn: Connection, tenant_id: int, now: float) -> None:
    """An identity, a signature for others with its images, one whose proof is not an
    image, and a template, waiting: overdue and in time, so the queues show all their words."""
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()
    gif = base64.b64encode(b"GIF89a" + b"\0" * 16).decode()
    sign = {"tenant_id": tenant_id, "sign_type": 0, "document_type": 1, "international": 0}
    sign |= {"status": 1, "proof_image": image, "remark": ""}
    conn.execute(
        insert(s.signs).values(
            [
                sign | {"name": "他用签名", "purpose": 1, "commission_image": image,
                        "created_at": now - 30 * 86400},
                sign | {"name": "坏图片", "purpose": 0, "proof_image": gif,
                        "commission_image": "", "created_at": now},
            ]
        )
    )  # fmt: skip
    conn.execute(
        insert(s.templates).values(
            tenant_id=tenant_id, name="待审模板", content="您的订单{1}已发货。", sms_type=2,
            international=0, status=1, created_at=now - 30 * 86400,
        )
    )  # fmt: skip
    conn.execute(
        insert(s.identities).values(
            tenant_id=tenant_id, account_type="enterprise", name="待审企业",
            id_number="91350100M000100Y43", document="missing.png", status=1, created_at=now,
        )
    )  # fmt: skip


def _notices(conn: Connection, tenant_id: int, now: float) -> None:
    """A console message of every kind, and a contact of each state."""
    review = {"item": "template", "name": "发货通知", "approved": False, "reason": "用途不明确"}
    inbox.post(conn, tenant_id, "review", review, now)
    inbox.post(conn, tenant_id, "balance", {"remaining": 9, "threshold": 10}, now)
    inbox.post(conn, tenant_id, "limit", {"app": "商城", "limit": 100}, now)
    bill = {"month": "2026-05", "amount": "12.50", "due_at": now, "bill": 1}
    inbox.post(conn, tenant_id, "bill", bill, now)
    inbox.post(conn, tenant_id, "arrears", bill, now)
    contact = notice_contacts.add(conn, tenant_id, "email", "ops@example.com", now)
    conn.execute(
        update(s.notice_contacts).where(s.notice_contacts.c.id == contact).values(verified_at=now)
    )
    notice_contacts.add(conn, tenant_id, "sms", "+8613800138009", now)


def _walk(client: httpx.Client, start: str, lang: str) -> dict[str, list[str]]:
    client.get(f"{start}?lang={lang}")  # kept in a cookie from here on
    seen: set[str] = set()
    queue = [start]
    problems: dict[str, list[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        r = client.get(path)
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html"):
            continue
        if words := foreign_words(r.text, lang):
            problems[path] = sorted(set(words))
        queue += [p for p in LINK.findall(r.text) if p not in seen and not NOT_PAGES.search(p)]
    assert len(seen) > 5, seen  # the walk found the console
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_tenant_page_is_in_one_language(live: LiveServer, lang: str) -> None:
    with httpx.Client(base_url=base(live)) as client:
        login(client, "t@example.com")
        assert _walk(client, "/console/", lang) == {}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_operator_page_is_in_one_language(live: LiveServer, lang: str) -> None:
    with httpx.Client(base_url=base(live)) as client:
        r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303
        assert _walk(client, "/admin/", lang) == {}
