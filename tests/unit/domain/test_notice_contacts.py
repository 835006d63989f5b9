"""Verification codes of notification contacts: format, expiry, attempts, hashing; addresses."""

from __future__ import annotations

import pytest

from smscloud.domain.notice_contacts import (
    CODE_DIGITS,
    CODE_LIFETIME,
    EMAIL,
    MAX_ATTEMPTS,
    SMS,
    CodeCheck,
    PendingCode,
    check_code,
    code_hash,
    new_code,
    new_salt,
    normalise_address,
)

SENT = 1_700_000_000.0


def pending(code: str = "123456", attempts: int = 0, salt: str = "a1b2") -> PendingCode:
    return PendingCode(code_hash(code, salt), salt, SENT + CODE_LIFETIME, attempts)


def test_new_codes_are_six_digits() -> None:
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == CODE_DIGITS and c.isdigit() for c in codes)
    assert len(codes) > 150  # random, not a counter


def test_the_stored_form_is_not_the_code_and_depends_on_the_salt() -> None:
    salt = new_salt()
    digest = code_hash("123456", salt)
    assert "123456" not in digest and len(digest) == 64
    assert digest != code_hash("123456", new_salt())
    assert digest == code_hash("123456", salt)


def test_the_right_code_before_expiry_is_ok() -> None:
    assert check_code(pending(), "123456", SENT) is CodeCheck.OK
    assert check_code(pending(), " 123456 ", SENT + CODE_LIFETIME - 0.001) is CodeCheck.OK


def test_a_wrong_code_is_wrong() -> None:
    assert check_code(pending(), "123457", SENT) is CodeCheck.WRONG


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "１２３４５６"])
def test_not_six_ascii_digits_is_malformed(typed: str) -> None:
    assert check_code(pending(), typed, SENT) is CodeCheck.MALFORMED


def test_a_code_expires() -> None:
    assert check_code(pending(), "123456", SENT + CODE_LIFETIME) is CodeCheck.EXPIRED
    assert check_code(pending(), "000000", SENT + CODE_LIFETIME + 1) is CodeCheck.EXPIRED


def test_attempts_are_limited_even_for_the_right_code() -> None:
    assert check_code(pending(attempts=MAX_ATTEMPTS - 1), "123456", SENT) is CodeCheck.OK
    spent = pending(attempts=MAX_ATTEMPTS)
    assert check_code(spent, "123456", SENT) is CodeCheck.EXHAUSTED
    assert check_code(spent, "000000", SENT) is CodeCheck.EXHAUSTED


@pytest.mark.parametrize(
    ("channel", "raw", "stored"),
    [
        (EMAIL, " Ops@Example.COM ", "ops@example.com"),
        (EMAIL, "no-at-sign", None),
        (EMAIL, "two@@example.com", None),
        (EMAIL, "a@b", None),
        (SMS, "13800138000", "+8613800138000"),
        (SMS, "+44 7911 123456", "+447911123456"),
        (SMS, "12345", None),
        (SMS, "ops@example.com", None),
        ("fax", "13800138000", None),
    ],
)
def test_addresses(channel: str, raw: str, stored: str | None) -> None:
    assert normalise_address(channel, raw) == stored
