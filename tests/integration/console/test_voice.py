"""The console's voice section over real HTTP: who may see what of whom.

Recordings and uploaded files are served only to their own tenant (the operator hears uploads
in the back office), only from inside their directory, and another tenant's call, file or
template is answered 404 like one that never existed. Forms refuse bad input beside the field
in the page's language and store nothing. The server runs without delivery: calls stay as
ACCEPT left them, and a recording is put where the built-in phone network would put it.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, func, insert, select, update

from smscloud.domain.call_states import CallState
from smscloud.services.accounts import tenants
from smscloud.store import schema as s
from tests.conftest import make_settings
from tests.integration.console.test_http import PASSWORD, base, csrf_of, login
from tests.support.audio import pcm_wav
from tests.support.clocks import DAYTIME, running_from
from tests.support.live import LiveServer, Tenant
from tests.support.voice import NOTICE, price_mainland_voice, voice_template

vc, vf, vt = s.voice_calls, s.voice_files, s.voice_templates
OPERATOR = "voice-op"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # Daytime: verification-code calls are refused in quiet hours, whenever the suite runs.
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'console.db'}")
    with LiveServer(settings, clock=running_from(DAYTIME), deliver=False) as server:
        server.admin(price_mainland_voice)
        server.admin(lambda c: tenants.create_operator(c, OPERATOR, PASSWORD))
        yield server


def user_of(live: LiveServer, email: str, account_type: str = "enterprise") -> Tenant:
    """A verified tenant of ``account_type`` with an application and a console user."""
    tenant = live.tenant(account_type=account_type, units=0, sign=None, template=None)
    live.admin(lambda c: tenants.create_tenant_user(c, tenant.id, email, PASSWORD))
    return tenant


@contextlib.contextmanager
def client_of(live: LiveServer, email: str) -> Iterator[httpx.Client]:
    """A client signed in as the tenant user ``email``."""
    with httpx.Client(base_url=base(live)) as client:
        assert login(client, email).status_code == 303
        yield client


@contextlib.contextmanager
def operator(live: LiveServer) -> Iterator[httpx.Client]:
    """A client signed in as the operator."""
    with httpx.Client(base_url=base(live)) as client:
        page = client.get("/admin/login")
        data = {"username": OPERATOR, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
        assert client.post("/admin/login", data=data).status_code == 303
        yield client


def send_code(client: httpx.Client, tenant: Tenant, phone: str, **extra: str) -> httpx.Response:
    token = csrf_of(client.get("/console/voice/send").text)
    data = {"csrf_token": token, "kind": "code", "app": tenant.sdk_app_id, "phone": phone}
    return client.post(
        "/console/voice/send", data=data | {"code": "2468", "play_times": "1"} | extra
    )


def call_id_of(html: str) -> str:
    found = re.search(r'id="call-id">([0-9a-f-]{36})<', html)
    assert found, html
    return found.group(1)


def recorded(live: LiveServer, call_id: str, path: Path | str) -> None:
    """The call's recording is ``path``, as the built-in phone network reports it."""
    live.admin(
        lambda c: c.execute(
            update(vc)
            .where(vc.c.call_id == call_id)
            .values(state=CallState.ENDED.value, recording=str(path))
        )
    )


def recordings(live: LiveServer) -> Path:
    folder = Path(live.settings.data_dir) / "voice-recordings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def count(live: LiveServer, table: object) -> int:
    return int(
        live.query(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())
    )  # type: ignore[arg-type]


def upload(client: httpx.Client, name: str, data: bytes, mime: str) -> httpx.Response:
    token = csrf_of(client.get("/console/voice/files").text)
    return client.post(
        "/console/voice/files", data={"csrf_token": token}, files={"file": (name, data, mime)}
    )


