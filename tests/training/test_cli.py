"""The data scientist's CLI contract through the `triage` entry point: JSON last lines, exit codes, files."""

from __future__ import annotations

import csv
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import training.train
from models.classifiers import TextClassifier
from training.datasets import load_csv, sample_path
from training.registry import Registry
from training.train import TrainConfig, run_training
from triage.config import Settings, default_config_text
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import Database
from triage.errors import UserError
from triage.feedback.service import record_correction

Run = Callable[..., subprocess.CompletedProcess[str]]
LastJson = Callable[[subprocess.CompletedProcess[str]], Any]


@pytest.mark.slow
@pytest.mark.usefixtures("cached_embeddings")
def test_train_evaluate_and_manage_versions(tmp_path: Path, intent_csv: Path, run_triage: Run, last_json: LastJson,
                                            write_rows: Callable[..., Path], intent_rows: list[tuple[str, str]],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    registry = Registry(home / "models")
    # in service: a model that always answers the most frequent label (only this run: the CLI below trains the real one)
    with monkeypatch.context() as patch:
        patch.setattr(training.train, "make_estimator",
                      lambda kind, **_: TextClassifier(use_tfidf=False, embedding_weight=0.0))
        # stored as fitted on its training split, so the next run (same split) has validation rows it never saw
        weak = run_training("intent", intent_csv, registry=registry, config=TrainConfig(refit=False))["version"]

    proc = run_triage(home, "train", "intent", "--data", str(intent_csv), "--no-promote", "--json",
                      env={"TRIAGE_PROGRESS": "1"})
    result = last_json(proc)
    new = result["version"]
    assert result["promoted"] is False and result["reason"] == "asked not to (--no-promote)"
    assert result["metrics"]["macro_f1"] > result["compared_with"]["macro_f1"]  # better, yet kept out as asked
    assert {"accuracy", "macro_f1", "ece", "per_class", "n_train", "n_validation"} <= set(result["metrics"])
    # rich progress bars on stderr, one per phase
    assert "intent: embedding" in proc.stderr and "intent: fitting" in proc.stderr and "intent: reports" in proc.stderr
    assert registry.current("intent") == weak

    listed = last_json(run_triage(home, "models", "list", "--kind", "intent", "--json"))
    assert [(r["version"], r["current"]) for r in listed] == [(weak, True), (new, False)]

    (home / "triage.toml").write_text(default_config_text().replace('"account_access", ', ""))
    proc = run_triage(home, "models", "show", new, "--json")
    shown = last_json(proc)
    assert shown["data_sha256"] == load_csv(intent_csv).sha256 and shown["code_version"]
    assert shown["labels"] == ["account_access", "oos", "order_status", "refund_request"]
    assert sorted(Path(p).name for p in shown["reports"]) == ["confusion.png", "per_class.csv", "per_class.md",
                                                             "reliability.png"]
    assert all(Path(p).exists() for p in shown["reports"])
    assert shown["unrouted_intents"] == ["account_access"] and shown["default_queue"] == "customer-care"
    assert "account_access" in proc.stderr and "warning" in proc.stderr and "oos" not in proc.stderr
    human = run_triage(home, "models", "show", new).stdout
    assert "per_class.md" in human and "macro-F1" in human

    # the routing in triage.toml sends intents this small model lacks: promoting it needs --force
    refused = _one_error_line(run_triage(home, "models", "promote", new, code=5))  # a Conflict
    assert refused.startswith(f"error: not promoting {new}: it lacks") and "--force" in refused
    assert registry.current("intent") == weak
    proc = run_triage(home, "models", "promote", new, "--force")
    assert "warning: promoted although it lacks" in proc.stderr
    assert registry.current("intent") == new
    assert registry.history("intent")[-1]["action"] == "force"
    assert last_json(run_triage(home, "models", "rollback", "intent", "--json")) == {
        "kind": "intent", "current": weak, "previous": new}
    assert registry.current("intent") == weak

    held_out = write_rows(tmp_path / "eval.csv", [(f"{t}, thanks", label) for t, label in intent_rows[::3]])
    evaluated = last_json(run_triage(home, "evaluate", "intent", "--data", str(held_out), "--model", new,
                                     "--png", str(tmp_path / "figures"), "--json"))
    assert evaluated["version"] == new and evaluated["n"] == len(intent_rows[::3])
    assert [Path(p).name for p in evaluated["figures"]] == ["confusion.png", "reliability.png"]
    assert all(Path(p).read_bytes()[:4] == b"\x89PNG" for p in evaluated["figures"])
    assert {"accuracy", "macro_f1", "per_class", "ece", "in_scope_accuracy", "oos_recall"} <= set(evaluated)
    assert evaluated["per_class"]["other"]["support"] == sum(1 for _, label in intent_rows[::3] if label == "oos")
    assert evaluated["accuracy"] >= 0.75


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_bad_input_is_one_line_and_exit_code_2(tmp_path: Path, run_triage: Run,
                                               write_rows: Callable[..., Path]) -> None:
    home = tmp_path / "home"
    cases = [
        (write_rows(tmp_path / "cols.csv", [("hi", "a")], ("message", "label")), "no column 'text'"),
        (write_rows(tmp_path / "empty.csv", [("", "a"), (" ", "b")]), "no labelled rows"),
        (write_rows(tmp_path / "one.csv", [("hi", "a"), ("hello", "a")]), "every row has the label 'a'"),
    ]
    for path, message in cases:
        line = _one_error_line(run_triage(home, "train", "intent", "--data", str(path), "--json", code=2))
        assert line.startswith("error:") and message in line
    line = _one_error_line(run_triage(home, "evaluate", "sentiment", "--data", str(tmp_path / "one.csv"), code=2))
    assert "no sentiment model is trained yet" in line
    assert "no model version 'nope'" in _one_error_line(run_triage(home, "models", "show", "nope", code=4))
    registry = Registry(home / "models")
    with pytest.raises(UserError, match="not a model version"):
        registry.kind_of("../x")
    with pytest.raises(UserError, match="no current urgency model"):
        registry.rollback("urgency")


@pytest.mark.usefixtures("cached_embeddings")
def test_broken_artifact_gives_a_clear_error(tmp_path: Path, intent_csv: Path, run_triage: Run) -> None:
    home = tmp_path / "home"
    registry = Registry(home / "models")
    good = run_training("intent", intent_csv, registry=registry)["version"]
    bad = run_training("intent", intent_csv, registry=registry, promote=True)["version"]
    (registry.path("intent", bad) / "model.joblib").write_bytes(b"\x00garbage")
    line = _one_error_line(run_triage(home, "evaluate", "intent", "--data", str(intent_csv), code=2))
    assert f"intent model {bad}: artifact" in line and "unreadable" in line and "rollback" in line
    run_triage(home, "models", "rollback", "intent")
    assert registry.load("intent")[1].version == good
    assert "unreadable" in _one_error_line(run_triage(home, "models", "promote", bad, "--force", code=5))
    assert registry.current("intent") == good


def test_data_export_round_trip_with_feedback(tmp_path: Path, run_triage: Run, last_json: LastJson) -> None:
    home = tmp_path / "home"
    plain = tmp_path / "sentiment.csv"
    run_triage(home, "data", "export", "--kind", "sentiment", "--out", str(plain))
    samples = load_csv(sample_path("sentiment.csv"))
    back = load_csv(plain)
    assert (back.texts, back.labels, back.sha256) == (samples.texts, samples.labels, samples.sha256)

    db = Database(Settings(home=home, environment="test"))
    with db.transaction() as session:
        customer = Customer(name="Ana")
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="chat", customer_id=customer.id)
        session.add(ticket)
        session.flush()
        message = Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key="c1",
                          text="Honestly the replacement kettle is lovely, thank you")
        session.add(message)
        session.flush()
        record_correction(session=session, message_id=message.id, task="sentiment", label="positive",
                          actor="maria")
    db.dispose()
    with_feedback = tmp_path / "with_feedback.csv"
    summary = last_json(run_triage(home, "data", "export", "--kind", "sentiment", "--out", str(with_feedback),
                                   "--include-feedback", "--json"))
    assert summary["rows"] == len(samples) + 1 and summary["feedback"] == 1
    with with_feedback.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[-1] == {"text": "Honestly the replacement kettle is lovely, thank you", "label": "positive",
                        "origin": "feedback"}
    assert load_csv(with_feedback).sha256 == summary["data_sha256"]


