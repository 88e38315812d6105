"""Hybrid retrieval: fusion, filters, intent boost, and the approximate index against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from models.retrieval import HybridIndex, recall_at_k, tokenize


def _unit(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    x = rng.normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_tokenize_folds_accents_drops_stopwords_and_plurals() -> None:
    assert tokenize("The Orders are NOT here, Rückgabe!") == ["order", "here", "ruckgabe"]


def test_hybrid_finds_keyword_only_and_meaning_only_matches() -> None:
    rng = np.random.default_rng(1)
    emb = _unit(rng, 4)
    texts = ["reset your password", "track a parcel", "warranty for lamps", "gift cards"]
    index = HybridIndex().fit(texts, emb)
    # The query vector equals row 2's embedding; its words match row 0 only.
    hits = index.search("password reset", emb[2], k=4)
    rows = {h.row: h for h in hits}
    assert rows[0].bm25_rank == 1 and rows[0].terms == ["password", "reset"]
    assert rows[2].dense_rank == 1 and rows[2].bm25_rank is None
    assert {hits[0].row, hits[1].row} == {0, 2}  # each best in one method beats rows best in neither
    assert [h.row for h in index.search("password reset", None, k=4, mode="bm25")] == [0]
    with pytest.raises(ValueError, match="embedding"):
        index.search("password", None, mode="dense")


def test_language_and_product_filters_and_intent_boost() -> None:
    rng = np.random.default_rng(2)
    emb = _unit(rng, 4)
    texts = ["return an item", "return a lamp", "Rückgabe eines Artikels", "return a heater"]
    index = HybridIndex().fit(texts, emb, languages=["en", "en", "de", "en"],
                              products=[None, "lamp", None, "heater"],
                              intents=[["return_exchange"], [], ["return_exchange"], []])
    assert {h.row for h in index.search("return", emb[0], k=4, language="de")} == {2}
    # A product filter keeps that product's articles and the general ones.
    assert {h.row for h in index.search("return", emb[0], k=4, product="lamp")} == {0, 1, 2}
    plain = index.search("return a heater", emb[3], k=4, language="en")
    boosted = index.search("return a heater", emb[3], k=4, language="en", intent="return_exchange")
    assert plain[0].row == 3
    assert boosted[0].row == 0 and boosted[0].intent_boosted
    assert index.search("anything", emb[0], k=2, language="fr") == []


def test_empty_index_and_bad_arguments() -> None:
    index = HybridIndex().fit([], np.zeros((0, 8), dtype=np.float32))
    assert index.search("anything", np.ones(8), k=3) == []
    with pytest.raises(ValueError, match="k must be"):
        index.search("x", np.ones(8), k=0)
    with pytest.raises(ValueError, match="embeddings for"):
        HybridIndex().fit(["a", "b"], np.zeros((1, 8), dtype=np.float32))


def test_approximate_index_keeps_recall_against_exact() -> None:
    rng = np.random.default_rng(3)
    # Clustered vectors, like chunk embeddings of many similar articles.
    centres = _unit(rng, 50, 48)
    data = centres[rng.integers(0, 50, 3000)] + 0.35 * _unit(rng, 3000, 48)
    texts = [f"doc {i}" for i in range(len(data))]
    exact = HybridIndex(ann_threshold=10**9).fit(texts, data)
    approx = HybridIndex(ann_threshold=1000).fit(texts, data)
    assert exact.ann_ is None and approx.ann_ is not None
    queries = centres[rng.integers(0, 50, 100)] + 0.35 * _unit(rng, 100, 48)
    e = [[h.row for h in exact.search("", q, k=10, mode="dense")] for q in queries]
    a = [[h.row for h in approx.search("", q, k=10, mode="dense")] for q in queries]
    assert recall_at_k(e, a, 10) >= 0.98
    # A selective filter still returns only allowed rows, exactly.
    langs = ["de" if i % 20 == 0 else "en" for i in range(len(data))]
    filtered = HybridIndex(ann_threshold=1000).fit(texts, data, languages=langs)
    rows = [h.row for h in filtered.search("", queries[0], k=10, mode="dense", language="de")]
    assert len(rows) == 10 and all(r % 20 == 0 for r in rows)
