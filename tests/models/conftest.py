"""Small synthetic text data with matching fake embeddings, so model tests run without the encoder."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

# A few words per label; texts mix them with shared filler so TF-IDF and embeddings both carry signal.
VOCAB = {
    "refund": ["refund", "money back", "reimburse", "return my payment", "charged"],
    "delivery": ["parcel", "delivery", "courier", "tracking", "shipped"],
    "login": ["password", "log in", "locked out", "sign in", "two-factor"],
    "oos": ["weather", "football", "joke", "recipe", "film"],
}
FILLER = ["please", "help", "today", "my", "the", "hello", "thanks", "about", "again", "question"]


@dataclass
class TextData:
    texts: list[str]
    labels: np.ndarray
    embeddings: np.ndarray


def make_data(n_per_label: int, seed: int, labels: tuple[str, ...] = ("refund", "delivery", "login"),
              noise: float = 0.9, dim: int = 16) -> TextData:
    """Texts with 1-2 label words among filler, and embeddings = label centre + Gaussian noise, normalised."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(1234).normal(size=(len(VOCAB), dim))
    index = {name: i for i, name in enumerate(VOCAB)}
    texts, ys, embs = [], [], []
    for label in labels:
        for _ in range(n_per_label):
            words = list(rng.choice(FILLER, size=4))
            words += list(rng.choice(VOCAB[label], size=int(rng.integers(1, 3))))
            rng.shuffle(words)
            texts.append(" ".join(words))
            ys.append(label)
            embs.append(centres[index[label]] + rng.normal(scale=noise * 2, size=dim))
    e = np.asarray(embs, dtype=np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    return TextData(texts, np.asarray(ys, dtype=object), e)


@pytest.fixture
def train_data() -> TextData:
    return make_data(30, seed=0)


@pytest.fixture
def test_data() -> TextData:
    return make_data(20, seed=1)
