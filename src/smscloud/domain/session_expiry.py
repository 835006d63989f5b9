"""When a console session ends by itself: ``idle`` seconds after its last request, or
``lifetime`` seconds after the log-in that opened it, whichever comes first.

The time of the last request is written down to the minute (``TOUCH_EVERY``): writing it on
every page view and htmx poll would cost a database write per request for nothing. A session
therefore ends between ``idle - TOUCH_EVERY`` and ``idle`` seconds after its last request,
never later. Ending a session on purpose (log-out, a password change, a suspended account) is
not decided here: its record is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TOUCH_EVERY", "SessionLimits", "alive", "touch_due"]

TOUCH_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class SessionLimits:
    """How long a session lives without a request (``idle``) and at all (``lifetime``)."""

    idle: float = 2 * 3600.0
    lifetime: float = 12 * 3600.0

    def __post_init__(self) -> None:
        if self.idle <= 0 or self.lifetime <= 0:
            raise ValueError("session limits must be positive")


def alive(created_at: float, seen_at: float, now: float, limits: SessionLimits) -> bool:
    """Whether a session opened at ``created_at`` and last used at ``seen_at`` lives at
    ``now`` (exactly at a limit it still does)."""
    return now - created_at <= limits.lifetime and now - seen_at <= limits.idle


def touch_due(seen_at: float, now: float) -> bool:
    """Whether a request at ``now`` should move the stored last-request time forward."""
    return now - seen_at >= TOUCH_EVERY
