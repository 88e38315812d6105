"""The hand-labelled evaluation set is well formed and independent of the training data."""

from __future__ import annotations

import csv
import json
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

SAMPLES = Path(str(resources.files("triage.samples")))
EVAL = SAMPLES / "evaluation" / "messages.jsonl"
TRAINING = SAMPLES / "training"

LANGUAGES = {"en", "de", "fr", "es"}
URGENCIES = {"low", "normal", "high", "critical"}
SENTIMENTS = {"negative", "neutral", "positive"}
FIELDS = {"id", "channel", "language", "text", "intent", "urgency", "sentiment", "note"}


def _intents() -> set[str]:
    taxonomy = tomllib.loads((TRAINING / "taxonomy.toml").read_text(encoding="utf-8"))
    return {entry["name"] for entry in taxonomy["intent"]}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    lines = EVAL.read_text(encoding="utf-8").splitlines()
    assert lines, "empty evaluation set"
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - message only
            raise AssertionError(f"line {number} is not JSON: {exc}") from exc
        assert isinstance(row, dict), f"line {number}"
        parsed.append(row)
    return parsed


def test_shape_and_labels(rows: list[dict[str, str]]) -> None:
    intents = _intents() | {"oos"}
    assert len(rows) >= 200
    for row in rows:
        where = row.get("id", row)
        expected = FIELDS | ({"subject"} if row.get("channel") == "email" else set())
        assert set(row) == expected, where
        assert all(isinstance(value, str) for value in row.values()), where
        assert row["channel"] in {"email", "chat"}, where
        assert row["language"] in LANGUAGES, where
        assert row["intent"] in intents, where
        assert row["urgency"] in URGENCIES, where
        assert row["sentiment"] in SENTIMENTS, where
        assert row["text"].strip() and row["note"].strip(), where
        if row["intent"] == "oos":
            assert row["urgency"] in {"low", "normal"}, f"{where}: out of scope is never high"


def test_ids_unique(rows: list[dict[str, str]]) -> None:
    ids = Counter(row["id"] for row in rows)
    assert not [i for i, n in ids.items() if n > 1]
    texts = Counter(row["text"] for row in rows)
    assert not [t for t, n in texts.items() if n > 1]


def test_coverage(rows: list[dict[str, str]]) -> None:
    assert {row["language"] for row in rows} == LANGUAGES
    per_intent = Counter(row["intent"] for row in rows)
    assert set(per_intent) == _intents() | {"oos"}
    assert min(per_intent.values()) >= 8, per_intent
    assert per_intent["oos"] >= 30
    for language in LANGUAGES - {"en"}:
        seen = {row["intent"] for row in rows if row["language"] == language}
        assert seen >= _intents(), f"{language}: missing {_intents() - seen}"
    assert {row["urgency"] for row in rows} == URGENCIES
    assert {row["sentiment"] for row in rows} == SENTIMENTS


def test_independent_of_training_data(rows: list[dict[str, str]]) -> None:
    training_texts: set[str] = set()
    for path in sorted(TRAINING.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for record in csv.reader(handle):
                training_texts.update(cell.strip() for cell in record)
    assert training_texts, "no training csv found"
    overlap = [row["id"] for row in rows if row["text"].strip() in training_texts]
    assert not overlap, f"evaluation texts also in training data: {overlap}"
