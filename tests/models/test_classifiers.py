from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from models import metrics
from models.classifiers import (
    Prediction,
    TextClassifier,
    fit_temperature,
    stratified_folds,
    tune_threshold_on,
    tune_thresholds,
)
from models.factory import make_estimator
from tests.models.conftest import TextData, make_data


def small(**params: object) -> TextClassifier:
    return TextClassifier(**{"loss": "hinge", "C": 0.5, "embedding_weight": 1.0, **params})


def test_probabilities_sum_to_one_and_predict_agrees(train_data: TextData, test_data: TextData) -> None:
    model = small().fit(train_data.texts, train_data.labels, train_data.embeddings)
    proba = model.predict_proba(test_data.texts, test_data.embeddings)
    assert proba.shape == (len(test_data.texts), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    predicted = model.predict(test_data.texts, test_data.embeddings)
    assert list(predicted) == list(model.classes_[proba.argmax(axis=1)])
    assert (predicted == test_data.labels).mean() > 0.8
    preds = model.predictions(test_data.texts[:2], test_data.embeddings[:2], k=2)
    assert isinstance(preds[0], Prediction) and len(preds[0].top) == 2
    assert preds[0].confidence == pytest.approx(preds[0].top[0][1])


def test_temperature_scaling_lowers_calibration_error() -> None:
    # Noisy, overlapping classes: raw SVM margins through a softmax are badly calibrated.
    train = make_data(60, seed=10, noise=2.0)
    test = make_data(60, seed=11, noise=2.0)
    raw = small(calibration=None, C=5.0).fit(train.texts, train.labels, train.embeddings)
    calibrated = small(calibration="temperature", C=5.0).fit(train.texts, train.labels, train.embeddings)
    classes = list(raw.classes_)
    ece_raw = metrics.ece(raw.predict_proba(test.texts, test.embeddings), test.labels, classes)
    ece_cal = metrics.ece(calibrated.predict_proba(test.texts, test.embeddings), test.labels, classes)
    assert calibrated.temperature_ != 1.0
    assert ece_cal <= ece_raw
    # Temperature scaling never changes the ranking, so accuracy is unchanged.
    assert list(raw.predict(test.texts, test.embeddings)) == list(calibrated.predict(test.texts, test.embeddings))


def test_fit_temperature_recovers_a_known_temperature() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 4))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(4, p=p) for p in probs])
    # Scores that are the true logits times 4 need T = 4 to give the true probabilities back.
    assert fit_temperature(logits * 4.0, truth, np.arange(4)) == pytest.approx(4.0, rel=0.15)


def test_below_threshold_becomes_oos(train_data: TextData) -> None:
    model = small(oos_label="oos", threshold=0.8).fit(train_data.texts, train_data.labels, train_data.embeddings)
    assert model.threshold_ == 0.8
    hard = make_data(30, seed=5, noise=3.0)
    proba = model.predict_proba(hard.texts, hard.embeddings)
    predicted = model.predict(hard.texts, hard.embeddings)
    low = proba.max(axis=1) < 0.8
    assert low.any() and (~low).any() and (predicted[low] == "oos").all()
    assert (predicted[~low] == model.classes_[proba[~low].argmax(axis=1)]).all()
    first = int(np.flatnonzero(low)[0])
    pred = model.predictions([hard.texts[first]], hard.embeddings[first : first + 1])[0]
    assert pred.label == "oos" and "threshold" in pred.reasons[0]
    assert pred.confidence == pytest.approx(1 - pred.top[0][1])


def test_no_oos_label_means_no_rejection(train_data: TextData) -> None:
    model = small(oos_label=None, threshold="auto").fit(train_data.texts, train_data.labels, train_data.embeddings)
    assert model.threshold_ == 0.0
    assert "oos" not in set(model.predict(train_data.texts, train_data.embeddings))


def test_auto_threshold_without_oos_examples_bounds_false_rejections() -> None:
    train = make_data(60, seed=20, noise=3.0)
    model = small(oos_label="oos", threshold="auto", max_false_rejection=0.1).fit(
        train.texts, train.labels, train.embeddings)
    assert 0.0 < model.threshold_ < 1.0
    test = make_data(100, seed=21, noise=3.0)
    rejected = (model.predict(test.texts, test.embeddings) == "oos").mean()
    assert rejected < 0.25


def test_labelled_oos_examples_are_learned_and_threshold_tuned() -> None:
    labels = ("refund", "delivery", "login", "oos")
    train = make_data(30, seed=30, labels=labels)
    test = make_data(20, seed=31, labels=labels)
    model = small(oos_label="oos", threshold="auto").fit(train.texts, train.labels, train.embeddings)
    assert "oos" in model.classes_
    predicted = model.predict(test.texts, test.embeddings)
    assert metrics.oos_recall(test.labels, predicted) >= 0.8
    assert metrics.in_scope_accuracy(test.labels, predicted) >= 0.8
    assert 0.0 <= model.threshold_ < 1.0


