"""The bundled encoder: our batched, thread-pooled pass gives what sentence-transformers gives."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from models.encoder import Encoder

TEXTS = [
    "I still have not received my new card",
    "",
    "How do I top up with Apple Pay?",
    "The exchange rate on my transfer was wrong, why?",
    "Someone used my card without my permission!!!",
    "cancel",
    "My refund from the shop has not shown up in my account yet, it has been a week",
]


@pytest.mark.slow
def test_batched_pass_matches_sentence_transformers_in_any_order_and_thread() -> None:
    encoder = Encoder(batch_size=2, workers=2)  # several batches spread over the pool
    texts = TEXTS * 3
    ours = encoder.encode(texts)
    model = encoder._load()
    reference = model.encode([t or "(empty)" for t in texts], normalize_embeddings=True, convert_to_numpy=True)
    assert ours.shape == (len(texts), encoder.dimension)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.allclose(ours, reference, atol=1e-4)
    # Rows follow the input order, whatever order the batches ran in.
    assert np.allclose(ours[len(TEXTS) :], np.vstack([ours[: len(TEXTS)]] * 2), atol=1e-5)
    done: list[int] = []
    assert np.allclose(encoder.encode(texts[:5], progress=done.append), ours[:5], atol=1e-5)
    assert sum(done) == 5 and len(done) == 3
    # Callers on several threads at once (API requests) share the tokenizer safely.
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: encoder.encode([texts[i]]), range(len(texts))))
    assert np.allclose(np.vstack(results), ours, atol=1e-4)


def test_one_batch_worth_of_texts_is_shared_by_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: the worker's 32 rows as one batch ran on one core while the other waited; they are split."""
    encoder = Encoder(batch_size=32, workers=2)
    monkeypatch.setattr(Encoder, "dimension", property(lambda self: 3))
    seen: list[int] = []
    monkeypatch.setattr(encoder, "_forward", lambda batch: (seen.append(len(batch)), np.ones((len(batch), 3)))[1])
    encoder.encode([f"text {i}" for i in range(32)])
    assert sorted(seen) == [16, 16]
    seen.clear()
    encoder.encode([f"text {i}" for i in range(100)])  # more than enough for both: full batches
    assert sorted(seen) == [4, 32, 32, 32]
    seen.clear()
    encoder.encode(["one"])
    assert seen == [1]
