"""The retraining loop in-process: promotion on the same validation data, rollback, broken artifacts, reports."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import training.train
from models.classifiers import TextClassifier
from training.datasets import Dataset, load_csv, write_csv
from training.evaluate import run_evaluation
from training.feedback import merge_feedback
from training.measure import Evaluation, evaluate, is_better, metrics, reliability_bins
from training.registry import Registry
from training.train import TrainConfig, run_training
from triage.errors import UserError

pytestmark = pytest.mark.usefixtures("cached_embeddings")


def _constant_estimator(kind: str, **_: object) -> TextClassifier:
    """A model that sees no features: it always answers the most frequent label."""
    return TextClassifier(use_tfidf=False, embedding_weight=0.0)


def test_first_model_is_promoted_then_only_a_better_one(tmp_path: Path, intent_csv: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path / "models")
    real = training.train.make_estimator
    monkeypatch.setattr(training.train, "make_estimator", _constant_estimator)
    # Stored as fitted on the training split: the next runs (same split) have validation rows it never saw.
    weak = run_training("intent", intent_csv, registry=registry, config=TrainConfig(refit=False))
    assert weak["promoted"] and weak["reason"] == "no current model" and weak["compared_with"] is None
    assert registry.current("intent") == weak["version"]

    monkeypatch.setattr(training.train, "make_estimator", real)
    # 40 rows hold out 8 for validation: below the default minimum for a comparison, so lower it here.
    few = TrainConfig(min_comparison_rows=8, refit=False)
    strong = run_training("intent", intent_csv, registry=registry, config=few)
    assert strong["promoted"] and strong["reason"].startswith(f"beats {weak['version']}")
    # the current model was measured on the new run's validation split, not on its own
    assert strong["compared_with"]["version"] == weak["version"]
    assert strong["compared_with"]["macro_f1"] < strong["metrics"]["macro_f1"]
    assert registry.current("intent") == strong["version"]

    monkeypatch.setattr(training.train, "make_estimator", _constant_estimator)
    worse = run_training("intent", intent_csv, registry=registry, config=few)
    assert not worse["promoted"] and worse["reason"].startswith(f"does not beat {strong['version']}")
    assert registry.current("intent") == strong["version"]
    assert len(registry.versions("intent")) == 3  # stored all the same, for comparison

    forced = run_training("intent", intent_csv, registry=registry, promote=True)
    assert forced["promoted"] and registry.current("intent") == forced["version"]


def test_no_promote_and_tie_keep_the_current_model(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    split_only = TrainConfig(refit=False)  # each stored model has not seen the validation rows
    first = run_training("intent", intent_csv, registry=registry, promote=False, config=split_only)
    assert not first["promoted"] and registry.current("intent") is None
    second = run_training("intent", intent_csv, registry=registry, config=split_only)
    assert second["promoted"]
    # same data, same seed: a tie is not better
    same = run_training("intent", intent_csv, registry=registry, config=split_only)
    assert not same["promoted"] and same["compared_with"]["macro_f1"] == same["metrics"]["macro_f1"]
    assert registry.current("intent") == second["version"]


def test_version_records_provenance_and_reports(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    result = run_training("intent", intent_csv, registry=registry)
    info = registry.info("intent", result["version"])
    assert info.data_sha256 == load_csv(intent_csv).sha256 == result["data_sha256"]
    assert info.code_version and info.created_at and info.labels == ["account_access", "oos", "order_status",
                                                                     "refund_request"]
    assert info.params["oos_label"] == "oos" and info.params["seed"] == 0
    m = info.metrics
    assert m["n_train"] + m["n_validation"] == 40 and m["n"] == m["n_validation"]
    assert 0 <= m["ece"] <= 1 and "in_scope_accuracy" in m and "oos_recall" in m
    assert set(m["per_class"]) == {"account_access", "other", "order_status", "refund_request"}  # as served
    folder = registry.path("intent", result["version"])
    names = {"per_class.csv", "per_class.md", "confusion.png", "reliability.png"}
    assert set(info.extra["reports"]) == names == {p.name for p in registry.files("intent", result["version"])}
    for png in ("confusion.png", "reliability.png"):
        assert (folder / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (folder / "per_class.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert {r["label"] for r in rows} == set(m["per_class"]) and sum(int(r["support"]) for r in rows) == m["n"]
    assert "| label | precision | recall | F1 | support |" in (folder / "per_class.md").read_text()


def test_rollback_goes_back_through_the_promotion_history(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    versions = [run_training("intent", intent_csv, registry=registry, promote=True)["version"] for _ in range(3)]
    assert registry.current("intent") == versions[2]
    assert registry.rollback("intent") == versions[1]
    assert registry.rollback("intent") == versions[0]
    with pytest.raises(UserError, match="no earlier promoted intent model"):
        registry.rollback("intent")
    registry.promote("intent", versions[2])
    assert registry.rollback("intent") == versions[0]
    assert [e["action"] for e in registry.history("intent")] == ["promote"] * 3 + ["rollback"] * 2 + \
        ["promote", "rollback"]
    history = json.loads((tmp_path / "models" / "intent" / "HISTORY.json").read_text())
    assert history["stack"] == [versions[0]]
    with pytest.raises(UserError, match="no current sentiment model"):
        registry.rollback("sentiment")


def test_broken_artifact_is_a_clear_error_and_the_previous_version_serves(tmp_path: Path, intent_csv: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path / "models")
    good = run_training("intent", intent_csv, registry=registry)["version"]
    bad = run_training("intent", intent_csv, registry=registry, promote=True)["version"]
    (registry.path("intent", bad) / "model.joblib").write_bytes(b"\x80\x04 not a pickle")
    with pytest.raises(UserError, match=f"intent model {bad}: artifact .* is unreadable"):
        registry.load("intent")
    assert registry.current("intent") == bad  # loading changes nothing
    with pytest.raises(UserError, match="unreadable"):
        registry.promote("intent", bad)  # never promote what cannot serve
    assert registry.rollback("intent") == good
    model, info = registry.load("intent")
    assert info.version == good and list(model.predict(["please refund the lamp I sent back"])) == ["refund_request"]

    (registry.path("intent", bad) / "model.joblib").unlink()
    with pytest.raises(UserError, match=f"intent model {bad}: artifact .* is missing"):
        registry.load("intent", bad)

    # a training run that fails half-way changes nothing: no new version, same CURRENT
    def explode(*_a: object, **_k: object) -> list[str]:
        raise RuntimeError("disk full")

    monkeypatch.setattr("training.reports.write_reports", explode)
    before = [i.version for i in registry.versions("intent")]
    with pytest.raises(RuntimeError, match="disk full"):
        run_training("intent", intent_csv, registry=registry, promote=True)
    assert registry.current("intent") == good
    assert [i.version for i in registry.versions("intent")] == before
    assert not [p for p in (tmp_path / "models" / "intent").iterdir() if p.name.startswith(".saving")]


def test_an_unusable_current_model_is_replaced(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    old = run_training("intent", intent_csv, registry=registry)["version"]
    (registry.path("intent", old) / "model.joblib").write_bytes(b"garbage")
    new = run_training("intent", intent_csv, registry=registry)
    assert new["promoted"] and new["reason"] == f"current model {old} is unusable"


@pytest.mark.parametrize(("rows", "header", "message"), [
    ([("hello", "a"), ("bye", "b")], ("message", "label"), "no column 'text'"),
    ([("", "a"), ("  ", "b")], ("text", "label"), "no labelled rows"),
    ([("hello", "a"), ("hi", "a"), ("hey", "a")], ("text", "label"), "every row has the label 'a'"),
    ([("hello", "a"), ("hi", "a"), ("bye", "b")], ("text", "label"), "fewer than 2 examples cannot be split: b"),
])
def test_bad_training_data_is_refused_before_any_work(tmp_path: Path, write_rows: Callable[..., Path],
                                                      rows: list[tuple[str, str]], header: tuple[str, str],
                                                      message: str) -> None:
    registry = Registry(tmp_path / "models")
    with pytest.raises(UserError, match=message):
        run_training("intent", write_rows(tmp_path / "d.csv", rows, header), registry=registry)
    assert not (tmp_path / "models").exists()
    with pytest.raises(UserError, match="unknown model kind"):
        run_training("colour", tmp_path / "d.csv", registry=registry)


def test_feedback_wins_over_a_sample_with_the_same_text(tmp_path: Path, intent_csv: Path) -> None:
    data = Dataset(texts=["Where is my parcel", "refund please", "refund now"],
                   labels=["order_status", "refund_request", "refund_request"], source="d", skipped=[])
    merged = merge_feedback(data, [("where is  my PARCEL", "refund_request"), ("a new one", "order_status"),
                                   ("a new one", "other"), ("  ", "x")], kind="intent", oos_label="oos")
    assert merged.dataset.texts == ["refund please", "refund now", "where is  my PARCEL", "a new one"]
    assert merged.dataset.labels == ["refund_request", "refund_request", "refund_request", "oos"]
    assert merged.origins == ["data", "data", "feedback", "feedback"]
    assert (merged.added, merged.replaced) == (1, 1)
    assert merged.dataset.sha256 != data.sha256 and "2 feedback correction(s)" in merged.dataset.source

    registry = Registry(tmp_path / "models")
    corrections = [("where is my speaker order", "refund_request"), ("I want to talk to a human", "order_status")]
    result = run_training("intent", intent_csv, registry=registry, feedback=corrections)
    assert result["feedback"] == {"corrections": 2, "added": 1, "replaced": 1}
    assert result["n_examples"] == 41 and result["n_data_rows"] == 40
    assert result["data_sha256"] != load_csv(intent_csv).sha256


def test_export_round_trip(tmp_path: Path) -> None:
    data = Dataset(texts=['a "quoted", text', "line one\nline two", "ünïcödé"], labels=["x", "y", "x"],
                   source="d", skipped=[])
    path = write_csv(tmp_path / "out" / "data.csv", data, origins=["data", "feedback", "data"])
    back = load_csv(path)
    assert (back.texts, back.labels, back.sha256) == (data.texts, data.labels, data.sha256)


class _Fixed:
    """A stand-in model answering fixed predictions, to pin down the metric arithmetic."""

    def __init__(self, answers: list[tuple[str, float]]) -> None:
        self.answers = answers

    def predictions(self, texts: list[str], embeddings: object = None) -> list[object]:
        from models.classifiers import Prediction

        return [Prediction(label=label, confidence=conf) for label, conf in self.answers[: len(texts)]]


def test_metrics_map_out_of_scope_like_serving_and_measure_calibration() -> None:
    model = _Fixed([("refund", 0.9), ("refund", 0.8), ("oos", 0.6), ("where", 0.7), ("refund", 0.95)])
    ev = evaluate(model, ["t"] * 5, ["refund", "where", "oos", "where", "oos"], kind="intent", oos_label="oos")
    assert ev.y_pred == ["refund", "refund", "other", "where", "refund"]
    m = metrics(ev)
    assert m["n"] == 5 and m["accuracy"] == 0.6
    assert m["in_scope_accuracy"] == pytest.approx(2 / 3, abs=1e-4) and m["oos_recall"] == 0.5 and m["n_oos"] == 2
    assert m["per_class"]["other"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(0.6667, abs=1e-4),
                                       "support": 2}
    # one per bin: 0.6 right, 0.7 right, 0.8 wrong, 0.9 right, 0.95 wrong
    expected = (abs(1 - 0.6) + abs(1 - 0.7) + abs(0 - 0.8) + abs(1 - 0.9) + abs(0 - 0.95)) / 5
    assert m["ece"] == pytest.approx(expected, abs=1e-4)
    assert [b["count"] for b in reliability_bins(ev)] == [1] * 5
    # sentiment never maps "oos" and reports no out-of-scope figures
    plain = metrics(evaluate(model, ["t"] * 2, ["refund", "oos"], kind="sentiment"))
    assert "oos_recall" not in plain and plain["per_class"]["refund"]["support"] == 1
    perfect = Evaluation(kind="urgency", y_true=["a", "b"], y_pred=["a", "b"], confidence=np.array([1.0, 1.0]),
                         has_oos=False)
    assert metrics(perfect)["ece"] == 0.0 and metrics(perfect)["macro_f1"] == 1.0
    all_oos = metrics(evaluate(model, ["t"] * 2, ["oos", "oos"], kind="intent"))
    assert all_oos["in_scope_accuracy"] is None and all_oos["oos_recall"] == 0.0  # undefined is null, not NaN


def test_better_means_macro_f1_then_accuracy() -> None:
    assert is_better({"macro_f1": 0.8, "accuracy": 0.5}, {"macro_f1": 0.7, "accuracy": 0.9})
    assert is_better({"macro_f1": 0.8, "accuracy": 0.9}, {"macro_f1": 0.8, "accuracy": 0.8})
    assert not is_better({"macro_f1": 0.8, "accuracy": 0.8}, {"macro_f1": 0.8, "accuracy": 0.8})
    assert not is_better({"macro_f1": 0.7, "accuracy": 1.0}, {"macro_f1": 0.8, "accuracy": 0.1})


def test_urgency_is_measured_with_the_sentiment_context_it_is_served_with(
        tmp_path: Path, write_rows: Callable[..., Path]) -> None:
    sentiment = write_rows(tmp_path / "s.csv", [
        *[(f"I am furious, {x} is a disgrace", "negative") for x in ("the delivery", "the refund", "support")],
        *[(f"what are the opening hours for {x}", "neutral") for x in ("the shop", "the outlet", "returns")],
        *[(f"thank you, {x} was wonderful", "positive") for x in ("the lamp", "the service", "the courier")],
    ])
    urgency = write_rows(tmp_path / "u.csv", [
        *[(f"no rush, just curious about {x}", "low") for x in ("colours", "sizes", "gift cards")],
        *[(f"could you update me on {x}", "normal") for x in ("my order", "my invoice", "my account")],
        *[(f"I need {x} sorted by Friday", "high") for x in ("the refund", "the delivery", "the invoice")],
        *[(f"{x} is down, nothing works at all", "critical") for x in ("checkout", "the app", "login")],
    ])
    registry = Registry(tmp_path / "models")
    alone = run_training("urgency", urgency, registry=registry)
    assert registry.info("urgency", alone["version"]).extra["sentiment_context"] is None
    version = run_training("sentiment", sentiment, registry=registry)["version"]
    served = run_training("urgency", urgency, registry=registry)
    assert registry.info("urgency", served["version"]).extra["sentiment_context"] == version
    assert set(served["metrics"]["per_class"]) <= {"low", "normal", "high", "critical"}


def test_evaluation_writes_the_figures_asked_for(tmp_path: Path, intent_csv: Path) -> None:
    registry = Registry(tmp_path / "models")
    version = run_training("intent", intent_csv, registry=registry)["version"]
    result = run_evaluation("intent", intent_csv, registry=registry, figures=tmp_path / "figs" / "new")
    assert result["figures"] == [str(tmp_path / "figs" / "new" / name) for name in ("confusion.png",
                                                                                   "reliability.png")]
    for path in result["figures"]:
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["version"] == version
    assert run_evaluation("intent", intent_csv, registry=registry)["figures"] == []
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="cannot write the figures"):
        run_evaluation("intent", intent_csv, registry=registry, figures=tmp_path / "file" / "figs")


def test_training_reports_each_phase_from_the_start(tmp_path: Path, intent_csv: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    run_training("intent", intent_csv, registry=Registry(tmp_path / "models"),
                 progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert seen[0] == ("embedding", 0, 40) and ("embedding", 40, 40) in seen
    phases = [phase for phase, _, _ in seen]
    order = sorted(set(phases), key=phases.index)
    assert order[0] == "embedding" and order[-1] == "reports" and "fitting" in order
    assert seen[-1] == ("reports", 1, 1)
