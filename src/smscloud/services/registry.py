"""Signatures and templates together, as the API and the console use them."""

from __future__ import annotations

from smscloud.services.registry_base import DELETE_STATUS
from smscloud.services.sign_registry import SignApplication, SignRegistry, default_sign
from smscloud.services.template_registry import (
    TemplateApplication,
    TemplateRegistry,
    approved_templates,
)

__all__ = [
    "DELETE_STATUS",
    "Registry",
    "SignApplication",
    "TemplateApplication",
    "approved_templates",
    "default_sign",
]


class Registry(SignRegistry, TemplateRegistry):
    """Sign and template use cases of one process."""
