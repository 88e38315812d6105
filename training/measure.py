"""Measuring a classifier on labelled texts through the same call that serves predictions.

`ClassifierSuite.classify` calls `model.predictions(texts, embeddings[, context=...])`, feeds the
sentiment answer to urgency as context, and reports the out-of-scope intent label as "other";
evaluation does the same, so the numbers describe what agents see. The arithmetic is `models.metrics`,
shared with the benchmark.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from models import metrics as m
from models.vocabulary import OUT_OF_SCOPE

if TYPE_CHECKING:
    from training.registry import Registry

log = logging.getLogger(__name__)

# Two validation scores closer than this are a tie (they come from the same examples).
_TIE = 1e-9
Context = dict[str, Any]


def serving_label(kind: str, label: str, oos_label: str | None) -> str:
    """The label as served: an out-of-scope intent is reported as "other" (see ClassifierSuite)."""
    if kind == "intent" and label in (oos_label, OUT_OF_SCOPE):
        return OUT_OF_SCOPE
    return label


@dataclass
class Evaluation:
    """True and served labels with the served confidence, for one model on one set of texts."""

    kind: str
    y_true: list[str]
    y_pred: list[str]
    confidence: np.ndarray
    has_oos: bool

    @property
    def labels(self) -> list[str]:
        return sorted(set(self.y_true) | set(self.y_pred))

    @property
    def correct(self) -> np.ndarray:
        return np.array([t == p for t, p in zip(self.y_true, self.y_pred, strict=True)], dtype=bool)


def _takes_context(model: Any) -> bool:
    try:
        return "context" in inspect.signature(model.predictions).parameters
    except (TypeError, ValueError):
        return False


def predict_as_served(model: Any, texts: Sequence[str], embeddings: np.ndarray | None = None,
                      contexts: Sequence[Context] | None = None) -> list[Any]:
    """`model.predictions` called as ClassifierSuite calls it (with contexts when the model takes them)."""
    if _takes_context(model):
        ctx = [dict(c) for c in contexts] if contexts is not None else [{} for _ in texts]
        return list(model.predictions(list(texts), embeddings, context=ctx))
    return list(model.predictions(list(texts), embeddings))


def evaluate(model: Any, texts: Sequence[str], labels: Sequence[str], *, kind: str, oos_label: str | None = "oos",
             embeddings: np.ndarray | None = None, model_oos_label: str | None = None,
             contexts: Sequence[Context] | None = None) -> Evaluation:
    """Predict as served and compare with the true labels.

    `oos_label` spells out-of-scope in `labels`; `model_oos_label` (default: the same) in the model's answers.
    """
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    predictions = predict_as_served(model, texts, embeddings, contexts)
    y_true = [serving_label(kind, label, oos_label) for label in labels]
    y_pred = [serving_label(kind, p.label, model_oos_label or oos_label) for p in predictions]
    confidence = np.array([float(p.confidence) for p in predictions], dtype=float)
    return Evaluation(kind=kind, y_true=y_true, y_pred=y_pred, confidence=confidence,
                      has_oos=kind == "intent" and OUT_OF_SCOPE in y_true)


def serving_contexts(kind: str, texts: Sequence[str], embeddings: np.ndarray | None,
                     registry: Registry | None) -> tuple[list[Context] | None, str | None]:
    """What the suite would add as context: for urgency, the current sentiment and intent models' answers.

    Returns the contexts (None when there is nothing to add) and the sentiment version used. The intent is
    given as served (out of scope: "other"), because it caps urgency (models.signals).
    """
    if kind != "urgency" or registry is None:
        return None, None
    contexts: list[Context] = [{} for _ in texts]
    version = None
    for task in ("sentiment", "intent"):
        if registry.current(task) is None:
            continue
        try:
            model, info = registry.load(task)
            predictions = predict_as_served(model, texts, embeddings)
        except Exception as exc:  # urgency is still measurable without it; say so
            log.warning("urgency measured without %s context: %s", task, exc)
            continue
        for ctx, p in zip(contexts, predictions, strict=True):
            if task == "sentiment":
                ctx["sentiment"] = (p.label, p.confidence)
            else:
                ctx["intent"] = serving_label("intent", p.label, info.params.get("oos_label") or "oos")
        if task == "sentiment":
            version = info.version
    if not any(contexts):
        return None, None
    return contexts, version


def metrics(ev: Evaluation) -> dict[str, Any]:
    """n, accuracy, macro-F1, ECE and per-class precision/recall/F1/support; OOS figures when present."""
    per_class = m.per_class(ev.y_true, ev.y_pred)
    out: dict[str, Any] = {
        "n": len(ev.y_true),
        "accuracy": _r(m.accuracy(ev.y_true, ev.y_pred)),
        "macro_f1": _r(m.macro_f1(ev.y_true, ev.y_pred)),
        "ece": _r(m.ece(ev.confidence, ev.correct)),
        "per_class": {label: {"precision": _r(row["precision"]), "recall": _r(row["recall"]),
                              "f1": _r(row["f1"]), "support": int(row["support"])}
                      for label, row in per_class.items()},
    }
    if ev.kind == "intent":
        # In-scope messages answered "other": what the out-of-scope gates cost (1% allowed without labelled
        # out-of-scope examples).
        in_scope = [p for t, p in zip(ev.y_true, ev.y_pred, strict=True) if t != OUT_OF_SCOPE]
        out["in_scope_rejected"] = _r(sum(p == OUT_OF_SCOPE for p in in_scope) / len(in_scope)) if in_scope else None
    if ev.has_oos:
        out["in_scope_accuracy"] = _r(m.in_scope_accuracy(ev.y_true, ev.y_pred, OUT_OF_SCOPE))
        out["oos_recall"] = _r(m.oos_recall(ev.y_true, ev.y_pred, OUT_OF_SCOPE))
        out["n_oos"] = sum(1 for label in ev.y_true if label == OUT_OF_SCOPE)
    return out


def reliability_bins(ev: Evaluation) -> list[dict[str, float]]:
    """The non-empty confidence bins of the served predictions (range, count, confidence, accuracy)."""
    return [b for b in m.reliability_bins(ev.confidence, ev.correct) if b["count"]]


def confused_pairs(ev: Evaluation, top: int = 10) -> list[tuple[str, str, int]]:
    """The `top` most frequent (true, predicted) mistakes, most frequent first."""
    return m.most_confused(ev.y_true, ev.y_pred, top)


def confusion(ev: Evaluation, labels: Sequence[str]) -> np.ndarray:
    """Counts of (true, predicted) restricted to `labels`, rows true and columns predicted."""
    return m.confusion(ev.y_true, ev.y_pred, labels)[1]


def is_better(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether `new` beats `old` on the same data: higher macro-F1, or equal macro-F1 and higher accuracy."""
    if new["macro_f1"] > old["macro_f1"] + _TIE:
        return True
    if abs(new["macro_f1"] - old["macro_f1"]) <= _TIE:
        return bool(new["accuracy"] > old["accuracy"] + _TIE)
    return False


def _r(value: float) -> float | None:
    # JSON has no NaN: an undefined figure (no examples to measure it on) is null.
    value = float(value)
    return None if math.isnan(value) else round(value, 4)
