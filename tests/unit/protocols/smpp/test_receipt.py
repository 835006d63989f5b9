"""Delivery receipt text (SMPP 3.4 Appendix B) and message states."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.smpp import (
    MessageState,
    Receipt,
    format_receipt,
    parse_receipt,
    same_message_id,
)
from smscloud.protocols.smpp.receipt import _parse_any, is_final, stat_word, state_from_stat

APPENDIX_B = (
    "id:IIIIIIIIII sub:001 dlvrd:001 submit date:0610191018 done date:0610191018 "
    "stat:DELIVRD err:000 text:Hello world"
)


def test_canonical() -> None:
    r = parse_receipt(APPENDIX_B)
    assert r == Receipt(
        id="IIIIIIIIII",
        stat="DELIVRD",
        sub=1,
        dlvrd=1,
        submit_date=datetime(2006, 10, 19, 10, 18),
        done_date=datetime(2006, 10, 19, 10, 18),
        err="000",
        text="Hello world",
    )
    assert r.state is MessageState.DELIVERED
    assert format_receipt(r) == APPENDIX_B


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
def test_dates_are_written_as_strftime_writes_them(when: datetime) -> None:
    r = Receipt(id="1", stat="DELIVRD", submit_date=when, done_date=when)
    stamp = when.strftime("%y%m%d%H%M")
    assert f"submit date:{stamp} done date:{stamp} " in format_receipt(r)


def test_lower_case_bytes_no_text_12_digit_dates() -> None:
    r = parse_receipt(
        b"id:0A1B2C3D sub:001 dlvrd:000 submit date:240101120000 "
        b"done date:240101120530 stat:undeliv err:034"
    )
    assert r is not None
    assert r.stat == "UNDELIV" and r.state is MessageState.UNDELIVERABLE
    assert r.done_date == datetime(2024, 1, 1, 12, 5, 30)
    assert r.text is None and r.err == "034"


def test_upper_keys_missing_fields_and_junk_dates() -> None:
    r = parse_receipt("ID:123456 STAT:EXPIRED SUBMIT DATE:99 TEXT:a: b: c")
    assert r is not None
    assert (r.id, r.state, r.submit_date, r.sub) == ("123456", MessageState.EXPIRED, None, None)
    assert r.text == "a: b: c"


def test_underscore_keys() -> None:
    r = parse_receipt("id:7 submit_date:2401011200 done_date:2401011201 stat:REJECTD")
    assert r is not None and r.done_date == datetime(2024, 1, 1, 12, 1)
    assert r.state is MessageState.REJECTED


@pytest.mark.parametrize("text", ["", "hello there", "stat:DELIVRD", "id: stat:DELIVRD"])
def test_not_a_receipt(text: str) -> None:
    assert parse_receipt(text) is None


@given(st.text())
def test_parser_never_raises(text: str) -> None:
    parse_receipt(text)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("0A1B2C3D", "169552957", True),  # hex resp, decimal receipt
        ("169552957", "0a1b2c3d", True),
        ("00042", "42", True),
        ("abc", "ABC", True),
        ("42", "43", False),
        ("msg-1", "msg-2", False),
    ],
)
def test_same_message_id(a: str, b: str, same: bool) -> None:
    assert same_message_id(a, b) is same


def test_states() -> None:
    words = ["DELIVRD", "EXPIRED", "DELETED", "UNDELIV", "ACCEPTD", "UNKNOWN", "REJECTD"]
    assert [state_from_stat(w) for w in words] == list(range(2, 9))
    assert all(is_final(state_from_stat(w)) for w in words)
    assert not is_final(MessageState.ENROUTE)
    assert not is_final(0) and not is_final(9)
    assert state_from_stat("bogus") is MessageState.UNKNOWN
    assert [stat_word(s) for s in MessageState][1:] == words


LATIN1 = st.characters(blacklist_categories=("Cs",), max_codepoint=0xFF)
SOLID = st.characters(blacklist_categories=("Cs", "Zs", "Cc"), max_codepoint=0xFF)
# Mostly what the one-match layout takes (no white space, err of 3), sometimes anything.
WORD = st.one_of(st.text(SOLID, min_size=1, max_size=12), st.text(LATIN1, max_size=12))
ERR = st.one_of(st.text(SOLID, min_size=3, max_size=3), st.text(LATIN1, max_size=5))


@given(
    rid=WORD,
    sub=st.text("0123456789", min_size=3, max_size=3),
    dlvrd=st.one_of(st.just("001"), st.text("0123456789 ", min_size=3, max_size=3)),
    submitted=st.text("0123456789", min_size=10, max_size=10),
    done=st.one_of(st.just("2612060255"), st.text("0123456789a", min_size=10, max_size=10)),
    stat=st.sampled_from(["DELIVRD", "UNDELIV", "EXPIRED", "deliVRD", "REJECTD", "UNKNOWN"]),
    err=ERR,
    tail=st.text(LATIN1),
)
def test_the_one_match_layout_reads_as_the_general_reader_does(
    rid: str, sub: str, dlvrd: str, submitted: str, done: str, stat: str, err: str, tail: str
) -> None:
    """Appendix B's exact layout is read with one regular expression; for it, and for every
    near miss that falls back, the result is the general reader's."""
    text = (
        f"id:{rid} sub:{sub} dlvrd:{dlvrd} submit date:{submitted} done date:{done} "
        f"stat:{stat} err:{err} text:{tail}"
    )
    assert parse_receipt(text) == _parse_any(text)
    assert parse_receipt(text.encode("latin-1")) == _parse_any(text)
