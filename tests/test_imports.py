"""No import cycles in citations/, archive/ or checker/, and the direction inside checker/.

The graph is read from the source (``ast``), not from what Python happened to import: every
``import`` and ``from … import`` counts, at module level, inside functions (an import moved into
a function to dodge a cycle at start-up is still a cycle in the design: each module needs the
other) and inside ``if TYPE_CHECKING:`` blocks (a type one module needs from another is a
dependency too; none of them is exempt, because none is needed: a type that two modules share
belongs below both). Relative imports are resolved. ``from package import name`` is an edge to
the submodule ``package.name`` when there is one, else to the package. Not walked: modules
named by strings (``checker.cli.commands`` loads each command with ``importlib``, the way a
plugin table does; the commands sit above it and import nothing back).

The direction inside checker/ (the README's Layout section)::

    cli -> run -> {net, judge, store, report}
    report -> store, judge;   store -> judge;   net -> judge.maintext only
    judge -> checker.models, checker.settings, checker.errors only
    checker.models, checker.settings, checker.errors -> nothing of checker's subpackages

A layer may import any layer the rules put below it (``cli`` opens the store and renders
reports itself); nothing imports upwards.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("citations", "archive", "checker")


@dataclass(frozen=True, slots=True)
class Edge:
    importer: str
    imported: str
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported} (line {self.line})"


def _modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of our packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _owner(name: str) -> str | None:
    """The module of ours that `name` (a module or a name inside one) belongs to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def edges_of(module: str, source: str | None = None) -> Iterator[Edge]:
    """Every import of one of our modules by `module` (its file, or `source`), wherever it
    stands: module level, functions, ``if TYPE_CHECKING:`` blocks."""
    if source is None:
        source = MODULES[module].read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in MODULES else source
                       for alias in node.names]
        for target in targets:
            owner = _owner(target)
            if owner is not None and owner != module:
                yield Edge(module, owner, node.lineno)


GRAPH: dict[str, list[Edge]] = {module: list(edges_of(module)) for module in MODULES}


def cycles(graph: dict[str, list[Edge]]) -> list[list[Edge]]:
    """One cycle (as its edges) through each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:  # recursion depth: the longest import chain, a few dozen
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for edge in graph[node]:
            if edge.imported not in index:
                visit(edge.imported)
                low[node] = min(low[node], low[edge.imported])
            elif edge.imported in on_stack:
                low[node] = min(low[node], index[edge.imported])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_a_cycle(graph, group) for group in groups]


def _a_cycle(graph: dict[str, list[Edge]], group: set[str]) -> list[Edge]:
    """A shortest way round from the group's first module back to it, for the message."""
    start = min(group)
    paths: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for edge in graph[node]:
                if edge.imported == start:
                    return [*paths[node], edge]
                if edge.imported in group and edge.imported not in paths:
                    paths[edge.imported] = [*paths[node], edge]
                    following.append(edge.imported)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - Tarjan found one


def test_no_import_cycles() -> None:
    found = cycles(GRAPH)
    assert found == [], "import cycles:\n" + "\n".join(
        " ; ".join(map(str, cycle)) for cycle in found)


# --- the test's own rules, on made-up graphs (so that a broken walker cannot pass silently) ----


def _graph(*pairs: tuple[str, str]) -> dict[str, list[Edge]]:
    graph: dict[str, list[Edge]] = {}
    for importer, imported in pairs:
        graph.setdefault(importer, []).append(Edge(importer, imported, 1))
        graph.setdefault(imported, [])
    return graph


def test_the_cycle_finder_finds_long_and_short_cycles() -> None:
    assert cycles(_graph(("a", "b"), ("b", "c"), ("c", "d"))) == []
    (cycle,) = cycles(_graph(("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")))
    assert [(e.importer, e.imported) for e in cycle] == [("a", "b"), ("b", "c"), ("c", "a")]
    assert len(cycles(_graph(("a", "b"), ("b", "a"), ("x", "y"), ("y", "x")))) == 2


def test_imports_inside_functions_and_type_checking_blocks_are_walked() -> None:
    source = """
from typing import TYPE_CHECKING
import checker.models
if TYPE_CHECKING:
    from checker.store.rows import DueLink
def later() -> None:
    from checker.run import parallel
    import checker.judge.state as state
class Lazy:
    def method(self) -> None:
        from .engine import fetch_all
"""
    imported = [(e.imported, e.line) for e in edges_of("checker.run.check", source)]
    assert sorted(imported) == [
        ("checker.judge.state", 8), ("checker.models", 3), ("checker.run.engine", 11),
        ("checker.run.parallel", 7), ("checker.store.rows", 5)]


def test_relative_and_submodule_imports_resolve() -> None:
    node = ast.parse("from . import urls").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _absolute("citations.models", node) == "citations"
    assert _owner("citations.urls.normalize_url") == "citations.urls"
    assert _owner("checker.run.parallel.Workers") == "checker.run.parallel"


# --- the direction inside checker/ -----------------------------------------------------------

#: checker's parts, top down; "top" is checker.models, checker.settings and checker.errors.
#: Each may import the parts listed for it (and itself, and citations/ and archive/).
BELOW: dict[str, set[str]] = {
    "entry": {"cli"},                      # checker/__main__.py, checker/__init__.py
    "cli": {"run", "net", "judge", "store", "report", "top"},
    "run": {"net", "judge", "store", "report", "top"},
    "report": {"store", "judge", "top"},
    "store": {"judge", "top"},
    "net": {"judge.maintext", "top"},
    "judge": {"top"},
    "top": set(),
}
_TOP = {"checker.models", "checker.settings", "checker.errors"}


def part_of(module: str) -> str:
    if module in _TOP:
        return "top"
    if module in ("checker", "checker.__main__"):
        return "entry"
    return module.split(".")[1]


def _allowed(importer: str, imported: str) -> bool:
    if not imported.startswith("checker"):
        return True  # citations/ and archive/: tests/test_layers.py keeps them leaves
    mine, theirs = part_of(importer), part_of(imported)
    if mine == theirs:
        return True
    rules = BELOW[mine]
    return theirs in rules or any(imported == f"checker.{rule}" or imported.startswith(
        f"checker.{rule}.") for rule in rules if "." in rule)


def test_every_part_of_checker_has_a_rule() -> None:
    parts = {part_of(module) for module in MODULES if module.startswith("checker")}
    assert parts <= set(BELOW), parts - set(BELOW)


@pytest.mark.parametrize("part", sorted(BELOW))
def test_checker_imports_run_one_way(part: str) -> None:
    wrong = [str(edge) for module, edges in GRAPH.items()
             if module.startswith("checker") and part_of(module) == part
             for edge in edges if not _allowed(edge.importer, edge.imported)]
    assert wrong == [], f"checker/{part} imports against the direction: " + "; ".join(wrong)


def test_the_direction_rules_refuse_upward_imports() -> None:
    assert not _allowed("checker.run.check", "checker.cli.main")
    assert not _allowed("checker.report.build", "checker.run.check")
    assert not _allowed("checker.net.fetch", "checker.judge.classify")
    assert _allowed("checker.net.fetch", "checker.judge.maintext")
    assert not _allowed("checker.judge.state", "checker.store.rows")
    assert not _allowed("checker.models", "checker.judge.state")
    assert _allowed("checker.cli.check", "checker.store.database")
