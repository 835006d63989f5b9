"""The message life cycle table, walked.

The tests read ``domain.message_states`` as a graph: every state is reachable from what
ACCEPT inserts, final states have no way out, every other state has a way to one, and each
named group says what the table says.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

import smscloud
from smscloud.carriers import base
from smscloud.carriers.magic import MAGIC
from smscloud.carriers.smpp import inbound
from smscloud.domain.message_states import (
    CANCELLABLE,
    FAILURES,
    FINAL,
    INITIAL,
    NEXT,
    PENDING,
    RECEIPT_STATES,
    REPORTED,
    TRANSITIONS,
    Event,
    MessageState,
)
from smscloud.store import schema

SRC = Path(smscloud.__file__).parent

# The strings stored in messages.state today. A value changed here needs a migration of the
# rows already stored, and of the partial indexes' predicates.
STORED = {
    "REFUSED",
    "QUEUED",
    "HELD",
    "SENDING",
    "SUBMITTED",
    "DELIVERED",
    "UNDELIVERED",
    "EXPIRED",
    "REJECTED",
    "FAILED",
    "UNKNOWN",
    "CANCELLED",
}


def _reachable(start: set[MessageState]) -> set[MessageState]:
    seen = set(start)
    todo = deque(start)
    while todo:
        for target in NEXT[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _targets(event: Event) -> set[MessageState]:
    return {t.target for t in TRANSITIONS if t.event is event}


def _sources(event: Event) -> set[MessageState | None]:
    return {t.source for t in TRANSITIONS if t.event is event}


# -- the table ---------------------------------------------------------------------------------


def test_every_state_is_reachable_from_what_accept_inserts() -> None:
    inserted = {t.target for t in TRANSITIONS if t.source is None}
    assert inserted == set(INITIAL)
    assert _reachable(inserted) == set(MessageState)


def test_final_states_have_no_way_out() -> None:
    assert {state for state, targets in NEXT.items() if not targets} == set(FINAL)
    assert not [t for t in TRANSITIONS if t.source in FINAL]


def test_every_state_not_final_has_a_way_to_a_final_state() -> None:
    for state in set(MessageState) - set(FINAL):
        assert _reachable({state}) & set(FINAL), state


def test_a_message_is_inserted_only_by_accept() -> None:
    assert _sources(Event.ACCEPT) == _sources(Event.REFUSE) == {None}
    assert [t.event for t in TRANSITIONS if t.source is None] == [Event.ACCEPT, Event.REFUSE]


def test_every_event_moves_a_message_and_no_row_is_written_twice() -> None:
    assert {t.event for t in TRANSITIONS} == set(Event)
    rows = [(t.source, t.event, t.target) for t in TRANSITIONS]
    assert len(rows) == len(set(rows))


def test_each_transition_names_a_module_that_exists() -> None:
    for t in TRANSITIONS:
        assert (SRC / t.where).is_file(), t


def test_refunds_come_only_before_a_carrier_took_the_message() -> None:
    # A refund follows a rejection that happened before the carrier took the message: once
    # SUBMITTED, the message is billed whatever its receipt says.
    refunding = [t for t in TRANSITIONS if t.refunds]
    assert {t.source for t in refunding} == {
        MessageState.SENDING,
        MessageState.QUEUED,
        MessageState.HELD,
    }
    assert {t.target for t in refunding} == {
        MessageState.FAILED,
        MessageState.REJECTED,
        MessageState.CANCELLED,
    }
    assert not [t for t in TRANSITIONS if t.source is MessageState.SUBMITTED and t.refunds]


def test_every_move_into_a_reported_state_reports_it_and_no_other_does() -> None:
    for t in TRANSITIONS:
        assert t.reports == (t.target in REPORTED), t
    assert set(REPORTED) == set(FINAL) - {MessageState.REFUSED}


def test_the_groups_say_what_the_table_says() -> None:
    assert set(RECEIPT_STATES) == _targets(Event.RECEIPT)
    assert set(CANCELLABLE) == _sources(Event.TASK_CANCELLED)
    assert _sources(Event.TASK_SUSPENDED) == {MessageState.QUEUED}
    assert _targets(Event.TASK_SUSPENDED) == _sources(Event.TASK_RESUMED) == {MessageState.HELD}
    # Not final: on the way (PENDING), or paused by a task (HELD).
    assert set(PENDING) | {MessageState.HELD} == set(MessageState) - set(FINAL)
    assert not set(PENDING) & {MessageState.HELD}
    assert set(FAILURES) < set(REPORTED)
    assert not set(FAILURES) & {
        MessageState.DELIVERED,
        MessageState.UNKNOWN,
        MessageState.CANCELLED,
    }


def test_groups_are_in_the_enum_order_without_repeats() -> None:
    order = list(MessageState)
    for group in (INITIAL, FINAL, REPORTED, PENDING, RECEIPT_STATES, FAILURES, CANCELLABLE):
        assert list(group) == sorted(set(group), key=order.index), group


# -- the stored strings ------------------------------------------------------------------------


def test_the_values_are_the_strings_stored_and_equal_their_names() -> None:
    assert {state.value for state in MessageState} == STORED
    assert all(state.name == state.value for state in MessageState)


def test_every_value_fits_the_columns_that_store_it() -> None:
    columns = (
        schema.messages.c.state,
        schema.message_parts.c.state,
        schema.orphan_receipts.c.state,
    )
    for column in columns:
        length = column.type.length  # type: ignore[attr-defined]
        assert max(len(state.value) for state in MessageState) <= length, column


def test_the_partial_index_predicates_keep_their_migrated_text() -> None:
    # A planner uses a partial index only for the very predicate it was created with.
    assert str(schema.QUEUED) == "state = 'QUEUED'"
    assert str(schema.LEASED) == "state = 'SENDING'"
    assert str(schema.IN_FLIGHT) == "state = 'SUBMITTED'"


def test_receipts_carry_only_receipt_states() -> None:
    carried = set(inbound._SEAM_STATES.values()) | {base.UNKNOWN}
    carried |= {outcome[0] for outcome in MAGIC.values() if outcome is not None}
    assert carried <= set(RECEIPT_STATES)
