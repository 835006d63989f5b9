"""The voice call life cycle table, walked as a graph."""

from __future__ import annotations

from collections import deque

from smscloud.domain.call_states import FINAL, IN_CALL, NEXT, TRANSITIONS, CallEvent, CallState


def _reachable_from_accept() -> set[CallState]:
    start = {t.target for t in TRANSITIONS if t.source is None}
    seen, todo = set(start), deque(start)
    while todo:
        for target in NEXT[todo.popleft()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_every_state_is_reachable_from_accept() -> None:
    assert _reachable_from_accept() == set(CallState)


def test_final_states_have_no_way_out_and_every_other_state_reaches_one() -> None:
    for state in CallState:
        if state in FINAL:
            assert NEXT[state] == frozenset(), state
        else:
            seen, todo = {state}, deque([state])
            while todo:
                for target in NEXT[todo.popleft()] - seen:
                    seen.add(target)
                    todo.append(target)
            assert seen & set(FINAL), state


def test_every_move_into_a_final_state_reports_it_and_only_those() -> None:
    for t in TRANSITIONS:
        assert t.reports == (t.target in FINAL), t


def test_only_hanging_up_an_answered_call_bills() -> None:
    billing = [t for t in TRANSITIONS if t.bills]
    assert [(t.source, t.event, t.target) for t in billing] == [
        (CallState.ANSWERED, CallEvent.HANG_UP, CallState.ENDED)
    ]


def test_a_dialled_call_never_goes_back_to_the_queue() -> None:
    """Tencent: a hang-up is never redialled. Once CALLING, no path leads to QUEUED/CLAIMED."""
    for state in IN_CALL:
        seen, todo = {state}, deque([state])
        while todo:
            for target in NEXT[todo.popleft()] - seen:
                seen.add(target)
                todo.append(target)
        assert not seen & {CallState.QUEUED, CallState.CLAIMED}, state


def test_a_dead_worker_mid_call_ends_every_in_call_state() -> None:
    interrupted = {t.source for t in TRANSITIONS if t.event is CallEvent.INTERRUPTED}
    assert interrupted == set(IN_CALL)


def test_values_are_names() -> None:
    assert all(state.value == state.name for state in CallState)
