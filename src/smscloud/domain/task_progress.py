"""A bulk task's progress: its numbers counted by outcome, so that the counts add up.

Every valid number of a task (``send_tasks.numbers``) is in exactly one column:

- waiting: not handed to ACCEPT yet;
- sending: accepted, no outcome yet (``domain.outcomes``: queued, held, with a carrier);
- delivered, failed: accepted, and their outcome came (failures split into buckets);
- refused: refused at acceptance (a frequency limit, an opt-out...), never sent;
- cancelled: the task was cancelled before the number, or its message, went to a carrier.

A task is *finished* when every number has its final outcome (delivered, failed or refused):
nothing waits and nothing is on its way. Being fed to the end is not enough: the receipts
decide. A cancelled task is cancelled, not finished, whatever its counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from smscloud.domain import bulk
from smscloud.domain.message_states import MessageState
from smscloud.domain.outcomes import Failure, Outcome, failure_of, outcome_of

__all__ = ["TaskCounts", "is_finished", "tally"]


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """A task's numbers by outcome; ``total`` is their sum."""

    waiting: int = 0
    sending: int = 0
    held: int = 0  # of ``sending``: held while the task is suspended
    delivered: int = 0
    failed: int = 0
    refused: int = 0
    cancelled: int = 0
    # (bucket, count) of ``failed``, commonest first; they add up to ``failed``.
    failures: tuple[tuple[Failure, int], ...] = field(default=())

    @property
    def total(self) -> int:
        return (
            self.waiting
            + self.sending
            + self.delivered
            + self.failed
            + self.refused
            + self.cancelled
        )

    @property
    def settled(self) -> int:
        """Numbers with their final outcome (cancelled ones included)."""
        return self.total - self.waiting - self.sending

    @property
    def percent(self) -> int:
        """Share of the numbers settled, in whole percent (100 for an empty task)."""
        return 100 * self.settled // self.total if self.total else 100


def tally(numbers: dict[int, int], messages: Iterable[tuple[str, str, int]]) -> TaskCounts:
    """Count a task: ``numbers`` is its ``task_numbers`` by state (``domain.bulk``),
    ``messages`` its messages as (state, receipt code, count).

    Numbers refused at acceptance are counted from the numbers (a refused number is one row
    there, whatever ACCEPT kept of it); every accepted number has one message, counted by its
    outcome.
    """
    sending = held = delivered = failed = cancelled = 0
    buckets: dict[Failure, int] = {}
    for state, code, count in messages:
        outcome = outcome_of(state)
        if outcome is Outcome.SENDING:
            sending += count
            if state == MessageState.HELD:
                held += count
        elif outcome is Outcome.DELIVERED:
            delivered += count
        elif outcome is Outcome.FAILED:
            failed += count
            bucket = failure_of(state, code)
            buckets[bucket] = buckets.get(bucket, 0) + count
        elif outcome is Outcome.CANCELLED:
            cancelled += count
    return TaskCounts(
        waiting=numbers.get(bulk.WAITING, 0),
        sending=sending,
        held=held,
        delivered=delivered,
        failed=failed,
        refused=numbers.get(bulk.REFUSED, 0),
        cancelled=cancelled + numbers.get(bulk.CANCELLED, 0),
        failures=tuple(sorted(buckets.items(), key=lambda kv: (-kv[1], kv[0].value))),
    )


def is_finished(counts: TaskCounts) -> bool:
    """Whether every number of the task has its final outcome: none waits, none is on its
    way, none was cancelled, and there is at least one."""
    return counts.total > 0 and counts.settled == counts.total and counts.cancelled == 0
