"""Text classifiers: sentence embeddings plus word and character TF-IDF in a linear model.

Follows scikit-learn's estimator rules (hyperparameters in `__init__`, learned state ends in `_`,
`fit` returns self). The encoder is not pickled; it is shared per process and loaded lazily.

Probabilities are calibrated by temperature scaling fitted on out-of-fold decision scores. Out of scope is
decided by two gates: a threshold on the top probability (the model is unsure between its intents) and,
with `novelty=k`, a threshold on the embedding's similarity to its nearest in-scope training examples (the
message is unlike anything the model was taught, which the probability alone misses: a softmax is confident
about texts far from every class). Everything is tuned inside `fit` on held-out folds of the training data,
so callers never pass a validation set.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from models.encoder import Encoder, shared_encoder
from models.memo import memo, shared_work

Context = dict[str, Any]


@dataclass
class Prediction:
    label: str
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    # Extra named outputs of a task, e.g. {"anger": 0.83, "angry": True} for sentiment.
    signals: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "confidence": round(self.confidence, 4),
                               "top": [[lbl, round(p, 4)] for lbl, p in self.top], "reasons": self.reasons}
        if self.signals:
            out["signals"] = self.signals
        return out


_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_MENTION = re.compile(r"(?<!\w)@\w+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_LONG_NUMBER = re.compile(r"\b(?:[A-Z]{2,4}-)?\d{5,}\b")


def normalise_text(text: str, products: Sequence[str] = ()) -> str:
    """Text as the TF-IDF features see it: addresses, handles, links and identifiers become placeholders.

    Identifiers say nothing about intent, sentiment or urgency, and handles (e.g. the company a tweet is
    addressed to) would let a model learn who is written to instead of what is said.
    """
    text = _URL.sub(" httpurl ", text)
    text = _EMAIL.sub(" emailaddress ", text)
    text = _MENTION.sub(" @user ", text)
    text = _LONG_NUMBER.sub(" idnumber ", text)
    for name in products:
        text = re.sub(rf"\b{re.escape(name)}\b", " productname ", text, flags=re.I)
    return text


class SharedTfidfVectorizer(TfidfVectorizer):
    """TF-IDF whose n-grams of a text are cut once inside `models.memo.shared_work()`.

    The three serving models use the same analyzer settings but their own vocabularies: cutting a text into
    character n-grams is the costly part of a transform, the vocabulary look-up is not.
    """

    def _analyzer_key(self) -> tuple[Any, ...]:
        return ("ngrams", self.analyzer, tuple(self.ngram_range), self.lowercase, self.strip_accents,
                self.token_pattern, self.preprocessor, self.tokenizer, str(self.stop_words))

    def build_analyzer(self) -> Any:
        analyze = super().build_analyzer()
        key = self._analyzer_key()

        def shared(doc: str) -> Any:
            return memo((key, doc), lambda: tuple(analyze(doc)))

        return shared

    def build_counter(self) -> Any:
        """A text's distinct n-grams and their counts, shared like the n-grams themselves (issue 18).

        A sample email has about half as many distinct character n-grams as n-grams, so each model looks up
        only those in its vocabulary.
        """
        analyze = self.build_analyzer()
        key = ("counts", *self._analyzer_key())

        def shared(doc: str) -> tuple[list[str], np.ndarray]:
            return memo((key, doc), lambda: _counted(analyze(doc)))

        return shared


def _counted(grams: Sequence[str]) -> tuple[list[str], np.ndarray]:
    counter = Counter(grams)
    return list(counter), np.fromiter(counter.values(), dtype=np.int64, count=len(counter))


def tfidf_transform(vec: TfidfVectorizer, docs: Sequence[str]) -> sparse.csr_matrix:
    """`vec.transform(docs)` of a fitted vectorizer, without scikit-learn's per-call input validation.

    Serving one message through three models spent more time in those checks than in the transform itself.
    Equal to `vec.transform` (tested). The n-grams of a text are counted once (shared between the models by a
    SharedTfidfVectorizer) and each distinct one is looked up: the vocabulary maps distinct n-grams to
    distinct columns, so their counts are the column counts.
    """
    if isinstance(vec, SharedTfidfVectorizer):
        count = vec.build_counter()
    else:
        analyze = vec.build_analyzer()

        def count(doc: str) -> tuple[list[str], np.ndarray]:
            return _counted(analyze(doc))

    vocabulary = vec.vocabulary_
    indices: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    indptr = [0]
    for doc in docs:
        grams, n = count(doc)
        # -1 for an n-gram outside the vocabulary: the look-ups run in C, not in a Python loop per n-gram.
        columns = np.fromiter(map(vocabulary.get, grams, repeat(-1)), dtype=np.int64, count=len(grams))
        known = columns >= 0
        indices.append(columns[known])
        counts.append(n[known])
        indptr.append(indptr[-1] + len(indices[-1]))
    matrix = sparse.csr_matrix((np.concatenate([np.empty(0, np.int64), *counts]).astype(vec.dtype),
                                np.concatenate([np.empty(0, np.int64), *indices]).astype(np.int32),
                                np.asarray(indptr, dtype=np.int32)), shape=(len(indptr) - 1, len(vocabulary)))
    matrix.sort_indices()
    data = matrix.data
    if vec.sublinear_tf:
        np.log(data, out=data)
        data += 1
    if vec.use_idf:
        data *= vec.idf_[matrix.indices].astype(data.dtype, copy=False)
    if vec.norm == "l2":
        rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
        norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=matrix.shape[0]))
        norms[norms == 0] = 1.0
        data /= norms[rows].astype(data.dtype)
    elif vec.norm is not None:
        return vec.transform(docs)
    return matrix


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Embedding + TF-IDF linear model; `embeddings=` lets callers encode once for several models.

    loss: "logistic" (LogisticRegression) or "hinge" (LinearSVC, one-vs-rest; faster, slightly better on
    many classes). calibration: "temperature" fits one temperature on out-of-fold scores, None uses the raw
    softmax of the scores. oos_label / threshold: predictions whose top probability is below `threshold_`
    become `oos_label`; threshold "auto" tunes it on out-of-fold predictions (maximising accuracy when
    out-of-scope examples are labelled, else allowing `max_false_rejection` of in-scope ones to be rejected),
    a number fixes it, None disables rejection. novelty: k > 0 keeps the in-scope training embeddings and adds
    the similarity gate (mean cosine similarity to the k nearest), tuned with the threshold.
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
        novelty: int = 0,
    ) -> None:
        self.C = C
        self.use_tfidf = use_tfidf
        self.embedding_weight = embedding_weight
        self.max_iter = max_iter
        self.encoder_path = encoder_path
        self.loss = loss
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.tfidf_weight = tfidf_weight
        self.calibration = calibration
        self.oos_label = oos_label
        self.threshold = threshold
        self.max_false_rejection = max_false_rejection
        self.cv = cv
        self.calibration_sample = calibration_sample
        self.products = products
        self.random_state = random_state
        self.novelty = novelty

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models pickled by an earlier version lack newer hyperparameters: give them the defaults, which
        # reproduce the old behaviour (no calibration state means temperature 1, no threshold).
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if name != "self" and name not in state:
                state[name] = None if name in ("calibration", "threshold") else param.default
        if "clf_" in state:
            state.setdefault("temperature_", 1.0)
            state.setdefault("threshold_", 0.0)
            state.setdefault("novelty_threshold_", 0.0)
            state.setdefault("anchors_", None)
        super().__setstate__(state)

    # -- encoder (never pickled) --
    @property
    def encoder(self) -> Encoder:
        return shared_encoder(Path(self.encoder_path) if self.encoder_path else None)

    def _embed(self, texts: Sequence[str], embeddings: np.ndarray | None) -> np.ndarray:
        if embeddings is None:
            return self.encoder.encode(list(texts))
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape[0] != len(texts):
            raise ValueError(f"{embeddings.shape[0]} embeddings for {len(texts)} texts")
        return embeddings

    # -- features --
    def _extra_features(self, texts: Sequence[str]) -> sparse.csr_matrix | None:
        """Hook for subclasses: hand-made features appended to the embedding and TF-IDF blocks."""
        return None

    def _vectorizers(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        word = SharedTfidfVectorizer(ngram_range=tuple(self.word_ngram_range), min_df=1, sublinear_tf=True,
                               lowercase=True, dtype=np.float32)
        char = SharedTfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngram_range), min_df=2,
                               sublinear_tf=True, lowercase=True, dtype=np.float32)
        return word, char

    def _features(self, texts: Sequence[str], embeddings: np.ndarray, vectorizers: Any, *,
                  fitting: bool) -> sparse.csr_matrix:
        blocks: list[Any] = [sparse.csr_matrix(embeddings * np.float32(self.embedding_weight))]
        if self.use_tfidf:
            products = tuple(self.products)
            normalised = [memo(("normalised", products, t), functools.partial(normalise_text, t, products))
                          for t in texts]
            for vec in vectorizers:
                block = vec.fit_transform(normalised) if fitting else tfidf_transform(vec, normalised)
                blocks.append(block * np.float32(self.tfidf_weight))
        extra = self._extra_features(texts)
        if extra is not None:
            blocks.append(extra)
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def _new_linear_model(self) -> Any:
        if self.loss == "hinge":
            return LinearSVC(C=self.C, max_iter=self.max_iter, random_state=self.random_state)
        if self.loss == "logistic":
            return LogisticRegression(C=self.C, max_iter=self.max_iter)
        raise ValueError(f"unknown loss {self.loss!r}: use 'logistic' or 'hinge'")

    def _fit_once(self, texts: list[str], y: np.ndarray, embeddings: np.ndarray) -> tuple[Any, Any]:
        vectorizers = self._vectorizers() if self.use_tfidf else ()
        features = self._features(texts, embeddings, vectorizers, fitting=True)
        clf = self._new_linear_model().fit(features, y)
        return clf, vectorizers

    @staticmethod
    def _scores(clf: Any, features: sparse.csr_matrix) -> np.ndarray:
        """Decision scores with one column per class (binary models give one column: make it two)."""
        # What decision_function computes, minus scikit-learn's input checks: for one message those took
        # longer than the arithmetic. The features come from `_features`, so they are already valid.
        scores = np.asarray(features @ clf.coef_.T, dtype=np.float64) + clf.intercept_
        if scores.shape[1] == 1:
            scores = scores[:, 0]
        if scores.ndim == 1:
            scores = np.column_stack([np.zeros_like(scores), scores])
        return scores

    # -- fitting --
    def fit(self, X: Sequence[str], y: Sequence[str], embeddings: np.ndarray | None = None) -> TextClassifier:
        texts = [str(t) for t in X]
        labels = np.asarray([str(label) for label in y], dtype=object)
        if len(texts) != len(labels):
            raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
        if len(set(labels)) < 2:
            raise ValueError("training data needs at least two different labels")
        embeddings = self._embed(texts, embeddings)
        self.temperature_ = 1.0
        self.threshold_ = 0.0
        self.novelty_threshold_ = 0.0
        self.anchors_ = None
        tune_threshold = self.oos_label is not None and self.threshold == "auto"
        if self.oos_label is not None and isinstance(self.threshold, int | float):
            self.threshold_ = float(self.threshold)
        if self.oos_label is not None and self.novelty:
            in_scope = labels != self.oos_label
            self.anchors_ = np.ascontiguousarray(embeddings[in_scope], dtype=np.float32)
        if self.calibration == "temperature" or tune_threshold:
            held_out = self._out_of_fold_scores(texts, labels, embeddings)
            if held_out is not None:
                scores, truth, classes, similarity = held_out
                if self.calibration == "temperature":
                    self.temperature_ = fit_temperature(scores, truth, classes)
                if tune_threshold:
                    proba = softmax(scores / self.temperature_, axis=1)
                    self.threshold_, self.novelty_threshold_ = tune_thresholds(
                        proba, truth, classes, str(self.oos_label), self.max_false_rejection,
                        similarity if self.anchors_ is not None else None)
        elif self.calibration not in (None, "none"):
            raise ValueError(f"unknown calibration {self.calibration!r}: use 'temperature' or None")
        self.clf_, self.vectorizers_ = self._fit_once(texts, labels, embeddings)
        self.classes_ = self.clf_.classes_
        return self

    def _out_of_fold_scores(self, texts: list[str], labels: np.ndarray,
                            embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """Decision scores (and nearest in-scope similarity) for examples from a model that did not see them."""
        folds = stratified_folds(labels, self.cv, self.random_state)
        if folds is None:
            return None
        classes = np.array(sorted(set(labels)), dtype=object)
        column = {c: i for i, c in enumerate(classes)}
        scores = np.zeros((len(labels), len(classes)))
        similarity = np.zeros(len(labels))
        scored = np.zeros(len(labels), dtype=bool)
        in_scope = labels != self.oos_label
        for k in range(self.cv):
            # Large data sets: a few thousand held-out scores fit one temperature and one threshold well,
            # so the remaining folds are skipped (Banking77 fits in a third of the time).
            if scored.sum() >= self.calibration_sample:
                break
            test = np.flatnonzero(folds == k)
            train = np.flatnonzero(folds != k)
            if len(test) == 0 or len(set(labels[train])) < 2:
                continue
            clf, vectorizers = self._fit_once([texts[i] for i in train], labels[train], embeddings[train])
            fold_scores = self._scores(clf, self._features([texts[i] for i in test], embeddings[test],
                                                           vectorizers, fitting=False))
            # A class missing from this fold's training part scores far below the others.
            full = np.full((len(test), len(classes)), fold_scores.min() - 10.0)
            full[:, [column[c] for c in clf.classes_]] = fold_scores
            scores[test] = full
            if self.novelty and self.oos_label is not None:
                anchors = embeddings[train[in_scope[train]]]
                similarity[test] = nearest_similarity(embeddings[test], anchors, self.novelty)
            scored[test] = True
        if not scored.any():
            return None
        return scores[scored], labels[scored], classes, similarity[scored]

    # -- predicting --
    def predict_proba(self, X: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        texts = [str(t) for t in X]
        with shared_work():
            features = self._features(texts, self._embed(texts, embeddings), self.vectorizers_, fitting=False)
        scores = self._scores(self.clf_, features)
        if isinstance(self.clf_, LogisticRegression) and self.calibration is None:
            return self.clf_.predict_proba(features)
        return softmax(scores / self.temperature_, axis=1)

    def similarity(self, embeddings: np.ndarray) -> np.ndarray | None:
        """Each embedding's similarity to its nearest in-scope training examples (None without the gate)."""
        anchors = getattr(self, "anchors_", None)
        if anchors is None or not self.novelty:
            return None
        return nearest_similarity(np.asarray(embeddings, dtype=np.float32), anchors, self.novelty)

    def _decide(self, proba: np.ndarray, similarity: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Labels after the out-of-scope gates, and whether each was rejected."""
        best = proba.argmax(axis=1)
        labels = self.classes_[best].astype(object)
        rejected = np.zeros(len(labels), dtype=bool)
        if self.oos_label is not None:
            unsure = proba[np.arange(len(best)), best] < self.threshold_
            if similarity is not None and self.novelty_threshold_ > 0:
                unsure |= similarity < self.novelty_threshold_
            rejected = unsure & (labels != self.oos_label)
            labels[rejected] = self.oos_label
        return labels, rejected

    def _proba_and_similarity(self, X: Sequence[str],
                              embeddings: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        texts = [str(t) for t in X]
        embeddings = self._embed(texts, embeddings)
        return self.predict_proba(texts, embeddings), self.similarity(embeddings)

    def predict(self, X: Sequence[str], embeddings: np.ndarray | None = None) -> np.ndarray:
        return self._decide(*self._proba_and_similarity(X, embeddings))[0]

    def predictions(self, X: Sequence[str], embeddings: np.ndarray | None = None, k: int = 3,
                    context: Sequence[Context | None] | Context | None = None) -> list[Prediction]:
        """Label, confidence and the top-k alternatives for each text (`context` is for subclasses)."""
        proba, similarity = self._proba_and_similarity(X, embeddings)
        return self._predictions_from_proba(proba, k, similarity)

    def _predictions_from_proba(self, proba: np.ndarray, k: int,
                                similarity: np.ndarray | None = None) -> list[Prediction]:
        labels, rejected = self._decide(proba, similarity)
        out = []
        for i, (row, label, was_rejected) in enumerate(zip(proba, labels, rejected, strict=True)):
            order = np.argsort(row)[::-1][:k]
            top = [(str(self.classes_[j]), float(row[j])) for j in order]
            if was_rejected:
                # What we know is that the best in-scope guess is unlikely: 1 - its probability.
                reasons = []
                if top[0][1] < self.threshold_:
                    reasons.append(f"below the out-of-scope threshold {self.threshold_:.2f}: "
                                   f"best guess {top[0][0]} ({top[0][1]:.2f})")
                if similarity is not None and similarity[i] < self.novelty_threshold_:
                    reasons.append(f"unlike the training examples: similarity {similarity[i]:.2f} < "
                                   f"{self.novelty_threshold_:.2f}; best guess {top[0][0]} ({top[0][1]:.2f})")
                out.append(Prediction(label=str(label), confidence=1.0 - top[0][1], top=top, reasons=reasons))
            else:
                out.append(Prediction(label=str(label), confidence=top[0][1], top=top))
        return out


def nearest_similarity(queries: np.ndarray, anchors: np.ndarray, k: int, chunk: int = 2048) -> np.ndarray:
    """Mean cosine similarity of each (L2-normalised) query to its k most similar anchors."""
    out = np.zeros(len(queries))
    if len(anchors) == 0:
        return out
    k = max(1, min(int(k), len(anchors)))
    for start in range(0, len(queries), chunk):
        sims = queries[start : start + chunk] @ anchors.T
        if k == 1:
            out[start : start + chunk] = sims.max(axis=1)
        else:
            out[start : start + chunk] = np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)
    return out


def stratified_folds(labels: np.ndarray, k: int, seed: int) -> np.ndarray | None:
    """Fold number per example (-1: always in training, for classes too small to hold out), or None.

    Each class is spread over the folds; classes with fewer than k examples stay in every training part so
    that each fold model still knows them.
    """
    if k < 2:
        return None
    rng = np.random.default_rng(seed)
    folds = np.full(len(labels), -1, dtype=int)
    for label in sorted(set(labels)):
        members = np.flatnonzero(labels == label)
        if len(members) < k:
            continue
        rng.shuffle(members)
        folds[members] = (np.arange(len(members)) + rng.integers(k)) % k
    return folds if (folds >= 0).sum() >= 2 * k else None


def fit_temperature(scores: np.ndarray, truth: np.ndarray, classes: np.ndarray) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(scores / T) on held-out data."""
    column = {c: i for i, c in enumerate(classes)}
    idx = np.array([column[t] for t in truth])

    def nll(log_t: float) -> float:
        logp = log_softmax(scores / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(idx)), idx].mean())

    result = minimize_scalar(nll, bounds=(np.log(1e-3), np.log(1e3)), method="bounded")
    return float(np.exp(result.x))


