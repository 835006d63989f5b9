"""Immutable snapshots of the rows the send path consults on every request."""

from __future__ import annotations

from dataclasses import dataclass

from smscloud.domain.frequency import FrequencyPolicy
from smscloud.domain.voice_rules import VoicePolicy

DEFAULT_VOICE_POLICY = VoicePolicy()  # Tencent's defaults


@dataclass(frozen=True, slots=True)
class TenantRec:
    id: int
    name: str
    account_type: str
    verified: bool
    status: str
    sms_active: bool = True

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class ApiKeyRec:
    secret_id: str
    secret_key: str
    tenant_id: int
    active: bool


@dataclass(frozen=True, slots=True)
class AppRec:
    id: int
    sdk_app_id: str
    tenant_id: int
    name: str
    app_key: str
    active: bool
    policy: FrequencyPolicy
    allowlist: frozenset[str]
    max_param_length: int | None
    status_callback_url: str
    reply_callback_url: str
    daily_limits: tuple[int, int, int] = (0, 0, 0)  # all, mainland, international; 0: none
    voice_policy: VoicePolicy = DEFAULT_VOICE_POLICY
    voice_callback_url: str = ""


@dataclass(frozen=True, slots=True)
class TemplateRec:
    id: int
    tenant_id: int
    name: str
    content: str
    sms_type: int
    international: int
    status: int

    @property
    def approved(self) -> bool:
        return self.status == 0


@dataclass(frozen=True, slots=True)
class SignRec:
    id: int
    tenant_id: int
    name: str
    international: int
    status: int

    @property
    def approved(self) -> bool:
        return self.status == 0
