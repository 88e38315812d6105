"""The three message classifiers used together: one embedding per text feeds all of them."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.classifiers import Context, Prediction, TextClassifier
from models.encoder import shared_encoder
from models.memo import shared_work
from models.vocabulary import OUT_OF_SCOPE

_blas_lock = threading.Lock()
_blas_users = 0
_blas_limiter: Any = None


@functools.cache
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while the models score a few texts (issue 18).

    A message's products are small (one query against 2,824 anchors is a million multiply-adds), and OpenBLAS's
    threads end each in a barrier where one spins for the other: on the shared 2-core machine one query took
    24 ms on two threads and 1 ms on one. The encoder sets torch to one thread for the same reason.
    """
    global _blas_users, _blas_limiter
    with _blas_lock:  # the limit is process-wide: the first caller in sets it, the last one out restores it
        if _blas_users == 0:
            _blas_limiter = _blas().limit(limits=1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0 and _blas_limiter is not None:
                _blas_limiter.restore_original_limits()
                _blas_limiter = None


@dataclass
class LoadedModel:
    model: TextClassifier
    version: str


def _takes_context(model: Any) -> bool:
    # mypy reads `type.__hash__` as the unbound instance method, so a class is "not Hashable" to lru_cache's stub.
    return _predictions_take_context(type(model))  # type: ignore[arg-type]


@functools.cache
def _predictions_take_context(cls: Any) -> bool:
    # Cached per class: inspecting a signature on every message was a visible share of a request.
    try:
        return "context" in inspect.signature(cls.predictions).parameters
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - not a plain method
        return False


class ClassifierSuite:
    """Intent, sentiment and urgency for a batch of texts, with model versions for the record."""

    def __init__(self, models: dict[str, LoadedModel], oos_labels: tuple[str, ...] = ("oos",)) -> None:
        self.models = models
        self.oos_labels = oos_labels

    def versions(self) -> dict[str, str]:
        return {task: m.version for task, m in self.models.items()}

    @property
    def encoder_name(self) -> str:
        """Which encoder `embed` uses: stored with each vector, since two encoders' vectors do not compare."""
        return shared_encoder().name

    def embed(self, texts: list[str]) -> np.ndarray:
        """The encoder's vectors for `texts`: the costly part of classifying, which callers may run early."""
        return shared_encoder().encode(texts)

    def classify(self, texts: list[str], contexts: Sequence[Context | None] | None = None, *,
                 embeddings: np.ndarray | None = None) -> list[dict[str, tuple[Prediction, str]]]:
        """For each text: task -> (prediction, model version).

        `contexts` (optional, one dict per text) carries what the text alone does not say, e.g. the
        sender's `email` (VIP check) and `previous_contacts`; sentiment and intent run before urgency and
        their results are added to the urgency context as `sentiment` and `intent` (out of scope: "other").
        `embeddings` (from `embed`, one row per text) skips the encoder: the worker embeds before it takes
        the database's write lock, so the lock is never held while the encoder runs (issue 14).
        """
        if not texts:
            return []
        if contexts is not None and len(contexts) != len(texts):
            raise ValueError(f"{len(contexts)} contexts for {len(texts)} texts")
        ctx: list[Context] = [dict(c or {}) for c in contexts] if contexts is not None else [{} for _ in texts]
        if embeddings is None:
            embeddings = self.embed(texts)
        elif len(embeddings) != len(texts):
            raise ValueError(f"{len(embeddings)} embeddings for {len(texts)} texts")
        out: list[dict[str, tuple[Prediction, str]]] = [{} for _ in texts]
        order = sorted(self.models, key=lambda task: {"sentiment": 0, "urgency": 2}.get(task, 1))
        # n-grams and signals of each text are computed once for all three models
        with shared_work(), _one_blas_thread():
            for task in order:
                self._run(task, texts, embeddings, ctx, out)
        # Keep the caller's task order (intent, sentiment, urgency as registered).
        return [{task: row[task] for task in self.models} for row in out]

    def _run(self, task: str, texts: list[str], embeddings: np.ndarray, ctx: list[Context],
             out: list[dict[str, tuple[Prediction, str]]]) -> None:
        loaded = self.models[task]
        if _takes_context(loaded.model):
            preds = loaded.model.predictions(texts, embeddings, context=ctx)
        else:  # a model pickled before contexts existed
            preds = loaded.model.predictions(texts, embeddings)
        for i, pred in enumerate(preds):
            if task == "intent":
                if pred.label in self.oos_labels:
                    pred.label = OUT_OF_SCOPE
                ctx[i]["intent"] = pred.label  # out of scope caps urgency (models.signals)
            if task == "sentiment":
                ctx[i]["sentiment"] = (pred.label, pred.confidence)
            out[i][task] = (pred, loaded.version)

    def classify_one(self, text: str, context: Context | None = None, *,
                     embedding: np.ndarray | None = None) -> dict[str, Any]:
        return self.classify([text], [context] if context is not None else None,
                             embeddings=None if embedding is None else embedding.reshape(1, -1))[0]
