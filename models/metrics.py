"""Evaluation metrics as pure functions over arrays (shared by training reports and the benchmark)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

ArrayLike = Sequence[Any] | np.ndarray


def _correct_and_confidence(probs: ArrayLike, y_true: ArrayLike,
                            classes: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=float)
    if p.ndim == 1:  # already the confidence of each prediction; y_true says whether it was right
        return np.asarray(y_true, dtype=bool), p
    truth = np.asarray(y_true)
    if classes is not None:
        column = {c: i for i, c in enumerate(np.asarray(classes).tolist())}
        idx = np.array([column.get(t, -1) for t in truth.tolist()])
    elif np.issubdtype(truth.dtype, np.integer):
        idx = truth
    else:
        raise ValueError("y_true holds labels: pass classes= (the column order of probs)")
    return p.argmax(axis=1) == idx, p.max(axis=1)


def reliability_bins(probs: ArrayLike, y_true: ArrayLike, classes: ArrayLike | None = None,
                     n_bins: int = 15) -> list[dict[str, float]]:
    """Per confidence bin (equal width on [0, 1]): its range, count, mean confidence and accuracy."""
    correct, conf = _correct_and_confidence(probs, y_true, classes)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bins are (lo, hi]; a confidence of exactly 0 goes to the first bin.
    which = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        member = which == b
        n = int(member.sum())
        out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": n,
                    "confidence": float(conf[member].mean()) if n else 0.0,
                    "accuracy": float(correct[member].mean()) if n else 0.0})
    return out


def ece(probs: ArrayLike, y_true: ArrayLike, classes: ArrayLike | None = None, n_bins: int = 15) -> float:
    """Expected calibration error of the top prediction (15 equal-width bins by default).

    probs: (n, k) class probabilities with y_true as column indices (or labels with classes=), or (n,)
    confidences with y_true as booleans (was the prediction right).
    """
    bins = reliability_bins(probs, y_true, classes, n_bins)
    total = sum(b["count"] for b in bins)
    if total == 0:
        return float("nan")
    return float(sum(b["count"] * abs(b["accuracy"] - b["confidence"]) for b in bins) / total)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    return float((t == p).mean()) if len(t) else float("nan")


def in_scope_accuracy(y_true: ArrayLike, y_pred: ArrayLike, oos_label: str = "oos") -> float:
    """Accuracy over the examples whose true label is in scope (NaN when there are none)."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    keep = t != oos_label
    return float((t[keep] == p[keep]).mean()) if keep.any() else float("nan")


def oos_recall(y_true: ArrayLike, y_pred: ArrayLike, oos_label: str = "oos") -> float:
    """Share of the truly out-of-scope examples predicted as out of scope (NaN when there are none)."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    oos = t == oos_label
    return float((p[oos] == oos_label).mean()) if oos.any() else float("nan")


def oos_precision(y_true: ArrayLike, y_pred: ArrayLike, oos_label: str = "oos") -> float:
    """Share of the out-of-scope predictions that were truly out of scope (NaN when none was predicted)."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    said = p == oos_label
    return float((t[said] == oos_label).mean()) if said.any() else float("nan")


def per_class(y_true: ArrayLike, y_pred: ArrayLike,
              labels: ArrayLike | None = None) -> dict[str, dict[str, float]]:
    """label -> precision, recall, f1 and support (0 where undefined, as scikit-learn's zero_division=0)."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    names = sorted(set(t.tolist()) | set(p.tolist())) if labels is None else list(labels)
    out = {}
    for label in names:
        tp = int(((t == label) & (p == label)).sum())
        predicted = int((p == label).sum())
        support = int((t == label).sum())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[str(label)] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return out


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None) -> float:
    """Unweighted mean F1 over the true labels (or the given labels)."""
    t = np.asarray(y_true, dtype=object)
    names = sorted(set(t.tolist())) if labels is None else list(labels)
    table = per_class(y_true, y_pred, names)
    return float(np.mean([table[str(n)]["f1"] for n in names])) if names else float("nan")


def confusion(y_true: ArrayLike, y_pred: ArrayLike,
              labels: ArrayLike | None = None) -> tuple[list[str], np.ndarray]:
    """Label order and the confusion matrix (rows: true, columns: predicted)."""
    t, p = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    names = sorted(set(t.tolist()) | set(p.tolist())) if labels is None else [str(x) for x in labels]
    index = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(names)), dtype=int)
    for a, b in zip(t.tolist(), p.tolist(), strict=True):
        if a in index and b in index:
            matrix[index[a], index[b]] += 1
    return names, matrix


def most_confused(y_true: ArrayLike, y_pred: ArrayLike, n: int = 10) -> list[tuple[str, str, int]]:
    """The n most frequent (true, predicted) mistakes, most frequent first."""
    names, matrix = confusion(y_true, y_pred)
    pairs = [(names[i], names[j], int(matrix[i, j])) for i in range(len(names)) for j in range(len(names))
             if i != j and matrix[i, j]]
    return sorted(pairs, key=lambda x: (-x[2], x[0], x[1]))[:n]


def classification_report(y_true: ArrayLike, y_pred: ArrayLike, oos_label: str | None = None,
                          probs: ArrayLike | None = None, classes: ArrayLike | None = None) -> dict[str, Any]:
    """n, accuracy, macro_f1, per_class, and (when they apply) in_scope_accuracy, oos_recall and ece."""
    t = np.asarray(y_true, dtype=object)
    report: dict[str, Any] = {"n": len(t), "accuracy": accuracy(y_true, y_pred),
                              "macro_f1": macro_f1(y_true, y_pred), "per_class": per_class(y_true, y_pred)}
    if oos_label is not None and (t == oos_label).any():
        report["in_scope_accuracy"] = in_scope_accuracy(y_true, y_pred, oos_label)
        report["oos_recall"] = oos_recall(y_true, y_pred, oos_label)
    if probs is not None and classes is not None:
        report["ece"] = ece(probs, y_true, classes)
    return report
