"""Carrier routing: which carriers a message goes to, and in what order.

Pure: no I/O, no clock, no randomness source; the caller supplies a `key` (the message id)
and the same inputs always give the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CarrierChoice", "NoRoute", "Route", "choose", "parse_carriers"]

_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_DIGITS = re.compile(r"[0-9]+")
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class CarrierChoice:
    """One carrier of a route and its relative weight (>= 1)."""

    name: str
    weight: int = 1

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"carrier name {self.name!r} must match [A-Za-z0-9_-]{{1,32}}")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int) or self.weight < 1:
            raise ValueError(f"carrier {self.name!r}: weight must be an integer >= 1")


@dataclass(frozen=True, slots=True)
class Route:
    """A routing rule; empty `nation_code`/`prefix` and `sms_type=None` match anything."""

    id: int
    carriers: tuple[CarrierChoice, ...]
    nation_code: str = ""
    prefix: str = ""
    sms_type: int | None = None
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.carriers:
            raise ValueError(f"route {self.id}: at least one carrier is required")
        names = [c.name for c in self.carriers]
        if len(set(names)) != len(names):
            raise ValueError(f"route {self.id}: duplicate carrier names")
        for field, value in (("nation_code", self.nation_code), ("prefix", self.prefix)):
            if value and not _DIGITS.fullmatch(value):
                raise ValueError(f"route {self.id}: {field} must be empty or ASCII digits")

    def matches(self, *, nation_code: str, subscriber: str, sms_type: int) -> bool:
        """Whether this route applies to the given message."""
        return (
            self.nation_code in ("", nation_code)
            and subscriber.startswith(self.prefix)
            and (self.sms_type is None or self.sms_type == sms_type)
        )

    def specificity(self) -> tuple[bool, int, bool, int]:
        """Rank key, compared left to right: has country, prefix length, has type, priority."""
        return (self.nation_code != "", len(self.prefix), self.sms_type is not None, self.priority)


class NoRoute(Exception):  # noqa: N818 (name fixed by the shared interface)
    """No route matches the message."""


def parse_carriers(spec: str) -> tuple[CarrierChoice, ...]:
    """Parse ``"cmcc:3,backup:1"`` (weight defaults to 1); raise ValueError if malformed."""
    if not spec.strip():
        raise ValueError("carrier list is empty")
    out: list[CarrierChoice] = []
    seen: set[str] = set()
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            raise ValueError(f"empty carrier entry in {spec!r}")
        name, sep, weight_text = item.partition(":")
        name, weight_text = name.strip(), weight_text.strip()
        if not _NAME.fullmatch(name):
            raise ValueError(f"bad carrier name {name!r}: must match [A-Za-z0-9_-]{{1,32}}")
        if name in seen:
            raise ValueError(f"duplicate carrier name {name!r}")
        weight = 1
        if sep:
            if not _DIGITS.fullmatch(weight_text) or int(weight_text) < 1:
                raise ValueError(f"carrier {name!r}: weight {weight_text!r} is not an integer >= 1")
            weight = int(weight_text)
        seen.add(name)
        out.append(CarrierChoice(name, weight))
    return tuple(out)


def _mix(key: int) -> int:
    """SplitMix64 finaliser: a well-spread 64-bit hash of `key` (any int, incl. negative)."""
    z = (key + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def _order(carriers: Sequence[CarrierChoice], key: int) -> list[str]:
    """Weighted pick of the first carrier by hash of `key`; the rest by weight desc, name."""
    point = _mix(key) % sum(c.weight for c in carriers)
    first = carriers[-1]
    for c in carriers:
        if point < c.weight:
            first = c
            break
        point -= c.weight
    rest = sorted((c for c in carriers if c is not first), key=lambda c: (-c.weight, c.name))
    return [first.name, *(c.name for c in rest)]


def choose(
    routes: Sequence[Route], *, nation_code: str, subscriber: str, sms_type: int, key: int
) -> list[str]:
    """Carriers to try for one message, primary first, then failover.

    The most specific matching route wins, comparing in order: a country is set, longer
    prefix, a type is set, higher priority; remaining ties go to the lower route id.
    Raises NoRoute if nothing matches.
    """
    matching = [
        r
        for r in routes
        if r.matches(nation_code=nation_code, subscriber=subscriber, sms_type=sms_type)
    ]
    if not matching:
        raise NoRoute(f"no route for nation_code={nation_code!r} sms_type={sms_type}")
    best = max(matching, key=lambda r: (r.specificity(), -r.id))
    return _order(best.carriers, key)
