"""Voice file use cases: upload, list, delete, and the audio a call plays.

Voice files are the legacy ``uploadvoicefile``'s recordings for ``sendfvoice``: judged by their
bytes (``domain.audio_files``), named by the SHA-1 of the bytes (the ``fid``), kept on disk
(``voice_audio``), reviewed like templates (``voice_review``). Uploading the same bytes again
answers the same file (a deleted one comes back, under review again). Deleting hides a file
from its tenant and from new calls; its bytes stay, so a call accepted before the delete still
plays. Every read and change is scoped to the tenant: another tenant's fid, or a deleted one,
is not found, exactly like one that never existed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from smscloud.domain.audio_files import (
    INVALID_PARAMETERS,
    fid_of,
    media_type_for,
    parse_fid,
    sniff_audio,
)
from smscloud.domain.errors import RuleViolation
from smscloud.private_files import create_once, write_private
from smscloud.services.registry.shared import page_limit, page_offset
from smscloud.services.registry.voice_audio import (
    AudioDecodeError,
    decode_to_pcm,
    voice_file_path,
)
from smscloud.services.registry.voice_base import VoiceRegistryBase
from smscloud.store import schema as s

__all__ = ["MAX_VOICE_FILES", "RegisteredVoiceFile", "VoiceFileRegistry"]

MAX_VOICE_FILES = 100  # ours: 100 files of at most 400 KB is 40 MB of a tenant's recordings
FILE_NOT_FOUND = "ResourceNotFound"
FILE_LIMIT = "LimitExceeded"


@dataclass(frozen=True, slots=True)
class RegisteredVoiceFile:
    """A tenant's uploaded recording with its review state."""

    id: int
    tenant_id: int
    fid: str  # SHA-1 of the bytes, lower-case hex
    media_type: str  # mp3 | wav
    size: int
    seconds: float
    status: int  # 0 approved, 1 under review, -1 rejected
    review_reply: str
    created_at: float
    reviewed_at: float | None

    @classmethod
    def from_row(cls, row: RowMapping) -> RegisteredVoiceFile:
        """The row of ``voice_files`` as a result."""
        return cls(
            id=int(row["id"]),
            tenant_id=int(row["tenant_id"]),
            fid=str(row["fid"]),
            media_type=str(row["media_type"]),
            size=int(row["size"]),
            seconds=float(row["seconds"]),
            status=int(row["status"]),
            review_reply=str(row["review_reply"]),
            created_at=float(row["created_at"]),
            reviewed_at=None if row["reviewed_at"] is None else float(row["reviewed_at"]),
        )


