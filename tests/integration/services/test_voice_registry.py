"""The voice registry on both databases: voice templates and uploaded files of a tenant, kept
apart from every other tenant's, reviewed by the operator with notices to the tenant, and
files decoded for calls by Debian's sox."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import subprocess
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, func, select, update

from smscloud.domain.audio_files import CONTENT_LENGTH, INVALID_PARAMETERS, fid_of
from smscloud.domain.errors import RuleViolation
from smscloud.services.accounts import tenants
from smscloud.services.metadata.cache import Catalog
from smscloud.services.registry import (
    AudioDecodeError,
    PendingVoiceFile,
    PendingVoiceTemplate,
    VoiceRegistry,
    VoiceTemplateApplication,
    decode_to_pcm,
    voice_file_path,
)
from smscloud.services.registry import voice_files as voice_files_module
from smscloud.services.sending.platform_sms import PLATFORM_TENANT
from smscloud.store import schema as s
from smscloud.store.database import Database
from tests.support.audio import g711_wav, id3v2, mp3, pcm_wav
from tests.support.clocks import DAYTIME, ManualClock

pytestmark = pytest.mark.postgres
T = TypeVar("T")
NOTICE = VoiceTemplateApplication("发货通知", "您的订单{1}已发货，预计{2}送达。", "物流")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@dataclass
class Env:
    db: Database
    clock: ManualClock
    registry: VoiceRegistry
    data_dir: Path
    a: int  # a tenant with contacts to notify
    b: int  # another tenant

    def rejected(self, coro: Coroutine[Any, Any, object]) -> RuleViolation:
        with pytest.raises(RuleViolation) as caught:
            run(coro)
        return caught.value


def make_tenant(
    conn: Connection, name: str, now: float, *, account_type: str = "enterprise", **contacts: str
) -> int:
    tid = tenants.create_tenant(conn, name, account_type, verified=True, now=now).id
    if contacts:
        conn.execute(update(s.tenants).where(s.tenants.c.id == tid).values(**contacts))
    return tid


@pytest.fixture
def env(db: Database, tmp_path: Path) -> Env:
    clock = ManualClock(DAYTIME)
    now = clock()
    a = db.write_sync(
        lambda c: make_tenant(
            c,
            "Acme",
            now,
            contact_emails="ops@acme.test",
            contact_phones="+8613800138000",
        )
    )
    b = db.write_sync(lambda c: make_tenant(c, "Bolt", now))
    data_dir = tmp_path / "data"
    registry = VoiceRegistry(db, Catalog(db, now=clock), data_dir, clock=clock)
    return Env(db, clock, registry, data_dir, a, b)


def rows(db: Database, table: Any) -> list[Any]:
    return list(db.read_sync(lambda c: c.execute(select(table).order_by(table.c.id)).all()))


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# -- voice templates -------------------------------------------------------------------------
def test_a_template_is_filed_under_review_and_listed_for_its_tenant_only(env: Env) -> None:
    reg = env.registry
    tid = run(reg.add_template(env.a, NOTICE))
    mine = run(reg.get_template(env.a, tid))
    assert mine is not None
    assert (mine.name, mine.content, mine.remark) == (NOTICE.name, NOTICE.content, NOTICE.remark)
    assert (mine.status, mine.review_reply, mine.created_at) == (1, "", env.clock())
    assert [t.id for t in run(reg.list_templates(env.a))] == [tid]
    # Another tenant sees nothing of it, reads no review of it, changes nothing of it.
    assert run(reg.get_template(env.b, tid)) is None
    assert run(reg.list_templates(env.b)) == []
    assert run(reg.list_templates(env.b, ids=[tid])) == []
    refusal = env.rejected(reg.modify_template(env.b, tid, NOTICE))
    assert refusal.code == "FailedOperation.MissingTemplateToModify"
    refusal = env.rejected(reg.delete_template(env.b, tid))
    assert refusal.code == "FailedOperation.TemplateIdNotExist"
    assert run(reg.get_template(env.a, tid)) == mine


@pytest.mark.parametrize(
    ("app", "code"),
    [
        (VoiceTemplateApplication("n", "   "), INVALID_PARAMETERS),
        (VoiceTemplateApplication("n", "长" * 351), "InvalidParameterValue.ContentLengthLimit"),
        (VoiceTemplateApplication("n", "订单{2}已发货"), "InvalidParameterValue"),
        (VoiceTemplateApplication(" ", "订单{1}已发货"), "MissingParameter"),
        (VoiceTemplateApplication("n" * 129, "订单{1}已发货"), "InvalidParameterValue"),
    ],
)
def test_the_lint_refuses_a_bad_template_and_nothing_is_stored(
    env: Env, app: VoiceTemplateApplication, code: str
) -> None:
    assert env.rejected(env.registry.add_template(env.a, app)).code.startswith(code)
    assert rows(env.db, s.voice_templates) == []


def test_only_templates_under_review_or_rejected_change_and_they_go_back_to_review(
    env: Env,
) -> None:
    reg = env.registry
    tid = run(reg.add_template(env.a, NOTICE))
    run(reg.decide("voice_template", tid, approve=False, reason="变量用途不明确"))
    rejected = run(reg.get_template(env.a, tid))
    assert rejected is not None
    assert (rejected.status, rejected.review_reply) == (-1, "变量用途不明确")
    assert rejected.reviewed_at == env.clock()
    changed = VoiceTemplateApplication("发货通知", "您的订单{1}已由{2}发出。", "物流单号与快递公司")
    assert run(reg.modify_template(env.a, tid, changed)) == tid
    again = run(reg.get_template(env.a, tid))
    assert again is not None
    assert (again.content, again.status, again.review_reply, again.reviewed_at) == (
        changed.content,
        1,
        "",
        None,
    )
    run(reg.decide("voice_template", tid, approve=True))
    approved = run(reg.get_template(env.a, tid))
    assert approved is not None and (approved.status, approved.review_reply) == (0, "通过")
    refusal = env.rejected(reg.modify_template(env.a, tid, NOTICE))
    assert refusal.code == "FailedOperation.TemplateAlreadyPassedCheck"
    run(reg.delete_template(env.a, tid))  # approved ones may be deleted
    assert run(reg.get_template(env.a, tid)) is None
    assert (
        env.rejected(reg.delete_template(env.a, tid)).code == "FailedOperation.TemplateIdNotExist"
    )


def test_only_enterprise_verified_active_accounts_file_voice_content(env: Env) -> None:
    now = env.clock()
    solo = env.db.write_sync(lambda c: make_tenant(c, "Solo", now, account_type="individual"))
    refusal = env.rejected(env.registry.add_template(solo, NOTICE))
    assert (refusal.code, "enterprise" in refusal.message) == ("UnsupportedOperation", True)
    assert env.rejected(env.registry.upload_file(solo, pcm_wav(0.5))).code == (
        "UnsupportedOperation"
    )
    env.db.write_sync(
        lambda c: c.execute(
            update(s.tenants).where(s.tenants.c.id == env.b).values(status="suspended")
        )
    )
    assert "suspended" in env.rejected(env.registry.add_template(env.b, NOTICE)).message
    assert rows(env.db, s.voice_templates) == [] and rows(env.db, s.voice_files) == []


# -- voice files -----------------------------------------------------------------------------
def test_an_upload_is_kept_privately_under_its_sha1_and_reviewed(env: Env) -> None:
    data = pcm_wav(1.25)
    got = run(env.registry.upload_file(env.a, data, "audio/wav"))
    assert got.fid == fid_of(data)
    assert (got.tenant_id, got.media_type, got.size, got.seconds) == (env.a, "wav", len(data), 1.25)
    assert (got.status, got.review_reply, got.created_at) == (1, "", env.clock())
    path = voice_file_path(env.data_dir, env.a, got.fid, "wav")
    assert path == env.data_dir / "voice_files" / str(env.a) / f"{got.fid}.wav"
    assert path.read_bytes() == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (path.parent, path.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert run(env.registry.get_file(env.a, got.fid)) == got
    assert run(env.registry.get_file(env.a, f"{got.fid.upper()}.wav")) == got
    assert run(env.registry.list_files(env.a)) == [got]


def test_the_same_bytes_again_answer_the_same_file(env: Env) -> None:
    data = mp3(40)
    first = run(env.registry.upload_file(env.a, data, "mp3"))
    env.clock.advance(60)
    again = run(env.registry.upload_file(env.a, data, None))
    assert again == first  # the same row, its time of upload unchanged
    assert len(rows(env.db, s.voice_files)) == 1
    assert [p.name for p in files_under(env.data_dir)] == [f"{first.fid}.mp3"]


def test_what_is_no_recording_is_refused_and_nothing_is_stored(env: Env) -> None:
    reg = env.registry
    cases = [
        (b"just some text, renamed to .mp3\n" * 30, "mp3", "neither MP3 nor WAV"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "audio/wav", "neither MP3 nor WAV"),
        (pcm_wav(1.0)[:-300], "wav", "cut short"),
        (id3v2(64)[:40], "mp3", "cut short"),
        (pcm_wav(0.5), "audio/mpeg", "send it with Content-Type audio/wav"),
        (mp3(10), "audio/ogg", "no voice file type"),
    ]
    for data, declared, words in cases:
        refusal = env.rejected(reg.upload_file(env.a, data, declared))
        assert refusal.code == INVALID_PARAMETERS
        assert words in refusal.message
    assert env.rejected(reg.upload_file(env.a, pcm_wav(26.0))).code == CONTENT_LENGTH
    assert rows(env.db, s.voice_files) == []
    assert files_under(env.data_dir) == []


def test_a_tenant_never_reaches_another_tenants_file(env: Env) -> None:
    reg, data = env.registry, g711_wav(1.0)
    mine = run(reg.upload_file(env.a, data, "wav"))
    assert run(reg.get_file(env.b, mine.fid)) is None
    assert run(reg.list_files(env.b)) == []
    refusal = env.rejected(reg.delete_file(env.b, mine.fid))
    assert refusal.code == "ResourceNotFound"
    # The same bytes from another tenant are that tenant's own file, reviewed on their own.
    theirs = run(reg.upload_file(env.b, data, "wav"))
    assert (theirs.fid, theirs.tenant_id) == (mine.fid, env.b) and theirs.id != mine.id
    run(reg.decide("voice_file", theirs.id, approve=True))
    still = run(reg.get_file(env.a, mine.fid))
    assert still is not None and still.status == 1
    run(reg.delete_file(env.b, theirs.fid))
    assert run(reg.get_file(env.a, mine.fid)) == still
    assert len(files_under(env.data_dir)) == 2  # one copy in each tenant's directory


def test_a_deleted_file_uploaded_again_comes_back_under_review(env: Env) -> None:
    reg, data = env.registry, pcm_wav(0.5)
    first = run(reg.upload_file(env.a, data, "wav"))
    run(reg.decide("voice_file", first.id, approve=True))
    run(reg.delete_file(env.a, first.fid))
    assert run(reg.get_file(env.a, first.fid)) is None
    assert env.rejected(reg.delete_file(env.a, first.fid)).code == "ResourceNotFound"
    assert env.rejected(reg.delete_file(env.a, "not a fid")).code == "ResourceNotFound"
    env.clock.advance(30)
    back = run(reg.upload_file(env.a, data, "wav"))
    assert (back.id, back.status, back.reviewed_at) == (first.id, 1, None)
    assert back.created_at == env.clock()


def test_a_tenant_has_at_most_so_many_files(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_files_module, "MAX_VOICE_FILES", 2)
    reg = env.registry
    kept = [run(reg.upload_file(env.a, pcm_wav(0.1, tone=t))) for t in (300.0, 400.0)]
    refusal = env.rejected(reg.upload_file(env.a, pcm_wav(0.1, tone=500.0)))
    assert refusal.code == "LimitExceeded"
    assert len(files_under(env.data_dir)) == 2  # refused before anything was written
    assert run(reg.upload_file(env.a, pcm_wav(0.1, tone=300.0))) == kept[0]  # known bytes
    run(reg.upload_file(env.b, pcm_wav(0.1, tone=500.0)))  # another tenant's count


SHANGHAI = ZoneInfo("Asia/Shanghai")  # the queue's working time is read in the platform's zone


# -- the operator's review -------------------------------------------------------------------
def test_the_review_queue_spans_tenants_and_decides_once(env: Env) -> None:
    reg = env.registry
    t1 = run(reg.add_template(env.a, NOTICE))
    t2 = run(reg.add_template(env.b, VoiceTemplateApplication("码", "您的验证码是{1}")))
    f1 = run(reg.upload_file(env.b, pcm_wav(0.2)))
    pending = run(reg.pending(SHANGHAI))
    assert [(type(p), p.id, p.tenant_id) for p in pending] == [
        (PendingVoiceTemplate, t1, env.a),
        (PendingVoiceTemplate, t2, env.b),
        (PendingVoiceFile, f1.id, env.b),
    ]
    file_item = pending[2]
    assert isinstance(file_item, PendingVoiceFile)
    assert (file_item.fid, file_item.media_type, file_item.seconds) == (f1.fid, "wav", 0.2)
    found = run(reg.file_for_review(f1.id))
    assert found is not None and found[1].read_bytes() == pcm_wav(0.2)
    decided = run(reg.decide("voice_file", f1.id, approve=False, reason="录音含广告"))
    assert (decided.status, decided.tenant_id, decided.reason) == (-1, env.b, "录音含广告")
    refusal = env.rejected(reg.decide("voice_file", f1.id, approve=True))
    assert (refusal.code, "not waiting" in refusal.message) == ("FailedOperation", True)
    assert env.rejected(reg.decide("voice_template", 999_999, approve=True)).code == (
        "ResourceNotFound"
    )
    run(reg.delete_template(env.b, t2))
    assert env.rejected(reg.decide("voice_template", t2, approve=True)).code == "ResourceNotFound"
    assert [p.id for p in run(reg.pending(SHANGHAI))] == [t1]
    rejected = run(reg.get_file(env.b, f1.fid))
    assert rejected is not None
    assert (rejected.status, rejected.review_reply) == (-1, "录音含广告")


def test_a_decision_is_mailed_and_texted_to_the_tenant(env: Env) -> None:
    reg = env.registry
    tid = run(reg.add_template(env.a, NOTICE))
    fid = run(reg.upload_file(env.a, pcm_wav(0.3))).fid
    file_id = run(reg.get_file(env.a, fid))
    assert file_id is not None
    run(reg.decide("voice_template", tid, approve=False, reason="变量用途不明确"))
    run(reg.decide("voice_file", file_id.id, approve=True))
    n = s.notifications
    mails = env.db.read_sync(
        lambda c: c.execute(select(n.c.recipients, n.c.subject, n.c.body).order_by(n.c.id)).all()
    )
    assert [m.recipients for m in mails] == ["ops@acme.test", "ops@acme.test"]
    assert "语音模板审核未通过" in mails[0].subject and "发货通知" in mails[0].subject
    assert "变量用途不明确" in mails[0].body
    assert "语音文件审核通过" in mails[1].subject and f"{fid}.wav" in mails[1].body
    m, t = s.messages, s.tenants
    texts = env.db.read_sync(
        lambda c: c.execute(
            select(m.c.phone, m.c.content)
            .join(t, t.c.id == m.c.tenant_id)
            .where(t.c.name == PLATFORM_TENANT)
            .order_by(m.c.id)
        ).all()
    )
    assert [x.phone for x in texts] == ["+8613800138000", "+8613800138000"]
    assert "语音模板" in texts[0].content and "变量用途不明确" in texts[0].content
    assert "语音文件" in texts[1].content and "已审核通过" in texts[1].content
    # The other tenant, with no contacts, was told nothing and has nothing queued.
    count = env.db.read_sync(
        lambda c: c.execute(
            select(func.count()).select_from(n).where(n.c.tenant_id == env.b)
        ).scalar_one()
    )
    assert count == 0


# -- audio for calls -------------------------------------------------------------------------
def sox_reads_mp3() -> bool:
    formats = subprocess.run(["sox", "-h"], capture_output=True, text=True, check=False).stdout
    listed = formats.split("AUDIO FILE FORMATS:", 1)[-1].split("\n", 1)[0].split()
    return "mp3" in listed


def test_a_file_is_decoded_once_to_8khz_mono_pcm(env: Env) -> None:
    reg = env.registry
    data = pcm_wav(0.5)  # already 8 kHz, 16-bit, mono: the samples come back unchanged
    got = run(reg.upload_file(env.a, data))
    pcm = run(reg.file_audio(env.a, got.id))
    assert pcm == data[44:]
    cache = voice_file_path(env.data_dir, env.a, got.fid, "wav").with_suffix(".pcm")
    assert cache.read_bytes() == pcm and stat.S_IMODE(cache.stat().st_mode) == 0o600
    # Read from the cache: no program runs again.
    cached = VoiceRegistry(env.db, reg.catalog, env.data_dir, sox="/nonexistent/sox")
    assert run(cached.file_audio(env.a, got.id)) == pcm
    # A deleted file still plays for a call accepted before; another tenant's never does.
    run(reg.delete_file(env.a, got.fid))
    assert run(reg.file_audio(env.a, got.id)) == pcm
    with pytest.raises(AudioDecodeError):
        run(reg.file_audio(env.b, got.id))


@pytest.mark.parametrize(
    "data",
    [pcm_wav(0.75, rate=44100, channels=2), g711_wav(0.75, law="ulaw"), pcm_wav(0.75, width=1)],
)
def test_other_wavs_are_resampled_and_mixed_down(env: Env, data: bytes) -> None:
    got = run(env.registry.upload_file(env.a, data))
    pcm = run(env.registry.file_audio(env.a, got.id))
    assert abs(len(pcm) - 0.75 * 16000) <= 64  # 8,000 samples of 2 octets a second


def test_mp3_is_decoded_by_sox_or_ffmpeg_or_the_missing_package_is_named(
    env: Env, tmp_path: Path
) -> None:
    data = mp3(100, version=2, bitrate_index=4, rate_index=0)  # MPEG-2, 32 kbit/s, 22,050 Hz
    got = run(env.registry.upload_file(env.a, data, "audio/mpeg"))
    if sox_reads_mp3() or shutil.which("ffmpeg"):
        pcm = run(env.registry.file_audio(env.a, got.id))
        assert abs(len(pcm) / 16000 - got.seconds) < 0.1
    else:
        with pytest.raises(AudioDecodeError, match="libsox-fmt-mp3"):
            run(env.registry.file_audio(env.a, got.id))


def test_decode_failures_are_audio_decode_errors(tmp_path: Path) -> None:
    wav = tmp_path / ("a" * 40 + ".wav")
    wav.write_bytes(pcm_wav(0.1))
    with pytest.raises(AudioDecodeError, match="install sox"):
        run(decode_to_pcm(wav, sox="/nonexistent/sox", ffmpeg="/nonexistent/ffmpeg"))
    with pytest.raises(AudioDecodeError, match="missing"):
        run(decode_to_pcm(tmp_path / ("b" * 40 + ".wav")))
    broken = tmp_path / ("c" * 40 + ".wav")
    broken.write_bytes(b"RIFF nothing a decoder reads")
    with pytest.raises(AudioDecodeError, match="failed"):
        run(decode_to_pcm(broken))
    hung = tmp_path / "slow-sox"
    hung.write_text("#!/bin/sh\nexec sleep 30\n")
    os.chmod(hung, 0o700)
    with pytest.raises(AudioDecodeError, match="longer than"):
        run(decode_to_pcm(wav, sox=str(hung), time_limit=1.0))
    assert not wav.with_suffix(".pcm").exists()
