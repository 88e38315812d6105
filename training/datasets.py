"""Loading labelled text data from CSV with clear errors, and hashing it for provenance."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from triage.errors import UserError


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


def load_csv(path: Path, *, text_column: str = "text", label_column: str = "label") -> Dataset:
    """Read a CSV of labelled texts; rows with an empty text or label are skipped and reported."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = reader.fieldnames or []
            for needed in (text_column, label_column):
                if needed not in columns:
                    raise UserError(f"{path}: no column {needed!r} (columns are: {', '.join(columns) or 'none'})")
            texts, labels, skipped = [], [], []
            for row in reader:
                text = (row.get(text_column) or "").strip()
                label = (row.get(label_column) or "").strip()
                if not text or not label:
                    skipped.append(f"{path}:{reader.line_num}: empty {'text' if not text else 'label'}")
                    continue
                texts.append(text)
                labels.append(label)
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise UserError(f"{path}: malformed CSV ({exc})") from exc
    if not texts:
        raise UserError(f"{path}: no labelled rows")
    return Dataset(texts, labels, str(path), skipped)


def sample_path(name: str) -> Path:
    """Path of a bundled training file (intents.csv, sentiment.csv, urgency.csv)."""
    return Path(str(resources.files("triage.samples") / "training" / name))


BASELINE_FILES = {"intent": "intents.csv", "sentiment": "sentiment.csv", "urgency": "urgency.csv"}


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
