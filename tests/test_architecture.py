"""The import graph's contracts: which module may import what.

The graph is read from the source (every import statement, at module level or inside a function,
except those under `if TYPE_CHECKING:`), so an import hidden in a function still counts. Importing
`respctl.a.b` also depends on the package `respctl.a` (its `__init__` runs first), unless the
importer lives inside that package already.

Contracts:
- only `respctl.client` imports `openai` (and the schema generator, a development tool that reads the
  SDK's types for `make schema`, which no module of respctl imports);
- nothing `lint` or `show` load reaches `respctl.client` (so they never import openai; what `--help`
  loads is measured by tests/test_cli.py, since cli.py wires every command);
- the graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "respctl"
API_MODULE = "respctl.client"
SCHEMA_GENERATOR = "respctl.lint.generate"
#: Modules that must never reach the API module: the commands that must start fast and offline.
OFFLINE = ("respctl.lint", "respctl.show")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _under_type_checking(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imported(name: str, path: Path, tree: ast.Module) -> list[tuple[str, int]]:
    """Every module name an import statement in `tree` names, with its line (TYPE_CHECKING excluded)."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or _under_type_checking(node, parents):
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)]
            module = ".".join([*base, node.module] if node.module else base)
        else:
            module = node.module or ""
        found.append((module, node.lineno))
        found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    """Edges between respctl's modules, and every external import with where it is."""
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    external: dict[str, list[tuple[str, int]]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        own_packages = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 2)}
        for target, line in _imported(name, path, tree):
            if target.split(".")[0] != "respctl":
                external.setdefault(target.split(".")[0], []).append((name, line))
                continue
            # the module itself if it is one (`from respctl import items`), and each package above it
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                candidate = ".".join(parts[:i])
                if candidate in modules and candidate not in own_packages:
                    edges[name].add(candidate)
    return edges, external


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def test_only_the_client_module_imports_openai():
    edges, external = graph()
    importers = sorted({module for module, _ in external.get("openai", [])})
    assert importers == sorted([API_MODULE, SCHEMA_GENERATOR]), external.get("openai")
    assert not [module for module, targets in edges.items() if SCHEMA_GENERATOR in targets]


@pytest.mark.parametrize("start", OFFLINE)
def test_offline_commands_never_reach_the_client(start):
    edges, _ = graph()
    found = reachable(edges, start)
    assert API_MODULE not in found, f"{start} reaches {API_MODULE}"


def test_the_import_graph_has_no_cycle():
    edges, _ = graph()
    assert cycles(edges) == []


def test_the_checker_sees_a_cycle_and_a_hidden_import(tmp_path):
    # The checks above can fail: a cycle made of function-level imports is found.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]
    source = "def f():\n    from respctl import client\n"
    tree = ast.parse(source)
    assert ("respctl.client", 2) in _imported("respctl.x", ROOT / "x.py", tree)


def test_the_target_choices_typer_declares_are_the_targets():
    """cli.Target is declared at import time (typer needs it); target.TARGETS is what the rules know."""
    from respctl import cli, target

    assert tuple(t.value for t in cli.Target) == target.TARGETS
