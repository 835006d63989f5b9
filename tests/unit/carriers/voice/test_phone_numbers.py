"""The simulated phones' magic numbers: which number does what, and what the platform records."""

from __future__ import annotations

import re

import pytest

from smscloud.carriers.magic import MAGIC, REFUSE_SUFFIX, REPLY_SUFFIX
from smscloud.carriers.voice import phone_numbers
from smscloud.carriers.voice.phone_numbers import (
    DEFAULT_PHONE,
    NO_RESPONSE,
    PHONES,
    Behaviour,
    phone_for,
    suffix_of,
)
from smscloud.domain.voice_failures import (
    NO_ANSWER,
    NUMBER_DOES_NOT_EXIST,
    UNREACHABLE,
    USER_BUSY,
    Failure,
)

B = Behaviour


@pytest.mark.parametrize(
    ("number", "behaviour", "status", "failure"),
    [
        ("+8613800000001", B.BUSY, 486, USER_BUSY),
        ("+8613800000002", B.NO_ANSWER, 487, NO_ANSWER),
        ("+8613800000003", B.NOT_FOUND, 404, NUMBER_DOES_NOT_EXIST),
        ("+8613800000006", B.HANG_UP, 200, None),
        ("+8613800000008", B.PRESS_KEY, 200, None),
        ("+8613800000009", B.UNREACHABLE, NO_RESPONSE, UNREACHABLE),
        ("+8613800138000", B.ANSWER, 200, None),
    ],
)
def test_each_number_and_the_failure_the_platform_records(
    number: str, behaviour: Behaviour, status: int, failure: Failure | None
) -> None:
    phone = phone_for(number)
    assert (phone.behaviour, phone.final_status, phone.failure) == (behaviour, status, failure)


def test_only_digits_count_and_only_the_last_seven() -> None:
    for number in ("13800000001", "+86 138-0000-0001", "8613800000001", "0000001"):
        assert suffix_of(number) == "0000001"
        assert phone_for(number).behaviour is B.BUSY
    assert suffix_of("+86 (10) 1234") == "6101234"
    assert phone_for("100000001").behaviour is B.BUSY  # ...0000001 all the same
    assert phone_for("10000001").behaviour is B.BUSY


def test_short_numbers_and_names_answer() -> None:
    for number in ("", "1", "000001", "alice", "caller"):
        assert phone_for(number) is DEFAULT_PHONE
    assert suffix_of("000001") == "000001"


def test_the_sms_only_magic_numbers_answer_a_call() -> None:
    sms_only = {*MAGIC, REFUSE_SUFFIX, REPLY_SUFFIX} - set(PHONES)
    assert sms_only == {"0000004", "0000005", "0000007"}
    for suffix in sms_only:
        assert phone_for("+86138" + suffix) is DEFAULT_PHONE


def test_what_each_phone_sends() -> None:
    busy, not_found = PHONES["0000001"], PHONES["0000003"]
    assert (busy.reject, not_found.reject) == (486, 404)
    assert all(p.reject is None for p in PHONES.values() if p not in (busy, not_found))
    answering = {s for s, p in PHONES.items() if p.answers}
    assert answering == {"0000006", "0000008"} and DEFAULT_PHONE.answers
    assert PHONES["0000006"].hang_up_after == 2.0
    assert (PHONES["0000008"].key, PHONES["0000008"].key_after) == ("1", 1.0)
    assert [s for s, p in PHONES.items() if not p.responds] == ["0000009"]


def test_the_module_docstring_table_matches_the_phones() -> None:
    doc = phone_numbers.__doc__ or ""
    lines = [line for line in doc.splitlines() if re.match(r"0{6}[0-9]  ", line)]
    rows = [re.split(r" {2,}", line) for line in lines]  # suffix, phone, INVITE, failure
    assert [row[0] for row in rows] == list(PHONES)
    for suffix, _, status, failure in rows:
        phone = PHONES[suffix]
        assert status == ("none" if not phone.responds else str(phone.final_status))
        if phone.failure is None:
            assert failure.startswith("none")
        else:
            assert failure == f"{phone.failure.english} ({phone.failure.code})"
