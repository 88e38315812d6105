"""Text classifiers: sentence embeddings plus word and character TF-IDF in a linear model.

Follows scikit-learn's estimator rules (hyperparameters in `__init__`, learned state ends in `_`,
`fit` returns self). The encoder is not pickled; it is shared per process and loaded lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from models.encoder import Encoder, shared_encoder


@dataclass
class Prediction:
    label: str
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "confidence": round(self.confidence, 4),
                "top": [[lbl, round(p, 4)] for lbl, p in self.top], "reasons": self.reasons}


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Embedding + TF-IDF logistic regression; `embeddings=` lets callers encode once for several models."""

    def __init__(
        self,
        C: float = 8.0,
        use_tfidf: bool = True,
        embedding_weight: float = 2.0,
        max_iter: int = 3000,
        encoder_path: str | None = None,
    ) -> None:
        self.C = C
        self.use_tfidf = use_tfidf
        self.embedding_weight = embedding_weight
        self.max_iter = max_iter
        self.encoder_path = encoder_path

    # -- encoder (never pickled) --
    @property
    def encoder(self) -> Encoder:
        return shared_encoder(Path(self.encoder_path) if self.encoder_path else None)

    def _features(self, texts: Sequence[str], embeddings: np.ndarray | None, *, fitting: bool) -> Any:
        if embeddings is None:
            embeddings = self.encoder.encode(list(texts))
        blocks: list[Any] = [sparse.csr_matrix(np.asarray(embeddings) * self.embedding_weight)]
        if self.use_tfidf:
            if fitting:
                self.word_vec_ = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True)
                self.char_vec_ = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
                blocks += [self.word_vec_.fit_transform(texts), self.char_vec_.fit_transform(texts)]
            else:
                blocks += [self.word_vec_.transform(texts), self.char_vec_.transform(texts)]
        return sparse.hstack(blocks).tocsr()

    def fit(self, X: Sequence[str], y: Sequence[str], embeddings: np.ndarray | None = None) -> TextClassifier:
        texts = [str(t) for t in X]
        if len(set(y)) < 2:
            raise ValueError("training data needs at least two different labels")
        features = self._features(texts, embeddings, fitting=True)
        self.clf_ = LogisticRegression(C=self.C, max_iter=self.max_iter)
        self.clf_.fit(features, list(y))
        self.classes_ = self.clf_.classes_
        return self

    def predict_proba(self, X: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        return self.clf_.predict_proba(self._features([str(t) for t in X], embeddings, fitting=False))

    def predict(self, X: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        proba = self.predict_proba(X, embeddings)
        return self.classes_[proba.argmax(axis=1)]

    def predictions(self, X: Sequence[str], embeddings: np.ndarray | None = None, k: int = 3) -> list[Prediction]:
        """Label, confidence and the top-k alternatives for each text."""
        proba = self.predict_proba(X, embeddings)
        out = []
        for row in proba:
            order = np.argsort(row)[::-1][:k]
            top = [(str(self.classes_[i]), float(row[i])) for i in order]
            out.append(Prediction(label=top[0][0], confidence=top[0][1], top=top))
        return out
