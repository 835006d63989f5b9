"""Arrows point down and never round: the import graph of ``src/smscloud``.

``cli`` → ``api``/``console``/``delivery`` → ``services`` → ``domain``/``store``; ``domain`` and
``protocols`` import nothing of ours but each other; carriers and the store know nothing of
tenants' use cases. An import inside a function is allowed only where it defers a heavy load,
never to dodge a cycle (a cycle fails ``test_no_import_cycle`` whether deferred or not).
"""

from __future__ import annotations

import ast
from pathlib import Path

import smscloud

SRC = Path(smscloud.__file__).parent

# (importing module, imported module) -> why the import waits until it is needed.
DEFERRED = {
    ("cli.simulator", "carriers.smsc.config"): "every command reads the smsc-sim options",
    ("cli.simulator", "carriers.smsc.runner"): "every command reads the smsc-sim options",
    ("cli.main", "cli.worker"): "admin commands start fast without the servers",
    ("cli.main", "cli.serve"): "admin commands start fast without the servers",
    ("cli.postpaid", "domain.billing.documents"): "fpdf and Pillow: some 20 MiB",
    ("console.pages.billing", "domain.billing.documents"): "fpdf and Pillow: some 20 MiB",
}
# What each layer may import of ours (by first package name below smscloud).
MAY_IMPORT = {
    "domain": {"domain"},
    "protocols": {"protocols", "domain"},
    "store": {"store", "domain", "clock", "config", "private_files", "random_ids"},
    "notify": {"notify", "domain", "clock", "private_files"},
    "carriers": {"carriers", "protocols", "domain", "clock", "private_files"},
    "services": {"services", "domain", "protocols", "store", "notify", "carriers", "clock",
                 "config", "private_files", "random_ids"},
}  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {
    module_name(p): p for p in SRC.rglob("*.py") if "migrations" not in p.relative_to(SRC).parts
}


def targets(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    """Our modules an import statement loads (a name imported from a package may be one)."""
    if isinstance(node, ast.Import):
        names = [
            a.name.removeprefix("smscloud.") for a in node.names if a.name.startswith("smscloud")
        ]
        return [n for n in names if n in MODULES]
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join([*package[: len(package) - node.level + 1], node.module or ""]).strip(".")
    elif node.module and node.module.startswith("smscloud"):
        base = node.module.removeprefix("smscloud").lstrip(".")
    else:
        return []
    found = []
    for alias in node.names:
        sub = f"{base}.{alias.name}" if base else alias.name
        found.append(sub if sub in MODULES else base)
    return [f for f in found if f in MODULES]


def graph() -> tuple[dict[str, set[str]], list[tuple[str, str]]]:
    """Module-level imports of each module (those under ``if TYPE_CHECKING:`` never run and
    are not counted), and the imports made inside functions."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    inner: list[tuple[str, str]] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges[module].update(targets(node, module, path))
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        inner += [(module, t) for t in targets(node, module, path)]
    return edges, inner


EDGES, INNER = graph()


def test_the_graph_sees_the_layers() -> None:
    assert "services.sending.accept" in EDGES["services.sending.sms"]
    assert "domain.message_states" in EDGES["carriers.base"]
    assert ("cli.main", "cli.serve") in INNER


def test_no_import_cycle() -> None:
    # Deferred imports count too: they only move the moment a cycle would bite.
    edges = {m: set(t) for m, t in EDGES.items()}
    for source, target in INNER:
        edges[source].add(target)
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 1:
                return [*path[path.index(t) :], t]
            if t not in state and (cycle := visit(t)):
                return cycle
        state[m] = 2
        path.pop()
        return None

    for m in sorted(edges):
        if m not in state:
            assert (cycle := visit(m)) is None, " -> ".join(cycle)


def test_arrows_point_down() -> None:
    wrong = [
        (m, t)
        for m, targets_ in EDGES.items()
        for t in targets_
        if (layer := m.split(".")[0]) in MAY_IMPORT and t.split(".")[0] not in MAY_IMPORT[layer]
    ]
    assert wrong == []


def test_imports_inside_functions_only_defer_heavy_loads() -> None:
    assert sorted(set(INNER) - set(DEFERRED)) == [], "import at the top, or list it with a reason"
    assert sorted(set(DEFERRED) - set(INNER)) == [], "stale entries"