@pytest.mark.usefixtures("cached_embeddings")
def test_a_foreign_label_set_needs_force(tmp_path: Path, intent_csv: Path, run_triage: Run, last_json: LastJson,
                                         write_rows: Callable[..., Path]) -> None:
    home = tmp_path / "home"
    registry = Registry(home / "models")
    served = run_training("intent", intent_csv, registry=registry)["version"]
    # Banking-style data in its own column names, as data scientists get it
    banking = write_rows(tmp_path / "banking.csv", [
        (f"{t} {x}", label) for label, templates in {
            "pending_top_up": ["my top up is still pending in", "why is the top-up not through in"],
            "card_arrival": ["my new card has not arrived for", "when will the card come for"],
        }.items() for t in templates for x in ("euros", "pounds", "dollars", "yen", "francs")],
        ("utterance", "category"))

    proc = run_triage(home, "train", "intent", "--data", str(banking), "--text-column", "utterance",
                      "--label-column", "category", "--promote", "--json", code=5)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["promoted"] is False and result["n_examples"] == 20
    assert result["labels"] == ["card_arrival", "pending_top_up"]
    line = _one_error_line(proc)
    assert line.startswith(f"error: {result['version']} was stored but not promoted: it lacks")
    assert f"it shares no label with {served} in service" in line and "--force" in line
    assert registry.current("intent") == served

    refused = _one_error_line(run_triage(home, "models", "promote", result["version"], code=5))
    assert "shares no label" in refused and "--force" in refused
    switched = last_json(run_triage(home, "models", "promote", result["version"], "--force", "--json"))
    assert switched == {"kind": "intent", "current": result["version"], "previous": served}
