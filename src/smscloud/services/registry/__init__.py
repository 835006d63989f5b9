"""Signatures and templates together, as the API and the console use them; voice templates
and voice files (``voice``: ``voice_templates``, ``voice_files``), their review
(``voice_review``) and their audio (``voice_audio``)."""

from __future__ import annotations

from smscloud.services.registry.shared import DELETE_STATUS
from smscloud.services.registry.signs import (
    RegisteredSign,
    SignApplication,
    SignRegistry,
    default_sign,
)
from smscloud.services.registry.templates import (
    RegisteredTemplate,
    TemplateApplication,
    TemplateRegistry,
    approved_templates,
)
from smscloud.services.registry.voice import VoiceRegistry
from smscloud.services.registry.voice_audio import (
    AudioDecodeError,
    decode_to_pcm,
    voice_file_path,
)
from smscloud.services.registry.voice_files import RegisteredVoiceFile
from smscloud.services.registry.voice_review import (
    PendingVoice,
    PendingVoiceFile,
    PendingVoiceTemplate,
    VoiceDecision,
    decide_voice,
    pending_voice,
)
from smscloud.services.registry.voice_templates import (
    RegisteredVoiceTemplate,
    VoiceTemplateApplication,
)

__all__ = [
    "DELETE_STATUS",
    "AudioDecodeError",
    "PendingVoice",
    "PendingVoiceFile",
    "PendingVoiceTemplate",
    "RegisteredSign",
    "RegisteredTemplate",
    "RegisteredVoiceFile",
    "RegisteredVoiceTemplate",
    "Registry",
    "SignApplication",
    "SignRegistry",
    "TemplateApplication",
    "TemplateRegistry",
    "VoiceDecision",
    "VoiceRegistry",
    "VoiceTemplateApplication",
    "approved_templates",
    "decide_voice",
    "decode_to_pcm",
    "default_sign",
    "pending_voice",
    "voice_file_path",
]


class Registry(SignRegistry, TemplateRegistry):
    """Sign and template use cases of one process."""
