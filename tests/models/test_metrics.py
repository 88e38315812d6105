from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from models import metrics


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    # 10 predictions at confidence 0.8, 8 of them right: perfectly calibrated.
    conf = np.full(10, 0.8)
    correct = np.array([True] * 8 + [False] * 2)
    assert metrics.ece(conf, correct) == pytest.approx(0.0)


def test_ece_measures_overconfidence() -> None:
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]])
    y = np.array([0, 1, 1, 0])  # half right at confidence 0.9
    assert metrics.ece(probs, y) == pytest.approx(0.4)
    assert metrics.ece(probs, ["a", "b", "b", "a"], classes=["a", "b"]) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="classes"):
        metrics.ece(probs, ["a", "b", "b", "a"])


def test_reliability_bins_count_everything() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=200)
    bins = metrics.reliability_bins(probs, rng.integers(0, 3, size=200), n_bins=15)
    assert len(bins) == 15 and sum(b["count"] for b in bins) == 200


def test_oos_metrics_are_separate() -> None:
    y_true = ["a", "b", "oos", "oos", "a"]
    y_pred = ["a", "oos", "oos", "b", "a"]
    assert metrics.in_scope_accuracy(y_true, y_pred) == pytest.approx(2 / 3)
    assert metrics.oos_recall(y_true, y_pred) == pytest.approx(0.5)
    assert metrics.oos_precision(y_true, y_pred) == pytest.approx(0.5)
    assert math.isnan(metrics.oos_recall(["a"], ["a"]))


def test_per_class_and_macro_f1_match_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    labels = np.array(["x", "y", "z"], dtype=object)
    y_true = labels[rng.integers(0, 3, 100)]
    y_pred = np.where(rng.random(100) < 0.7, y_true, labels[rng.integers(0, 3, 100)])
    table = metrics.per_class(y_true, y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=list(labels), zero_division=0)
    for i, label in enumerate(labels):
        assert table[label]["precision"] == pytest.approx(p[i])
        assert table[label]["recall"] == pytest.approx(r[i])
        assert table[label]["f1"] == pytest.approx(f[i])
        assert table[label]["support"] == s[i]
    assert metrics.macro_f1(y_true, y_pred) == pytest.approx(f1_score(y_true, y_pred, average="macro"))


def test_confusion_and_report() -> None:
    names, matrix = metrics.confusion(["a", "a", "b"], ["a", "b", "b"])
    assert names == ["a", "b"] and matrix.tolist() == [[1, 1], [0, 1]]
    assert metrics.most_confused(["a", "a", "b"], ["a", "b", "b"]) == [("a", "b", 1)]
    report = metrics.classification_report(["a", "oos"], ["a", "a"], oos_label="oos",
                                           probs=np.array([[0.9, 0.1], [0.6, 0.4]]), classes=["a", "oos"])
    assert report["n"] == 2 and report["in_scope_accuracy"] == 1.0 and report["oos_recall"] == 0.0
    assert set(report) >= {"accuracy", "macro_f1", "per_class", "ece"}