def test_tune_threshold_on_maximises_accuracy() -> None:
    classes = np.array(["a", "b", "oos"], dtype=object)
    proba = np.array([[0.9, 0.05, 0.05], [0.5, 0.3, 0.2], [0.45, 0.35, 0.2], [0.2, 0.7, 0.1]])
    truth = np.array(["a", "oos", "oos", "b"], dtype=object)
    # Rejecting below 0.5 (inclusive of 0.5) catches both out-of-scope rows and keeps both right answers.
    assert 0.5 < tune_threshold_on(proba, truth, classes, "oos", 0.05) <= 0.7


def test_stratified_folds_keep_tiny_classes_in_training() -> None:
    labels = np.array(["a"] * 9 + ["b"] * 9 + ["c"], dtype=object)
    folds = stratified_folds(labels, 3, seed=0)
    assert folds is not None and folds[-1] == -1
    for k in range(3):
        assert set(labels[folds == k]) == {"a", "b"}


def test_tiny_class_does_not_break_fit(train_data: TextData) -> None:
    texts = [*train_data.texts, "a lonely example"]
    labels = np.append(train_data.labels, "rare")
    embeddings = np.vstack([train_data.embeddings, train_data.embeddings[:1]])
    model = small().fit(texts, labels, embeddings)
    assert "rare" in model.classes_


def test_binary_and_logistic(train_data: TextData) -> None:
    keep = train_data.labels != "login"
    texts = [t for t, k in zip(train_data.texts, keep, strict=True) if k]
    for loss in ("hinge", "logistic"):
        model = small(loss=loss).fit(texts, train_data.labels[keep], train_data.embeddings[keep])
        proba = model.predict_proba(texts, train_data.embeddings[keep])
        assert proba.shape == (len(texts), 2) and np.allclose(proba.sum(axis=1), 1.0)
        assert (model.predict(texts, train_data.embeddings[keep]) == train_data.labels[keep]).mean() > 0.9


def test_bad_input_is_refused(train_data: TextData) -> None:
    with pytest.raises(ValueError, match="two different labels"):
        small().fit(["a", "b"], ["x", "x"], np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="embeddings"):
        small().fit(train_data.texts, train_data.labels, train_data.embeddings[:3])
    with pytest.raises(ValueError, match="loss"):
        small(loss="nope", calibration=None).fit(train_data.texts, train_data.labels, train_data.embeddings)


@pytest.mark.parametrize("kind", ["intent", "sentiment", "urgency"])
def test_scikit_learn_conventions(kind: str, train_data: TextData) -> None:
    model = make_estimator(kind, vip_emails=frozenset({"vip@example.com"}), products=["Aurora lamp"])
    params = model.get_params()
    assert params["C"] == model.C
    twin = clone(model)
    assert twin.get_params() == params and twin is not model
    assert not [name for name in vars(model) if name.endswith("_") and not name.startswith("_")]
    fitted = model.fit(train_data.texts, train_data.labels, train_data.embeddings)
    assert fitted is model
    assert hasattr(model, "classes_") and hasattr(model, "temperature_") and hasattr(model, "threshold_")
    # Cloning a fitted model gives an unfitted one with the same hyperparameters.
    assert not hasattr(clone(model), "classes_")
    model.set_params(C=1.0)
    assert model.get_params()["C"] == 1.0


def test_make_estimator_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown model kind"):
        make_estimator("mood")


def test_products_are_masked_for_tfidf() -> None:
    from models.classifiers import normalise_text

    text = "My Aurora lamp (order LH-123456) - mail me at a.b@example.com or @helpdesk https://x.example/y"
    out = normalise_text(text, ("Aurora lamp",))
    assert "aurora" not in out.lower() and "123456" not in out and "example.com" not in out
    assert "productname" in out and "idnumber" in out and "@user" in out and "httpurl" in out


def test_fast_tfidf_transform_equals_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from models.classifiers import tfidf_transform

    train = make_data(20, seed=40).texts
    docs = [*make_data(5, seed=41).texts, "", "zzz unseen words only", "refund refund refund", "Ünïcödé parcel"]
    for vec in (TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 6), min_df=2, sublinear_tf=True),
                TfidfVectorizer(norm=None, use_idf=False)):
        vec.fit(train)
        expected = vec.transform(docs)
        got = tfidf_transform(vec, docs)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        assert np.allclose(got.toarray(), expected.toarray(), atol=1e-6)


