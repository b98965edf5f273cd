"""No import cycles in the package: every module's imports, read from its source, form a graph with no loop. The
ones inside functions count (they only hide a cycle until the function runs), and so do the ones under
`if TYPE_CHECKING:`: they never run, but two modules that name each other's types are one module split in two, and
the type checker has to read them together."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import REPO

PACKAGE = REPO / "assistant"


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The project module `name` refers to (a name imported from a module resolves to that module)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, package: str, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            base = f"{anchor}.{base}" if base else anchor
        names = [f"{base}.{alias.name}" for alias in node.names]
    return {found for name in names if (found := _known(name, modules))}


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found |= _targets(node, package, modules)
        pending.extend(ast.iter_child_nodes(node))
    # Importing a.b.c runs a and a.b first: a module depends on its parent packages, except its own.
    parents = {p for name in found for p in _parents(name) if p in modules and not module.startswith(p + ".")}
    return (found | parents) - {module}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def test_the_checker_finds_a_cycle_through_a_function_level_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_read_inside_functions_and_under_type_checking() -> None:
    graph = import_graph()
    assert "assistant.llm" in graph["assistant.coach"], "a module-level import"
    assert "assistant.coach" in graph["assistant.runtime"], "an import inside a Runtime property"
    assert "assistant.evals.harness" in graph["assistant.evals.reports"]
    assert "assistant.coaching.understanding" in graph["assistant.llm"], "an import under `if TYPE_CHECKING:`"


def test_the_coach_is_given_its_collaborators_not_the_runtime() -> None:
    graph = import_graph()
    for module in ("assistant.coach", "assistant.practice.chat"):
        assert "assistant.runtime" not in graph[module], f"{module} names the Runtime"
    llm = [m for m in graph if m == "assistant.llm" or m.startswith("assistant.llm.")]
    assert all("assistant.sessions" not in graph[m] for m in llm), "backends read a MenteeProfile from types.py"


def test_no_import_cycle_in_the_package() -> None:
    assert cycles(import_graph()) == []
