"""The training modules import one another without a cycle (issue 13): every import counts, lazy ones too."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import training

PACKAGE = Path(training.__file__).parent


def import_graph() -> dict[str, set[str]]:
    """training module -> the training modules it imports anywhere in its body (TYPE_CHECKING blocks too)."""
    modules = {f"training.{p.stem}" for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    graph: dict[str, set[str]] = {}
    for name in sorted(modules):
        tree = ast.parse((PACKAGE / f"{name.split('.')[-1]}.py").read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            found |= {t for t in targets if t in modules and t != name}
        graph[name] = found
    return graph


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "training.measure" in graph["training.train"]
    assert "training.train" in graph["training.evaluate"]


def test_training_imports_are_acyclic() -> None:
    try:
        order = list(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle among training modules: {' -> '.join(exc.args[1])}") from None
    assert order
