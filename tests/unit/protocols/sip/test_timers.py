"""Retransmission schedules (RFC 3261 §17, Table 4) and the replay store."""

from __future__ import annotations

from smscloud.protocols.sip import T1, T2, T4, Timers
from smscloud.protocols.sip.timers import Replay, Retransmission

PEER = ("192.0.2.1", 5060)


def sends(tx: Retransmission, until: float, step: float = 0.25) -> list[float]:
    times, now = [], 0.0
    while now <= until and not tx.expired(now):
        if tx.due(now) is not None:
            times.append(now)
        now += step
    return times


def test_constants() -> None:
    assert (T1, T2, T4) == (0.5, 4.0, 5.0)
    assert (Timers().give_up, Timers().d) == (32.0, 32.0)
    assert (Timers(t1=1.0).give_up, Timers(t1=0.1).d) == (64.0, 32.0)  # D: at least 32 s


def test_timer_a_doubles_without_a_cap() -> None:
    tx = Retransmission.start((b"INVITE", PEER), 0.0, Timers(), capped=False)
    assert sends(tx, 40) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert tx.expired(32.0) and not tx.expired(31.99)  # Timer B


def test_timer_e_doubles_up_to_t2() -> None:
    tx = Retransmission.start((b"BYE", PEER), 0.0, Timers(), capped=True)
    assert sends(tx, 40) == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]


def test_a_provisional_response_slows_timer_e_to_t2() -> None:
    tx = Retransmission.start((b"BYE", PEER), 0.0, Timers(), capped=True)
    assert tx.due(0.5) is not None  # next at 1.5
    tx.slow_down()
    assert tx.due(1.5) is not None and tx.next_at == 5.5


def test_a_late_poll_sends_once() -> None:
    tx = Retransmission.start((b"INVITE", PEER), 0.0, Timers(), capped=False)
    assert tx.due(0.4) is None
    assert tx.due(8.0) == (b"INVITE", PEER)  # 0.5, 1.5, 3.5 and 7.5 were missed: one copy
    assert tx.due(8.0) is None and tx.next_at == 15.5
    assert tx.deadline == 15.5


def test_replay() -> None:
    replay = Replay()
    assert replay.deadline() is None and replay.get("b1") is None
    replay.keep("b1", (b"ACK", PEER), 32.0)
    replay.keep("b2", (b"200", PEER), 10.0)
    assert replay.deadline() == 10.0 and replay.get("b1") == (b"ACK", PEER)
    replay.expire(10.0)
    assert replay.get("b2") is None and replay.deadline() == 32.0
