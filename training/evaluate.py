"""`triage models evaluate`: a stored model measured on a labelled CSV, with optional figures.

The measuring itself is `training.measure`, shared with training and its reports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.vocabulary import TASKS
from training.datasets import load_dataset
from training.measure import Evaluation, evaluate, metrics, serving_contexts, serving_label
from training.registry import Registry
from training.reports import CONFUSION_PNG, RELIABILITY_PNG, plot_confusion, plot_reliability
from training.train import embed
from triage.errors import UserError


def run_evaluation(kind: str, data_path: Path, *, registry: Registry, version: str | None = None,
                   text_column: str = "text", label_column: str = "label", oos_label: str = "oos",
                   progress: Callable[[str, int, int], None] | None = None,
                   figures: Path | None = None) -> dict[str, Any]:
    """Evaluate the current (or given) `kind` model on a labelled CSV; returns what the CLI prints as JSON.

    With `figures`, the confusion matrix and the reliability diagram are written there as PNG files.
    """
    if kind not in TASKS:
        raise UserError(f"unknown model kind {kind!r}: choose one of {', '.join(TASKS)}")
    model, info = registry.load(kind, version)
    dataset = load_dataset(Path(data_path), text_column=text_column, label_column=label_column)
    embeddings = embed(dataset.texts, progress)
    contexts, sentiment_version = serving_contexts(kind, dataset.texts, embeddings, registry)
    model_oos = info.params.get("oos_label") or oos_label
    ev = evaluate(model, dataset.texts, dataset.labels, kind=kind, oos_label=oos_label, embeddings=embeddings,
                  model_oos_label=model_oos, contexts=contexts)
    known = {serving_label(kind, label, model_oos) for label in info.labels}
    drawn = _draw(ev, figures, title=f"{info.version} on {Path(dataset.source).name}") if figures else []
    return {
        "kind": kind,
        "version": info.version,
        "data": dataset.source,
        "data_sha256": dataset.sha256,
        **metrics(ev),
        "unknown_labels": sorted(set(ev.y_true) - known),
        "sentiment_context": sentiment_version,
        "skipped": dataset.skipped,
        "figures": [str(p) for p in drawn],
    }


def _draw(ev: Evaluation, folder: Path, *, title: str) -> list[Path]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        plot_confusion(ev, folder / CONFUSION_PNG, title=title)
        plot_reliability(ev, folder / RELIABILITY_PNG, title=title)
    except OSError as exc:
        raise UserError(f"{folder}: cannot write the figures ({exc.strerror or exc})") from exc
    return [folder / CONFUSION_PNG, folder / RELIABILITY_PNG]
