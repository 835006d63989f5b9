"""Signature name and application rules of Tencent SMS API 3.0, AddSmsSign and ModifySmsSign.

The name rules follow Tencent SMS docs: signature review standards
(cloud.tencent.com/document/product/382/39022).
"""

from __future__ import annotations

from enum import IntEnum

from smscloud.domain.errors import RuleViolation

__all__ = [
    "DocumentType",
    "SignPurpose",
    "SignType",
    "offered_sign_types",
    "validate_sign_application",
    "validate_sign_name",
]

SIGN_NAME_TOO_LONG = "InvalidParameterValue.SignNameLengthTooLong"
INVALID_PARAMETERS = "InvalidParameter.InvalidParameters"
INVALID_DOCUMENT_TYPE = "InvalidParameterValue.InvalidDocumentType"
INVALID_SIGN_PURPOSE = "InvalidParameterValue.InvalidSignPurpose"
MISSING_PARAMETER = "MissingParameter"

MIN_SIGN_LENGTH = 2
MAX_MAINLAND_SIGN_LENGTH = 12
MAX_INTERNATIONAL_SIGN_LENGTH = 15


class SignType(IntEnum):
    """Accepted `SignType` values; 2 website, 3 official account, 6 mini program are withdrawn."""

    COMPANY = 0
    APP = 1
    TRADEMARK = 4
    GOVERNMENT = 5


class DocumentType(IntEnum):
    """Accepted proof documents; 5, 6 and 8 are discontinued."""

    THREE_IN_ONE_LICENSE = 0
    BUSINESS_LICENSE = 1
    ORGANIZATION_CODE_CERTIFICATE = 2
    SOCIAL_CREDIT_CODE_CERTIFICATE = 3
    APP_BACKEND_SCREENSHOT = 4
    TRADEMARK_REGISTRATION_CERTIFICATE = 7


class SignPurpose(IntEnum):
    """Own use (自用) or use on behalf of another party (他用)."""

    SELF_USE = 0
    FOR_OTHERS = 1


# AddSmsSign (SignType, DocumentType): which proof document goes with which signature type.
ALLOWED_DOCUMENTS: dict[SignType, frozenset[DocumentType]] = {
    SignType.COMPANY: frozenset({DocumentType.THREE_IN_ONE_LICENSE, DocumentType.BUSINESS_LICENSE}),
    SignType.APP: frozenset(
        {
            DocumentType.THREE_IN_ONE_LICENSE,
            DocumentType.BUSINESS_LICENSE,
            DocumentType.ORGANIZATION_CODE_CERTIFICATE,
            DocumentType.SOCIAL_CREDIT_CODE_CERTIFICATE,
            DocumentType.APP_BACKEND_SCREENSHOT,
        }
    ),
    SignType.TRADEMARK: frozenset({DocumentType.TRADEMARK_REGISTRATION_CERTIFICATE}),
    SignType.GOVERNMENT: frozenset(
        {DocumentType.ORGANIZATION_CODE_CERTIFICATE, DocumentType.SOCIAL_CREDIT_CODE_CERTIFICATE}
    ),
}


def offered_sign_types(*, individual: bool, international: bool) -> list[SignType]:
    """The signature types an applicant may choose (Tencent SMS docs, signature review rules):
    an app signature is no longer accepted for mainland China, and a company signature needs a
    company, which an individual account is not."""
    return [
        kind
        for kind in SignType
        if (international or kind is not SignType.APP)
        and not (individual and kind is SignType.COMPANY)
    ]


_SIGN_TYPES = frozenset(int(member) for member in SignType)
_DOCUMENT_TYPES = frozenset(int(member) for member in DocumentType)
_PURPOSES = frozenset(int(member) for member in SignPurpose)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    # CJK Unified Ideographs, Extension A, and Compatibility Ideographs.
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


def _mainland_char_ok(ch: str) -> bool:
    return _is_cjk(ch) or ("0" <= ch <= "9") or ("a" <= ch.lower() <= "z")


def _international_char_ok(ch: str) -> bool:
    # Any script's letters (Traditional Chinese for HK/TW, accented Latin, ...) and ASCII digits.
    return ch.isalpha() or ("0" <= ch <= "9")


def validate_sign_name(name: str, *, international: bool) -> None:
    """Check the signature text (without brackets) as submitted to AddSmsSign.

    Mainland: 2-12 Chinese characters, English letters or digits (Tencent SMS docs:
    signature review standards).
    International: 2-15 letters or digits, with single spaces between words ("Tencent Cloud").
    Over-long names raise SignNameLengthTooLong; bad characters and names shorter than 2
    raise InvalidParameter.InvalidParameters.
    """
    limit = MAX_INTERNATIONAL_SIGN_LENGTH if international else MAX_MAINLAND_SIGN_LENGTH
    if len(name) > limit:
        raise RuleViolation(
            SIGN_NAME_TOO_LONG, f"signature name is longer than {limit} characters: {name!r}"
        )
    if len(name) < MIN_SIGN_LENGTH:
        raise RuleViolation(
            INVALID_PARAMETERS, f"signature name must have at least {MIN_SIGN_LENGTH} characters"
        )
    if international:
        words = name.split(" ")
        ok = all(word and all(_international_char_ok(ch) for ch in word) for word in words)
        allowed = "letters, digits and single spaces between words"
    else:
        ok = all(_mainland_char_ok(ch) for ch in name)
        allowed = "Chinese characters, English letters and digits"
    if not ok:
        raise RuleViolation(
            INVALID_PARAMETERS, f"signature name may contain only {allowed}: {name!r}"
        )


def validate_sign_application(
    sign_type: int,
    document_type: int,
    purpose: int,
    *,
    international: bool,
    has_commission_image: bool,
) -> None:
    """Check the type / document / purpose combination of a signature application (AddSmsSign)."""
    if sign_type not in _SIGN_TYPES:
        raise RuleViolation(
            INVALID_PARAMETERS, f"SignType {sign_type} is not supported; use 0, 1, 4 or 5"
        )
    kind = SignType(sign_type)
    if kind is SignType.APP and not international:
        raise RuleViolation(
            INVALID_PARAMETERS, "SignType 1 (app) is no longer accepted for mainland signatures"
        )
    if document_type not in _DOCUMENT_TYPES:
        raise RuleViolation(INVALID_DOCUMENT_TYPE, f"DocumentType {document_type} is not supported")
    if DocumentType(document_type) not in ALLOWED_DOCUMENTS[kind]:
        allowed = ", ".join(str(int(doc)) for doc in sorted(ALLOWED_DOCUMENTS[kind]))
        raise RuleViolation(
            INVALID_DOCUMENT_TYPE,
            f"DocumentType {document_type} does not fit SignType {sign_type}; use {allowed}",
        )
    if purpose not in _PURPOSES:
        raise RuleViolation(INVALID_SIGN_PURPOSE, f"SignPurpose {purpose} is not 0 or 1")
    if purpose == SignPurpose.FOR_OTHERS and not has_commission_image:
        raise RuleViolation(
            MISSING_PARAMETER, "CommissionImage is required when SignPurpose is 1 (for others)"
        )
