"""The failed log-in limits: pure rules, exhaustively and by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smscloud.domain.login_limits import (
    Admitted,
    Counter,
    Limits,
    Refused,
    account_key,
    address_key,
    current,
    give_back,
    reserve,
)

LIMITS = Limits(per_account=5, per_address=20, window=900.0)


def test_a_first_attempt_opens_both_windows() -> None:
    assert reserve(None, None, 100.0, LIMITS) == Admitted(Counter(1, 100.0), Counter(1, 100.0))


def test_the_account_limit_refuses_until_its_window_ends() -> None:
    account, address = Counter(4, 100.0), Counter(4, 100.0)
    verdict = reserve(account, address, 200.0, LIMITS)
    assert verdict == Admitted(Counter(5, 100.0), Counter(5, 100.0))
    assert isinstance(verdict, Admitted)
    refused = reserve(verdict.account, verdict.address, 250.0, LIMITS)
    assert refused == Refused(1000.0)
    assert reserve(verdict.account, verdict.address, 999.9, LIMITS) == Refused(1000.0)
    # At the window's end the count starts again, from this attempt.
    assert reserve(verdict.account, verdict.address, 1000.0, LIMITS) == Admitted(
        Counter(1, 1000.0), Counter(1, 1000.0)
    )


def test_the_address_limit_refuses_a_fresh_account_too() -> None:
    assert reserve(None, Counter(20, 50.0), 60.0, LIMITS) == Refused(950.0)


def test_when_both_are_full_the_later_window_decides() -> None:
    assert reserve(Counter(5, 10.0), Counter(20, 300.0), 400.0, LIMITS) == Refused(1200.0)
    assert reserve(Counter(5, 300.0), Counter(20, 10.0), 400.0, LIMITS) == Refused(1200.0)


@pytest.mark.parametrize(
    ("retry_at", "now", "minutes"),
    [(1000.0, 100.0, 15), (1000.0, 940.0, 1), (1000.0, 999.9, 1), (1000.0, 939.0, 2)],
)
def test_minutes_to_wait_round_up(retry_at: float, now: float, minutes: int) -> None:
    assert Refused(retry_at).minutes(now) == minutes


def test_an_ended_window_starts_again_empty() -> None:
    assert current(Counter(5, 0.0), 899.0, 900.0) == Counter(5, 0.0)
    assert current(Counter(5, 0.0), 900.0, 900.0) == Counter(0, 900.0)
    assert current(None, 7.0, 900.0) == Counter(0, 7.0)


def test_a_success_gives_one_check_back() -> None:
    assert give_back(Counter(3, 5.0)) == Counter(2, 5.0)
    assert give_back(Counter(0, 5.0)) == Counter(0, 5.0)


def test_limits_must_be_positive() -> None:
    for bad in (Limits(per_account=1), Limits(per_address=1), Limits(window=1.0)):
        assert bad  # the smallest allowed values
    with pytest.raises(ValueError):
        Limits(per_account=0)
    with pytest.raises(ValueError):
        Limits(per_address=0)
    with pytest.raises(ValueError):
        Limits(window=0.0)


def test_account_keys_are_per_realm_and_case_blind() -> None:
    assert account_key("tenant", " Alice@Example.COM ") == "tenant:alice@example.com"
    assert account_key("operator", "alice@example.com") != account_key(
        "tenant", "alice@example.com"
    )
    assert len(account_key("tenant", "x" * 5000)) == 300


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.9", "addr:203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "addr:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "addr:2001:db8:1:2::/64"),  # the same subscriber
        ("::ffff:203.0.113.9", "addr:203.0.113.9"),
        ("?", "addr:?"),
    ],
)
def test_address_keys(host: str, key: str) -> None:
    assert address_key(host) == key


# -- properties ---------------------------------------------------------------------------------
attempts = st.lists(
    st.tuples(st.floats(0.0, 3000.0), st.booleans(), st.integers(0, 3)), max_size=80
)


@given(attempts)
def test_no_window_ever_admits_more_than_its_limit(plan: list[tuple[float, bool, int]]) -> None:
    """Attempts at rising times from a few addresses on one account, some succeeding: within
    any one window of the account no more than ``per_account`` failures are admitted, a refusal
    always names a later moment within one window, and no attempt is refused after it."""
    limits = Limits(per_account=3, per_address=5, window=600.0)
    account: Counter | None = None
    addresses: dict[int, Counter] = {}
    failures_in_window: dict[float, int] = {}
    for now, succeeds, who in sorted(plan):
        verdict = reserve(account, addresses.get(who), now, limits)
        if isinstance(verdict, Refused):
            assert now < verdict.retry_at <= now + limits.window
            later = reserve(account, addresses.get(who), verdict.retry_at, limits)
            assert isinstance(later, Admitted)
            continue
        account, addresses[who] = verdict.account, verdict.address
        assert verdict.account.failures <= limits.per_account
        assert verdict.address.failures <= limits.per_address
        if succeeds:
            account, addresses[who] = None, give_back(verdict.address)
        else:
            since = verdict.account.since
            failures_in_window[since] = failures_in_window.get(since, 0) + 1
            assert failures_in_window[since] <= limits.per_account


@given(st.ip_addresses(v=6))
def test_an_ipv6_key_is_its_64_network(ip: object) -> None:
    key = address_key(str(ip))
    assert key.startswith("addr:")
    assert key.endswith("/64") or "." in key  # a mapped IPv4 address is itself
