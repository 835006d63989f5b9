"""A carrier's MO source address read by TON/NPI (``carriers.smpp.addresses``), and the
national-number reading it rests on (``domain.phone.national_e164``)."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.carriers.smpp.addresses import (
    TON_ABBREVIATED,
    TON_ALPHANUMERIC,
    TON_INTERNATIONAL,
    TON_NATIONAL,
    TON_NETWORK_SPECIFIC,
    TON_SUBSCRIBER,
    TON_UNKNOWN,
    handset_number,
)
from smscloud.domain.phone import is_calling_code, national_e164

ISDN, NATIONAL_PLAN, UNKNOWN_PLAN = 1, 8, 0
CN, GB = "86", "44"

# (address, TON, NPI, carrier's country, expected)
TABLE = [
    # TON 1 international: country code and number.
    ("8613800138004", TON_INTERNATIONAL, ISDN, CN, "+8613800138004"),
    ("+8613800138004", TON_INTERNATIONAL, ISDN, CN, "+8613800138004"),
    ("008613800138004", TON_INTERNATIONAL, ISDN, CN, "+8613800138004"),
    ("447781123456", TON_INTERNATIONAL, ISDN, CN, "+447781123456"),
    ("13800138004", TON_INTERNATIONAL, ISDN, CN, "+13800138004"),  # as the carrier says
    # TON 2 national: the carrier's country, trunk prefix dropped.
    ("13800138004", TON_NATIONAL, ISDN, CN, "+8613800138004"),
    ("13800138004", TON_NATIONAL, NATIONAL_PLAN, CN, "+8613800138004"),
    ("13800138004", TON_NATIONAL, UNKNOWN_PLAN, CN, "+8613800138004"),
    ("01012345678", TON_NATIONAL, ISDN, CN, "+861012345678"),  # Beijing landline, trunk 0
    ("07781123456", TON_NATIONAL, ISDN, GB, "+447781123456"),
    ("7781123456", TON_NATIONAL, ISDN, GB, "+447781123456"),
    ("2025550123", TON_NATIONAL, ISDN, "1", "+12025550123"),
    ("3123456789", TON_NATIONAL, ISDN, "39", "+393123456789"),  # Italy has no trunk prefix
    ("0612345678", TON_NATIONAL, ISDN, "33", "+33612345678"),
    ("8613800138004", TON_NATIONAL, ISDN, CN, "+8613800138004"),  # country code written
    ("+447781123456", TON_NATIONAL, ISDN, CN, "+447781123456"),  # an explicit + wins
    ("13800138004", TON_SUBSCRIBER, ISDN, CN, "+8613800138004"),
    # TON 0 unknown: + or 00 international; a valid national number; else international.
    ("+8613800138004", TON_UNKNOWN, UNKNOWN_PLAN, CN, "+8613800138004"),
    ("008613800138004", TON_UNKNOWN, UNKNOWN_PLAN, CN, "+8613800138004"),
    ("13800138004", TON_UNKNOWN, UNKNOWN_PLAN, CN, "+8613800138004"),
    ("8613800138004", TON_UNKNOWN, UNKNOWN_PLAN, CN, "+8613800138004"),
    ("447781123456", TON_UNKNOWN, UNKNOWN_PLAN, CN, "+447781123456"),
    ("07781123456", TON_UNKNOWN, ISDN, GB, "+447781123456"),
    ("01012345678", TON_UNKNOWN, ISDN, CN, "+861012345678"),
    ("447781123456", TON_UNKNOWN, ISDN, GB, "+447781123456"),
    ("13800138004", 7, ISDN, CN, "+8613800138004"),  # a reserved TON reads as unknown
    # Not phone numbers: kept as written.
    ("Alipay", TON_ALPHANUMERIC, UNKNOWN_PLAN, CN, "Alipay"),
    ("10086", TON_ALPHANUMERIC, UNKNOWN_PLAN, CN, "10086"),
    ("10086", TON_NETWORK_SPECIFIC, UNKNOWN_PLAN, CN, "10086"),
    ("95588", TON_ABBREVIATED, ISDN, CN, "95588"),
    ("13800138004", TON_NATIONAL, 9, CN, "13800138004"),  # private plan
    ("13800138004", TON_INTERNATIONAL, 14, CN, "13800138004"),  # internet (IP) plan
    ("user@example", TON_UNKNOWN, UNKNOWN_PLAN, CN, "user@example"),
    ("138-0013-8004", TON_NATIONAL, ISDN, CN, "138-0013-8004"),
    ("١٣٨٠٠١٣٨٠٠٤", TON_NATIONAL, ISDN, CN, "١٣٨٠٠١٣٨٠٠٤"),  # digits, but not ASCII
    ("", TON_UNKNOWN, UNKNOWN_PLAN, CN, ""),
    ("+", TON_INTERNATIONAL, ISDN, CN, "+"),
    ("000", TON_INTERNATIONAL, ISDN, CN, "000"),
    ("1", TON_NATIONAL, ISDN, CN, "1"),  # too short to read
]


@pytest.mark.parametrize(("address", "ton", "npi", "country", "expected"), TABLE)
def test_addresses_read_by_ton_and_npi(
    address: str, ton: int, npi: int, country: str, expected: str
) -> None:
    assert handset_number(address, ton, npi, country) == expected


def _example_nationals() -> list[tuple[str, str, str]]:
    """(national digits with trunk prefix, calling code, E.164) of every region's example
    mobile number."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if number is None:
            continue
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = "".join(c for c in national if c.isdigit())
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        out.append((digits, str(number.country_code), e164))
    return out


