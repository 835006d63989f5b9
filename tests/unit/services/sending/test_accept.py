"""The pure pieces of ACCEPT: package consumption order, serial numbers, lock keys."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from smscloud.services.billing.wallet import take
from smscloud.services.sending.accept import lock_key
from smscloud.store.messages import new_serial_no


def test_debit_takes_from_the_package_expiring_first() -> None:
    wallet = [[1, 2], [2, 5], [3, 10]]
    assert take(wallet, 3) == [(1, 2), (2, 1)]
    assert wallet == [[1, 0], [2, 4], [3, 10]]
    assert take(wallet, 4) == [(2, 4)]


def test_debit_refuses_when_short_and_changes_nothing() -> None:
    wallet = [[1, 2], [2, 1]]
    assert take(wallet, 4) is None
    assert wallet == [[1, 2], [2, 1]]


@given(st.lists(st.integers(0, 20), max_size=6), st.lists(st.integers(1, 5), max_size=30))
def test_debits_never_exceed_the_wallet_and_add_up(sizes: list[int], asks: list[int]) -> None:
    wallet = [[i, n] for i, n in enumerate(sizes)]
    granted = 0
    for units in asks:
        taken = take(wallet, units)
        if taken is not None:
            assert sum(u for _, u in taken) == units
            granted += units
    assert granted + sum(left for _, left in wallet) == sum(sizes)
    assert all(left >= 0 for _, left in wallet)


def test_serial_numbers_have_tencents_shape_and_do_not_repeat() -> None:
    serials = {new_serial_no(1_765_000_000.0) for _ in range(10_000)}
    assert len(serials) == 10_000
    assert all(re.fullmatch(r"5000:\d{28}", s) for s in serials)


@given(st.integers(1, 2**31), st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_lock_keys_are_stable_signed_64_bit_and_per_application(app_id: int, phone: str) -> None:
    key = lock_key(app_id, phone)
    assert key == lock_key(app_id, phone)
    assert -(2**63) <= key < 2**63  # what pg_advisory_xact_lock(bigint) takes
    assert key != lock_key(app_id + 1, phone)
