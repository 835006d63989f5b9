"""Pure arithmetic of pacing: token bucket, reconnect backoff, a sliding rate meter."""

from __future__ import annotations

import random
from collections import deque

__all__ = ["RateMeter", "TokenBucket", "backoff"]


class TokenBucket:
    """Reserve-ahead token bucket: ``reserve(now)`` takes a token and says how long to wait.

    Tokens may go negative, so concurrent callers queue up in arrival order, each told its
    own delay, with no lock and no polling.
    """

    def __init__(self, rate: float, burst: int = 0) -> None:
        self.rate = rate
        self.capacity = float(burst or max(1, round(rate)))
        self._tokens = self.capacity
        self._at: float | None = None

    def reserve(self, now: float) -> float:
        if self.rate <= 0:
            return 0.0
        if self._at is not None:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate


def backoff(attempt: int, low: float, high: float, rng: random.Random | None = None) -> float:
    """Delay before reconnect ``attempt`` (0-based): exponential, capped, "full jitter" in
    its upper half so many binds that lost the same SMSC do not come back in step."""
    ceiling = min(high, low * 2.0**attempt)
    return ceiling * (0.5 + 0.5 * (rng or random).random())


class RateMeter:
    """Events per second over the last ``span`` seconds, in one-second buckets."""

    def __init__(self, span: int = 5) -> None:
        self.span = span
        self._buckets: deque[tuple[int, int]] = deque()

    def add(self, now: float, count: int = 1) -> None:
        second = int(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1] = (second, self._buckets[-1][1] + count)
        else:
            self._buckets.append((second, count))
        self._trim(second)

    def rate(self, now: float) -> float:
        self._trim(int(now))
        return sum(n for _, n in self._buckets) / self.span

    def _trim(self, second: int) -> None:
        while self._buckets and self._buckets[0][0] <= second - self.span:
            self._buckets.popleft()
