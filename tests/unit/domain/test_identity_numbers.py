"""The checksums of the mainland ID card number (GB 11643) and the credit code (GB 32100)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.identity_numbers import (
    USCC_CHARS,
    id_card_check,
    uscc_check,
    valid_id_card,
    valid_uscc,
)

DIGITS = "0123456789"


def test_known_id_card_numbers() -> None:
    # The standard's own example and two computed by hand with weights 2^(17-i) mod 11.
    assert valid_id_card("11010519491231002X")
    assert valid_id_card("11010519491231002x")  # a lower-case x is read as X
    assert valid_id_card("440304199001011233")
    assert id_card_check("11010519491231002") == "X"
    assert not valid_id_card("110105194912310021")  # wrong check character
    assert not valid_id_card("11010519491331002X")  # month 13
    assert not valid_id_card("11010519491231002")  # 17 characters
    assert not valid_id_card("1101051949123100X2")  # X only at the end
    assert not valid_id_card("")


def test_known_credit_codes() -> None:
    # The example printed in GB 32100-2015 and one computed with weights 3^i mod 31.
    assert valid_uscc("91350100M000100Y43")
    assert valid_uscc("91110000100000000R")
    assert uscc_check("91350100M000100Y4") == "3"
    assert not valid_uscc("91350100M000100Y44")
    assert not valid_uscc("91350100M000100Y4")  # 17 characters
    assert not valid_uscc("91350100I000100Y43")  # I is not in the alphabet
    assert not valid_uscc("")


@st.composite
def id_cards(draw: st.DrawFn) -> str:
    region = draw(st.text(DIGITS, min_size=6, max_size=6))
    born = draw(st.dates(date(1900, 1, 1), date(2099, 12, 31)))
    serial = draw(st.text(DIGITS, min_size=3, max_size=3))
    first17 = f"{region}{born:%Y%m%d}{serial}"
    return first17 + id_card_check(first17)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    first17 = draw(st.text(USCC_CHARS, min_size=17, max_size=17))
    return first17 + uscc_check(first17)


@given(id_cards(), st.integers(0, 17), st.sampled_from(DIGITS + "X"))
def test_an_id_card_number_with_one_character_changed_is_refused(
    number: str, at: int, new: str
) -> None:
    assert valid_id_card(number)
    changed = number[:at] + new + number[at + 1 :]
    if changed != number:
        assert not valid_id_card(changed)


@given(credit_codes(), st.integers(0, 17), st.sampled_from(USCC_CHARS))
def test_a_credit_code_with_one_character_changed_is_refused(code: str, at: int, new: str) -> None:
    assert valid_uscc(code)
    changed = code[:at] + new + code[at + 1 :]
    if changed != code:
        assert not valid_uscc(changed)
