"""The operator's review queues over real HTTP: a signature's images served to operators
only, and the queues ordered by the half-work-day promise at the platform's clock."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, insert

from smscloud.cli.main import _review_list
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from smscloud.store.database import inserted_id
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login, post_form
from tests.integration.console.test_registry import tenant_user
from tests.support.clocks import SHANGHAI, ManualClock
from tests.support.live import LiveServer

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\1" * 64
# Monday 15 June 2026, 16:00 in Shanghai: the platform's "now" in these tests.
MONDAY_4PM = datetime(2026, 6, 15, 16, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int, minute: int = 0) -> float:
    """June ``day`` 2026 at ``hour:minute`` in Shanghai (the 12th is a Friday)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=SHANGHAI).timestamp()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")
    with LiveServer(settings, clock=ManualClock(MONDAY_4PM)) as server:
        server.admin(lambda c: tenants.create_operator(c, "root", PASSWORD))
        yield server


@contextmanager
def operator(live: LiveServer) -> Iterator[httpx.Client]:
    """A signed-in operator's browser."""
    with httpx.Client(base_url=base(live)) as client:
        r = post_form(client, "/admin/login", {"username": "root", "password": PASSWORD})
        assert r.status_code == 303
        yield client


def sign_row(tenant_id: int, name: str, created: float, **values: Any) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "name": name,
        "sign_type": 0,
        "document_type": 1,
        "international": 0,
        "purpose": 0,
        "proof_image": base64.b64encode(PNG).decode(),
        "commission_image": "",
        "status": 1,
        "created_at": created,
    } | values


def insert_row(live: LiveServer, table: Any, values: dict[str, Any]) -> int:
    return live.admin(lambda c: inserted_id(c.execute(insert(table).values(**values))))


def test_a_signatures_images_are_shown_to_operators_only(live: LiveServer) -> None:
    tenant_user(live, "ann@example.com")
    tenant_user(live, "bob@example.com")
    with (
        httpx.Client(base_url=base(live)) as ann,
        httpx.Client(base_url=base(live)) as bob,
        httpx.Client(base_url=base(live)) as stranger,
        operator(live) as op,
    ):
        login(ann, "ann@example.com")
        login(bob, "bob@example.com")
        # Ann files a signature for others: the proof and the letter of authorisation.
        token = csrf_of(ann.get("/console/signs").text)
        data = {"csrf_token": token, "name": "安科技", "sign_type": "0", "document_type": "1"}
        data |= {"purpose": "1", "remark": ""}
        files = {
            "proof_image": ("licence.png", PNG, "image/png"),
            "commission_image": ("letter.jpg", JPEG, "image/jpeg"),
        }
        assert ann.post("/console/signs", data=data, files=files).status_code == 303
        (sign_id,) = live.query(lambda c: c.execute(s.signs.select()).scalars().all())
        proof = f"/admin/reviews/sign/{sign_id}/proof"
        letter = f"/admin/reviews/sign/{sign_id}/commission"

        page = op.get("/admin/reviews").text
        assert f'<img src="{proof}" alt="签名证明材料图片"' in page
        assert f'<img src="{letter}" alt="委托授权书图片"' in page
        assert f'<a href="{proof}" target="_blank" rel="noopener">查看原图</a>' in page
        r = op.get(proof)
        assert r.status_code == 200 and r.content == PNG
        assert r.headers["content-type"] == "image/png"
        assert r.headers["content-security-policy"] == "default-src 'none'"
        assert r.headers["x-content-type-options"] == "nosniff"
        r = op.get(letter)
        assert r.status_code == 200 and r.content == JPEG
        assert r.headers["content-type"] == "image/jpeg"
        english = op.get("/admin/reviews?lang=en").text
        assert 'alt="The signature&#39;s proof document"' in english
        assert 'alt="The letter of authorisation"' in english and "Open at full size" in english
        assert op.get(f"/admin/reviews/sign/{sign_id}/other").status_code == 404
        assert op.get(f"/admin/reviews/sign/{sign_id + 1}/proof").status_code == 404

        # Nobody else: not a stranger, not the tenant who filed it, not another tenant.
        for client in (stranger, ann, bob):
            for path in (proof, letter, "/admin/reviews"):
                r = client.get(path)
                assert r.status_code == 303 and r.headers["location"] == "/admin/login"
                assert PNG not in r.content and JPEG not in r.content
        # A tenant's session cookie is no operator's, even sent to the operator's area.
        tenant_cookie = ann.cookies.get("smscloud_console")
        assert tenant_cookie
        stranger.cookies.set("smscloud_admin", tenant_cookie)
        r = stranger.get(proof)
        assert r.status_code == 303 and r.content == b""
        # Nor does the tenant pages' route for the signature let Bob reach Ann's.
        assert bob.get(f"/console/signs/{sign_id}").status_code == 404
        assert bob.get(f"/console/signs/{sign_id}/proof").status_code == 404


