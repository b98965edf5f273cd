"""docs/architecture.md stays true to the code: every function, class or member it names is defined in the
package, and every file it points to exists."""

from __future__ import annotations

import ast
import re

from conftest import REPO

DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")


def defined_names() -> set[str]:
    """Every function, class and method in the package, and the names assigned at module or class level (not a
    function's local variables)."""
    names: set[str] = set()
    for path in (REPO / "assistant").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bodies = [tree.body] + [node.body for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
        for statement in (s for body in bodies for s in body):
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_every_function_and_member_the_document_names_exists() -> None:
    called = set(re.findall(r"\b([A-Za-z_]\w*)\(", DOC))  # `Ingestor.run(paths)`, `discover()`
    members = set(re.findall(r"\b[A-Z][A-Za-z]+\.([a-z_]\w*)\b", DOC))  # `Reply.sources_shown`
    defined = defined_names()
    assert sorted((called | members) - defined) == []


def test_every_file_the_document_points_to_exists() -> None:
    paths = set(re.findall(r"\b((?:assistant|tests|docs|evals|bench)/[\w./-]+\.(?:py|md|yaml))\b", DOC))
    assert len(paths) > 10, "the document points at files"
    # `evals/core.py` in the text of the evals row means assistant/evals/core.py.
    missing = [p for p in paths if not (REPO / p).exists() and not (REPO / "assistant" / p).exists()]
    assert missing == []
