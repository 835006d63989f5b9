"""A task's progress: its numbers by outcome add up to its total; finished means settled."""

from __future__ import annotations

from smscloud.domain import bulk
from smscloud.domain.outcomes import Failure
from smscloud.domain.task_progress import TaskCounts, is_finished, tally


def test_the_counts_add_up_to_the_numbers_of_the_task() -> None:
    numbers = {bulk.WAITING: 5, bulk.ACCEPTED: 12, bulk.REFUSED: 2, bulk.CANCELLED: 1}
    messages = [
        ("QUEUED", "", 1),
        ("HELD", "", 1),
        ("SUBMITTED", "", 1),
        ("DELIVERED", "DELIVRD", 3),
        ("UNDELIVERED", "UNDELIV", 1),
        ("REJECTED", "REJECTD", 1),
        ("REJECTED", "0x00000045", 1),  # refused at submit
        ("FAILED", "FAILED", 1),
        ("UNKNOWN", "UNKNOWN", 1),
        ("CANCELLED", "CANCELLED", 1),
        ("REFUSED", "LimitExceeded.PhoneNumberDailyLimit", 2),  # counted from the numbers
    ]
    counts = tally(numbers, messages)
    assert counts == TaskCounts(
        waiting=5,
        sending=3,
        held=1,
        delivered=3,
        failed=5,
        refused=2,
        cancelled=2,
        failures=(
            (Failure.CARRIER_REFUSED, 3),
            (Failure.INVALID_NUMBER, 1),
            (Failure.NO_RECEIPT, 1),
        ),
    )
    assert counts.total == sum(numbers.values()) == 20
    assert sum(k for _, k in counts.failures) == counts.failed
    assert (counts.settled, counts.percent) == (12, 60)
    assert not is_finished(counts)


def test_finished_once_every_number_has_its_final_outcome() -> None:
    numbers = {bulk.ACCEPTED: 3, bulk.REFUSED: 1}
    fed = tally(numbers, [("DELIVERED", "DELIVRD", 2), ("SUBMITTED", "", 1)])
    assert fed.waiting == 0 and not is_finished(fed)  # handed over is not finished
    settled = tally(numbers, [("DELIVERED", "DELIVRD", 2), ("EXPIRED", "EXPIRED", 1)])
    assert is_finished(settled) and settled.percent == 100
    assert (settled.delivered, settled.failed, settled.refused) == (2, 1, 1)
    # Everything refused at acceptance is an outcome too.
    assert is_finished(tally({bulk.REFUSED: 4}, []))
    # Nothing to send, or cancelled numbers: not finished.
    assert not is_finished(tally({}, []))
    assert not is_finished(tally({bulk.CANCELLED: 2, bulk.ACCEPTED: 1}, [("DELIVERED", "", 1)]))
