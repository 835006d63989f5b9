"""A destination's back-off: fail, wait, one probe, recover."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from smscloud.delivery.callbacks.destinations import BACKOFF_CAP, Health, Lane


def test_a_healthy_destination_admits_everything() -> None:
    h = Health()
    assert all(h.admit(0.0) for _ in range(10))


def test_failures_back_off_doubling_then_one_probe_at_a_time() -> None:
    h = Health(base=1.0, cap=300.0)
    h.failed(100.0)
    assert (h.failures, h.retry_at) == (1, 101.0)
    assert not h.admit(100.5)
    assert h.admit(101.0)  # the probe
    assert not h.admit(101.0)  # only one at a time
    h.failed(102.0)
    assert (h.failures, h.retry_at) == (2, 104.0)
    assert not h.admit(103.9)
    assert h.admit(104.0)
    h.succeeded()
    assert (h.failures, h.probing) == (0, False)
    assert h.admit(104.0) and h.admit(104.0)


def test_a_dead_destination_is_tried_at_least_every_cap() -> None:
    h = Health(base=1.0, cap=300.0)
    for i in range(100):
        h.failed(float(i))
    assert h.retry_at == 99.0 + 300.0


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1000)), max_size=60))
def test_back_off_never_exceeds_the_cap_and_success_resets(
    events: list[tuple[bool, float]],
) -> None:
    h = Health()
    now = 0.0
    for ok, step in events:
        now += step
        if ok:
            h.succeeded()
            assert h.admit(now)
        else:
            h.failed(now)
            assert now < h.retry_at <= now + BACKOFF_CAP
            assert not h.admit(now) or h.retry_at <= now


def test_a_lane_is_idle_only_when_unused_and_not_backing_off() -> None:
    async def check() -> None:
        lane = Lane(("http", "example.com", 80), 4, last_used=10.0)
        assert lane.idle_since(70.0, 60.0) and not lane.idle_since(69.0, 60.0)
        lane.busy = 1
        assert not lane.idle_since(1000.0, 60.0)
        lane.busy = 0
        lane.health.failed(1000.0)
        assert not lane.idle_since(1000.5, 60.0)  # its back-off must be remembered
        assert lane.idle_since(lane.health.retry_at, 60.0)

    asyncio.run(check())
