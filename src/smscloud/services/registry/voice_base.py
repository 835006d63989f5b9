"""What the voice registry's use cases share: the store, the files' directory and limits,
and who may file voice content at all."""

from __future__ import annotations

from pathlib import Path

from smscloud.clock import Clock, system_clock
from smscloud.domain.audio_files import MAX_FILE_BYTES, MAX_SECONDS
from smscloud.domain.errors import RuleViolation
from smscloud.domain.rights import AccountType, Capability, allows, denial_message
from smscloud.services.metadata.cache import Catalog
from smscloud.store.database import Database

__all__ = ["DENIED", "VoiceRegistryBase"]

# What the voice send path answers too (services/sending/voice.py): VMS folds "this account
# may not use voice" into its one UnsupportedOperation.
DENIED = "UnsupportedOperation"


class VoiceRegistryBase:
    """State shared by the voice template and voice file use cases.

    ``data_dir`` holds the files (``voice_audio``); ``max_bytes`` and ``max_seconds`` bound an
    upload (defaults: Tencent's 400 KB, our five minutes); ``sox``/``ffmpeg`` decode files
    for calls, each run killed after ``decode_seconds``.
    """

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        data_dir: Path,
        *,
        clock: Clock = system_clock,
        max_bytes: int = MAX_FILE_BYTES,
        max_seconds: float = MAX_SECONDS,
        sox: str = "sox",
        ffmpeg: str = "ffmpeg",
        decode_seconds: float = 30.0,
    ) -> None:
        self.db, self.catalog, self.data_dir, self.clock = db, catalog, data_dir, clock
        self.max_bytes, self.max_seconds = max_bytes, max_seconds
        self.sox, self.ffmpeg, self.decode_seconds = sox, ffmpeg, decode_seconds

    async def _check_tenant(self, tenant_id: int) -> None:
        """Only an active, verified enterprise account files voice content (voice messaging
        is for enterprise users; ``domain.rights``)."""
        tenant = await self.catalog.tenant(tenant_id)
        if tenant is None or not tenant.active:
            raise RuleViolation(DENIED, "The account is suspended.")
        if not tenant.verified:
            raise RuleViolation(DENIED, "Identity verification of the account is not complete.")
        if not allows(AccountType(tenant.account_type), Capability.VOICE):
            raise RuleViolation(DENIED, denial_message(Capability.VOICE))
