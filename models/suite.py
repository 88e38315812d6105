"""The three message classifiers used together: one embedding per text feeds all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.classifiers import Prediction, TextClassifier
from models.encoder import shared_encoder

URGENCY_ORDER = ("low", "normal", "high", "critical")
OUT_OF_SCOPE = "other"


@dataclass
class LoadedModel:
    model: TextClassifier
    version: str


class ClassifierSuite:
    """Intent, sentiment and urgency for a batch of texts, with model versions for the record."""

    def __init__(self, models: dict[str, LoadedModel], oos_labels: tuple[str, ...] = ("oos",)) -> None:
        self.models = models
        self.oos_labels = oos_labels

    def versions(self) -> dict[str, str]:
        return {task: m.version for task, m in self.models.items()}

    def classify(self, texts: list[str]) -> list[dict[str, tuple[Prediction, str]]]:
        """For each text: task -> (prediction, model version)."""
        if not texts:
            return []
        embeddings = shared_encoder().encode(texts)
        out: list[dict[str, tuple[Prediction, str]]] = [{} for _ in texts]
        for task, loaded in self.models.items():
            for i, pred in enumerate(loaded.model.predictions(texts, embeddings)):
                if task == "intent" and pred.label in self.oos_labels:
                    pred.label = OUT_OF_SCOPE
                out[i][task] = (pred, loaded.version)
        return out

    def classify_one(self, text: str) -> dict[str, Any]:
        return self.classify([text])[0]
