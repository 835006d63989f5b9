"""Retransmission over UDP (RFC 3261 §17, Table 4), on a clock the caller passes in.

UDP loses datagrams, so whoever waits for an answer sends again. All of SIP's timers are
multiples of three constants: T1 (an estimate of the round trip, 500 ms), T2 (the longest gap
between retransmissions of a non-INVITE request or a response, 4 s) and T4 (the longest a
message stays in the network, 5 s). The schedules this package needs are two:

- doubling without a cap: Timer A, the INVITE client retransmitting its request (§17.1.1.2),
  at T1, 3·T1, 7·T1... after sending, until Timer B (64·T1) gives up;
- doubling up to T2: Timer E (a non-INVITE request, §17.1.2.2), Timer G (a non-2xx final
  response awaiting its ACK, §17.2.1) and a 2xx awaiting its ACK (§13.3.1.4), until Timer F,
  H or 64·T1 gives up.

``Retransmission`` is one such schedule; ``Replay`` keeps datagrams to send again when a
retransmission of what they answered arrives (Timer D, §17.1.1.2: ACKs for a final response
sent again; Timer J, §17.2.2: responses to a non-INVITE request received again), each until
its own deadline. Neither reads a clock: ``now`` is always the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "T1",
    "T2",
    "T4",
    "Address",
    "Datagram",
    "Replay",
    "Retransmission",
    "Timers",
]

T1 = 0.5  # RFC 3261 §17.1.1.1 and Table 4
T2 = 4.0
T4 = 5.0

Address = tuple[str, int]  # (host, port) of a UDP peer
Datagram = tuple[bytes, Address]  # what to send, and where


@dataclass(frozen=True, slots=True)
class Timers:
    """The base timers; larger T1 suits long round trips (§17.1.1.1)."""

    t1: float = T1
    t2: float = T2
    t4: float = T4

    @property
    def give_up(self) -> float:
        """Timers B, F, H and J (and the 2xx give-up, §13.3.1.4): 64·T1."""
        return 64 * self.t1

    @property
    def d(self) -> float:
        """Timer D: at least 32 s over UDP (§17.1.1.2)."""
        return max(32.0, 64 * self.t1)


@dataclass(slots=True)
class Retransmission:
    """A datagram sent at ``started`` and sent again on a doubling schedule until given up."""

    datagram: Datagram
    next_at: float
    interval: float
    cap: float | None
    give_up_at: float

    @classmethod
    def start(
        cls, datagram: Datagram, now: float, timers: Timers, *, capped: bool
    ) -> Retransmission:
        """The schedule of a datagram first sent at ``now``: capped at T2 or not."""
        cap = timers.t2 if capped else None
        return cls(datagram, now + timers.t1, timers.t1, cap, now + timers.give_up)

    @property
    def deadline(self) -> float:
        return min(self.next_at, self.give_up_at)

    def expired(self, now: float) -> bool:
        return now >= self.give_up_at

    def due(self, now: float) -> Datagram | None:
        """The datagram if a retransmission is due at ``now``, the schedule moved on.

        A caller that polled late gets one copy, not a burst (the missed ones are skipped).
        """
        if now < self.next_at:
            return None
        while self.next_at <= now:
            doubled = self.interval * 2
            self.interval = doubled if self.cap is None else min(doubled, self.cap)
            self.next_at += self.interval
        return self.datagram

    def slow_down(self) -> None:
        """A provisional response came: further retransmissions are T2 apart (§17.1.2.2)."""
        if self.cap is not None:
            self.interval = self.cap


class Replay:
    """Datagrams to send again when what they answered comes again, each until a deadline."""

    __slots__ = ("_kept",)

    def __init__(self) -> None:
        self._kept: dict[str, tuple[Datagram, float]] = {}

    def keep(self, key: str, datagram: Datagram, until: float) -> None:
        self._kept[key] = (datagram, until)

    def get(self, key: str) -> Datagram | None:
        kept = self._kept.get(key)
        return None if kept is None else kept[0]

    def expire(self, now: float) -> None:
        for key in [k for k, (_, until) in self._kept.items() if until <= now]:
            del self._kept[key]

    def deadline(self) -> float | None:
        return min((until for _, until in self._kept.values()), default=None)
