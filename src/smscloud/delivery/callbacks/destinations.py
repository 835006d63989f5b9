"""Receiving servers, each pushed to on its own: a concurrency cap and a back-off each.

A destination is one receiving server: scheme, host and port of a callback URL. Every
destination gets its own lane: at most ``per_destination`` pushes at once, and a health record
that backs off after failures. While a destination backs off, its pushes are not sent: each
counts as a failed attempt and comes back on its row's own retry schedule, no earlier than the
destination's next try. When that time comes, one push goes as a probe; the others keep
failing fast until it has succeeded. So a dead or dripping receiver costs one connection at
a time, rarely, and never a place in anyone else's lane.

:class:`Health` is the pure part (``now`` is passed in); :class:`Lane` adds the semaphore.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "Health", "Lane"]

BACKOFF_BASE = 1.0  # seconds after the first failure; doubled after each further one
BACKOFF_CAP = 300.0  # a dead destination is probed at least every five minutes


@dataclass(slots=True)
class Health:
    """Consecutive failures of one destination and when it may be tried again."""

    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    failures: int = 0
    retry_at: float = 0.0
    probing: bool = False

    def admit(self, now: float) -> bool:
        """Whether a push may go now; after failures, one probe at a time once due."""
        if self.failures == 0:
            return True
        if self.probing or now < self.retry_at:
            return False
        self.probing = True
        return True

    def succeeded(self) -> None:
        self.failures = 0
        self.probing = False

    def failed(self, now: float) -> None:
        self.failures += 1
        self.probing = False
        self.retry_at = now + min(self.cap, self.base * 2 ** min(self.failures - 1, 30))


@dataclass(slots=True)
class Lane:
    """One destination's share of the pusher."""

    destination: tuple[str, str, int]
    per_destination: int
    health: Health = field(default_factory=Health)
    busy: int = 0  # pushes started or waiting
    last_used: float = 0.0
    gate: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.gate = asyncio.Semaphore(self.per_destination)

    def idle_since(self, now: float, quiet: float) -> bool:
        """Nothing waiting, no back-off to remember, unused for ``quiet`` seconds."""
        return (
            self.busy == 0
            and now - self.last_used >= quiet
            and (self.health.failures == 0 or now >= self.health.retry_at)
        )
