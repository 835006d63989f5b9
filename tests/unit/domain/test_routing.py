"""Tests for smscloud.domain.routing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.routing import CarrierChoice, NoRoute, Route, choose, parse_carriers


def _route(
    rid: int,
    name: str,
    *,
    nation_code: str = "",
    prefix: str = "",
    sms_type: int | None = None,
    priority: int = 0,
) -> Route:
    return Route(rid, (CarrierChoice(name),), nation_code, prefix, sms_type, priority)


def _winner(routes: list[Route], nation: str = "86", sub: str = "13812345678", t: int = 2) -> str:
    return choose(routes, nation_code=nation, subscriber=sub, sms_type=t, key=0)[0]


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        # country beats any country
        ([_route(1, "any"), _route(2, "cn", nation_code="86")], "cn"),
        # country beats a longer prefix and a type (country compared first)
        ([_route(1, "p", prefix="138", sms_type=2), _route(2, "cn", nation_code="86")], "cn"),
        # longer prefix beats shorter
        ([_route(1, "p1", prefix="1"), _route(2, "p13", prefix="13")], "p13"),
        # prefix beats type
        ([_route(1, "t", sms_type=2), _route(2, "p", prefix="1")], "p"),
        # type beats any type
        ([_route(1, "any"), _route(2, "t", sms_type=2)], "t"),
        # type beats priority
        ([_route(1, "hi", priority=9), _route(2, "t", sms_type=2)], "t"),
        # priority among equally specific routes
        ([_route(1, "lo", priority=1), _route(2, "hi", priority=5)], "hi"),
        # full tie -> lower id
        ([_route(7, "b"), _route(3, "a")], "a"),
        # non-matching routes are ignored even if more specific
        ([_route(1, "any"), _route(2, "my", nation_code="60")], "any"),
        ([_route(1, "any"), _route(2, "p", prefix="139")], "any"),
        ([_route(1, "any"), _route(2, "t", sms_type=3)], "any"),
    ],
)
def test_specificity(routes: list[Route], expected: str) -> None:
    assert _winner(routes) == expected
    assert _winner(list(reversed(routes))) == expected


@pytest.mark.parametrize(
    ("routes", "nation", "sub", "t"),
    [
        ([], "86", "138", 1),
        ([_route(1, "a", nation_code="60")], "86", "138", 1),
        ([_route(1, "a", prefix="139")], "86", "138", 1),
        ([_route(1, "a", prefix="1380")], "86", "138", 1),
        ([_route(1, "a", sms_type=3)], "86", "138", 1),
    ],
)
def test_no_route(routes: list[Route], nation: str, sub: str, t: int) -> None:
    with pytest.raises(NoRoute):
        choose(routes, nation_code=nation, subscriber=sub, sms_type=t, key=1)


def test_proportions_match_weights() -> None:
    route = Route(1, parse_carriers("a:5,b:3,c:2"))
    firsts = Counter(
        choose([route], nation_code="86", subscriber="1", sms_type=1, key=k)[0]
        for k in range(10_000)
    )
    for name, share in {"a": 0.5, "b": 0.3, "c": 0.2}.items():
        assert abs(firsts[name] / 10_000 - share) <= 0.03, firsts


def test_failover_order_by_weight_then_name() -> None:
    route = Route(1, parse_carriers("z:1,a:1,m:4"))
    for k in range(200):
        order = choose([route], nation_code="86", subscriber="1", sms_type=1, key=k)
        assert order[1:] == [n for n in ["m", "a", "z"] if n != order[0]]


_carrier_lists = st.lists(
    st.builds(
        CarrierChoice,
        st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True),
        st.integers(1, 1000),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda c: c.name,
)


@given(carriers=_carrier_lists, key=st.integers(-(2**70), 2**70))
def test_every_carrier_once_and_deterministic(carriers: list[CarrierChoice], key: int) -> None:
    routes = [Route(1, tuple(carriers))]
    first = choose(routes, nation_code="86", subscriber="138", sms_type=3, key=key)
    again = choose(routes, nation_code="86", subscriber="138", sms_type=3, key=key)
    assert first == again
    assert sorted(first) == sorted(c.name for c in carriers)


@given(carriers=_carrier_lists)
def test_parse_roundtrip(carriers: list[CarrierChoice]) -> None:
    spec = ",".join(f"{c.name}:{c.weight}" for c in carriers)
    assert parse_carriers(spec) == tuple(carriers)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cmcc", (CarrierChoice("cmcc", 1),)),
        ("cmcc:3,backup:1", (CarrierChoice("cmcc", 3), CarrierChoice("backup", 1))),
        (" a_1 : 2 , B-2 ", (CarrierChoice("a_1", 2), CarrierChoice("B-2", 1))),
        ("x" * 32, (CarrierChoice("x" * 32),)),
    ],
)
def test_parse_carriers_good(spec: str, expected: tuple[CarrierChoice, ...]) -> None:
    assert parse_carriers(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a,,b", "empty carrier entry"),
        ("a,", "empty carrier entry"),
        ("a,a:2", "duplicate"),
        ("a:0", "weight"),
        ("a:-1", "weight"),
        ("a:x", "weight"),
        ("a:", "weight"),
        ("a:1.5", "weight"),
        (":3", "name"),
        ("bad name", "name"),
        ("x" * 33, "name"),
        ("ünï", "name"),
    ],
)
def test_parse_carriers_bad(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_carriers(spec)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CarrierChoice("a", 0),
        lambda: CarrierChoice("", 1),
        lambda: Route(1, ()),
        lambda: Route(1, (CarrierChoice("a"), CarrierChoice("a", 2))),
        lambda: Route(1, (CarrierChoice("a"),), nation_code="+86"),
        lambda: Route(1, (CarrierChoice("a"),), prefix="13x"),
    ],
)
def test_invalid_values_rejected(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()