def test_what_is_not_a_png_or_jpeg_is_never_served(live: LiveServer) -> None:
    tid = tenant_user(live, "ann@example.com")
    # The API takes any base64 of at most 5 MB; a prefixed JPEG is still a JPEG.
    gif = base64.b64encode(b"GIF89a" + b"\0" * 20).decode()
    jpeg = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()
    row = sign_row(tid, "安科技", at(15, 15), proof_image=gif, commission_image=jpeg, purpose=1)
    sign_id = insert_row(live, s.signs, row)
    with operator(live) as op:
        page = op.get("/admin/reviews").text
        section = page[page.index(f'id="sign-{sign_id}-proof"') :]
        assert "提交的内容不是 PNG 或 JPEG 图片，无法显示。" in section.split("</figure>")[0]
        assert f'src="/admin/reviews/sign/{sign_id}/proof"' not in page
        assert op.get(f"/admin/reviews/sign/{sign_id}/proof").status_code == 404
        r = op.get(f"/admin/reviews/sign/{sign_id}/commission")
        assert r.status_code == 200 and r.content == JPEG


def order_of(html: str, kind: str) -> list[int]:
    return [int(i) for i in re.findall(rf'id="review-{kind}-(\d+)"', html)]


def test_the_queues_put_overdue_items_first_then_the_longest_wait(live: LiveServer) -> None:
    tid = tenant_user(live, "ann@example.com")
    # Inserted out of order; "now" is Monday 16:00.
    fresh = insert_row(live, s.signs, sign_row(tid, "一", at(15, 15)))  # 1 h
    # Created a week ago, modified at 15:30 today: it waits since its modification.
    modified = insert_row(live, s.signs, sign_row(tid, "二", at(8, 9), submitted_at=at(15, 15, 30)))
    friday = insert_row(live, s.signs, sign_row(tid, "三", at(12, 17)))  # 1 + 6 h
    morning = insert_row(live, s.signs, sign_row(tid, "四", at(15, 9, 30)))  # 2.5 + 3 h
    saturday = insert_row(live, s.signs, sign_row(tid, "五", at(13, 10)))  # 6 h
    template = {"tenant_id": tid, "content": "您的验证码是{1}。", "sms_type": 3}
    template |= {"international": 0, "status": 1}
    new_template = insert_row(live, s.templates, template | {"name": "a", "created_at": at(15, 14)})
    old_template = insert_row(live, s.templates, template | {"name": "b", "created_at": at(12, 9)})

    def identity(conn: Connection, created: float, number: str) -> int:
        values = {"tenant_id": tid, "account_type": "enterprise", "name": "安科技"}
        values |= {"id_number": number, "document": "x.png", "status": 1, "created_at": created}
        return inserted_id(conn.execute(insert(s.identities).values(**values)))

    recent = live.admin(lambda c: identity(c, at(15, 14), "A"))
    late = live.admin(lambda c: identity(c, at(12, 11), "B"))

    with operator(live) as op:
        page = op.get("/admin/reviews").text
        assert order_of(page, "sign") == [friday, saturday, morning, fresh, modified]
        assert order_of(page, "template") == [old_template, new_template]
        assert page.count('data-overdue="1"') == 4  # three signatures and a template
        wait = page[page.index(f'id="wait-sign-{friday}"') :].split("</dd>")[0]
        assert "7 小时 0 分钟（工作时间）" in wait and "已超时" in wait
        wait = page[page.index(f'id="wait-sign-{modified}"') :].split("</dd>")[0]
        assert "0 小时 30 分钟（工作时间）" in wait and "未超时" in wait
        english = op.get("/admin/reviews?lang=en").text
        wait = english[english.index(f'id="wait-sign-{saturday}"') :].split("</dd>")[0]
        assert "6 h 0 min of working time" in wait and "Overdue" in wait
        assert "past the promise of review within half a work day" in wait

        page = op.get("/admin/identities?lang=zh").text
        assert re.findall(r'id="identity-(\d+)"', page) == [str(late), str(recent)]
        wait = page[page.index(f'id="wait-identity-{late}"') :].split("</td>")[0]
        assert "12 小时 0 分钟（工作时间）" in wait and "已超时" in wait  # Fri 11-18, Mon 9-16
        wait = page[page.index(f'id="wait-identity-{recent}"') :].split("</td>")[0]
        assert "2 小时 0 分钟（工作时间）" in wait and "未超时" in wait

    # The clock moves on to Tuesday 09:00: the evening and the night add nothing.
    clock = live.platform.clock
    assert isinstance(clock, ManualClock)
    clock.advance(3600 * 17)  # Tuesday 09:00
    with operator(live) as op:
        page = op.get("/admin/reviews").text
        wait = page[page.index(f'id="wait-sign-{fresh}"') :].split("</dd>")[0]
        assert "3 小时 0 分钟（工作时间）" in wait and "未超时" in wait


