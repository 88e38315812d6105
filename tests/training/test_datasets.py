"""JSON Lines and CSV loading: the same rows give the same data and hash; bad lines say where they are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.datasets import load_csv, load_dataset, load_jsonl
from triage.errors import UserError


def test_jsonl_and_csv_of_the_same_rows_are_the_same_dataset(tmp_path: Path) -> None:
    rows = [{"text": "Where is my parcel?", "label": "order_status"}, {"text": "Refund me", "label": "refund"}]
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n", encoding="utf-8")
    csv = tmp_path / "data.csv"
    csv.write_text("text,label\nWhere is my parcel?,order_status\nRefund me,refund\n", encoding="utf-8")
    from_jsonl, from_csv = load_dataset(jsonl), load_dataset(csv)
    assert from_jsonl.texts == from_csv.texts and from_jsonl.labels == from_csv.labels
    assert from_jsonl.sha256 == from_csv.sha256 == load_csv(csv).sha256


def test_jsonl_skips_unlabelled_rows_and_reads_numeric_labels(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": ""}\n{"text": "c"}\n'
                    '{"text": ["d"], "label": "x"}\n{"text": "e", "label": true}\n', encoding="utf-8")
    data = load_jsonl(path, name="upload.jsonl")
    assert (data.texts, data.labels, data.source) == (["a"], ["1"], "upload.jsonl")
    assert data.skipped == ["upload.jsonl:2: empty label", "upload.jsonl:3: label is missing or not a string",
                            "upload.jsonl:4: text is missing or not a string",
                            "upload.jsonl:5: label is missing or not a string"]


@pytest.mark.parametrize(("content", "message"), [
    ('{"text": "a", "label": "x"}\n[1, 2]\n', "data.jsonl:2: expected a JSON object"),
    ('{"text": "a", "label": "x"}\n{oops\n', "data.jsonl:2: not a JSON object"),
    ('{"message": "a", "intent": "x"}\n', "no field 'text' in any line"),
    ('\n\n', "no labelled rows"),
])
def test_bad_jsonl_is_refused_saying_where(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError, match=message):
        load_jsonl(path)
