"""Where the code reads the machine's clock: nowhere a rule lives.

Every rule reads "now" from the clock its process was given (``smscloud.clock``). This test
reads the source of every module and lists each place that reads the machine's wall clock
itself (``time.time``, ``datetime.now``, ``date.today``... or ``system_clock()``), and holds
the list to the short one below, each with its reason. A new reading fails here until it is
either given the platform's clock or written down with a reason as not the platform's time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import smscloud

SRC = Path(smscloud.__file__).parent

# Functions of the standard library that read the wall clock (a reference counts: a default
# argument of ``time.time`` is a reading waiting to happen).
WALL_CLOCK = {
    "time": {"time", "time_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"},
    "datetime": {"now", "utcnow", "today"},
    "date": {"today"},
}

FALLBACK = "a caller without a platform (the CLI, seeding, tests) passes no `now`"
ALLOWED: dict[tuple[str, str], str] = {
    ("clock.py", "system_clock"): "the one reader of the machine's clock",
    ("api/tc3/endpoint.py", "Endpoint._handle"): "a signature's age: the client signed by it",
    ("api/v5/routes.py", "_handle"): "a v5 request's age: the client stamped it by its clock",
    ("api/v5/voice_files.py", "_upload"): "an upload's age: the client stamped it by its clock",
    ("carriers/sandbox.py", "SandboxCarrier.__init__"): "message ids unique across restarts",
    ("carriers/smpp/carrier.py", "SmppCarrier._on_deliver"): "when the carrier's report came",
    ("carriers/smsc/simulator.py", "SmscSimulator.dispatch"): "the simulated carrier's clock",
    ("carriers/smsc/simulator.py", "SmscSimulator.consequences"): "the simulated carrier's clock",
    ("notify/mail.py", "compose"): "an email's Date: when it leaves the machine",
    ("notify/mail.py", "OutboxMailer.send"): "an outbox file's name, for ordering",
    ("cli/postpaid.py", "actions"): "a command run by the operator, now",
    ("cli/demo_data.py", "approved_sign"): "the demo data made at the first start",
    ("cli/demo_data.py", "approved_template"): "the demo data made at the first start",
    ("cli/demo_data.py", "approved_voice_template"): "the demo data made at the first start",
    ("cli/main.py", "_decide"): "a review decided by the operator at the command line, now",
    ("cli/main.py", "_review_list"): "the queue's waits as the operator lists them, now",
    ("services/accounts/tenants.py", "create_tenant"): FALLBACK,
    ("services/accounts/tenants.py", "create_key"): FALLBACK,
    ("services/accounts/tenants.py", "create_app"): FALLBACK,
    ("services/billing/wallet.py", "grant_package"): FALLBACK,
    ("services/billing/wallet.py", "refund_package"): FALLBACK,
    ("services/accounts/tenants.py", "create_operator"): FALLBACK,
    ("services/accounts/tenants.py", "create_tenant_user"): FALLBACK,
    ("services/accounts/audit.py", "record"): FALLBACK,
    ("services/carrier_setup.py", "add_carrier"): FALLBACK,
    ("services/carrier_setup.py", "add_route"): FALLBACK,
    ("services/billing/orders.py", "add_offer"): FALLBACK,
    ("services/billing/orders.py", "create_order"): FALLBACK,
    ("services/billing/orders.py", "pay_order"): FALLBACK,
    ("services/registry/review.py", "decide"): FALLBACK,
}


def _reads_wall_clock(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        owner = node.value
        name = (
            owner.id
            if isinstance(owner, ast.Name)
            else owner.attr
            if isinstance(owner, ast.Attribute)
            else ""
        )
        return node.attr in WALL_CLOCK.get(name, set())
    if isinstance(node, ast.ImportFrom) and node.module in WALL_CLOCK:
        return any(a.name in WALL_CLOCK[node.module] for a in node.names)
    if isinstance(node, ast.Call):
        fn = node.func
        return (isinstance(fn, ast.Name) and fn.id == "system_clock") or (
            isinstance(fn, ast.Attribute) and fn.attr == "system_clock"
        )
    return False


class _Readings(ast.NodeVisitor):
    def __init__(self) -> None:
        self.scope: list[str] = []
        self.found: set[str] = set()

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped  # noqa: N815

    def generic_visit(self, node: ast.AST) -> None:
        if _reads_wall_clock(node):
            self.found.add(".".join(self.scope) or "<module>")
        super().generic_visit(node)


def readings() -> set[tuple[str, str]]:
    """(module, enclosing function) of every reading of the machine's clock under src/."""
    found: set[tuple[str, str]] = set()
    for path in sorted(SRC.rglob("*.py")):
        visitor = _Readings()
        visitor.visit(ast.parse(path.read_text(), str(path)))
        found |= {(path.relative_to(SRC).as_posix(), scope) for scope in visitor.found}
    return found


def test_only_the_listed_places_read_the_machines_clock() -> None:
    unexpected = sorted(readings() - set(ALLOWED))
    assert unexpected == [], "give these the platform's clock, or list them with a reason"


def test_the_list_has_no_stale_entries() -> None:
    assert sorted(set(ALLOWED) - readings()) == []


def test_the_scan_sees_every_form_of_reading() -> None:
    source = """
import time
from datetime import date, datetime
from time import time as now
def a(clock=time.time): ...
def b(): return datetime.now()
def c(): return date.today()
def d(): return system_clock()
def e(): return time.monotonic()
"""
    visitor = _Readings()
    visitor.visit(ast.parse(source))
    assert visitor.found == {"<module>", "a", "b", "c", "d"}
