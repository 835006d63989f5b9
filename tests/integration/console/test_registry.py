"""Signature and template pages over real HTTP: apply, preview, review, isolation, rights."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, Table, select, update

from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form
from tests.support.live import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")) as server:
        yield server


def tenant_user(
    live: LiveServer, email: str, account_type: str = "enterprise", **extra: str
) -> int:
    tenant = live.tenant(account_type=account_type, sign=None, template=None, units=0)

    def make(conn: Connection) -> None:
        tenants.create_tenant_user(conn, tenant.id, email, PASSWORD)
        if extra:
            conn.execute(update(s.tenants).where(s.tenants.c.id == tenant.id).values(**extra))

    live.admin(make)
    return tenant.id


def add_sign(
    client: httpx.Client,
    name: str,
    image: bytes = PNG,
    filename: str = "proof.png",
    *,
    sign_type: str = "0",
    document_type: str = "1",
) -> httpx.Response:
    token = csrf_of(client.get("/console/signs").text)
    data = {"csrf_token": token, "name": name, "sign_type": sign_type}
    data["document_type"] = document_type
    data |= {"purpose": "0", "remark": "官网"}
    files = {"proof_image": (filename, image, "image/png")}
    return client.post("/console/signs", data=data, files=files)


def add_template(client: httpx.Client, name: str, content: str, sms_type: str) -> httpx.Response:
    data = {"name": name, "content": content, "sms_type": sms_type, "remark": ""}
    return post_form(client, "/console/templates", data)


def ids(live: LiveServer, table: Table) -> list[int]:
    query = select(table.c.id).order_by(table.c.id)
    return [int(i) for i in live.query(lambda c: c.execute(query).scalars().all())]


def test_apply_preview_review_and_notify(live: LiveServer) -> None:
    tid = tenant_user(
        live, "ann@example.com", contact_emails="ops@example.com", contact_phones="+8613800138000"
    )
    live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as client, httpx.Client(base_url=base(live)) as op:
        login(client, "ann@example.com")
        # A bad upload is refused with a message, and nothing is stored.
        r = add_sign(client, "安科技", b"GIF89a" + b"\0" * 20, "x.gif")
        assert r.status_code == 400 and 'id="e-proof_image">图片须为 PNG 或 JPEG 格式' in r.text
        r = add_sign(client, "安科技", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024))
        assert r.status_code == 400 and "图片不能超过 5 MB" in r.text
        # A rule of the service is shown too (a mainland sign may not be an app sign).
        token = csrf_of(client.get("/console/signs").text)
        r = client.post(
            "/console/signs",
            data={"csrf_token": token, "name": "安科技", "sign_type": "1", "document_type": "1",
                  "purpose": "0"},
            files={"proof_image": ("p.png", PNG, "image/png")},
        )  # fmt: skip
        assert r.status_code == 400 and 'id="e-sign_type">' in r.text  # not offered, either
        assert ids(live, s.signs) == []
        r = add_sign(client, "安科技")
        assert r.status_code == 303 and r.headers["location"] == "/console/signs"
        page = client.get("/console/signs")
        assert "签名已提交审核" in page.text and "安科技" in page.text and "待审核" in page.text
        (sign_id,) = ids(live, s.signs)
        stored = list((live.settings.data_dir / "uploads" / "signs").iterdir())
        assert len(stored) == 1 and stored[0].read_bytes() == PNG

        # The live preview: final text, count, encoding, parts, and lint findings.
        token = csrf_of(client.get("/console/templates").text)
        hx = {"HX-Request": "true", "X-CSRF-Token": token}
        body = "您的验证码是{1}，5分钟内有效。" * 5
        r = client.post(
            "/console/templates/preview",
            data={"content": body, "sms_type": "3", "sign": "安科技"},
            headers=hx,
        )
        final = "【安科技】" + "您的验证码是1234，5分钟内有效。" * 5
        assert r.status_code == 200 and final in r.text
        assert f'id="preview-chars">{len(final)}<' in r.text
        assert 'id="preview-encoding">UCS-2<' in r.text and 'id="preview-parts">2<' in r.text
        r = client.post(
            "/console/templates/preview",
            data={"content": "Code {1}", "sms_type": "3", "international": "1", "sign": "Ann"},
            headers=hx,
        )
        assert 'id="preview-encoding">GSM-7<' in r.text and 'id="preview-parts">1<' in r.text
        r = client.post(
            "/console/templates/preview",
            data={"content": "大促{1}{2}【惊喜】", "sms_type": "1", "sign": "安科技"},
            headers=hx,
        )
        # Each finding in the page's language, its code beside it.
        assert "两个变量不能相邻（如 {1}{2}）" in r.text and "may not be adjacent" not in r.text
        assert (
            "模板含有不允许的字符：【】" in r.text
            and "营销模板须以 &#34;拒收请回复R&#34; 结尾" in r.text
        )
        r = client.post("/console/templates/preview", data={"content": "x"})  # no token
        assert r.status_code == 403

        r = add_template(client, "坏模板", "大促{1}{2}", "1")
        assert r.status_code == 400 and "InvalidParameterValue.InvalidTemplateFormat" in r.text
        r = add_template(client, "验证码", "您的验证码是{1}，5分钟内有效。", "3")
        assert r.status_code == 303
        r = add_template(client, "通知", "您的订单{1}已发货。", "2")
        assert r.status_code == 303
        good, other = ids(live, s.templates)

        # The operator's queues, with lint findings; a rejection needs a reason.
        r = post_form(op, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303
        page = op.get("/admin/reviews")
        assert f'id="review-sign-{sign_id}"' in page.text
        assert (
            f'id="review-template-{good}"' in page.text and 'id="pending-templates">2<' in page.text
        )
        token = csrf_of(page.text)
        r = op.post(
            f"/admin/reviews/template/{other}", data={"csrf_token": token, "decision": "reject"}
        )
        assert r.status_code == 400 and "驳回时必须填写原因" in r.text
        decide = {"csrf_token": token, "decision": "reject", "reason": "内容不清楚"}
        assert op.post(f"/admin/reviews/template/{other}", data=decide).status_code == 303
        decide = {"csrf_token": token, "decision": "approve"}
        assert op.post(f"/admin/reviews/template/{good}", data=decide).status_code == 303
        assert op.post(f"/admin/reviews/sign/{sign_id}", data=decide).status_code == 303
        r = op.post(f"/admin/reviews/sign/{sign_id}", data=decide)  # decided already
        assert r.status_code == 409 and "not waiting for review" in r.text
        assert 'id="pending-templates">0<' in op.get("/admin/reviews").text
        assert (
            op.post(f"/admin/reviews/sign/{sign_id}", data={"decision": "approve"}).status_code
            == 403
        )

        html = client.get("/console/templates").text
        assert f'id="template-status-{other}">未通过<' in html
        assert f'id="template-reason-{other}">内容不清楚<' in html
        assert f'id="template-status-{good}">已通过<' in html
        assert f'href="/console/templates/{good}"' not in html  # approved: no modify
        assert f'id="sign-status-{sign_id}">已通过<' in client.get("/console/signs").text

        # The rejected one is modified and goes back to review.
        edit = client.get(f"/console/templates/{other}")
        assert edit.status_code == 200 and "您的订单{1}已发货。" in edit.text
        data = {"name": "通知", "content": "您的订单{1}已发货，请查收。", "sms_type": "2"}
        assert post_form(client, f"/console/templates/{other}", data).status_code == 303
        assert f'id="template-status-{other}">待审核<' in client.get("/console/templates").text

    n = s.notifications
    rows = live.query(lambda c: c.execute(select(n).order_by(n.c.id)).all())
    assert len(rows) == 3 and {r.tenant_id for r in rows} == {tid}
    # Queued in the decision's transaction; the notifier may have sent it already (state 1).
    assert rows[0].channel == "email" and rows[0].state in (0, 1)
    assert rows[0].recipients.splitlines() == ["ops@example.com", "ann@example.com"]
    assert "模板审核未通过" in rows[0].subject and "内容不清楚" in rows[0].body
    assert "签名审核通过" in rows[2].subject
    m = s.messages
    texts = live.query(
        lambda c: (
            c.execute(select(m.c.content).where(m.c.phone == "+8613800138000")).scalars().all()
        )
    )
    assert len(texts) == 3 and any("内容不清楚" in t for t in texts)


def test_other_tenants_items_are_not_found(live: LiveServer) -> None:
    tenant_user(live, "a@example.com")
    tenant_user(live, "b@example.com")
    with httpx.Client(base_url=base(live)) as a, httpx.Client(base_url=base(live)) as b:
        login(a, "a@example.com")
        login(b, "b@example.com")
        assert add_sign(a, "甲公司").status_code == 303
        assert add_template(a, "通知", "您的订单{1}已发货。", "2").status_code == 303
        (sign_id,) = ids(live, s.signs)
        (template_id,) = ids(live, s.templates)
        assert b.get(f"/console/signs/{sign_id}").status_code == 404
        assert b.get(f"/console/templates/{template_id}").status_code == 404
        token = csrf_of(b.get("/console/signs").text)
        assert "甲公司" not in b.get("/console/signs").text
        r = b.post(f"/console/signs/{sign_id}/delete", data={"csrf_token": token})
        assert r.status_code == 404
        r = b.post(f"/console/templates/{template_id}/delete", data={"csrf_token": token})
        assert r.status_code == 404
        data = {"csrf_token": token, "name": "乙", "content": "您好{1}", "sms_type": "2"}
        assert b.post(f"/console/templates/{template_id}", data=data).status_code == 404
        # Without the token, the owner cannot delete either.
        assert a.post(f"/console/signs/{sign_id}/delete").status_code == 403
        token = csrf_of(a.get("/console/signs").text)
        r = a.post(f"/console/templates/{template_id}/delete", data={"csrf_token": token})
        assert r.status_code == 303
        assert "暂无模板" in a.get("/console/templates").text

    def deleted(c: Connection) -> tuple[bool, bool]:
        sign = c.execute(select(s.signs.c.deleted)).scalar_one()
        template = c.execute(select(s.templates.c.deleted)).scalar_one()
        return bool(sign), bool(template)

    assert live.query(deleted) == (False, True)


def test_an_individual_sees_what_it_may_not_do(live: LiveServer) -> None:
    tenant_user(live, "solo@example.com", account_type="individual")
    with httpx.Client(base_url=base(live)) as client:
        login(client, "solo@example.com")
        page = client.get("/console/templates").text
        assert re.search(r'id="f-sms_type-1"[^>]* disabled', page)
        assert 'id="deny-marketing">个人认证用户不能申请营销短信模板' in page
        assert "FailedOperation.ForbidAddMarketingTemplates" in page
        assert re.search(r'id="f-international"[^>]* disabled', page)
        assert 'id="deny-international">国际/港澳台短信需要企业认证' in page
        signs = client.get("/console/signs").text
        assert re.search(r'id="f-international"[^>]* disabled', signs)
        # Only the types an individual may use: no company, and never the withdrawn app type.
        offered = re.search(r'<select id="f-sign_type".*?</select>', signs, re.S)
        assert offered and re.findall(r'<option value="(\d)"', offered.group(0)) == ["4", "5"]
        # The console enforces it too, whatever the browser sends, and keeps what was typed.
        r = add_sign(client, "个人工作室")
        assert r.status_code == 400
        assert (
            'id="e-sign_type">请选择适用于您账号的签名类型' in r.text
            and 'value="个人工作室"' in r.text
        )
        r = add_sign(client, "个人工作室", sign_type="4", document_type="1")  # no trademark proof
        assert r.status_code == 400
        assert 'id="e-document_type">请选择适用于该签名类型的证明类型' in r.text
        assert ids(live, s.signs) == []
        assert add_sign(client, "个人工作室", sign_type="4", document_type="7").status_code == 303
        r = add_template(client, "营销", "新品上市，拒收请回复R", "1")
        assert r.status_code == 400 and "FailedOperation.ForbidAddMarketingTemplates" in r.text
        data = {
            "name": "intl",
            "content": "Your code is {1}",
            "sms_type": "3",
            "international": "1",
        }
        r = post_form(client, "/console/templates", data)
        assert r.status_code == 400 and "UnauthorizedOperation.RequestPermissionDeny" in r.text
        assert add_template(client, "验证码", "您的验证码是{1}。", "3").status_code == 303
