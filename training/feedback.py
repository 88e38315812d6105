"""Merging agents' corrections into a labelled dataset: a correction wins over an example with the same text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.vocabulary import OUT_OF_SCOPE
from training.datasets import Dataset

DATA, FEEDBACK = "data", "feedback"


@dataclass
class Merged:
    dataset: Dataset
    origins: list[str]  # per row: "data" or "feedback"
    added: int  # corrections of texts the data did not have
    replaced: int  # data rows dropped because a correction relabelled their text


def text_key(text: str) -> str:
    """Texts that differ only in case or whitespace are the same example."""
    return " ".join(text.split()).casefold()


def merge_feedback(dataset: Dataset, corrections: Sequence[tuple[str, str]], *, kind: str,
                   oos_label: str | None = "oos") -> Merged:
    """Append corrections (oldest first; a later one for the same text wins) and drop the rows they relabel."""
    chosen: dict[str, tuple[str, str]] = {}
    for text, label in corrections:
        text = text.strip()
        if not text:
            continue
        # Agents see out-of-scope intents as "other"; the training data spells them with the OOS label.
        if kind == "intent" and label == OUT_OF_SCOPE and oos_label:
            label = oos_label
        chosen[text_key(text)] = (text, label)
    texts, labels, origins = [], [], []
    replaced = 0
    for text, label in zip(dataset.texts, dataset.labels, strict=True):
        if text_key(text) in chosen:
            replaced += 1
            continue
        texts.append(text)
        labels.append(label)
        origins.append(DATA)
    known = {text_key(t) for t in dataset.texts}
    for text, label in chosen.values():
        texts.append(text)
        labels.append(label)
        origins.append(FEEDBACK)
    source = dataset.source if not chosen else f"{dataset.source} + {len(chosen)} feedback correction(s)"
    merged = Dataset(texts=texts, labels=labels, source=source, skipped=list(dataset.skipped))
    return Merged(dataset=merged, origins=origins, added=sum(1 for k in chosen if k not in known),
                  replaced=replaced)
