"""The platform's clock: where "now" comes from.

Marketing hours, natural days, bill months, statistics periods, package validity, task
schedules, leases, retries and login windows all compare a stored time with "now". Every one
of them reads "now" from the one :data:`Clock` its process was given (``Platform(clock=...)``,
handed on to each service, loop and page), or takes it as a ``now`` argument from a caller
that did; none reads the machine's clock itself. So every rule of a process agrees on what
the time is, and a test can set the whole platform at any moment: a night, the last second of
a month or of a year.

Only what the platform does not own keeps the machine's clock, each said where it is read: a
request signature's age (the client signed it with its own clock), the carriers' and the SMPP
simulator's own times, and the ``Date`` of an email leaving the machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "system_clock"]

Clock = Callable[[], float]
"""Seconds since the Unix epoch, as ``time.time`` gives them."""


def system_clock() -> float:
    """The machine's wall clock: the clock of a platform in production."""
    return time.time()
