"""The voice registry: a tenant's voice templates (``voice_templates``) and uploaded voice
files (``voice_files``), and the operator's review of both (``voice_review``).

What the send path reads (approved, not deleted) is ``services.sending.voice``'s.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from smscloud.services.registry.voice_files import RegisteredVoiceFile, VoiceFileRegistry
from smscloud.services.registry.voice_review import (
    PendingVoice,
    ReviewKind,
    VoiceDecision,
    decide_voice,
    pending_voice,
)
from smscloud.services.registry.voice_templates import VoiceTemplateRegistry
from smscloud.store import schema as s

__all__ = ["VoiceRegistry"]


class VoiceRegistry(VoiceTemplateRegistry, VoiceFileRegistry):
    """Voice templates and files: the tenant's use cases and the operator's review; one per
    process (``VoiceRegistryBase`` says what it is made with)."""

    async def pending(self, tz: ZoneInfo) -> list[PendingVoice]:
        """Voice templates and files waiting for review, across tenants, in the queue's
        order at this registry's clock (working time read in ``tz``)."""
        now = self.clock()
        return await self.db.read(lambda c: pending_voice(c, now, tz))

    async def decide(
        self, kind: ReviewKind, item_id: int, *, approve: bool, reason: str = ""
    ) -> VoiceDecision:
        """Approve or reject a waiting template or file; its tenant is told by email and
        SMS in the same transaction."""
        now = self.clock()
        return await self.db.write(
            lambda c: decide_voice(c, kind, item_id, approve=approve, reason=reason, now=now)
        )

    async def file_for_review(self, file_row_id: int) -> tuple[RegisteredVoiceFile, Path] | None:
        """Any tenant's file (not deleted) and where its bytes are, for the operator to hear."""
        f = s.voice_files
        q = select(f).where(f.c.id == file_row_id, f.c.deleted.is_(False))
        row = await self.db.read(lambda c: c.execute(q).mappings().first())
        if row is None:
            return None
        record = RegisteredVoiceFile.from_row(row)
        return record, self.file_path(record)
