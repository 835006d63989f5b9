"""Form/query flattening (Tencent Cloud API 3.0: request structure), checked against the SDK."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tencentcloud.common import credential
from tencentcloud.sms.v20210111 import models, sms_client

from smscloud.protocols.flat_params import COMMON_V1_PARAMS, MAX_DEPTH, flatten, unflatten


def test_flatten_example_from_the_brief() -> None:
    assert flatten({"PhoneNumberSet": ["+8613800000000"], "A": {"B": 1}}) == {
        "PhoneNumberSet.0": "+8613800000000",
        "A.B": "1",
    }


def test_flatten_scalars_like_the_sdk() -> None:
    # The SDK keeps scalars and urlencode()/"%s" call str() on them: True -> "True".
    assert flatten({"B": True, "F": False, "I": 0, "N": -5, "X": 1.5, "S": ""}) == {
        "B": "True",
        "F": "False",
        "I": "0",
        "N": "-5",
        "X": "1.5",
        "S": "",
    }


def test_flatten_drops_none_and_empty_containers() -> None:
    assert flatten({"A": None, "B": [], "C": {}, "D": [None, "x"], "E": {"F": None}}) == {
        "D.1": "x"
    }


def test_flatten_nested_lists_and_objects_and_order() -> None:
    obj = {
        "SendSmsInfoSet": [
            {"PhoneNumber": "+8613800000000", "TemplateParamSet": ["1", "2"]},
            {"PhoneNumber": "+8613800000001"},
        ],
        "Matrix": ((1, 2), [3]),
        "Limit": 10,
    }
    flat = flatten(obj)
    assert list(flat.items()) == [
        ("SendSmsInfoSet.0.PhoneNumber", "+8613800000000"),
        ("SendSmsInfoSet.0.TemplateParamSet.0", "1"),
        ("SendSmsInfoSet.0.TemplateParamSet.1", "2"),
        ("SendSmsInfoSet.1.PhoneNumber", "+8613800000001"),
        ("Matrix.0.0", "1"),
        ("Matrix.0.1", "2"),
        ("Matrix.1.0", "3"),
        ("Limit", "10"),
    ]
    assert unflatten(flat) == {
        "SendSmsInfoSet": [
            {"PhoneNumber": "+8613800000000", "TemplateParamSet": ["1", "2"]},
            {"PhoneNumber": "+8613800000001"},
        ],
        "Matrix": [["1", "2"], ["3"]],
        "Limit": "10",
    }


def test_flatten_strings_are_scalars_not_sequences() -> None:
    assert flatten({"SignName": "腾讯云"}) == {"SignName": "腾讯云"}


def test_flatten_collision_and_bytes_are_errors() -> None:
    with pytest.raises(ValueError, match=r"A\.B"):
        flatten({"A.B": "1", "A": {"B": "2"}})
    with pytest.raises(TypeError):
        flatten({"A": b"raw"})


def test_flatten_sdk_sendsms_request() -> None:
    req = models.SendSmsRequest()
    req.PhoneNumberSet = ["+8613800138000", "+8613800138001"]
    req.SmsSdkAppId = "1400006666"
    req.TemplateId = "1110"
    req.SignName = "腾讯云"
    req.TemplateParamSet = ["123456"]
    flat = flatten(req._serialize())
    assert flat == {
        "PhoneNumberSet.0": "+8613800138000",
        "PhoneNumberSet.1": "+8613800138001",
        "SmsSdkAppId": "1400006666",
        "TemplateId": "1110",
        "SignName": "腾讯云",
        "TemplateParamSet.0": "123456",
    }
    assert unflatten(flat) == req._serialize()


def test_common_v1_params() -> None:
    assert {
        "Action",
        "Version",
        "Region",
        "Timestamp",
        "Nonce",
        "SecretId",
        "SignatureMethod",
        "Signature",
        "Language",
        "RequestClient",
        "Token",
    } == COMMON_V1_PARAMS
    assert isinstance(COMMON_V1_PARAMS, frozenset)


# --- unflatten -------------------------------------------------------------------------------


def test_unflatten_basic() -> None:
    assert unflatten({}) == {}
    assert unflatten({"X.1": "b", "X.0": "a", "Y": "c"}) == {"X": ["a", "b"], "Y": "c"}
    assert unflatten({"X.0.Y": "1", "X.0.Z": "2", "X.1.Y": "3"}) == {
        "X": [{"Y": "1", "Z": "2"}, {"Y": "3"}]
    }
    assert unflatten({"A.B.C": "1"}) == {"A": {"B": {"C": "1"}}}
    # Values stay strings; the API layer coerces them.
    assert unflatten({"Limit": "10", "Flag": "True"}) == {"Limit": "10", "Flag": "True"}
    # Top level is always a mapping, so numeric names there are plain fields.
    assert unflatten({"0": "a", "2": "b"}) == {"0": "a", "2": "b"}


@pytest.mark.parametrize(
    "flat",
    [
        {"X.0": "a", "X.2": "c"},  # gap
        {"X.1": "b"},  # does not start at 0
        {"X.0": "a", "X.01": "b"},  # leading zero
        {"X.00": "a"},
        {"X": "a", "X.0": "b"},  # value and container
        {"X.0": "b", "X": "a"},
        {"X.0": "a", "X.0.Y": "b"},
        {"X.0.Y": "b", "X.0": "a"},
        {"X.0": "a", "X.Y": "b"},  # index and field under one parent
        {"X.Y": "b", "X.0": "a"},
        {"X..Y": "a"},  # empty segments
        {".X": "a"},
        {"X.": "a"},
        {"": "a"},
        {"X.-1": "a", "X.0": "b"},  # "-1" is a field name, so this mixes
        {"X.0": "a", "X.١": "b"},  # an Arabic-Indic digit is a digit but not an index
        {".".join(["A"] * (MAX_DEPTH + 1)): "deep"},
    ],
)
def test_unflatten_rejects(flat: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        unflatten(flat)


def test_unflatten_non_index_names_are_fields() -> None:
    assert unflatten({"X.-1": "a", "X.+1": "b"}) == {"X": {"-1": "a", "+1": "b"}}


def test_unflatten_max_depth_is_allowed() -> None:
    flat = {".".join(["A"] * MAX_DEPTH): "v"}
    assert flatten(unflatten(flat)) == flat


def test_unflatten_huge_index_is_a_gap_not_an_allocation() -> None:
    with pytest.raises(ValueError, match="gaps"):
        unflatten({"X.0": "a", "X.99999999999999999999": "b"})


# --- properties ------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True)
leaves = st.one_of(st.text(), st.integers(), st.booleans())
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(names, inner, min_size=1, max_size=4),
    ),
    max_leaves=20,
)
objects = st.dictionaries(names, trees, max_size=6)


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return str(value)


@given(objects)
def test_flatten_unflatten_round_trip(obj: dict[str, Any]) -> None:
    flat = flatten(obj)
    assert all(isinstance(v, str) for v in flat.values())
    assert unflatten(flat) == _normalise(obj)
    assert flatten(unflatten(flat)) == flat


@functools.cache
def _sdk_client() -> sms_client.SmsClient:
    return sms_client.SmsClient(credential.Credential("AKIDEXAMPLE", "SECRETEXAMPLE"), "")


@given(st.dictionaries(names, st.one_of(st.none(), trees), max_size=6))
def test_flatten_matches_sdk_format_params(obj: dict[str, Any]) -> None:
    sdk = _sdk_client()._format_params(None, obj)
    assert flatten(obj) == {k: str(v) for k, v in sdk.items()}
    assert list(flatten(obj)) == list(sdk)  # same order, which GET signing depends on


@given(st.dictionaries(st.text(max_size=12), st.text(max_size=3), max_size=8))
def test_unflatten_only_raises_value_error(flat: dict[str, str]) -> None:
    try:
        result = unflatten(flat)
    except ValueError:
        return
    assert flatten(result) == flat