def test_a_recording_is_served_to_its_own_tenant_only(live: LiveServer) -> None:
    owner = user_of(live, "owner@example.com")
    user_of(live, "other@example.com")
    wav = pcm_wav(0.5)
    with client_of(live, "owner@example.com") as ann, client_of(live, "other@example.com") as bob:
        r = send_code(ann, owner, "+8613800138000")
        assert r.status_code == 200, r.text
        call_id = call_id_of(r.text)
        assert f'href="/console/voice/records/{call_id}"' in r.text
        path = recordings(live) / "13800138000-000001.wav"
        path.write_bytes(wav)
        recorded(live, call_id, path)
        url = f"/console/voice/records/{call_id}/recording"

        mine = ann.get(url)
        assert mine.status_code == 200 and mine.headers["content-type"] == "audio/wav"
        assert mine.content == wav
        assert mine.headers["cache-control"] == "no-store"
        assert mine.headers["x-content-type-options"] == "nosniff"
        part = ann.get(url, headers={"Range": "bytes=0-99"})  # an audio element seeks so
        assert part.status_code == 206 and part.content == wav[:100]
        listed = ann.get("/console/voice/records/rows", headers={"HX-Request": "true"})
        assert f'src="{url}"' in listed.text

        # Another tenant: no recording, no call, no row, whatever it asks.
        assert bob.get(url).status_code == 404
        assert bob.get(f"/console/voice/records/{call_id}").status_code == 404
        assert call_id not in bob.get("/console/voice/records").text
        assert bob.get(url, headers={"Range": "bytes=0-99"}).status_code == 404
    # Nobody signed in is sent to log in; the operator's cookie is no tenant's.
    with httpx.Client(base_url=base(live)) as anyone:
        r = anyone.get(url)
        assert r.status_code == 303 and r.headers["location"] == "/console/login"
    with operator(live) as op:
        assert op.get(url).status_code == 303


def test_a_recording_outside_the_recordings_directory_is_never_served(
    live: LiveServer, tmp_path: Path
) -> None:
    owner = user_of(live, "owner@example.com")
    folder = recordings(live)
    secret = Path(live.settings.data_dir) / "console-secret"
    assert secret.exists()
    (folder / "notes.txt").write_text("not a recording")
    (folder / "link.wav").symlink_to(secret)
    outside = tmp_path / "elsewhere.wav"
    outside.write_bytes(pcm_wav(0.1))
    with client_of(live, "owner@example.com") as ann:
        for n, kept in enumerate(
            [
                secret,  # the cookie key
                folder / ".." / "console-secret",  # climbing out
                folder / "link.wav",  # a link leading out
                folder / "notes.txt",  # inside, but no WAV
                folder / "gone.wav",  # inside, but missing
                outside,  # a WAV, elsewhere
                folder,  # the directory itself
                "",  # none kept
            ]
        ):
            r = send_code(ann, owner, f"+861380013{n:04d}")
            assert r.status_code == 200, r.text
            call_id = call_id_of(r.text)
            recorded(live, call_id, kept)
            answer = ann.get(f"/console/voice/records/{call_id}/recording")
            assert answer.status_code == 404, kept
            assert "audio" not in answer.headers["content-type"]