def test_the_voice_queue_keeps_the_same_promise_and_order(live: LiveServer) -> None:
    tid = tenant_user(live, "ann@example.com")
    # Inserted newest first; "now" is Monday 16:00.
    template = {"tenant_id": tid, "content": "您的验证码是{1}。", "status": 1}
    new_template = insert_row(
        live, s.voice_templates, template | {"name": "新", "created_at": at(15, 14)}
    )
    old_template = insert_row(
        live, s.voice_templates, template | {"name": "旧", "created_at": at(12, 9)}
    )
    file = {"tenant_id": tid, "media_type": "wav", "size": 8000, "seconds": 1.0, "status": 1}
    new_file = insert_row(live, s.voice_files, file | {"fid": "f" * 32, "created_at": at(15, 15)})
    old_file = insert_row(live, s.voice_files, file | {"fid": "e" * 32, "created_at": at(13, 10)})
    with operator(live) as op:
        page = op.get("/admin/voice/reviews").text
        assert order_of(page, "voice_template") == [old_template, new_template]
        assert order_of(page, "voice_file") == [old_file, new_file]
        wait = page[page.index(f'id="wait-voice_template-{old_template}"') :].split("</dd>")[0]
        assert "14 小时 0 分钟（工作时间）" in wait and "已超时" in wait  # Fri 9-18, Mon 9-16
        wait = page[page.index(f'id="wait-voice_file-{new_file}"') :].split("</dd>")[0]
        assert "1 小时 0 分钟（工作时间）" in wait and "未超时" in wait
        english = op.get("/admin/voice/reviews?lang=en").text
        wait = english[english.index(f'id="wait-voice_file-{old_file}"') :].split("</dd>")[0]
        assert "6 h 0 min of working time" in wait and "Overdue" in wait  # Saturday: Mon 9-16
    # The command line lists the same queue, each voice item with its wait (at the machine's
    # clock, so only its shape is checked here).
    listed = live.admin(lambda c: _review_list(c, SHANGHAI))
    voice = [i for i in listed if i["kind"] in ("voice_template", "voice_file")]
    assert {(i["kind"], i["id"]) for i in voice} == {
        ("voice_template", old_template), ("voice_template", new_template),
        ("voice_file", old_file), ("voice_file", new_file),
    }  # fmt: skip
    assert all(isinstance(i["waited_minutes"], int) and "overdue" in i for i in voice)
