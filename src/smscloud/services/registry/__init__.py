"""Signatures and templates together, as the API and the console use them."""

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

__all__ = [
    "DELETE_STATUS",
    "RegisteredSign",
    "RegisteredTemplate",
    "Registry",
    "SignApplication",
    "SignRegistry",
    "TemplateApplication",
    "TemplateRegistry",
    "approved_templates",
    "default_sign",
]


class Registry(SignRegistry, TemplateRegistry):
    """Sign and template use cases of one process."""
