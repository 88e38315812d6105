"""Hybrid retrieval: fusion, filters, intent boost, and the approximate index against exact search."""

from __future__ import annotations

import numpy as np
import pytest

from models.retrieval import HybridIndex, normalise, recall_at_k, tokenize, tune_alpha


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
    # Meaning close to both the heater (a little closer) and the general return article: the boost decides.
    between = 0.45 * emb[0] + 0.55 * emb[3]
    plain = index.search("return", between, k=4, language="en")
    boosted = index.search("return", between, k=4, language="en", intent="return_exchange")
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


def test_normalise_edge_cases() -> None:
    assert normalise(np.array([])).shape == (0,)
    assert normalise(np.array([0.42])).tolist() == [1.0]  # one candidate ties with itself, the best
    assert normalise(np.array([3.0, 3.0, 3.0]), "bm25").tolist() == [1.0, 1.0, 1.0]
    assert normalise(np.array([2.0, 4.0, 6.0]), "bm25").tolist() == pytest.approx([0.0, 0.5, 1.0])
    # Theoretical min-max: BM25's floor is 0, a cosine's is -1; the top is still the query's best.
    assert normalise(np.array([2.0, 4.0]), "bm25", "tmm").tolist() == pytest.approx([0.5, 1.0])
    assert normalise(np.array([0.0, 0.5]), "dense", "tmm").tolist() == pytest.approx([2 / 3, 1.0])
    assert normalise(np.array([0.0, 0.0]), "bm25", "tmm").tolist() == [1.0, 1.0]


def _keyword_index(seed: int = 4) -> tuple[HybridIndex, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    words = ["refund", "parcel", "password", "invoice", "warranty", "voucher", "address", "battery"]
    texts = [" ".join(rng.choice(words, size=3, replace=False)) for _ in range(40)]
    return HybridIndex().fit(texts, _unit(rng, len(texts))), _unit(rng, 12), words


def test_alpha_one_ranks_as_dense_and_alpha_zero_as_bm25() -> None:
    index, queries, words = _keyword_index()
    for n, vector in enumerate(queries):
        query = f"{words[n % len(words)]} {words[(3 * n + 1) % len(words)]}"
        dense = [h.row for h in index.search(query, vector, k=10, mode="dense")]
        assert [h.row for h in index.search(query, vector, k=10, alpha=1.0)] == dense
        bm25 = [h.row for h in index.search(query, vector, k=10, mode="bm25")]
        # Past BM25's own matches alpha 0 fills up with rows it scores 0; the matches come first, in order.
        assert [h.row for h in index.search(query, vector, k=10, alpha=0.0)][:len(bm25)] == bm25
        mixed = index.search(query, vector, k=10, alpha=0.5)
        assert all(0.0 <= h.score <= 1.0 for h in mixed)
        assert [h.score for h in mixed] == sorted((h.score for h in mixed), reverse=True)


def test_rrf_fusion_still_available() -> None:
    index, queries, _ = _keyword_index()
    rrf = HybridIndex(fusion="rrf").fit([f"row {i}" for i in range(40)], index.matrix_)
    hits = rrf.search("nothing matches", queries[0], k=3)
    assert [h.row for h in hits] == [h.row for h in rrf.search("", queries[0], k=3, mode="dense")]
    assert hits[0].score == pytest.approx(1.0 / (rrf.rrf_k + 1))


def test_tuned_alpha_never_below_either_retriever_and_ties_go_to_the_simpler_choice() -> None:
    rng = np.random.default_rng(5)
    texts = ["refund policy for returns", "parcel tracking number", "password reset link", "invoice copy download"]
    emb = _unit(rng, 4)
    index = HybridIndex().fit(texts, emb)
    # Keywords name the right row; the query vectors point at the wrong one (dense is misleading).
    queries = ["refund policy", "parcel tracking", "password reset", "invoice copy"]
    wrong = emb[[1, 2, 3, 0]]
    tuning = tune_alpha(index, queries, wrong, [{0}, {1}, {2}, {3}])
    assert tuning.mrr[0.0] == 1.0 and tuning.mrr[1.0] < 1.0
    assert tuning.alpha == 0.0  # BM25 alone is as good as any mix, and simpler
    assert tuning.mrr[tuning.alpha] >= tuning.best_single
    # Both retrievers right: every alpha ties and dense alone is chosen.
    both = tune_alpha(index, queries, emb, [{0}, {1}, {2}, {3}])
    assert both.alpha == 1.0 and set(both.mrr.values()) == {1.0}
    # Relevance may be judged on groups of rows (articles of chunks).
    grouped = tune_alpha(index, queries, emb, [{"a"}, {"a"}, {"b"}, {"b"}], groups=["a", "a", "b", "b"])
    assert grouped.mrr[1.0] == 1.0
    with pytest.raises(ValueError, match="one embedding"):
        tune_alpha(index, queries, emb[:2], [{0}] * 4)
