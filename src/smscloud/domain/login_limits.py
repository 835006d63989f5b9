"""Failed log-in limits: how many password checks an account and a client address get.

Theory of operation. Every log-in attempt has two *keys*: the account it names (realm and
email or username, whether or not such an account exists, so that a refusal says nothing
about existence) and the client address it comes from. Each key has a counter of password
checks that did not succeed (``failures``) since its window began (``since``).

An attempt *reserves* a check on both keys before the password is checked, in one step with
the test against the limits. Parallel attempts therefore count as they start, not as they
fail: forty wrong passwords sent at once let ``per_account`` of them reach the password
check, and the rest are refused. A window lasts ``window`` seconds from the first failure in
it; a key at its limit is refused until its window ends, and the refusal says when. A check
that succeeds gives its reservation back: the account's counter is cleared and the address's
goes down by one (a successful log-in is no failure of the office behind a shared address).

Pure: the store keeps the counters (``services/accounts/login_gate.py``) and passes ``now`` in.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

__all__ = [
    "Admitted",
    "Counter",
    "Limits",
    "Refused",
    "account_key",
    "address_key",
    "current",
    "give_back",
    "reserve",
]

MAX_KEY = 300  # a name longer than any account's (emails are at most 254) is cut here


@dataclass(frozen=True, slots=True)
class Limits:
    """Failed password checks allowed per account and per address within ``window`` s."""

    per_account: int = 5
    per_address: int = 20
    window: float = 15 * 60

    def __post_init__(self) -> None:
        if self.per_account < 1 or self.per_address < 1 or self.window <= 0:
            raise ValueError("log-in limits must be positive")


@dataclass(frozen=True, slots=True)
class Counter:
    """One key's failures (reserved checks) since the start of its window."""

    failures: int
    since: float


@dataclass(frozen=True, slots=True)
class Admitted:
    """The attempt may check its password; the keys' counters become these."""

    account: Counter
    address: Counter


@dataclass(frozen=True, slots=True)
class Refused:
    """The attempt is refused until ``retry_at`` (Unix seconds)."""

    retry_at: float

    def minutes(self, now: float) -> int:
        """Whole minutes to wait from ``now``, rounded up: at least 1."""
        return max(1, math.ceil((self.retry_at - now) / 60))


def current(counter: Counter | None, now: float, window: float) -> Counter:
    """The counter as it stands at ``now``: a window that has ended starts again empty."""
    if counter is None or now >= counter.since + window:
        return Counter(0, now)
    return counter


def reserve(
    account: Counter | None, address: Counter | None, now: float, limits: Limits
) -> Admitted | Refused:
    """Reserve one password check on both keys, or refuse until the later window ends."""
    acc = current(account, now, limits.window)
    addr = current(address, now, limits.window)
    ends = [
        counter.since + limits.window
        for counter, limit in ((acc, limits.per_account), (addr, limits.per_address))
        if counter.failures >= limit
    ]
    if ends:
        return Refused(max(ends))
    return Admitted(Counter(acc.failures + 1, acc.since), Counter(addr.failures + 1, addr.since))


def give_back(counter: Counter) -> Counter:
    """An address's counter after one of its reserved checks succeeded."""
    return Counter(max(0, counter.failures - 1), counter.since)


def account_key(realm: str, name: str) -> str:
    """The key of an account named ``name`` in ``realm`` (names compare case-blind)."""
    return f"{realm}:{name.strip().lower()}"[:MAX_KEY]


def address_key(host: str) -> str:
    """The key of a client address: an IPv4 address, or the /64 network of an IPv6 one.

    One IPv6 subscriber is handed a whole /64 at least (RFC 6177 §2), so counting single
    IPv6 addresses would give a client 2**64 fresh allowances. An IPv4-mapped IPv6 address
    (RFC 4291 §2.5.5.2) is its IPv4 address. Anything else (a Unix socket's name) is kept.
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"addr:{host}"[:MAX_KEY]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"addr:{ip.ipv4_mapped}"
        return f"addr:{ipaddress.IPv6Network((ip, 64), strict=False)}"
    return f"addr:{ip}"
