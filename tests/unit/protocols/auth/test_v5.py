"""Legacy v5 ``sig``: the legacy v5 API pages' example values (sendsms, sendisms...)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.protocols.auth.v5 import v5_sig, verify_v5

APPKEY = "5f03a35d00ee52a21327ab048186a2c4"
RANDOM = "7226249334"
TIME = 1457336869
SINGLE = "ecab4881ee80ad3d76bb1da68387428ca752eb885e52621a3129dcf4d9bc4fd4"
MULTI = "be66bb4aeb54701ed0637d0996a0b75111d5b8eda9b3a71bdc579a3d26f3edfb"
NONE = "c13e54f047ed75e821e698730c72d030dc30e5b510b3f8a0fb6fb7605283d7df"
TEL = "f272b136949f9e6faa5fae01cfc240caf5e6d89f2e18e8d47adf3d87ea0715fb"


@pytest.mark.parametrize(
    ("mobiles", "tel", "expected"),
    [
        (["13788888888"], None, SINGLE),
        (("13788888888", "13788888889"), None, MULTI),
        (None, None, NONE),
        (None, "+8613788888888", TEL),
    ],
)
def test_documented_vectors(mobiles: Sequence[str] | None, tel: str | None, expected: str) -> None:
    assert v5_sig(APPKEY, RANDOM, TIME, mobiles=mobiles, tel=tel) == expected
    assert verify_v5(expected, APPKEY, RANDOM, TIME, mobiles=mobiles, tel=tel)
    assert verify_v5(expected.upper(), APPKEY, RANDOM, TIME, mobiles=mobiles, tel=tel)


def test_formula_is_plain_sha256() -> None:
    text = f"appkey={APPKEY}&random={RANDOM}&time={TIME}&mobile=13788888888"
    assert hashlib.sha256(text.encode()).hexdigest() == SINGLE


def test_sendisms_doc_sample_is_the_single_mobile_value_not_the_tel_one() -> None:
    # Legacy v5 API, sendisms: the doc prints SINGLE for the tel case — a doc error; TEL is right.
    assert not verify_v5(SINGLE, APPKEY, RANDOM, TIME, tel="+8613788888888")


def test_mobile_order_and_each_input_matter() -> None:
    assert v5_sig(APPKEY, RANDOM, TIME, mobiles=["13788888889", "13788888888"]) != MULTI
    assert not verify_v5(SINGLE, APPKEY, RANDOM, TIME + 1, mobiles=["13788888888"])
    assert not verify_v5(SINGLE, APPKEY, "7226249335", TIME, mobiles=["13788888888"])
    assert not verify_v5(SINGLE, APPKEY[:-1] + "5", RANDOM, TIME, mobiles=["13788888888"])
    assert not verify_v5(SINGLE, APPKEY, RANDOM, TIME)  # the pull-style sig differs


@pytest.mark.parametrize("sig", ["", SINGLE[:-1], SINGLE + "0", "é" * 64, " " + SINGLE])
def test_verify_rejects_malformed(sig: str) -> None:
    assert verify_v5(sig, APPKEY, RANDOM, TIME, mobiles=["13788888888"]) is False


def test_argument_errors() -> None:
    with pytest.raises(ValueError):
        v5_sig(APPKEY, RANDOM, TIME, mobiles=["1"], tel="+861")
    with pytest.raises(TypeError):
        v5_sig(APPKEY, RANDOM, TIME, mobiles="13788888888")


@given(
    appkey=st.text(),
    random=st.text(),
    time=st.integers(0, 2**40),
    mobiles=st.lists(st.from_regex(r"[0-9]{1,15}", fullmatch=True), max_size=5),
)
def test_round_trip(appkey: str, random: str, time: int, mobiles: list[str]) -> None:
    sig = v5_sig(appkey, random, time, mobiles=mobiles)
    assert len(sig) == 64 and sig == sig.lower()
    assert verify_v5(sig, appkey, random, time, mobiles=mobiles)
    assert not verify_v5(sig, appkey, random, time + 1, mobiles=mobiles)
