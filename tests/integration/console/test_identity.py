"""Identity verification over real HTTP: the tenant's application and the operator's review."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from smscloud.console.pages.identity import MAX_DOCUMENT
from smscloud.services.accounts import tenants
from smscloud.services.billing import usage
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import (
    PASSWORD,
    base,
    csrf_of,
    login,
    post_form,
    signup,
    tenant_of,
)
from tests.support.live import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 200
GOOD_ID = "11010519491231002X"
GOOD_USCC = "91350100M000100Y43"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path, f"sqlite:///{tmp_path / 'identity.db'}")) as server:
        yield server


def apply(
    client: httpx.Client,
    *,
    kind: str = "individual",
    name: str = "张三",
    number: str = GOOD_ID,
    document: tuple[str, bytes, str] | None = ("id.png", PNG, "image/png"),
    token: str | None = None,
) -> httpx.Response:
    if token is None:
        token = csrf_of(client.get("/console/identity").text)
    data = {"account_type": kind, "name": name, "id_number": number, "csrf_token": token}
    files = {"document": document} if document else {"placeholder": ("", b"", "text/plain")}
    return client.post("/console/identity", data=data, files=files)


@contextmanager
def tenant_client(live: LiveServer, email: str, **extra: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base(live)) as client:
        assert signup(client, email, **extra).status_code == 303
        assert login(client, email).status_code == 303
        yield client


@contextmanager
def operator_client(live: LiveServer) -> Iterator[httpx.Client]:
    live.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
    with httpx.Client(base_url=base(live)) as client:
        r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303
        yield client


def identities(live: LiveServer) -> list[Any]:
    i = s.identities
    return list(live.query(lambda c: c.execute(select(i).order_by(i.c.id)).all()))


def test_apply_refuses_bad_input_then_operator_approves(live: LiveServer) -> None:
    with tenant_client(live, "ann@example.com", account_type="individual") as client:
        tid = tenant_of(live, "ann@example.com")
        live.admin(
            lambda c: c.execute(
                update(s.tenants)
                .where(s.tenants.c.id == tid)
                .values(contact_emails="ops@example.com\n", contact_phones="+8613800138000")
            )
        )
        page = client.get("/console/identity")
        assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text

        r = apply(client, number="110105194912310021")
        assert r.status_code == 400 and 'id="e-id_number">身份证号无效' in r.text
        assert 'value="张三"' in r.text  # the values are kept
        r = apply(client, kind="enterprise", name="某公司", number="91350100M000100Y44")
        assert r.status_code == 400 and 'id="e-id_number">统一社会信用代码无效' in r.text
        r = apply(client, document=("id.gif", b"GIF89a" + b"\x00" * 50, "image/png"))
        assert r.status_code == 400 and 'id="e-document">只接受 PNG 或 JPEG 图片' in r.text
        r = apply(client, document=None)
        assert r.status_code == 400 and 'id="e-document">请上传证件图片' in r.text
        big = PNG + b"\x00" * (MAX_DOCUMENT + 1 - len(PNG))
        r = apply(client, document=("id.png", big, "image/png"))
        assert r.status_code == 413 and 'id="e-document">文件不能超过 5 MB' in r.text
        huge = PNG + b"\x00" * (MAX_DOCUMENT + 200_000)
        r = apply(client, document=("id.png", huge, "image/png"))
        assert r.status_code == 413 and "文件不能超过 5 MB" in r.text
        assert identities(live) == []
        uploads = Path(live.settings.data_dir) / "uploads" / "identity"
        assert not uploads.exists() or not any(uploads.iterdir())

        r = apply(client, document=("me.jpg", JPEG, "image/jpeg"))
        assert r.status_code == 303 and r.headers["location"] == "/console/identity"
        page = client.get("/console/identity")
        assert "认证申请已提交" in page.text
        assert 'id="application-status">审核中' in page.text and 'id="pending-note"' in page.text
        assert 'name="document"' not in page.text  # no form while pending
        r = apply(client, token=csrf_of(page.text))
        assert r.status_code == 409 and "已有待审核的认证申请" in r.text
        [row] = identities(live)
        assert (row.status, row.account_type, row.id_number) == (1, "individual", GOOD_ID)
        assert (uploads / row.document).read_bytes() == JPEG
        assert row.document.endswith(".jpg")

    with operator_client(live) as op:
        queue = op.get("/admin/identities")
        assert queue.status_code == 200 and f'id="identity-{row.id}"' in queue.text
        doc = op.get(f"/admin/identities/{row.id}/document")
        assert doc.status_code == 200 and doc.content == JPEG
        assert doc.headers["content-type"] == "image/jpeg"
        assert doc.headers["x-content-type-options"] == "nosniff"
        r = op.post(f"/admin/identities/{row.id}/approve")
        assert r.status_code == 403  # no CSRF token
        assert identities(live)[0].status == 1
        token = csrf_of(op.get("/admin/identities").text)
        r2 = op.post(f"/admin/identities/{row.id}/approve", data={"csrf_token": token})
        assert r2.status_code == 303 and r2.headers["location"] == "/admin/identities"
        after = op.get("/admin/identities")
        assert "已处理" in after.text and 'id="no-identities"' in after.text
        # A second decision finds nothing pending.
        r3 = op.post(
            f"/admin/identities/{row.id}/reject", data={"csrf_token": token, "reason": "x"}
        )
        assert r3.status_code == 303 and "已被处理" in op.get("/admin/identities").text

    tenant = live.query(lambda c: c.execute(select(s.tenants).where(s.tenants.c.id == tid)).one())
    assert (tenant.verified, tenant.account_type) == (True, "individual")
    assert identities(live)[0].status == 0
    n = s.notifications
    [mail] = live.query(lambda c: c.execute(select(n).where(n.c.tenant_id == tid)).all())
    # Queued in the decision's transaction; the notifier may have sent it already (state 1).
    assert (mail.channel, mail.state in (0, 1), mail.attempts) == ("email", True, 0)
    assert mail.recipients.splitlines() == ["ops@example.com", "ann@example.com"]
    assert "审核通过" in mail.subject and "张三" in mail.subject
    m = s.messages
    texts = live.query(
        lambda c: c.execute(select(m.c.phone, m.c.content).where(m.c.tenant_id != tid)).all()
    )
    assert [(p, "审核通过" in t) for p, t in texts] == [("+8613800138000", True)]

    # Verified as an individual, the tenant may upgrade to an enterprise, but not re-apply
    # as an individual.
    with httpx.Client(base_url=base(live)) as client:
        login(client, "ann@example.com")
        page = client.get("/console/identity")
        assert 'id="upgrade-note"' in page.text and 'value="individual"' not in page.text
        r = apply(client)
        assert r.status_code == 409 and "您已完成该类型的认证" in r.text
        r = apply(client, kind="enterprise", name="安安科技有限公司", number=GOOD_USCC)
        assert r.status_code == 303
    assert [r.account_type for r in identities(live)] == ["individual", "enterprise"]


def test_rejection_with_a_reason_and_isolation(live: LiveServer) -> None:
    with (
        tenant_client(live, "bob@example.com") as bob,
        tenant_client(live, "eve@example.com") as eve,
    ):
        r = apply(bob, kind="enterprise", name="鲍勃科技有限公司", number=GOOD_USCC)
        assert r.status_code == 303
        [row] = identities(live)
        ident_id = row.id
        # Neither the applicant nor another tenant reaches the operator's pages or the file.
        for client in (bob, eve):
            for path in ("/admin/identities", f"/admin/identities/{ident_id}/document"):
                r = client.get(path)
                assert r.status_code == 303 and r.headers["location"] == "/admin/login"
            r = client.get(f"/console/identities/{ident_id}/document")
            assert r.status_code == 404
        r = eve.get("/console/identity")
        assert GOOD_USCC not in r.text and "鲍勃" not in r.text
        # A tenant's cookie offered on the operator's path opens nothing either.
        with httpx.Client(base_url=base(live)) as forged:
            forged.cookies.set("smscloud_admin", bob.cookies["smscloud_console"], path="/admin")
            r = forged.get(f"/admin/identities/{ident_id}/document")
            assert r.status_code == 303

        with operator_client(live) as op:
            token = csrf_of(op.get("/admin/identities").text)
            r = op.post(f"/admin/identities/{ident_id}/reject", data={"csrf_token": token})
            assert r.status_code == 400 and f'id="e-reason-{ident_id}">驳回时必须填写原因' in r.text
            assert identities(live)[0].status == 1
            r = op.post(
                f"/admin/identities/{ident_id}/reject",
                data={"csrf_token": token, "reason": "营业执照<模糊>"},
            )
            assert r.status_code == 303

        page = bob.get("/console/identity")
        assert 'id="application-status">未通过' in page.text
        assert 'id="reject-reason">营业执照&lt;模糊&gt;<' in page.text
        assert 'name="document"' in page.text  # a rejected application may be made again
        tid = tenant_of(live, "bob@example.com")
        tenant = live.query(
            lambda c: c.execute(select(s.tenants).where(s.tenants.c.id == tid)).one()
        )
        assert tenant.verified is False or tenant.verified == 0
        n = s.notifications
        [mail] = live.query(lambda c: c.execute(select(n).where(n.c.tenant_id == tid)).all())
        assert "未通过" in mail.subject and "营业执照<模糊>" in mail.body
        assert mail.recipients == "bob@example.com"
        r = apply(bob, kind="enterprise", name="鲍勃科技有限公司", number=GOOD_USCC)
        assert r.status_code == 303
        assert [r.status for r in identities(live)] == [2, 1]


def test_the_application_needs_the_csrf_token(live: LiveServer) -> None:
    with tenant_client(live, "carl@example.com") as client:
        r = apply(client, token="forged")
        assert r.status_code == 403 and "CSRF" in r.text
        r = client.post(
            "/console/identity",
            data={"account_type": "individual", "name": "x", "id_number": GOOD_ID},
            files={"document": ("id.png", PNG, "image/png")},
        )
        assert r.status_code == 403
    assert identities(live) == []
    uploads = Path(live.settings.data_dir) / "uploads" / "identity"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_approved_upgrade_renames_the_account_everywhere(live: LiveServer) -> None:
    company = "安安科技有限公司"
    with tenant_client(live, "dan@example.com", account_type="individual", name="安安") as client:
        tid = tenant_of(live, "dan@example.com")
        live.admin(
            lambda c: c.execute(
                update(s.tenants)
                .where(s.tenants.c.id == tid)
                .values(
                    verified=True,
                    contact_emails="ops@example.com\n",
                    contact_phones="+8613800138000",
                    alarm_threshold=5,
                )
            )
        )
        assert apply(client, kind="enterprise", name=company, number=GOOD_USCC).status_code == 303
        [row] = identities(live)
        # While it is pending, the dashboard and the identity page say so, in both languages.
        home = client.get("/console/").text
        assert 'id="identity-pending" href="/console/identity">企业认证审核中<' in home
        assert "审核通过后，账号名称将改为营业执照上的企业名称" in home
        assert f'<strong translate="no">{company}</strong>' in home
        assert '<small class="muted" translate="no">安安</small>' in home
        english = client.get("/console/?lang=en").text
        assert ">Enterprise verification under review<" in english
        assert "Once approved, the account takes the company&#39;s name on its licence" in english
        page = client.get("/console/identity?lang=zh").text
        assert 'id="identity-pending">企业认证审核中<' in page
        assert 'id="upgrade-pending-note"' in page and company in page

        with operator_client(live) as op:
            for path in ("/admin/", "/admin/tenants"):
                listing = op.get(path).text
                line = listing[listing.index(f"<td>{tid}</td>") :]
                line = line[: line.index("</tr>")]
                assert "安安" in line and "企业认证审核中" in line, path
            token = csrf_of(op.get("/admin/identities").text)
            r = op.post(f"/admin/identities/{row.id}/approve", data={"csrf_token": token})
            assert r.status_code == 303
            for path in ("/admin/", "/admin/tenants"):
                listing = op.get(path).text
                line = listing[listing.index(f"<td>{tid}</td>") :]
                line = line[: line.index("</tr>")]
                assert company in line and "审核中" not in line, path
            audit = op.get("/admin/audit").text
            assert "identity.approve" in audit and f"安安 -&gt; {company}" in audit

        home = client.get("/console/?lang=zh").text
        assert f'<small class="muted" translate="no">{company}</small>' in home
        assert 'id="identity-pending"' not in home and 'id="upgrade-pending-note"' not in home
        tenant = live.query(
            lambda c: c.execute(select(s.tenants).where(s.tenants.c.id == tid)).one()
        )
        assert (tenant.name, tenant.account_type, bool(tenant.verified)) == (
            company,
            "enterprise",
            True,
        )

    # The notice of the decision names the company, by email and by SMS.
    n, m = s.notifications, s.messages
    [mail] = live.query(lambda c: c.execute(select(n).where(n.c.tenant_id == tid)).all())
    assert "审核通过" in mail.subject and company in mail.subject
    texts = live.query(
        lambda c: c.execute(select(m.c.content).where(m.c.phone == "+8613800138000")).all()
    )
    assert [company in t for (t,) in texts] == [True]

    # A notice sent later (the package alarm) greets the account by its new name.
    def alarm(conn: Any) -> None:
        loaded = usage.load_alarm(conn, tid, 10)
        assert loaded is not None
        usage.fire_alarms(conn, {tid: loaded}, {tid: 4}, 0.0)

    live.admin(alarm)
    mails = live.query(
        lambda c: c.execute(select(n.c.body).where(n.c.tenant_id == tid).order_by(n.c.id)).all()
    )
    assert mails[-1].body.startswith(f"{company}，您好")
