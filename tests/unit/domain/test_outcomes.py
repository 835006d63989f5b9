"""Outcomes: every message state read as what a sender makes of it, failures in buckets."""

from __future__ import annotations

import pytest

from smscloud.domain.message_states import FINAL, PENDING, MessageState
from smscloud.domain.outcomes import STATES, Failure, Outcome, failure_of, outcome_of

S = MessageState


def test_every_state_has_exactly_one_outcome() -> None:
    seen = [state for states in STATES.values() for state in states]
    assert sorted(seen) == sorted(MessageState)
    for outcome, states in STATES.items():
        assert all(outcome_of(state) is outcome for state in states)


def test_only_the_states_on_their_way_have_no_outcome_yet() -> None:
    assert set(STATES[Outcome.SENDING]) == {*PENDING, S.HELD}
    assert not set(STATES[Outcome.SENDING]) & set(FINAL)


@pytest.mark.parametrize(
    "state",
    [S.UNDELIVERED, S.EXPIRED, S.REJECTED, S.FAILED, S.UNKNOWN],
)
def test_every_end_without_delivery_after_acceptance_is_a_failure(state: S) -> None:
    assert outcome_of(state) is Outcome.FAILED


def test_refused_and_cancelled_are_apart() -> None:
    assert outcome_of("REFUSED") is Outcome.REFUSED
    assert outcome_of("CANCELLED") is Outcome.CANCELLED
    assert outcome_of("DELIVERED") is Outcome.DELIVERED


@pytest.mark.parametrize(
    ("state", "code", "bucket"),
    [
        (S.UNDELIVERED, "UNDELIV", Failure.INVALID_NUMBER),
        (S.UNDELIVERED, "MK:0001", Failure.INVALID_NUMBER),
        (S.EXPIRED, "EXPIRED", Failure.SHUTDOWN),
        (S.UNDELIVERED, "TUIDING", Failure.BLACKLISTED),
        (S.UNDELIVERED, "MX:0003", Failure.FREQUENCY),
        # Rejected by its receipt, or refused at submit (the carrier's error code, or none).
        (S.REJECTED, "REJECTD", Failure.CARRIER_REFUSED),
        (S.REJECTED, "0x00000045", Failure.CARRIER_REFUSED),
        (S.FAILED, "FAILED", Failure.CARRIER_REFUSED),
        (S.UNKNOWN, "UNKNOWN", Failure.NO_RECEIPT),
        (S.UNDELIVERED, "XX:9999", Failure.OTHER),
        (S.REJECTED, "mk:0001", Failure.INVALID_NUMBER),  # the code decides first
    ],
)
def test_failures_fall_in_the_receipt_statistics_buckets(
    state: S, code: str, bucket: Failure
) -> None:
    assert failure_of(state, code) is bucket
