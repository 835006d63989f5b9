"""Signature name and application rules (Tencent SMS API 3.0, AddSmsSign; review standards)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.errors import RuleViolation
from smscloud.domain.signatures import (
    ALLOWED_DOCUMENTS,
    DocumentType,
    SignPurpose,
    SignType,
    offered_sign_types,
    validate_sign_application,
    validate_sign_name,
)

TOO_LONG = "InvalidParameterValue.SignNameLengthTooLong"
BAD = "InvalidParameter.InvalidParameters"
BAD_DOCUMENT = "InvalidParameterValue.InvalidDocumentType"
BAD_PURPOSE = "InvalidParameterValue.InvalidSignPurpose"
MISSING = "MissingParameter"


@pytest.mark.parametrize(
    ("name", "international"),
    [
        ("腾讯云", False),  # AddSmsSign example
        ("腾讯", False),  # 2 characters
        ("腾讯云短信服务平台官方号", False),  # 12 characters
        ("QQ音乐", False),
        ("Tencent", False),
        ("12306", False),
        ("Tencent Cloud", True),  # international example, with a space
        ("Tencent Cloud 1", True),  # 15 characters
        ("騰訊雲", True),  # Traditional Chinese for HK/TW
        ("Café Noir", True),
    ],
)
def test_valid_sign_names(name: str, international: bool) -> None:
    validate_sign_name(name, international=international)


@pytest.mark.parametrize(
    ("name", "international", "code"),
    [
        ("腾讯云短信服务平台官方账号", False, TOO_LONG),  # 13 characters
        ("Tencent Cloud S", False, TOO_LONG),
        ("Tencent Cloud SMS", True, TOO_LONG),  # 17 characters
        ("腾", False, BAD),
        ("", False, BAD),
        ("T", True, BAD),
        ("【腾讯云】", False, BAD),  # applicants submit the text without brackets
        ("腾讯 云", False, BAD),  # no spaces on mainland
        ("腾讯云!", False, BAD),
        ("Ｔencent", False, BAD),  # full-width letter
        ("腾讯😀", False, BAD),
        (" Tencent", True, BAD),
        ("Tencent ", True, BAD),
        ("Tencent  Cloud", True, BAD),
        ("Tencent-Cloud", True, BAD),
    ],
)
def test_invalid_sign_names(name: str, international: bool, code: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_sign_name(name, international=international)
    assert caught.value.code == code


@given(name=st.text(alphabet="腾讯云Aa1", min_size=2, max_size=12))
def test_mainland_names_of_allowed_characters_pass(name: str) -> None:
    validate_sign_name(name, international=False)


@given(name=st.text(alphabet="腾讯云Aa1", min_size=13, max_size=40))
def test_over_long_names_are_reported_as_too_long(name: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_sign_name(name, international=False)
    assert caught.value.code == TOO_LONG


def test_enum_values_match_the_api() -> None:
    assert [int(t) for t in SignType] == [0, 1, 4, 5]
    assert [int(d) for d in DocumentType] == [0, 1, 2, 3, 4, 7]
    assert [int(p) for p in SignPurpose] == [0, 1]


# AddSmsSign, SignType: 0 company (DocumentType 0/1); 1 app (0-4, international only);
# 4 trademark (7); 5 government/public institution/other (2/3).
ACCEPTED = [
    (0, 0, False),
    (0, 1, False),
    (0, 1, True),
    (1, 0, True),
    (1, 4, True),
    (4, 7, False),
    (5, 2, False),
    (5, 3, True),
]


@pytest.mark.parametrize(("sign_type", "document_type", "international"), ACCEPTED)
def test_accepted_type_document_pairs(
    sign_type: int, document_type: int, international: bool
) -> None:
    validate_sign_application(
        sign_type, document_type, 0, international=international, has_commission_image=False
    )


@pytest.mark.parametrize(
    ("sign_type", "document_type", "purpose", "international", "commission", "code"),
    [
        # Withdrawn types 2 website, 3 official account, 6 mini program; unknown 9.
        (2, 5, 0, False, False, BAD),
        (3, 8, 0, False, False, BAD),
        (6, 6, 0, False, False, BAD),
        (9, 0, 0, False, False, BAD),
        (-1, 0, 0, False, False, BAD),
        # App signatures are no longer accepted for mainland China.
        (1, 4, 0, False, False, BAD),
        # Unknown / discontinued documents, and documents that do not fit the type.
        (0, 5, 0, False, False, BAD_DOCUMENT),
        (0, 8, 0, False, False, BAD_DOCUMENT),
        (0, 7, 0, False, False, BAD_DOCUMENT),
        (4, 1, 0, False, False, BAD_DOCUMENT),
        (5, 0, 0, False, False, BAD_DOCUMENT),
        (1, 7, 0, True, False, BAD_DOCUMENT),
        # Purpose must be 0 or 1; "for others" needs the power-of-attorney image.
        (0, 1, 2, False, False, BAD_PURPOSE),
        (0, 1, -1, False, True, BAD_PURPOSE),
        (0, 1, 1, False, False, MISSING),
    ],
)
def test_rejected_applications(
    sign_type: int,
    document_type: int,
    purpose: int,
    international: bool,
    commission: bool,
    code: str,
) -> None:
    with pytest.raises(RuleViolation) as caught:
        validate_sign_application(
            sign_type,
            document_type,
            purpose,
            international=international,
            has_commission_image=commission,
        )
    assert caught.value.code == code


def test_for_others_with_commission_image_is_accepted() -> None:
    validate_sign_application(0, 1, 1, international=False, has_commission_image=True)


@given(
    sign_type=st.integers(-2, 10),
    document_type=st.integers(-2, 10),
    purpose=st.integers(-2, 3),
    international=st.booleans(),
)
def test_only_documented_combinations_pass(
    sign_type: int, document_type: int, purpose: int, international: bool
) -> None:
    allowed_docs = {0: {0, 1}, 1: {0, 1, 2, 3, 4}, 4: {7}, 5: {2, 3}}
    expected_ok = (
        sign_type in allowed_docs
        and (international or sign_type != 1)
        and document_type in allowed_docs[sign_type]
        and purpose in (0, 1)
    )
    try:
        validate_sign_application(
            sign_type,
            document_type,
            purpose,
            international=international,
            has_commission_image=True,
        )
    except RuleViolation:
        assert not expected_ok
    else:
        assert expected_ok


@pytest.mark.parametrize(
    ("individual", "international", "offered"),
    [
        (False, False, [SignType.COMPANY, SignType.TRADEMARK, SignType.GOVERNMENT]),
        (False, True, [SignType.COMPANY, SignType.APP, SignType.TRADEMARK, SignType.GOVERNMENT]),
        (True, False, [SignType.TRADEMARK, SignType.GOVERNMENT]),
        (True, True, [SignType.APP, SignType.TRADEMARK, SignType.GOVERNMENT]),
    ],
)
def test_offered_sign_types(individual: bool, international: bool, offered: list[SignType]) -> None:
    assert offered_sign_types(individual=individual, international=international) == offered
    # Whatever is offered passes the application rules with a document that proves it.
    for kind in offered:
        document = min(ALLOWED_DOCUMENTS[kind])
        validate_sign_application(
            int(kind), int(document), 0, international=international, has_commission_image=False
        )
