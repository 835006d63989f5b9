from __future__ import annotations

import pytest

from smscloud.api.params import Params
from smscloud.domain.errors import RuleViolation


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
    assert (p.integer("Limit"), p.integer("Neg")) == (100, -1)
    assert code(lambda: p.integer("Bad")) == "InvalidParameter"
    assert Params({"N": 5}, lenient=True).text("N") == "5"