def test_every_regions_national_mobile_reads_back_to_its_e164() -> None:
    examples = _example_nationals()
    assert len(examples) > 240
    wrong = [
        (digits, code, e164, got)
        for digits, code, e164 in examples
        if (got := handset_number(digits, TON_NATIONAL, ISDN, code)) != e164
    ]
    assert wrong == []
    # Unknown TON agrees for numbers valid in the carrier's country.
    wrong = [
        (digits, code, e164)
        for digits, code, e164 in examples
        if handset_number(digits, TON_UNKNOWN, UNKNOWN_PLAN, code) != e164
    ]
    assert wrong == []


def test_calling_codes() -> None:
    assert all(is_calling_code(c) for c in ("1", "7", "44", "86", "852", "886"))
    assert not any(is_calling_code(c) for c in ("", "0", "086", "999", "+86", "86a", "٨٦"))
    assert national_e164("13800138004", "999") is None
    assert national_e164("abc", CN) is None


CODES = st.sampled_from(["1", "7", "33", "39", "44", "49", "60", "81", "86", "852", "886"])
ANY_TON = st.integers(min_value=0, max_value=255)
ANY_NPI = st.integers(min_value=0, max_value=255)
SIGNIFICANT = st.from_regex(r"[1-9][0-9]{0,14}", fullmatch=True)


@given(address=st.text(max_size=24), ton=ANY_TON, npi=ANY_NPI, country=CODES)
def test_any_address_reads_as_e164_or_stays_as_written(
    address: str, ton: int, npi: int, country: str
) -> None:
    got = handset_number(address, ton, npi, country)
    assert got == address or re.fullmatch(r"\+[1-9][0-9]*", got)


@given(digits=SIGNIFICANT, npi=st.sampled_from([0, 1, 8]), country=CODES)
def test_international_forms_agree(digits: str, npi: int, country: str) -> None:
    expected = "+" + digits
    assert handset_number(digits, TON_INTERNATIONAL, npi, country) == expected
    for written in ("+" + digits, "00" + digits):
        for ton in (TON_INTERNATIONAL, TON_UNKNOWN, TON_NATIONAL):
            assert handset_number(written, ton, npi, country) == expected


@given(subscriber=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mainland_mobiles_read_alike_in_every_form(subscriber: str) -> None:
    e164 = "+86" + subscriber
    valid = phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert handset_number(subscriber, TON_NATIONAL, ISDN, CN) == e164
    assert handset_number("86" + subscriber, TON_INTERNATIONAL, ISDN, CN) == e164
    assert handset_number("0086" + subscriber, TON_UNKNOWN, UNKNOWN_PLAN, CN) == e164
    # A number not valid in China reads, with unknown TON, as international as written.
    unknown = handset_number(subscriber, TON_UNKNOWN, UNKNOWN_PLAN, CN)
    assert unknown == (e164 if valid else "+" + subscriber)


@given(address=st.text(max_size=24), npi=ANY_NPI, country=CODES)
def test_names_and_short_codes_are_kept(address: str, npi: int, country: str) -> None:
    for ton in (TON_ALPHANUMERIC, TON_NETWORK_SPECIFIC, TON_ABBREVIATED):
        assert handset_number(address, ton, npi, country) == address