def test_shared_counted_ngrams_give_the_same_transform_for_every_model() -> None:
    # The serving vectorizers count each text's n-grams once for all models (issue 18): inside shared_work the
    # second and third model reuse the first one's counts and still get exactly their own vec.transform.
    from models.classifiers import SharedTfidfVectorizer, tfidf_transform
    from models.memo import shared_work

    docs = [*make_data(5, seed=41).texts, "", "zzz unseen words only", "refund refund refund", "Ünïcödé parcel"]
    vecs = [SharedTfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                  dtype=np.float32).fit(make_data(20, seed=seed).texts) for seed in (40, 42, 43)]
    vecs.append(SharedTfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32).fit(
        make_data(20, seed=40).texts))
    expected = [vec.transform(docs).toarray() for vec in vecs]
    assert not np.allclose(expected[0], expected[1])  # different vocabularies: a mixed-up count would show
    for _ in range(2):
        with shared_work():
            for vec, want in zip(vecs, expected, strict=True):
                for _again in range(2):
                    got = tfidf_transform(vec, docs)
                    assert got.dtype == np.float32 and got.has_sorted_indices
                    assert np.allclose(got.toarray(), want, atol=1e-6)
    assert np.allclose(tfidf_transform(vecs[0], docs).toarray(), expected[0], atol=1e-6)


def test_unlabelled_gates_reject_about_the_budget_on_held_out_in_scope_data() -> None:
    # 1% of in-scope messages may be rejected: measured on in-scope data the model never saw.
    train = make_data(200, seed=40, noise=1.5)
    model = small(oos_label="oos", threshold="auto", max_false_rejection=0.01, novelty=5).fit(
        train.texts, train.labels, train.embeddings)
    assert model.novelty_threshold_ > 0 and model.anchors_ is not None
    test = make_data(400, seed=41, noise=1.5)
    rejected = float((model.predict(test.texts, test.embeddings) == "oos").mean())
    assert rejected <= 0.03


def test_novelty_gate_rejects_what_is_unlike_every_training_example(train_data: TextData) -> None:
    model = small(oos_label="oos", threshold="auto", max_false_rejection=0.05, novelty=3).fit(
        train_data.texts, train_data.labels, train_data.embeddings)
    # The text carries a strong in-scope word, but its embedding points away from everything seen.
    away = -train_data.embeddings.mean(axis=0, keepdims=True)
    away /= np.linalg.norm(away)
    pred = model.predictions(["refund refund money back"], away.astype(np.float32))[0]
    assert pred.label == "oos"
    assert any("unlike the training examples" in r for r in pred.reasons)
    # The same text with an ordinary refund embedding is kept.
    assert model.predict(["refund refund money back"], train_data.embeddings[:1])[0] == "refund"


def test_labelled_tuning_balances_in_scope_accuracy_and_recall() -> None:
    classes = np.array(["a", "b", "oos"], dtype=object)
    rng = np.random.default_rng(0)
    # 200 in-scope rows, confident and similar to training; 10 out-of-scope rows, confident but dissimilar.
    proba = np.vstack([np.tile([0.9, 0.08, 0.02], (200, 1)), np.tile([0.85, 0.1, 0.05], (10, 1))])
    truth = np.array(["a"] * 200 + ["oos"] * 10, dtype=object)
    similarity = np.concatenate([rng.uniform(0.6, 0.9, 200), rng.uniform(0.1, 0.3, 10)])
    t_prob, t_sim = tune_thresholds(proba, truth, classes, "oos", 0.01, similarity)
    assert 0.3 < t_sim <= similarity[:200].min()
    assert t_prob < 0.9  # the probability gate alone could not separate them without losing the in-scope rows
    # Plain accuracy would hardly notice 10 rows among 210; the balanced objective catches all of them.
    reject = (similarity < t_sim) | (proba.max(axis=1) < t_prob)
    assert reject[200:].all() and not reject[:200].any()


def test_models_pickled_before_the_similarity_gate_still_predict(train_data: TextData) -> None:
    import pickle

    model = small(oos_label="oos", threshold=0.5).fit(train_data.texts, train_data.labels, train_data.embeddings)
    state = model.__dict__.copy()
    for name in ("novelty", "novelty_threshold_", "anchors_"):
        state.pop(name)
    old = TextClassifier.__new__(TextClassifier)
    old.__setstate__(pickle.loads(pickle.dumps(state)))
    assert list(old.predict(train_data.texts[:5], train_data.embeddings[:5])) == list(
        model.predict(train_data.texts[:5], train_data.embeddings[:5]))
