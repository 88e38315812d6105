"""Loading labelled text data from CSV or JSONL with clear errors, and hashing it for provenance."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models.vocabulary import TASKS
from triage.errors import BadRequest, NotFound


@dataclass
class Dataset:
    texts: list[str]
    labels: list[str]
    source: str
    skipped: list[str]

    @property
    def sha256(self) -> str:
        """Hash of the (text, label) pairs: identical data gives identical hashes whatever the file name."""
        digest = hashlib.sha256()
        for text, label in zip(self.texts, self.labels, strict=True):
            digest.update(text.encode("utf-8") + b"\x1f" + label.encode("utf-8") + b"\x1e")
        return digest.hexdigest()

    def __len__(self) -> int:
        return len(self.texts)


def load_csv(path: Path, *, text_column: str = "text", label_column: str = "label",
             name: str | None = None) -> Dataset:
    """Read a CSV of labelled texts; rows with an empty text or label are skipped and reported.

    `name` stands for the file in messages and provenance (an upload's own name rather than a temporary path).
    """
    if not path.exists():
        raise NotFound(f"{name or path}: no such file")
    source = name or str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            for needed in (text_column, label_column):
                if needed not in columns:
                    raise BadRequest(f"{source}: no column {needed!r} (columns are: {', '.join(columns) or 'none'})")
            texts, labels, skipped = [], [], []
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if not text or not label:
                    skipped.append(f"{source}:{reader.line_num}: empty {'text' if not text else 'label'}")
                    continue
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{source}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise BadRequest(f"{source}: malformed CSV ({exc})") from exc
    if not texts:
        raise BadRequest(f"{source}: no labelled rows")
    return Dataset(texts, labels, source, skipped)


def load_jsonl(path: Path, *, text_column: str = "text", label_column: str = "label",
               name: str | None = None) -> Dataset:
    """Read JSON Lines, one object with a text and a label per line; like CSV, rows lacking either are skipped."""
    source = name or str(path)
    if not path.exists():
        raise NotFound(f"{source}: no such file")
    texts, labels, skipped = [], [], []
    seen_columns: set[str] = set()
    try:
        with path.open(encoding="utf-8-sig") as fh:
            for line_num, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as exc:  # nesting deep enough to exhaust the parser
                    raise BadRequest(f"{source}:{line_num}: not a JSON object ({exc})") from exc
                if not isinstance(row, dict):
                    raise BadRequest(f"{source}:{line_num}: expected a JSON object with {text_column!r} and "
                                    f"{label_column!r}, got {type(row).__name__}")
                seen_columns.update(row)
                text, label = row.get(text_column), row.get(label_column)
                # A numeric label (1, 2, ...) is as good as a string; a list or a bool is a mistake.
                if not isinstance(text, str) or isinstance(label, bool) or not isinstance(label, str | int):
                    what = "text" if not isinstance(text, str) else "label"
                    skipped.append(f"{source}:{line_num}: {what} is missing or not a string")
                    continue
                text, label = text.strip(), str(label).strip()
                if not text or not label:
                    skipped.append(f"{source}:{line_num}: empty {'text' if not text else 'label'}")
                    continue
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{source}: not UTF-8 text ({exc})") from exc
    for needed in (text_column, label_column):
        if seen_columns and needed not in seen_columns:
            raise BadRequest(f"{source}: no field {needed!r} in any line "
                            f"(fields are: {', '.join(sorted(seen_columns))})")
    if not texts:
        raise BadRequest(f"{source}: no labelled rows")
    return Dataset(texts, labels, source, skipped)


JSONL_SUFFIXES = (".jsonl", ".ndjson")


def load_dataset(path: Path, *, text_column: str = "text", label_column: str = "label",
                 name: str | None = None) -> Dataset:
    """CSV or JSON Lines by the file's suffix (`.jsonl`/`.ndjson`; anything else is read as CSV)."""
    loader = load_jsonl if Path(path).suffix.lower() in JSONL_SUFFIXES else load_csv
    return loader(path, text_column=text_column, label_column=label_column, name=name)


def sample_path(name: str) -> Path:
    """Path of a bundled training file (intents.csv, sentiment.csv, urgency.csv)."""
    return Path(str(resources.files("triage.samples") / "training" / name))


BASELINE_FILES: dict[str, str] = dict(zip(TASKS, ("intents.csv", "sentiment.csv", "urgency.csv"), strict=True))


def write_csv(path: Path, dataset: Dataset, *, origins: list[str] | None = None) -> Path:
    """Write `text,label[,origin]` as UTF-8 CSV that `load_csv` reads back unchanged; replaced atomically."""
    import os
    import tempfile

    if origins is not None and len(origins) != len(dataset):
        raise ValueError("one origin per row")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["text", "label"] + (["origin"] if origins is not None else []))
            for i, (text, label) in enumerate(zip(dataset.texts, dataset.labels, strict=True)):
                writer.writerow([text, label] + ([origins[i]] if origins is not None else []))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
