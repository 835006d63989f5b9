"""The message life cycle table, walked; and a scan that keeps its states named, not spelled.

The first tests read ``domain.message_states`` as a graph: every state is reachable from what
ACCEPT inserts, final states have no way out, every other state has a way to one, and each
named group says what the table says. The scan reads every module under ``src/smscloud``
(and the console's templates) and lists each place that spells a message state as a quoted
string instead of naming it from ``MessageState``; the words of other vocabularies that look
the same (SMPP receipt stat words) are listed below, each with its reason.
"""

from __future__ import annotations

import ast
import re
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


# -- the scan ----------------------------------------------------------------------------------

_WORDS = "|".join(sorted(STORED, key=len, reverse=True))
_EXACT = re.compile(rf"(?:{_WORDS})")
# A state quoted inside a longer string: SQL text (state = 'QUEUED') or a template's test.
_QUOTED = re.compile(rf"""['"](?:{_WORDS})['"]""")
_TEMPLATE_QUOTED = re.compile(rf"""['"]({_WORDS})['"]""")

SKIPPED = ("domain/message_states.py", "store/migrations/")

SMPP_WORD = "an SMPP 3.4 Appendix B receipt stat word, not a message state"
CALL_STATE = "a voice call's state, named in its own table (domain/call_states.py)"
ALLOWED: dict[tuple[str, str, str], str] = {
    ("protocols/smpp/receipt.py", "<module>", "DELIVERED"): SMPP_WORD,
    ("protocols/smpp/receipt.py", "<module>", "EXPIRED"): SMPP_WORD,
    ("protocols/smpp/receipt.py", "<module>", "REJECTED"): SMPP_WORD,
    ("protocols/smpp/receipt.py", "<module>", "UNKNOWN"): SMPP_WORD,
    ("carriers/magic.py", "<module>", "EXPIRED"): SMPP_WORD,
    ("carriers/smsc/outcomes.py", "<module>", "EXPIRED"): SMPP_WORD,
    ("services/reports.py", "<module>", "EXPIRED"): SMPP_WORD,
    ("services/reports.py", "<module>", "UNKNOWN"): SMPP_WORD,
    ("domain/outcomes.py", "<module>", "EXPIRED"): SMPP_WORD,
    ("console/code_words.py", "<module>", "UNKNOWN"): SMPP_WORD,  # a receipt code, in words
    ("domain/call_states.py", "CallState", "QUEUED"): CALL_STATE,
    ("domain/call_states.py", "CallState", "FAILED"): CALL_STATE,
}


class _Spellings(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.found: set[tuple[str, str]] = set()

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped  # noqa: N815

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            text = node.value
            spelled = [text] if _EXACT.fullmatch(text) else _QUOTED.findall(text)
            where = ".".join(self.scope) or "<module>"
            self.found |= {(where, word.strip("'\"")) for word in spelled}


def spellings() -> set[tuple[str, str, str]]:
    """(module, enclosing scope, state) of every message state spelled out under src/."""
    found: set[tuple[str, str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name.startswith(SKIPPED):
            continue
        visitor = _Spellings()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found |= {(name, scope, word) for scope, word in visitor.found}
    for path in sorted(SRC.rglob("*.html")):
        name = path.relative_to(SRC).as_posix()
        found |= {(name, "<template>", w) for w in _TEMPLATE_QUOTED.findall(path.read_text())}
    return found


def test_no_message_state_is_spelled_out_of_the_table() -> None:
    unexpected = sorted(spellings() - set(ALLOWED))
    assert unexpected == [], "name these from MessageState, or list them with a reason"


def test_the_list_has_no_stale_entries() -> None:
    assert sorted(set(ALLOWED) - spellings()) == []


def test_the_scan_sees_every_form_of_spelling() -> None:
    source = """
a = "QUEUED"
def b(): return x == 'HELD'
def c(): return "UPDATE messages SET state = 'SUBMITTED' WHERE state = 'SENDING'"
def d(): return f"state IN ('DELIVERED', {x})"
class E:
    def f(self): return {"CANCELLED": 1}
def g(): return "QUEUED messages wait; DELIVRD is a stat word; 'queued' is not ours"
"""
    visitor = _Spellings()
    visitor.visit(ast.parse(source))
    assert visitor.found == {
        ("<module>", "QUEUED"),
        ("b", "HELD"),
        ("c", "SUBMITTED"),
        ("c", "SENDING"),
        ("d", "DELIVERED"),
        ("E.f", "CANCELLED"),
    }
