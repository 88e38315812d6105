from __future__ import annotations

import numpy as np
import pytest

from models.factory import make_estimator
from models.tasks import SentimentClassifier, UrgencyClassifier
from tests.models.conftest import TextData, make_data

LEVELS = {"refund": "low", "delivery": "normal", "login": "high"}


def urgency_data(seed: int) -> TextData:
    data = make_data(30, seed=seed)
    return TextData(data.texts, np.array([LEVELS[x] for x in data.labels], dtype=object), data.embeddings)


def one(data: TextData, i: int, text: str) -> tuple[list[str], np.ndarray]:
    return [text], data.embeddings[i : i + 1]


def test_urgency_signals_raise_the_learned_level_with_reasons() -> None:
    train = urgency_data(0)
    model = make_estimator("urgency").fit(train.texts, train.labels, train.embeddings)
    assert isinstance(model, UrgencyClassifier)
    low = int(np.flatnonzero(train.labels == "low")[0])
    plain = model.predictions(*one(train, low, "please refund my money"))[0]
    assert plain.label == "low" and plain.reasons[0].startswith("model: low")
    hacked = model.predictions(*one(train, low, "please refund, someone hacked my account"))[0]
    # The model knows no "critical": the highest level it knows is used, and the reasons say why.
    assert hacked.label == "high"
    assert any("security" in r for r in hacked.reasons) and "security" in hacked.signals["signals"]
    # Confidence stays the model's own probability of "at least this urgent".
    assert 0.0 <= hacked.confidence <= 1.0
    assert model.predict(["please refund, someone hacked my account"], train.embeddings[low : low + 1])[0] == "high"


def test_mail_that_is_no_support_request_is_capped_with_reasons() -> None:
    train = urgency_data(5)
    model = make_estimator("urgency").fit(train.texts, train.labels, train.embeddings)
    high = int(np.flatnonzero(train.labels == "high")[0])
    texts, emb = one(train, high, "password locked out sign in. Hi Jo! Are we still on for Saturday?")
    learned = model.predict_proba(texts, emb)[0]
    assert model.classes_[int(np.argmax(learned))] == "high"
    capped = model.predictions(texts, emb)[0]
    assert capped.label == "low" and capped.reasons[0].startswith("model: high")
    assert any(r.startswith("personal message") for r in capped.reasons) and "personal" in capped.signals["signals"]
    # Confidence is the model's own probability of "at most this urgent".
    low = list(model.classes_).index("low")
    assert capped.confidence == pytest.approx(float(learned[low]))


def test_out_of_scope_intent_from_context_caps_at_normal() -> None:
    train = urgency_data(6)
    model = make_estimator("urgency").fit(train.texts, train.labels, train.embeddings)
    high = int(np.flatnonzero(train.labels == "high")[0])
    texts, emb = one(train, high, "password log in two-factor")
    assert model.predictions(texts, emb)[0].label == "high"
    assert model.predictions(texts, emb, context={"intent": "other"})[0].label == "normal"
    assert model.predictions(texts, emb, context={"intent": "account_access"})[0].label == "high"
    # A ceiling that a serious cue lifted is not given as a reason.
    smoking = model.predictions(["the charger is smoking"], emb, context={"intent": "other"})[0]
    assert smoking.label == "high" and not any("support request" in r for r in smoking.reasons)
    assert "out_of_scope" in smoking.signals["signals"]


def test_vip_and_repeated_contact_come_from_context() -> None:
    train = urgency_data(1)
    model = make_estimator("urgency", vip_emails=["Boss@Example.com"]).fit(
        train.texts, train.labels, train.embeddings)
    low = int(np.flatnonzero(train.labels == "low")[0])
    texts, emb = one(train, low, "a question about my refund")
    assert model.predictions(texts, emb)[0].label == "low"
    assert model.predictions(texts, emb, context=[{"email": "boss@example.com"}])[0].label == "normal"
    assert model.predictions(texts, emb, context={"vip": True})[0].label == "normal"
    assert model.predictions(texts, emb, context=[{"previous_contacts": 4}])[0].label == "normal"
    strongly_negative = model.predictions(texts, emb, context=[{"sentiment": ("negative", 0.97)}])[0]
    assert strongly_negative.label == "normal" and any("negative" in r for r in strongly_negative.reasons)


def test_signals_can_be_switched_off() -> None:
    train = urgency_data(2)
    model = make_estimator("urgency").set_params(use_signals=False).fit(train.texts, train.labels, train.embeddings)
    low = int(np.flatnonzero(train.labels == "low")[0])
    assert model.predictions(*one(train, low, "refund, my lawyer will sue"))[0].label == "low"


def test_sentiment_carries_the_anger_signal() -> None:
    data = make_data(30, seed=3)
    labels = np.array([{"refund": "negative", "delivery": "neutral", "login": "positive"}[x] for x in data.labels],
                      dtype=object)
    model = make_estimator("sentiment").fit(data.texts, labels, data.embeddings)
    assert isinstance(model, SentimentClassifier)
    texts = ["thanks, all good", "This is UNACCEPTABLE!!! Third time I ask, useless"]
    calm, furious = model.predictions(texts, data.embeddings[:2])
    assert calm.signals == {"anger": 0.0, "angry": False}
    assert furious.signals["angry"] is True and furious.signals["anger"] > 0.5
    assert any("insult" in r for r in furious.reasons)
    # The anger features are part of the model's input, one column per feature.
    features = model._extra_features(texts)
    assert features.shape == (2, 9) and features[1].sum() > features[0].sum()


def test_context_length_must_match() -> None:
    train = urgency_data(4)
    model = make_estimator("urgency").fit(train.texts, train.labels, train.embeddings)
    with pytest.raises(ValueError, match="contexts"):
        model.predictions(train.texts[:2], train.embeddings[:2], context=[{}])