MAX_UNSUPERVISED_THRESHOLD = 0.9
# Without labelled out-of-scope examples, the share of the rejection budget given to the similarity gate.
NOVELTY_SHARE = 0.5


def _top_predictions(proba: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top probability and the class it names."""
    best = proba.argmax(axis=1)
    return proba[np.arange(len(best)), best], classes[best]


def tune_thresholds(proba: np.ndarray, truth: np.ndarray, classes: np.ndarray, oos_label: str,
                    max_false_rejection: float, similarity: np.ndarray | None = None) -> tuple[float, float]:
    """(probability threshold, similarity threshold) chosen on held-out predictions.

    Without a similarity gate this is `tune_threshold_on`. Without labelled out-of-scope examples the two
    gates share the budget of `max_false_rejection` in-scope rejections. With them, among the pairs within
    that budget, the one with the best mean of in-scope accuracy and out-of-scope recall (so that a few
    labelled examples are not outweighed by thousands of in-scope ones).
    """
    if similarity is None:
        return tune_threshold_on(proba, truth, classes, oos_label, max_false_rejection), 0.0
    top, predicted = _top_predictions(proba, classes)
    is_oos = truth == oos_label
    if not is_oos.any():
        if max_false_rejection <= 0:
            return 0.0, 0.0
        t_sim = float(np.quantile(similarity, max_false_rejection * NOVELTY_SHARE))
        kept = similarity >= t_sim
        # The probability gate takes what is left of the budget, measured on what the first gate keeps.
        rest = max(0.0, max_false_rejection - (1 - kept.mean())) / max(kept.mean(), 1e-9)
        t_prob = min(float(np.quantile(top[kept], rest)), MAX_UNSUPERVISED_THRESHOLD) if rest > 0 else 0.0
        return t_prob, t_sim
    # Only pairs that reject at most the budget of in-scope messages: held-out folds of short training
    # examples look more alike than real mail (greetings, signatures), so a looser pair would reject far
    # more in service than it did here.
    grid = np.linspace(0.0, max_false_rejection, 11)
    t_probs = np.unique(np.concatenate([[0.0], np.quantile(top[~is_oos], grid)]))
    t_sims = np.unique(np.concatenate([[0.0], np.quantile(similarity[~is_oos], grid)]))
    correct = predicted == truth
    said_oos = predicted == oos_label
    best_pair, best_score = (0.0, 0.0), -1.0
    for t_prob in t_probs:
        low_prob = top < t_prob
        for t_sim in t_sims:
            gated = low_prob | (similarity < t_sim)
            if float((gated & ~said_oos)[~is_oos].mean()) > max_false_rejection:
                continue
            reject = said_oos | gated
            in_scope_acc = float((correct & ~reject)[~is_oos].mean())
            recall = float(reject[is_oos].mean())
            score = (in_scope_acc + recall) / 2
            if score > best_score + 1e-12:
                best_pair, best_score = (float(t_prob), float(t_sim)), score
    return best_pair


def tune_threshold_on(proba: np.ndarray, truth: np.ndarray, classes: np.ndarray, oos_label: str,
                      max_false_rejection: float) -> float:
    """Rejection threshold on the top probability, chosen on held-out predictions.

    With labelled out-of-scope examples: the threshold that maximises accuracy (ties: the lowest). Without:
    the highest threshold that rejects at most `max_false_rejection` of the in-scope examples.
    """
    top, predicted = _top_predictions(proba, classes)
    is_oos = truth == oos_label
    if not is_oos.any():
        if max_false_rejection <= 0:
            return 0.0
        # Capped: on easily separated data held-out confidences saturate near 1, and a threshold there
        # would reject confident predictions that merely round differently.
        return min(float(np.quantile(top, max_false_rejection)), MAX_UNSUPERVISED_THRESHOLD)
    candidates = np.unique(np.concatenate([[0.0], top]))
    correct_kept = predicted == truth
    best_t, best_acc = 0.0, -1.0
    for t in candidates:
        reject = (top < t) & (predicted != oos_label)
        acc = float(np.where(reject, is_oos, correct_kept).mean())
        if acc > best_acc + 1e-12:
            best_t, best_acc = float(t), acc
    return best_t
