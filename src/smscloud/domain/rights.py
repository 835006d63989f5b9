"""What individual- and enterprise-verified accounts may do.

The rules are Tencent's (Tencent SMS docs: review standards, individual vs enterprise
verification); refusals carry the codes listed in Tencent SMS API 3.0 error codes
(cloud.tencent.com/document/product/382/59177).
"""

from __future__ import annotations

from enum import StrEnum

from smscloud.domain.errors import RuleViolation

__all__ = [
    "INDIVIDUAL_MAX_PARAM_LENGTH",
    "MARKETING_TEMPLATE_DENIAL_CODE",
    "AccountType",
    "Capability",
    "allows",
    "default_max_param_length",
    "denial_code",
    "denial_message",
    "require",
]

# Older rule, in Tencent SMS docs: template review standards and the former text of error
# InvalidParameterValue.TemplateParameterLengthLimit: individual users' variable values are
# capped at 12 characters.
INDIVIDUAL_MAX_PARAM_LENGTH = 12

# An individual user applying for a marketing template in the console (Tencent SMS API 3.0
# error codes).
MARKETING_TEMPLATE_DENIAL_CODE = "FailedOperation.ForbidAddMarketingTemplates"


class AccountType(StrEnum):
    """Real-name verification level of an account."""

    INDIVIDUAL = "individual"
    ENTERPRISE = "enterprise"


class Capability(StrEnum):
    """Features that Tencent reserves for enterprise-verified accounts."""

    MARKETING_SMS = "marketing_sms"
    INTERNATIONAL_SMS = "international_sms"
    VOICE = "voice"
    CUSTOM_FREQUENCY_LIMITS = "custom_frequency_limits"
    SIGN_TEMPLATE_API = "sign_template_api"


# Tencent SMS docs, individual vs enterprise verification: every capability listed there is
# "no" for individuals and "yes" for enterprises.
_INDIVIDUAL_CAPABILITIES: frozenset[Capability] = frozenset()

_DENIALS: dict[Capability, tuple[str, str]] = {
    Capability.MARKETING_SMS: (
        "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
        "individual users are not allowed to send marketing sms",
    ),
    # No dedicated codes exist for these two; the generic "no permission" code is used.
    Capability.INTERNATIONAL_SMS: (
        "UnauthorizedOperation.RequestPermissionDeny",
        "international sms requires an enterprise-verified account",
    ),
    Capability.VOICE: (
        "UnauthorizedOperation.RequestPermissionDeny",
        "voice messages require an enterprise-verified account",
    ),
    Capability.CUSTOM_FREQUENCY_LIMITS: (
        "FailedOperation.NotEnterpriseCertification",
        "custom frequency limits require an enterprise-verified account",
    ),
    Capability.SIGN_TEMPLATE_API: (
        "FailedOperation.NotEnterpriseCertification",
        "signature and template APIs are only available to enterprise-verified accounts",
    ),
}


def allows(account: AccountType, capability: Capability) -> bool:
    """Whether `account` may use `capability`."""
    if account is AccountType.ENTERPRISE:
        return True
    return capability in _INDIVIDUAL_CAPABILITIES


def denial_code(capability: Capability) -> str:
    """Tencent error code returned when `capability` is refused."""
    return _DENIALS[capability][0]


def denial_message(capability: Capability) -> str:
    """English message that goes with `denial_code(capability)`."""
    return _DENIALS[capability][1]


def require(account: AccountType, capability: Capability) -> None:
    """Raise RuleViolation with the denial code unless `account` may use `capability`."""
    if not allows(account, capability):
        raise RuleViolation(denial_code(capability), denial_message(capability))


def default_max_param_length(account: AccountType) -> int | None:
    """Per-value length cap for notification/marketing params; None means unlimited."""
    if account is AccountType.INDIVIDUAL:
        return INDIVIDUAL_MAX_PARAM_LENGTH
    return None
