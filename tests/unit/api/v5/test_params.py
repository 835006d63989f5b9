from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.api.v5.params import BAD_BODY, Fields, V5Error
from smscloud.domain.integers import INT64_MAX
from tests.support.hostile import JSON, VALUES


def refused(fn: Any) -> str:
    with pytest.raises(V5Error) as info:
        fn()
    assert info.value.result == BAD_BODY
    return info.value.errmsg


def test_fields_read_as_the_v5_docs_type_them() -> None:
    body = Fields({"sign": "s", "tpl_id": 12, "tel": {"mobile": 138}, "params": ["a", 1]})
    assert (body.text("sign"), body.text("tpl_id"), body.integer("tpl_id")) == ("s", "12", 12)
    assert body.object("tel").text("mobile") == "138"
    assert body.texts("params") == ["a", "1"]
    assert (body.text("ext"), body.integer("type", 0), body.texts("none")) == ("", 0, [])
    assert body.object("tpl_page", optional=True).integer("max", 50) == 50
    assert Fields({"ids": 3}).ids("ids") == [3] and Fields({"ids": [1, 2]}).ids("ids") == [1, 2]


def test_what_no_service_can_take_is_result_1004() -> None:
    bad = Fields({"n": 2**63, "neg": -1, "flag": True, "nul": "a\x00", "tel": [1], "ids": []})
    assert refused(lambda: bad.integer("n")) == f"n must be from 0 to {INT64_MAX}"
    assert refused(lambda: bad.integer("neg"))
    assert refused(lambda: bad.integer("flag")) == "flag must be an integer"
    assert refused(lambda: bad.text("nul"))
    assert refused(lambda: bad.object("tel")) == "tel must be an object"
    assert refused(lambda: bad.first_id("ids")) == "ids must be an id"
    assert refused(lambda: Fields({"tel": {}}).object("tel").text("mobile", required=True)) == (
        "tel.mobile is required"
    )
    assert refused(lambda: Fields({"p": ["a", None]}).texts("p")) == "p.1 is required"


READERS = ["text", "integer", "texts", "ids", "first_id", "object", "objects"]


@given(value=VALUES | JSON, reader=st.sampled_from(READERS))
def test_every_reader_returns_its_type_or_result_1004(value: Any, reader: str) -> None:
    try:
        out = getattr(Fields({"x": value}), reader)("x")
    except V5Error as exc:
        assert exc.result == BAD_BODY
        return
    if reader == "text":
        assert isinstance(out, str) and "\x00" not in out
    elif reader in ("integer", "first_id"):
        assert type(out) is int and 0 <= out <= INT64_MAX
    elif reader == "texts":
        assert all(isinstance(v, str) and "\x00" not in v for v in out)
    elif reader == "ids":
        assert all(type(v) is int and 0 <= v <= INT64_MAX for v in out)
    elif reader == "object":
        assert isinstance(out, Fields)
    else:
        assert all(isinstance(v, Fields) for v in out)