def test_voice_files_are_their_tenants_and_the_reviewers_only(live: LiveServer) -> None:
    user_of(live, "owner@example.com")
    user_of(live, "other@example.com")
    wav = pcm_wav(1.0)
    with client_of(live, "owner@example.com") as ann, client_of(live, "other@example.com") as bob:
        r = upload(ann, "hello.wav", wav, "audio/wav")
        assert r.status_code == 303 and r.headers["location"] == "/console/voice/files"
        row_id = live.query(lambda c: c.execute(select(vf.c.id)).scalar_one())
        audio = f"/console/voice/files/{row_id}/audio"
        page = ann.get("/console/voice/files").text
        assert f'src="{audio}"' in page and "待审核" in page
        mine = ann.get(audio)
        assert (mine.status_code, mine.headers["content-type"]) == (200, "audio/wav")
        assert mine.content == wav

        assert bob.get(audio).status_code == 404
        token = csrf_of(bob.get("/console/voice/files").text)
        refused = bob.post(f"/console/voice/files/{row_id}/delete", data={"csrf_token": token})
        assert refused.status_code == 404
        assert f"/console/voice/files/{row_id}/audio" not in bob.get("/console/voice/files").text
        # A tenant's session opens nothing in the back office.
        review_audio = f"/admin/voice/files/{row_id}/audio"
        assert ann.get(review_audio).status_code == 303

        with operator(live) as op:
            heard = op.get(review_audio)
            assert (heard.status_code, heard.content) == (200, wav)
            queue = op.get("/admin/voice/reviews").text
            assert f'src="{review_audio}"' in queue
            assert 'id="pending-voice-files">1<' in queue
            assert (
                'id="pending-voice-count" href="/admin/voice/reviews">1<' in op.get("/admin/").text
            )
            assert 'id="pending-voice">1<' in op.get("/admin/reviews").text
            token = csrf_of(queue)
            decide = f"/admin/voice/reviews/voice_file/{row_id}"
            r = op.post(decide, data={"csrf_token": token, "decision": "reject"})
            assert r.status_code == 400 and "驳回时必须填写原因" in r.text
            r = op.post(decide, data={"csrf_token": token, "decision": "approve"})
            assert r.status_code == 303
            assert (
                op.post(decide, data={"csrf_token": token, "decision": "approve"}).status_code
                == 409
            )

            # Deleted by its tenant: heard by no one.
            token = csrf_of(ann.get("/console/voice/files").text)
            r = ann.post(f"/console/voice/files/{row_id}/delete", data={"csrf_token": token})
            assert r.status_code == 303
            assert ann.get(audio).status_code == 404
            assert op.get(review_audio).status_code == 404


def test_a_file_whose_row_points_out_of_its_directory_is_not_served(live: LiveServer) -> None:
    owner = user_of(live, "owner@example.com")
    user_of(live, "other@example.com")
    with client_of(live, "owner@example.com") as ann, client_of(live, "other@example.com") as bob:
        assert upload(bob, "b.wav", pcm_wav(0.3), "audio/wav").status_code == 303
        assert upload(ann, "a.wav", pcm_wav(0.2), "audio/wav").status_code == 303
        rows = live.query(lambda c: c.execute(select(vf.c.id, vf.c.tenant_id, vf.c.fid)).all())
        mine = next(r for r in rows if r.tenant_id == owner.id)
        theirs = next(r for r in rows if r.tenant_id != owner.id)
        # The other tenant's bytes put where the owner's should be: a link out of the folder.
        folder = Path(live.settings.data_dir) / "voice_files"
        path = folder / str(owner.id) / f"{mine.fid}.wav"
        path.unlink()
        path.symlink_to(folder / str(theirs.tenant_id) / f"{theirs.fid}.wav")
        assert ann.get(f"/console/voice/files/{mine.id}/audio").status_code == 404
        assert ann.get(f"/console/voice/files/{theirs.id}/audio").status_code == 404


def test_bad_uploads_are_refused_beside_the_field_and_store_nothing(live: LiveServer) -> None:
    user_of(live, "owner@example.com")
    folder = Path(live.settings.data_dir) / "voice_files"
    with client_of(live, "owner@example.com") as ann:
        r = upload(ann, "notes.mp3", b"these are my notes, not a song\n" * 10, "audio/mpeg")
        assert r.status_code == 400
        assert 'id="e-file">该文件不是有效的 MP3 或 WAV 录音' in r.text
        r = upload(ann, "big.wav", pcm_wav(30.0), "audio/wav")  # 480 KB
        assert r.status_code == 413
        assert 'id="e-file">文件不能超过 400 KB。' in r.text
        ann.cookies.set("smscloud_lang", "en")
        r = upload(ann, "notes.mp3", b"ID3 but nothing else", "audio/mpeg")
        assert r.status_code == 400
        assert 'id="e-file">This file is no valid MP3 or WAV recording' in r.text
        token = csrf_of(ann.get("/console/voice/files").text)
        r = ann.post("/console/voice/files", data={"csrf_token": token})
        assert r.status_code == 400 and 'id="e-file">Choose an MP3 or WAV file' in r.text
    assert count(live, vf) == 0
    assert not folder.exists() or not any(folder.rglob("*.*"))