class VoiceFileRegistry(VoiceRegistryBase):
    """Uploaded voice files of a tenant."""

    async def upload_file(
        self,
        tenant_id: int,
        data: bytes,
        declared_type: str | None = None,
        now: float | None = None,
    ) -> RegisteredVoiceFile:
        """Keep a recording for review; the same bytes again answer the same file.

        ``declared_type`` is what the uploader said the file is: a ``Content-Type``
        (``audio/mpeg``, ``audio/wav``...) or ``mp3``/``wav``; None trusts the bytes alone.
        Raises :class:`RuleViolation` for anything that is no MP3 or WAV within the limits
        (``domain.audio_files``), and stores nothing then.
        """
        await self._check_tenant(tenant_id)
        info = sniff_audio(
            data,
            declared=_declared_media(declared_type),
            max_bytes=self.max_bytes,
            max_seconds=self.max_seconds,
        )
        fid, at = fid_of(data), self.clock() if now is None else now
        existing = await self._file_row(tenant_id, fid, live_only=False)
        if existing is not None and not existing["deleted"]:
            return RegisteredVoiceFile.from_row(existing)
        # Refuse before writing anything, so a tenant at its limit cannot fill the disk.
        await self.db.read(lambda c: _check_file_count(c, tenant_id))
        path = voice_file_path(self.data_dir, tenant_id, fid, info.media_type)
        await asyncio.to_thread(_store_bytes, path, data)
        f = s.voice_files

        def write(conn: Connection) -> RowMapping:
            row = conn.execute(
                select(f.c.id, f.c.deleted).where(f.c.tenant_id == tenant_id, f.c.fid == fid)
            ).first()
            if row is None or row.deleted:
                _check_file_count(conn, tenant_id)
            values = {
                "media_type": info.media_type,
                "size": info.size,
                "seconds": info.seconds,
                "status": 1,
                "review_reply": "",
                "deleted": False,
                "created_at": at,
                "reviewed_at": None,
            }
            if row is None:
                conn.execute(insert(f).values(tenant_id=tenant_id, fid=fid, **values))
            elif row.deleted:  # uploaded again after a delete: back, and reviewed again
                conn.execute(update(f).where(f.c.id == row.id).values(**values))
            return (
                conn.execute(select(f).where(f.c.tenant_id == tenant_id, f.c.fid == fid))
                .mappings()
                .one()
            )

        try:
            stored = await self.db.write(write)
        except IntegrityError:  # another process stored the same bytes at the same moment
            again = await self._file_row(tenant_id, fid, live_only=True)
            if again is None:
                raise
            stored = again
        return RegisteredVoiceFile.from_row(stored)

    async def _file_row(self, tenant_id: int, fid: str, *, live_only: bool) -> RowMapping | None:
        f = s.voice_files
        q = select(f).where(f.c.tenant_id == tenant_id, f.c.fid == fid)
        if live_only:
            q = q.where(f.c.deleted.is_(False))
        return await self.db.read(lambda c: c.execute(q).mappings().first())

    async def list_files(
        self, tenant_id: int, *, limit: int = 100, offset: int = 0
    ) -> list[RegisteredVoiceFile]:
        """A page of the tenant's voice files, oldest first."""
        f = s.voice_files
        q = (
            select(f)
            .where(f.c.tenant_id == tenant_id, f.c.deleted.is_(False))
            .order_by(f.c.id)
            .limit(page_limit(limit))
            .offset(page_offset(offset))
        )
        rows = await self.db.read(lambda c: c.execute(q).mappings().all())
        return [RegisteredVoiceFile.from_row(r) for r in rows]

    async def get_file(self, tenant_id: int, fid: str) -> RegisteredVoiceFile | None:
        """The tenant's file ``fid`` (bare SHA-1 or ``<sha1>.<type>``), or None."""
        sha1 = parse_fid(fid)
        if sha1 is None:
            return None
        row = await self._file_row(tenant_id, sha1, live_only=True)
        return None if row is None else RegisteredVoiceFile.from_row(row)

    async def delete_file(self, tenant_id: int, fid: str) -> None:
        """Delete one of the tenant's files: no new call plays it (its bytes are kept for
        calls already accepted)."""
        sha1 = parse_fid(fid)
        f = s.voice_files

        def write(conn: Connection) -> None:
            done = conn.execute(
                update(f)
                .where(f.c.tenant_id == tenant_id, f.c.fid == sha1, f.c.deleted.is_(False))
                .values(deleted=True)
            )
            if done.rowcount == 0:
                raise RuleViolation(FILE_NOT_FOUND, f"No voice file {fid!r}.")

        if sha1 is None:
            raise RuleViolation(FILE_NOT_FOUND, f"No voice file {fid!r}.")
        await self.db.write(write)

    def file_path(self, record: RegisteredVoiceFile) -> Path:
        """Where the bytes of ``record`` are kept."""
        return voice_file_path(self.data_dir, record.tenant_id, record.fid, record.media_type)

    async def file_audio(self, tenant_id: int, file_row_id: int) -> bytes:
        """One playing of the tenant's file (its ``voice_files`` row id, as a call holds it)
        as 8 kHz 16-bit mono PCM: the call worker's ``FileAudio``. A file deleted after its
        call was accepted still plays. Raises :class:`AudioDecodeError`."""
        f = s.voice_files
        q = select(f).where(f.c.id == file_row_id, f.c.tenant_id == tenant_id)
        row = await self.db.read(lambda c: c.execute(q).mappings().first())
        if row is None:
            raise AudioDecodeError(f"tenant {tenant_id} has no voice file {file_row_id}")
        path = self.file_path(RegisteredVoiceFile.from_row(row))
        return await decode_to_pcm(
            path, sox=self.sox, ffmpeg=self.ffmpeg, time_limit=self.decode_seconds
        )


def _declared_media(declared: str | None) -> str | None:
    """``mp3``/``wav`` from a Content-Type or a media type; None when nothing was said."""
    if declared is None:
        return None
    media = media_type_for(declared) if "/" in declared else declared.strip().lower()
    if media not in ("mp3", "wav"):
        raise RuleViolation(
            INVALID_PARAMETERS,
            f"{declared!r} is no voice file type: send audio/mpeg (MP3) or audio/wav (WAV).",
        )
    return media


def _check_file_count(conn: Connection, tenant_id: int) -> None:
    f = s.voice_files
    live = conn.execute(
        select(func.count()).where(f.c.tenant_id == tenant_id, f.c.deleted.is_(False))
    ).scalar_one()
    if live >= MAX_VOICE_FILES:
        raise RuleViolation(
            FILE_LIMIT, f"At most {MAX_VOICE_FILES} voice files: delete one to upload another."
        )


def _store_bytes(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` (0600) unless the same bytes are there already."""
    if create_once(path, data):
        return
    try:
        same = path.read_bytes() == data
    except OSError:
        same = False
    if not same:  # damaged or cut short: the name says what the bytes must be
        write_private(path, data, durable=True)
        path.with_suffix(".pcm").unlink(missing_ok=True)
