"""ClassifierSuite: what one task's answer hands to the next (the encoder and models are stubs)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from models import suite as suite_module
from models.classifiers import Prediction
from models.suite import ClassifierSuite, LoadedModel


class _Fixed:
    """A model that answers one label and remembers the contexts it was given."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.contexts: list[Any] = []

    def predictions(self, X: list[str], embeddings: Any = None, k: int = 3, context: Any = None) -> list[Prediction]:
        self.contexts.append(context)
        return [Prediction(self.label, 0.9) for _ in X]


class _Encoder:
    def encode(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 4), dtype=np.float32)


def test_urgency_sees_the_intent_and_sentiment_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(suite_module, "shared_encoder", _Encoder)
    urgency = _Fixed("high")
    suite = ClassifierSuite({"intent": LoadedModel(_Fixed("oos"), "i1"),  # type: ignore[arg-type]
                             "sentiment": LoadedModel(_Fixed("negative"), "s1"),  # type: ignore[arg-type]
                             "urgency": LoadedModel(urgency, "u1")})  # type: ignore[arg-type]
    row = suite.classify_one("Hi Jo!", {"email": "jo@example.com"})
    assert row["intent"][0].label == "other"  # out of scope, as the pipeline stores it
    [context] = urgency.contexts[0]
    assert context == {"email": "jo@example.com", "intent": "other", "sentiment": ("negative", 0.9)}
