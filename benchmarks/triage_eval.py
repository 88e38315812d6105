"""The default models a new user gets, on the bundled evaluation set, per language, as served.

The models are the ones `triage init` trains (`train_baselines` on the bundled samples, into a fresh registry);
each evaluation message goes the way the pipeline takes it: an email is built and parsed (`parse_email`), the
classifier sees the normalised subject and the stripped body (`triage.flows.processing.email_classification_text`),
a chat message its text, and `ClassifierSuite.classify` gives intent, sentiment and urgency (urgency with the
intent and the sentiment as context). The language is `models.language.detect_language`. Baselines measured in
the same run: TF-IDF alone and embeddings alone, trained on the same bundled intent examples.

The evaluation set (`triage/samples/evaluation/messages.jsonl`) is written for Triage and never trained on.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import Row
from models.encoder import shared_encoder
from models.factory import make_estimator

NAME = "triage"
SAMPLES = Path(__file__).resolve().parents[1] / "triage" / "samples"
EVALUATION = SAMPLES / "evaluation" / "messages.jsonl"
LANGUAGES = ("en", "de", "fr", "es")


def load_evaluation(path: Path = EVALUATION) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def served_text(row: dict[str, Any]) -> str:
    """What the classifiers see for this message when it arrives (email parsed as the pipeline parses it)."""
    from mail.parse import parse_email
    from triage.flows.processing import email_classification_text

    if row["channel"] != "email":
        return str(row["text"])
    msg = EmailMessage()
    msg["From"] = "Customer <customer@example.com>"
    msg["To"] = "support@larkspur.example"
    msg["Subject"] = row.get("subject") or ""
    msg["Message-ID"] = f"<{row['id']}@evaluation.example>"
    msg.set_content(row["text"])
    return email_classification_text(parse_email(msg.as_bytes()))


def _accuracy(pairs: list[tuple[str, str]]) -> float:
    return 100.0 * sum(t == p for t, p in pairs) / len(pairs) if pairs else float("nan")


def evaluate_default_models(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Train the default models as `triage init` does and answer every evaluation message as served."""
    from models.language import detect_language
    from training.registry import Registry, load_suite
    from training.train import train_baselines

    with tempfile.TemporaryDirectory() as home:
        registry = Registry(Path(home) / "models")
        train_baselines(registry)
        suite = load_suite(registry)
        texts = [served_text(r) for r in rows]
        answers = suite.classify(texts)
    out: dict[str, Any] = {"texts": texts, "intent": [], "sentiment": [], "urgency": [], "language": [],
                           "reasons": []}
    for text, answer in zip(texts, answers, strict=True):
        out["intent"].append(answer["intent"][0].label)
        out["sentiment"].append(answer["sentiment"][0].label)
        out["urgency"].append(answer["urgency"][0].label)
        out["reasons"].append(answer["urgency"][0].reasons)
        guess = detect_language(text)
        out["language"].append(guess.code if guess is not None else "?")
    return out


def _intent_baselines(rows: list[dict[str, Any]], texts: list[str]) -> dict[str, list[str]]:
    """TF-IDF alone and embeddings alone, on the same bundled intent examples (out of scope as a class)."""
    from training.datasets import load_csv, sample_path

    data = load_csv(sample_path("intents.csv"))
    encoder = shared_encoder()
    train_e, test_e = encoder.encode(data.texts), encoder.encode(texts)
    zeros_train, zeros_test = np.zeros((len(data.texts), 1), np.float32), np.zeros((len(texts), 1), np.float32)
    tfidf = make_estimator("intent", oos_label=None).set_params(embedding_weight=0.0, calibration=None)
    emb = make_estimator("intent", oos_label=None).set_params(use_tfidf=False, calibration=None)
    served = {"oos": "other"}
    return {
        "TF-IDF only": [served.get(p, p) for p in tfidf.fit(data.texts, data.labels, zeros_train).predict(texts,
                                                                                                     zeros_test)],
        "embeddings only": [served.get(p, p) for p in emb.fit(data.texts, data.labels, train_e).predict(texts,
                                                                                                   test_e)],
    }


def run() -> list[Row]:
    rows = load_evaluation()
    load = os.getloadavg()[0]
    served = evaluate_default_models(rows)
    baselines = _intent_baselines(rows, served["texts"])
    truth_intent = ["other" if r["intent"] == "oos" else r["intent"] for r in rows]
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[r["language"]].append(i)
        groups["all"].append(i)
        if r["language"] != "en":
            groups["non-English"].append(i)
    b = "default models (bundled eval set)"
    out = [Row(b, "load average (1 min) at start", round(load, 2), "", note=f"{os.cpu_count()} CPUs")]
    for group in ("all", *LANGUAGES, "non-English"):
        idx = groups[group]

        def acc(pred: list[str], truth: list[str], idx: list[int] = idx) -> float:
            return round(_accuracy([(truth[i], pred[i]) for i in idx]), 2)

        base = acc(baselines["TF-IDF only"], truth_intent)
        target = {"all": "target >= 85", "non-English": "target >= 80"}.get(group, "")
        out.append(Row(b, f"intent accuracy, {group} (n={len(idx)})", acc(served["intent"], truth_intent), "%",
                       base or None, f"TF-IDF only {base}, embeddings only "
                       f"{acc(baselines['embeddings only'], truth_intent)}; {target}".rstrip("; ")))
        urgency = [r["urgency"] for r in rows]
        critical = [i for i in idx if rows[i]["urgency"] == "critical"]
        missed = sum(1 for i in critical if served["urgency"][i] != "critical")
        out.append(Row(b, f"urgency accuracy, {group}", acc(served["urgency"], urgency), "%", None,
                       f"critical missed {missed} of {len(critical)}" + ("; target >= 70, none missed"
                                                                        if group == "all" else "")))
        out.append(Row(b, f"sentiment accuracy, {group}", acc(served["sentiment"], [r["sentiment"] for r in rows]),
                       "%", None, "target >= 80" if group == "all" else ""))
        out.append(Row(b, f"language detected, {group}", acc(served["language"], [r["language"] for r in rows]),
                       "%", None, "target >= 95" if group == "all" else ""))
    oos = [i for i, r in enumerate(rows) if r["intent"] == "oos"]
    high = sum(1 for i in oos if served["urgency"][i] in ("high", "critical"))
    out.append(Row(b, f"out of scope recall (n={len(oos)})",
                   round(100.0 * sum(served["intent"][i] == "other" for i in oos) / max(len(oos), 1), 2), "%",
                   None, f"out-of-scope messages rated high or critical: {high}"))
    out.append(Row(b, "load average (1 min) at end", round(os.getloadavg()[0], 2), ""))
    return out
