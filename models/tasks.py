"""The sentiment and urgency classifiers: a TextClassifier plus explicit, explainable signals.

Intent needs nothing beyond `TextClassifier` (see `models.factory.make_estimator`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from models.classifiers import Context, Prediction, TextClassifier
from models.memo import shared_work
from models.signals import escalate, holding, shared_anger, urgency_rank, urgency_signals

_ANGER_FEATURES = ("score", "angry", "caps", "punctuation", "profanity", "insult", "frustration",
                   "repeated", "still")


def _anger_features(texts: Sequence[str], weight: float) -> sparse.csr_matrix:
    rows = []
    for text in texts:
        mood = shared_anger(text)
        kinds = " ".join(mood.reasons)
        rows.append([mood.score, float(mood.angry), float("capitals" in kinds), float("punctuation" in kinds),
                     float("profanity" in kinds), float("insult" in kinds), float("frustration" in kinds),
                     float("repeated contact" in kinds), float("still waiting" in kinds)])
    return sparse.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(len(texts), len(_ANGER_FEATURES)) * weight)


def _contexts(context: Sequence[Context | None] | Context | None, n: int) -> list[Context]:
    if context is None:
        return [{} for _ in range(n)]
    if isinstance(context, dict):
        return [context for _ in range(n)]
    out = [c or {} for c in context]
    if len(out) != n:
        raise ValueError(f"{len(out)} contexts for {n} texts")
    return out


class SentimentClassifier(TextClassifier):
    """negative / neutral / positive with a calibrated confidence, plus an anger/frustration signal.

    The anger signal (`models.signals.anger`: capitals, repeated punctuation, profanity and insults,
    frustration and repeated-contact phrases) is also given to the linear model as features, and each
    prediction carries it in `signals` ({"anger": score, "angry": flag}) with its reasons.
    """

    def _extra_features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return _anger_features(texts, weight=1.0)

    def predictions(self, X: Sequence[str], embeddings: np.ndarray | None = None, k: int = 3,
                    context: Sequence[Context | None] | Context | None = None) -> list[Prediction]:
        texts = [str(t) for t in X]
        with shared_work():
            return self._with_anger(texts, super().predictions(texts, embeddings, k))

    @staticmethod
    def _with_anger(texts: list[str], preds: list[Prediction]) -> list[Prediction]:
        for text, pred in zip(texts, preds, strict=True):
            mood = shared_anger(text)
            pred.signals = {"anger": mood.score, "angry": mood.angry}
            pred.reasons = [*pred.reasons, *mood.reasons]
        return preds


class UrgencyClassifier(TextClassifier):
    """low / normal / high / critical: a learned model raised or capped by explicit signals, with reasons.

    Signals (`models.signals.urgency_signals`, in English, German, French and Spanish): safety hazards
    (named with the children or elderly at risk), security and fraud, legal threats and outages set a
    minimum level; deadlines, money wrongly taken and a lock-out before dispatch set at least high; churn
    risk, repeated contact, anger or strongly negative sentiment and VIP customers raise the level one
    step. Mail that is no support request (personal mail, job applications, sales pitches, spam) and
    praise, pre-sales and newsletter questions cap it at low, an out-of-scope intent at normal, unless a
    cue of high or more is present. VIP addresses come from `vip_emails` or a per-text context
    {"email": ..., "vip": bool, "previous_contacts": int, "sentiment": (label, confidence), "intent": label}.
    `predict` and `predictions` apply the signals (so evaluation sees what is served); `predict_proba` is
    the learned model alone. `use_signals=False` turns them off.
    """

    def __init__(
        self,
        C: float = 8.0,
        use_tfidf: bool = True,
        embedding_weight: float = 2.0,
        max_iter: int = 3000,
        encoder_path: str | None = None,
        loss: str = "logistic",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        tfidf_weight: float = 1.0,
        calibration: str | None = "temperature",
        oos_label: str | None = None,
        threshold: float | str | None = None,
        max_false_rejection: float = 0.05,
        cv: int = 3,
        calibration_sample: int = 3000,
        products: tuple[str, ...] = (),
        random_state: int = 0,
        vip_emails: frozenset[str] = frozenset(),
        use_signals: bool = True,
        signal_features: bool = True,
    ) -> None:
        super().__init__(
            C=C, use_tfidf=use_tfidf, embedding_weight=embedding_weight, max_iter=max_iter,
            encoder_path=encoder_path, loss=loss, word_ngram_range=word_ngram_range,
            char_ngram_range=char_ngram_range, tfidf_weight=tfidf_weight, calibration=calibration,
            oos_label=oos_label, threshold=threshold, max_false_rejection=max_false_rejection, cv=cv,
            calibration_sample=calibration_sample, products=products, random_state=random_state,
        )
        self.vip_emails = vip_emails
        self.use_signals = use_signals
        self.signal_features = signal_features

    _SIGNAL_NAMES = ("safety", "security", "legal", "outage", "deadline", "churn", "repeated_contact",
                     "negative_sentiment")

    def _extra_features(self, texts: Sequence[str]) -> sparse.csr_matrix | None:
        if not self.signal_features:
            return None
        rows = np.zeros((len(texts), len(self._SIGNAL_NAMES)), dtype=np.float32)
        column = {name: i for i, name in enumerate(self._SIGNAL_NAMES)}
        for r, text in enumerate(texts):
            for signal in urgency_signals(text):
                if signal.name in column:
                    rows[r, column[signal.name]] = 1.0
        return sparse.csr_matrix(rows)

    def _is_vip(self, ctx: Context) -> bool:
        if ctx.get("vip"):
            return True
        email = str(ctx.get("email") or "").strip().lower()
        return bool(email) and email in {e.strip().lower() for e in self.vip_emails}

    def _signals_for(self, text: str, ctx: Context) -> list[Any]:
        sentiment = ctx.get("sentiment")
        return urgency_signals(text, vip=self._is_vip(ctx), previous_contacts=int(ctx.get("previous_contacts") or 0),
                               sentiment=tuple(sentiment) if sentiment else None,
                               intent=str(ctx["intent"]) if ctx.get("intent") else None)

    def predict(self, X: Sequence[str], embeddings: np.ndarray | None = None,
                context: Sequence[Context | None] | Context | None = None) -> np.ndarray:
        return np.array([p.label for p in self.predictions(X, embeddings, k=1, context=context)], dtype=object)

    def predictions(self, X: Sequence[str], embeddings: np.ndarray | None = None, k: int = 3,
                    context: Sequence[Context | None] | Context | None = None) -> list[Prediction]:
        texts = [str(t) for t in X]
        contexts = _contexts(context, len(texts))
        with shared_work():  # the signal features and the signals themselves look at the same texts
            return self._raised(texts, contexts, self.predict_proba(texts, embeddings), k)

    def _raised(self, texts: list[str], contexts: list[Context], proba: np.ndarray, k: int) -> list[Prediction]:
        """Predictions from the learned probabilities, raised by the explicit signals."""
        preds = self._predictions_from_proba(proba, k)
        if not self.use_signals:
            return preds
        column = {str(c): i for i, c in enumerate(self.classes_)}
        levels = tuple(str(c) for c in self.classes_ if urgency_rank(str(c)) is not None)
        for text, ctx, pred, row in zip(texts, contexts, preds, proba, strict=True):
            signals = self._signals_for(text, ctx)
            learned = pred.label
            held = holding(signals)  # a ceiling a serious cue lifted is no reason ("critical: not a support request")
            pred.reasons = [f"model: {learned} ({pred.confidence:.2f})",
                            *(s.reason for s in signals if not s.ceiling or s in held)]
            pred.signals = {"signals": [s.name for s in signals]}
            if not signals or not levels:
                continue
            label = escalate(learned, signals, levels)
            if label != learned:
                pred.label = label
                # The model's probability that the message is at least (raised) or at most (capped) this
                # urgent: the rules moved the level and the reasons say why; the number stays the model's own.
                rank = urgency_rank(label) or 0
                raised = rank > (urgency_rank(learned) or 0)
                ranks = {c: urgency_rank(c) or 0 for c in levels}
                pred.confidence = float(sum(row[column[c]] for c, r in ranks.items()
                                            if (r >= rank if raised else r <= rank)))
        return preds
