"""Individual vs enterprise capabilities (Tencent SMS docs: review standards; API error codes)."""

from __future__ import annotations

import pytest

from smscloud.domain.errors import RuleViolation
from smscloud.domain.rights import (
    INDIVIDUAL_MAX_PARAM_LENGTH,
    MARKETING_TEMPLATE_DENIAL_CODE,
    AccountType,
    Capability,
    allows,
    default_max_param_length,
    denial_code,
    denial_message,
    require,
)

IND, ENT = AccountType.INDIVIDUAL, AccountType.ENTERPRISE


@pytest.mark.parametrize(
    ("capability", "individual", "enterprise"),
    [
        # Tencent's individual vs enterprise table, row by row.
        (Capability.MARKETING_SMS, False, True),
        (Capability.INTERNATIONAL_SMS, False, True),
        (Capability.VOICE, False, True),
        (Capability.CUSTOM_FREQUENCY_LIMITS, False, True),
        (Capability.SIGN_TEMPLATE_API, False, True),
    ],
)
def test_allows_follows_the_table(
    capability: Capability, individual: bool, enterprise: bool
) -> None:
    assert allows(IND, capability) is individual
    assert allows(ENT, capability) is enterprise


@pytest.mark.parametrize(
    ("capability", "code"),
    [
        # Individual account sends marketing / calls AddSmsSign or AddSmsTemplate.
        (
            Capability.MARKETING_SMS,
            "UnauthorizedOperation.IndividualUserMarketingSmsPermissionDeny",
        ),
        (Capability.SIGN_TEMPLATE_API, "FailedOperation.NotEnterpriseCertification"),
        (Capability.CUSTOM_FREQUENCY_LIMITS, "FailedOperation.NotEnterpriseCertification"),
        (Capability.INTERNATIONAL_SMS, "UnauthorizedOperation.RequestPermissionDeny"),
        (Capability.VOICE, "UnauthorizedOperation.RequestPermissionDeny"),
    ],
)
def test_denial_codes(capability: Capability, code: str) -> None:
    assert denial_code(capability) == code
    with pytest.raises(RuleViolation) as caught:
        require(IND, capability)
    assert caught.value.code == code
    assert caught.value.message == denial_message(capability)
    require(ENT, capability)


def test_marketing_template_denial_code() -> None:
    assert MARKETING_TEMPLATE_DENIAL_CODE == "FailedOperation.ForbidAddMarketingTemplates"


def test_default_max_param_length() -> None:
    # Older rule (body template review standards): 12 characters for individual users,
    # unlimited for enterprises.
    assert INDIVIDUAL_MAX_PARAM_LENGTH == 12
    assert default_max_param_length(IND) == 12
    assert default_max_param_length(ENT) is None


def test_account_type_values() -> None:
    assert AccountType("individual") is IND
    assert AccountType("enterprise") is ENT
