from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.api.tc3.params import Params
from smscloud.domain.errors import RuleViolation
from smscloud.domain.integers import INT64_MAX
from tests.support.hostile import JSON, VALUES

PARAMETER_ERRORS = {"InvalidParameter", "InvalidParameterValue", "MissingParameter"}


def code(fn: object) -> str:
    with pytest.raises(RuleViolation) as info:
        fn()  # type: ignore[operator]
    return info.value.code


def test_json_types_are_read_as_declared() -> None:
    p = Params({"A": "x", "N": 3, "L": ["1", 2], "I": [1, "2"], "O": [{"K": "v"}]}, lenient=False)
    assert (p.text("A"), p.integer("N"), p.texts("L"), p.integers("I")) == (
        "x",
        3,
        ["1", "2"],
        [1, 2],
    )
    assert p.objects("O")[0].text("K") == "v"
    assert (p.text("Missing", default="d"), p.integer("Missing", default=7)) == ("d", 7)


def test_missing_and_mistyped_parameters() -> None:
    p = Params({"A": 1.5, "B": True, "L": "not a list", "M": [None]}, lenient=False)
    assert code(lambda: p.text("X", required=True)) == "MissingParameter"
    assert code(lambda: p.texts("X", required=True)) == "MissingParameter"
    assert code(lambda: p.integer("B")) == "InvalidParameter"
    assert code(lambda: p.integer("A")) == "InvalidParameter"
    assert code(lambda: p.texts("L")) == "InvalidParameter"
    assert code(lambda: p.texts("M")) == "InvalidParameter"
    assert code(lambda: p.text("A")) == "InvalidParameter"


def test_query_strings_carry_integers_as_text() -> None:
    p = Params({"Limit": "100", "Neg": "-1", "Bad": "1e3"}, lenient=True)
    assert p.integer("Limit") == 100
    assert code(lambda: p.integer("Neg")) == "InvalidParameterValue"  # Integer(uint64)
    assert code(lambda: p.integer("Bad")) == "InvalidParameter"
    assert Params({"N": 5}, lenient=True).text("N") == "5"


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("²", "InvalidParameter"),  # str.isdigit() says yes, int() says no
        ("١٢", "InvalidParameter"),  # int() says 12: no client means that
        ("1_000", "InvalidParameter"),
        ("+1", "InvalidParameter"),
        ("--1", "InvalidParameter"),
        ("9" * 5000, "InvalidParameterValue"),  # more digits than int() converts
        (2**63, "InvalidParameterValue"),  # no store holds it
        (str(2**63), "InvalidParameterValue"),
        (-1, "InvalidParameterValue"),
        (True, "InvalidParameter"),
        (1.0, "InvalidParameter"),
    ],
)
def test_integers_are_ascii_digits_the_store_can_hold(value: Any, error: str) -> None:
    for lenient in (False, True):
        p = Params({"SignId": value, "Ids": [value]}, lenient=lenient)
        assert code(lambda p=p: p.integer("SignId")) == error
        assert code(lambda p=p: p.integers("Ids")) == error
    edge = Params({"A": INT64_MAX, "B": str(INT64_MAX), "C": " 7 "}, lenient=True)
    assert (edge.integer("A"), edge.integer("B"), edge.integer("C")) == (INT64_MAX,) * 2 + (7,)


def test_text_with_nul_is_refused() -> None:
    p = Params({"SignName": "a\x00b", "Set": ["ok", "\x00"]}, lenient=False)
    assert code(lambda: p.text("SignName")) == "InvalidParameterValue"
    assert code(lambda: p.texts("Set")) == "InvalidParameterValue"


READERS = ["text", "integer", "texts", "integers", "objects"]


@given(
    value=VALUES | JSON,
    reader=st.sampled_from(READERS),
    lenient=st.booleans(),
    required=st.booleans(),
)
def test_every_reader_returns_its_type_or_a_parameter_error(
    value: Any, reader: str, lenient: bool, required: bool
) -> None:
    p = Params({"X": value}, lenient=lenient)
    kwargs = {"required": required} if reader != "integers" else {}
    try:
        out = getattr(p, reader)("X", **kwargs)
    except RuleViolation as exc:
        assert exc.code in PARAMETER_ERRORS
        return
    if reader == "text":
        assert isinstance(out, str) and "\x00" not in out
    elif reader == "integer":
        assert type(out) is int and 0 <= out <= INT64_MAX
    elif reader == "texts":
        assert all(isinstance(v, str) and "\x00" not in v for v in out)
    elif reader == "integers":
        assert all(type(v) is int and 0 <= v <= INT64_MAX for v in out)
    else:
        assert all(isinstance(v, Params) for v in out)