def test_an_upload_too_large_from_no_one_signed_in_is_sent_to_log_in(live: LiveServer) -> None:
    # The too-large page is answered before the upload's own guard: it must guard itself.
    with httpx.Client(base_url=base(live), follow_redirects=False) as anyone:
        files = {"file": ("big.wav", pcm_wav(30.0), "audio/wav")}
        r = anyone.post("/console/voice/files", files=files)
    assert r.status_code == 303 and "/console/login" in r.headers["location"]
    assert count(live, vf) == 0


def test_send_errors_are_shown_beside_their_fields_and_nothing_is_stored(
    live: LiveServer,
) -> None:
    owner = user_of(live, "owner@example.com")
    template_id = live.admin(lambda c: voice_template(c, owner.id, NOTICE, now=DAYTIME.timestamp()))
    with client_of(live, "owner@example.com") as ann:
        r = send_code(ann, owner, "12345", code="12a4", play_times="4")
        assert r.status_code == 400
        assert 'id="e-vc-code">验证码须为 1 到 12 位数字。' in r.text
        assert 'id="e-vc-play_times">播放次数须为 1 到 3 之间的整数。' in r.text
        assert 'id="e-vc-phone">号码格式不正确。' in r.text
        assert 'value="12a4"' in r.text  # what was typed is kept

        token = csrf_of(ann.get("/console/voice/send").text)
        data = {"csrf_token": token, "kind": "template", "app": owner.sdk_app_id}
        data |= {"template": str(template_id), "phone": "+8613800138000", "play_times": "2"}
        r = ann.post("/console/voice/send", data=data | {"param": ["JD0501", ""]})
        assert r.status_code == 400
        assert 'id="e-vt-param-2">参数不能为空。' in r.text
        r = ann.post("/console/voice/send", data=data | {"template": "999", "param": ["a", "b"]})
        assert r.status_code == 400 and 'id="e-vt-template">' in r.text

        ann.cookies.set("smscloud_lang", "en")
        r = send_code(ann, owner, "+8613800138000", code="", play_times="0")
        assert 'id="e-vc-code">The code must be 1 to 12 digits.' in r.text
        assert 'id="e-vc-play_times">Play times must be a whole number from 1 to 3.' in r.text
        assert count(live, vc) == 0

        # The frequency limit is the service's: judged when the call is stored.
        assert send_code(ann, owner, "+8613800138000").status_code == 200
        r = send_code(ann, owner, "+8613800138000")
        assert r.status_code == 400 and 'id="e-vc-phone">This number was called as often' in r.text
        assert count(live, vc) == 1


def test_an_individual_sees_why_and_may_do_nothing(live: LiveServer) -> None:
    person = user_of(live, "person@example.com", account_type="individual")
    with client_of(live, "person@example.com") as me:
        for path in ("send", "records", "templates", "files"):
            page = me.get(f"/console/voice/{path}")
            assert page.status_code == 200
            assert "仅向企业认证用户开放" in page.text and 'href="/console/identity"' in page.text
            assert '<form method="post" action="/console/voice' not in page.text
        assert 'id="voice-stats-denied"' in me.get("/console/stats").text
        r = send_code(me, person, "+8613800138000")
        assert r.status_code == 400 and "仅向企业认证用户开放" in r.text
        token = csrf_of(me.get("/console/voice/templates").text)
        data = {"csrf_token": token, "name": "n", "content": NOTICE}
        assert me.post("/console/voice/templates", data=data).status_code == 400
        assert upload(me, "a.wav", pcm_wav(0.2), "audio/wav").status_code == 400
    assert (count(live, vc), count(live, vt), count(live, vf)) == (0, 0, 0)


