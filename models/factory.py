"""One place that knows which estimator, with which settings, serves each kind of model."""

from __future__ import annotations

from collections.abc import Iterable

from models.classifiers import TextClassifier
from models.tasks import SentimentClassifier, UrgencyClassifier
from models.vocabulary import TASKS


def make_estimator(kind: str, *, oos_label: str | None = "oos", vip_emails: Iterable[str] = frozenset(),
                   products: Iterable[str] = ()) -> TextClassifier:
    """An unfitted estimator for `kind` (intent, sentiment, urgency) with the settings tuned for it.

    Intent: LinearSVC over embeddings and word + character TF-IDF, temperature-calibrated, with
    out-of-scope examples labelled `oos_label` and two rejection gates (top probability, similarity to the 5
    nearest in-scope training examples) tuned inside `fit`; without labelled examples they may reject 1% of
    in-scope messages (None: no out-of-scope handling). Sentiment adds the anger signal. Urgency adds the
    explicit signals; VIP addresses come from `vip_emails`. `products` (configured product names) are masked
    in the TF-IDF text so that models learn what is said about a product, not which one.
    """
    names = tuple(sorted({p.strip() for p in products if p and p.strip()}))
    if kind == "intent":
        return TextClassifier(loss="hinge", C=0.3, embedding_weight=3.0, char_ngram_range=(1, 6),
                              calibration="temperature", oos_label=oos_label,
                              threshold="auto" if oos_label is not None else None, products=names,
                              max_false_rejection=0.01, novelty=5 if oos_label is not None else 0)
    if kind == "sentiment":
        return SentimentClassifier(loss="hinge", C=0.1, embedding_weight=3.0, char_ngram_range=(1, 6),
                                   calibration="temperature", products=names)
    if kind == "urgency":
        return UrgencyClassifier(loss="hinge", C=0.3, embedding_weight=3.0, char_ngram_range=(1, 6),
                                 calibration="temperature", products=names,
                                 vip_emails=frozenset(e.strip().lower() for e in vip_emails if e.strip()))
    raise ValueError(f"unknown model kind {kind!r}: choose one of {', '.join(TASKS)}")
