"""The task and label vocabulary is declared once, in models/vocabulary.py (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

import models
from models.vocabulary import (
    PRIORITIES,
    SENTIMENTS,
    TASKS,
    URGENCY_LEVELS,
    URGENCY_TO_PRIORITY,
    Priority,
    Sentiment,
    Task,
    Urgency,
)

ROOT = Path(models.__file__).resolve().parent.parent
# What ships (pyproject packages.find) and the benchmarks that report on it.
PACKAGES = ("triage", "models", "training", "mail", "api", "benchmarks")
HOME = ROOT / "models" / "vocabulary.py"
VOCABULARIES = {"tasks": set(TASKS), "urgency levels": set(URGENCY_LEVELS), "priorities": set(PRIORITIES),
                "sentiments": set(SENTIMENTS)}


def _strings(nodes: list[ast.expr | None]) -> set[str] | None:
    if not nodes or not all(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in nodes):
        return None
    return {n.value for n in nodes}  # type: ignore[union-attr]


def redeclarations(path: Path, root: Path = ROOT) -> list[str]:
    """Literal tuples, lists, sets (Literal[...] included) and dict keys spelling out a whole vocabulary."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            values = _strings(list(node.elts))
        elif isinstance(node, ast.Dict):
            values = _strings(list(node.keys))
        else:
            continue
        for name, vocabulary in VOCABULARIES.items():
            if values == vocabulary:
                found.append((node.lineno, f"{path.relative_to(root)}:{node.lineno}: the {name} again"))
    return [problem for _, problem in sorted(found)]


def test_the_vocabulary_is_declared_once() -> None:
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py")) if p != HOME]
    assert len(files) > 50
    problems = [problem for path in files for problem in redeclarations(path)]
    assert problems == [], "import these from models.vocabulary instead:\n" + "\n".join(problems)


def test_the_check_sees_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "copy.py"
    copy.write_text('Level = Literal["critical", "high", "normal", "low"]\nRANK = {"urgent": 0, "high": 1, '
                    '"normal": 2, "low": 3}\nfor task in ("sentiment", "intent"):\n    pass\n', encoding="utf-8")
    assert redeclarations(copy, tmp_path) == ["copy.py:1: the urgency levels again", "copy.py:2: the priorities again"]


def test_types_and_tuples_agree() -> None:
    assert get_args(Task) == TASKS == ("intent", "sentiment", "urgency")
    assert get_args(Urgency) == URGENCY_LEVELS
    assert get_args(Priority) == PRIORITIES
    assert get_args(Sentiment) == SENTIMENTS


def test_priority_follows_urgency_level_for_level() -> None:
    assert list(URGENCY_TO_PRIORITY) == list(URGENCY_LEVELS)
    assert list(URGENCY_TO_PRIORITY.values()) == list(PRIORITIES)
    assert URGENCY_TO_PRIORITY["critical"] == "urgent"