def test_templates_apply_modify_delete_and_stay_their_tenants(live: LiveServer) -> None:
    user_of(live, "owner@example.com")
    user_of(live, "other@example.com")
    with client_of(live, "owner@example.com") as ann, client_of(live, "other@example.com") as bob:
        token = csrf_of(ann.get("/console/voice/templates").text)
        bad = {"csrf_token": token, "name": "", "content": "您的订单{1}{2}已发货", "remark": "r"}
        r = ann.post("/console/voice/templates", data=bad)
        assert r.status_code == 400
        assert 'id="e-name">此项必填' in r.text
        assert "两个变量不能紧挨着" in r.text
        assert "您的订单{1}{2}已发货</textarea>" in r.text  # kept as typed
        good = bad | {"name": "发货", "content": NOTICE}
        assert ann.post("/console/voice/templates", data=good).status_code == 303
        item = live.query(lambda c: c.execute(select(vt.c.id)).scalar_one())
        assert "待审核" in ann.get("/console/voice/templates").text

        assert bob.get(f"/console/voice/templates/{item}").status_code == 404
        token_b = csrf_of(bob.get("/console/voice/templates").text)
        taken = bob.post(f"/console/voice/templates/{item}", data=good | {"csrf_token": token_b})
        assert taken.status_code == 404
        gone = bob.post(f"/console/voice/templates/{item}/delete", data={"csrf_token": token_b})
        assert gone.status_code == 404

        changed = good | {"content": "您好，" + NOTICE}
        assert ann.post(f"/console/voice/templates/{item}", data=changed).status_code == 303
        assert "您好，" + NOTICE in ann.get("/console/voice/templates").text
        r = ann.post(f"/console/voice/templates/{item}/delete", data={"csrf_token": token})
        assert r.status_code == 303
        assert live.query(lambda c: c.execute(select(vt.c.deleted)).scalar_one()) is True


def test_statistics_count_calls_beside_the_messages(live: LiveServer) -> None:
    owner = user_of(live, "owner@example.com")
    now = live.platform.clock()

    def calls(conn: Connection) -> None:
        for n, (state, minutes) in enumerate(
            [(CallState.ENDED, 2), (CallState.ENDED, 1), (CallState.FAILED, 0)]
        ):
            conn.execute(
                insert(vc).values(
                    call_id=f"c{n}",
                    request_id="r",
                    tenant_id=owner.id,
                    app_id=owner.app_id,
                    phone="+8613800138000",
                    nation_code="86",
                    iso_code="CN",
                    kind="code",
                    text="1",
                    play_times=1,
                    source="console",
                    state=state.value,
                    created_at=now - 60,
                    answered_at=now - 50 if minutes else None,
                    ended_at=now - 40,
                    failure_code=0 if minutes else 10,
                    fee_minutes=minutes,
                    unit_price=150_000,
                )
            )

    live.admin(calls)
    with client_of(live, "owner@example.com") as ann:
        page = ann.get("/console/stats").text
        days = re.search(r'id="voice-days">.*?</table>', page, re.S)
        assert days is not None
        today = re.findall(r"<tr><td>[^<]+</td>((?:<td class=\"num\">[^<]*</td>)+)</tr>", days[0])
        assert today[-1].count("<td") == 5
        assert re.findall(r">([^<]*)</td>", today[-1]) == ["3", "2", "1", "3", "66.7%"]
        records = ann.get("/console/voice/records").text
        assert "用户正忙" in records and "¥0.30" in records and "已结束" in records


def test_paths_that_are_no_ids_are_not_found(live: LiveServer) -> None:
    user_of(live, "owner@example.com")
    with client_of(live, "owner@example.com") as ann:
        for path in (
            "/console/voice/records/../../etc/passwd/recording",
            "/console/voice/records/%2e%2e%2fconsole-secret/recording",
            "/console/voice/files/abc/audio",
            "/console/voice/files/99999999999999999999/audio",
        ):
            assert ann.get(path).status_code == 404, path
    assert os.path.exists(Path(live.settings.data_dir) / "console-secret")
