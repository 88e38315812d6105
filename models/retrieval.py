"""Hybrid retrieval: BM25 (bm25s) and dense cosine similarity fused by a convex combination of normalised scores.

Fusion follows Bruch et al. 2023 ("An Analysis of Fusion Functions for Hybrid Retrieval"): each retriever's
scores are normalised per query and mixed as `alpha * dense + (1 - alpha) * bm25`, with `alpha` tuned on
labelled queries (`tune_alpha`). Reciprocal rank fusion is kept as `fusion="rrf"` for comparison: with a fixed
k it fell below dense search alone on the Bitext benchmark (docs/knowledge.md).

Everything a query needs is precomputed in `fit`: the BM25 sparse index, one L2-normalised float32
matrix, boolean masks per language and product, and above `ann_threshold` rows an HNSW graph
(hnswlib) so dense search stays in milliseconds at 100k chunks. Below the threshold dense search is
exact (one matrix-vector product and an argpartition).
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Mode = Literal["hybrid", "bm25", "dense"]
Fusion = Literal["convex", "rrf"]
Normalisation = Literal["minmax", "tmm"]

_WORD = re.compile(r"\w+", re.UNICODE)
# Function words of the languages we ship; BM25's idf would down-weight them anyway, but dropping them
# keeps a one-word query from matching every chunk through "the" or "der".
_STOPWORDS = frozenset(" ".join("""
a an and are as at be but by can could did do does for from had has have how i if in into is it its me my
no not of on or our please so than that the their them then there these they this to was we were what when
where which who why will with would you your yours hi hello thanks thank
der die das den dem des ein eine einen einem einer und oder ist sind war wie was wo wer ich sie wir ihr es
mit von zu im in am an auf für nicht kein keine bitte danke hallo mein meine ihre ihr unser
le la les un une des et ou est sont du de au aux en dans pour par sur pas ne je vous nous il elle mon ma mes
votre vos bonjour merci
el la los las un una unos unas y o es son de del al en por para con sin se mi mis su sus tu que como pero muy
lo le les me te nos hola gracias este esta
""".splitlines()).split())


def tokenize(text: str) -> list[str]:
    """Lower-cased, accent-folded word tokens without stop words; a plural 's' is dropped (orders ~ order)."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    tokens = []
    for tok in _WORD.findall(folded):
        if tok in _STOPWORDS or len(tok) < 2:
            continue
        if len(tok) > 4 and tok.endswith("s") and not tok.endswith("ss"):
            tok = tok[:-1]
        tokens.append(tok)
    return tokens


@dataclass
class Hit:
    """One retrieved row with the evidence for it (ranks are 1-based; None when a method missed it)."""

    row: int
    score: float
    bm25_rank: int | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    cosine: float | None = None
    intent_boosted: bool = False
    terms: list[str] = field(default_factory=list)


def normalise(scores: np.ndarray, kind: Literal["bm25", "dense"] = "dense",
              method: Normalisation = "minmax") -> np.ndarray:
    """One query's candidate scores mapped onto [0, 1] so that the two retrievers' scales can be mixed.

    "minmax" uses the pool's own lowest and highest score; "tmm" (theoretical min-max) puts the floor at
    the lowest score the retriever can give (BM25 0, cosine -1) and keeps the pool's highest. When every
    candidate scores the same (one candidate, or a retriever with no preference) all get 1: each ties with
    the best, which leaves the ranking to the other retriever.
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    if values.size == 0:
        return np.empty(0, dtype=np.float32)
    top = float(values.max())
    floor = float(values.min()) if method == "minmax" else (0.0 if kind == "bm25" else -1.0)
    if top - floor <= 1e-12:
        return np.ones(values.size, dtype=np.float32)
    return ((values - floor) / (top - floor)).astype(np.float32)


@dataclass
class Candidates:
    """One query's candidate rows, each scored by both retrievers (raw and normalised over the pool)."""

    rows: np.ndarray
    bm25: np.ndarray  # 0 where the row shares no query term
    cosine: np.ndarray
    bm25_norm: np.ndarray
    dense_norm: np.ndarray
    bm25_rank: dict[int, int]  # row -> 1-based rank, for rows in BM25's own top list
    dense_rank: dict[int, int]
    tokens: list[str]

    @classmethod
    def empty(cls, tokens: list[str]) -> Candidates:
        none = np.empty(0, dtype=np.float32)
        return cls(np.empty(0, dtype=np.int64), none, none, none, none, {}, {}, tokens)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (argpartition, then a sort of only k values)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k] if k < scores.shape[0] else np.arange(scores.shape[0])
    return part[np.argsort(-scores[part], kind="stable")]


class HybridIndex:
    """BM25 + dense retrieval over chunks, filtered by language and product, boosted by intent.

    Hyperparameters only in `__init__`; `fit` builds the learned state (`*_`). `alpha` is the dense share of
    the convex fusion, tuned per knowledge base where labelled queries exist (`tune_alpha`). The default 0.8
    lost least against the tuned value over the validation splits of the five sets the benchmark measures (at
    most 0.007 MRR@10, as did 0.85; 0.6 lost up to 0.05; tuned values ran from 0.6 to 0.9).
    Scores are min-max normalised over the query's candidates. Theoretical min-max did as well once alpha was
    tuned (within 0.005 on those splits), but its cosine floor of -1 squeezes dense scores together and moves
    the best alpha to 0.85-0.95, so an untuned default serves worse (0.8 lost up to 0.066); a user's imported
    knowledge base usually runs untuned. `rrf_k` (Cormack et al. 2009 use 60) and the weights only apply with
    `fusion="rrf"`, the previous fusion, kept as the benchmark's baseline. `intent_boost` multiplies the fused
    score of chunks whose article answers the ticket's intent.
    `ann_ef` 1024 gives recall@10 0.99 against exact search on the benchmark's 100k chunks (128: 0.84)
    and still answers in under a millisecond.
    """

    def __init__(self, *, alpha: float = 0.8, fusion: Fusion = "convex", normalisation: Normalisation = "minmax",
                 rrf_k: int = 20, bm25_weight: float = 0.5,
                 dense_weight: float = 1.0, intent_boost: float = 0.25, depth: int = 50,
                 ann_threshold: int = 20_000, ann_m: int = 16, ann_ef_construction: int = 200, ann_ef: int = 1024,
                 seed: int = 0) -> None:
        self.alpha = alpha
        self.fusion = fusion
        self.normalisation = normalisation
        self.rrf_k = rrf_k
        self.bm25_weight = bm25_weight
        self.dense_weight = dense_weight
        self.intent_boost = intent_boost
        self.depth = depth
        self.ann_threshold = ann_threshold
        self.ann_m = ann_m
        self.ann_ef_construction = ann_ef_construction
        self.ann_ef = ann_ef
        self.seed = seed

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, so an unfitted copy can be made for a rebuild."""
        names = ("alpha", "fusion", "normalisation", "rrf_k", "bm25_weight", "dense_weight", "intent_boost", "depth",
                 "ann_threshold", "ann_m", "ann_ef_construction", "ann_ef", "seed")
        return {name: getattr(self, name) for name in names}

    # ------------------------------------------------------------------ building

    def fit(self, texts: Sequence[str], embeddings: np.ndarray, *, languages: Sequence[str | None] | None = None,
            products: Sequence[str | None] | None = None,
            intents: Sequence[Sequence[str]] | None = None, ann: Any = None) -> HybridIndex:
        """Index the rows; `ann` may be a prebuilt hnswlib index for these embeddings (loaded from disk)."""
        n = len(texts)
        if embeddings.shape[0] != n:
            raise ValueError(f"{embeddings.shape[0]} embeddings for {n} texts")
        for name, values in (("languages", languages), ("products", products), ("intents", intents)):
            if values is not None and len(values) != n:
                raise ValueError(f"{len(values)} {name} for {n} texts")
        self.n_ = n
        matrix: np.ndarray = np.ascontiguousarray(embeddings, dtype=np.float32)
        if n:
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.where(norms == 0, 1.0, norms)
        self.matrix_ = matrix
        self.languages_ = np.array([x or "" for x in (languages or [""] * n)], dtype=object)
        self.products_ = np.array([x or "" for x in (products or [""] * n)], dtype=object)
        self.intents_ = [frozenset(x) for x in (intents or [()] * n)]
        self._masks: dict[tuple[str | None, str | None], np.ndarray | None] = {}
        self._intent_masks: dict[str, np.ndarray] = {}
        self.bm25_ = None
        if n:
            import bm25s

            # bm25s logs every index build at DEBUG on its own logger; that is noise in a service log.
            logging.getLogger("bm25s").setLevel(logging.WARNING)
            self.bm25_ = bm25s.BM25()
            corpus = [tokenize(t) or ["\x00empty"] for t in texts]
            self.bm25_.index(corpus, show_progress=False)
        self.ann_ = ann
        if self.ann_ is None and n >= self.ann_threshold:
            self.ann_ = self.build_ann(matrix)
        if self.ann_ is not None:
            self.ann_.set_ef(max(self.ann_ef, self.depth))
        return self

    def build_ann(self, matrix: np.ndarray) -> Any:
        """An HNSW graph (inner product on normalised vectors = cosine) over the rows."""
        import hnswlib

        ann = hnswlib.Index(space="ip", dim=matrix.shape[1])
        ann.init_index(max_elements=max(1, matrix.shape[0]), M=self.ann_m,
                       ef_construction=self.ann_ef_construction, random_seed=self.seed)
        ann.add_items(matrix, np.arange(matrix.shape[0]))
        return ann

    # ------------------------------------------------------------------ searching

    def _filter(self, language: str | None, product: str | None) -> np.ndarray | None:
        """Rows allowed by the filters (None: all); general articles (no product) pass a product filter."""
        key = (language, product)
        if key not in self._masks:
            mask = np.ones(self.n_, dtype=bool)
            if language:
                mask &= self.languages_ == language
            if product:
                mask &= (self.products_ == product) | (self.products_ == "")
            self._masks[key] = None if mask.all() else mask
        return self._masks[key]

    def _bm25(self, tokens: list[str], mask: np.ndarray | None,
              depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Top rows and scores, plus every row's score (None without query terms) to score other candidates."""
        if not tokens or self.bm25_ is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32), None
        everything = np.asarray(self.bm25_.get_scores(tokens), dtype=np.float32)
        scores = everything if mask is None else np.where(mask, everything, -np.inf)
        top = _top(scores, depth)
        top = top[scores[top] > 0]  # no shared term: not a BM25 match at all
        return top, scores[top], everything

    @staticmethod
    def _unit_query(vector: np.ndarray) -> np.ndarray | None:
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        return None if norm == 0 else q / norm

    def _dense(self, q: np.ndarray | None, mask: np.ndarray | None, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if q is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        if self.ann_ is not None:
            allowed = 1.0 if mask is None else float(mask.mean())
            if allowed >= 0.1:
                # Oversample so that enough neighbours survive the filter; fall back to exact when not.
                want = min(self.n_, math.ceil(depth / allowed * 1.5) + 10)
                self.ann_.set_ef(max(self.ann_ef, want))
                labels, distances = self.ann_.knn_query(q, k=want)
                rows, sims = labels[0].astype(np.int64), 1.0 - distances[0]
                if mask is not None:
                    keep = mask[rows]
                    rows, sims = rows[keep], sims[keep]
                if len(rows) >= min(depth, int(allowed * self.n_)):
                    return rows[:depth], sims[:depth].astype(np.float32)
        scores = self.matrix_ @ q
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        top = _top(scores, depth)
        top = top[np.isfinite(scores[top])]
        return top, scores[top]

    def candidates(self, query: str, vector: np.ndarray | None, *, mode: Mode = "hybrid", k: int = 5,
                   language: str | None = None, product: str | None = None) -> Candidates:
        """The rows either retriever puts in its top `depth` (only the chosen one's outside hybrid mode), each
        scored by both, and their scores normalised over this pool."""
        if k < 1:
            raise ValueError("k must be at least 1")
        if mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"unknown mode {mode!r}: use hybrid, bm25 or dense")
        if mode != "bm25" and vector is None:
            raise ValueError(f"{mode} search needs the query's embedding")
        tokens = tokenize(query)
        if not self.n_:
            return Candidates.empty(tokens)
        mask = self._filter(language, product)
        depth = max(self.depth, 2 * k)
        bm_rows, _, bm_all = self._bm25(tokens, mask, depth) if mode != "dense" else (np.empty(0, np.int64), None,
                                                                                        None)
        q = self._unit_query(vector) if vector is not None else None
        dn_rows, _ = self._dense(q, mask, depth) if mode != "bm25" else (np.empty(0, np.int64), None)
        rows = np.asarray(list(dict.fromkeys(bm_rows.tolist() + dn_rows.tolist())), dtype=np.int64)
        bm25 = bm_all[rows] if bm_all is not None else np.zeros(len(rows), dtype=np.float32)
        cosine = self.matrix_[rows] @ q if q is not None and len(rows) else np.zeros(len(rows), dtype=np.float32)
        return Candidates(rows=rows, bm25=bm25.astype(np.float32), cosine=np.asarray(cosine, dtype=np.float32),
                          bm25_norm=normalise(bm25, "bm25", self.normalisation),
                          dense_norm=normalise(cosine, "dense", self.normalisation),
                          bm25_rank={int(r): n for n, r in enumerate(bm_rows.tolist(), start=1)},
                          dense_rank={int(r): n for n, r in enumerate(dn_rows.tolist(), start=1)}, tokens=tokens)

    def fused(self, cands: Candidates, mode: Mode = "hybrid", alpha: float | None = None) -> np.ndarray:
        """Each candidate's score before the intent boost: the convex combination, or RRF when so configured."""
        if mode == "bm25":
            return cands.bm25_norm
        if mode == "dense":
            return cands.dense_norm
        if self.fusion == "rrf":
            out = np.zeros(len(cands.rows), dtype=np.float64)
            for n, row in enumerate(cands.rows.tolist()):
                if row in cands.bm25_rank:
                    out[n] += self.bm25_weight / (self.rrf_k + cands.bm25_rank[row])
                if row in cands.dense_rank:
                    out[n] += self.dense_weight / (self.rrf_k + cands.dense_rank[row])
            return out
        a = self.alpha if alpha is None else alpha
        return a * cands.dense_norm.astype(np.float64) + (1.0 - a) * cands.bm25_norm.astype(np.float64)

    def search(self, query: str, vector: np.ndarray | None, *, k: int = 5, mode: Mode = "hybrid",
               language: str | None = None, product: str | None = None, intent: str | None = None,
               alpha: float | None = None) -> list[Hit]:
        """The k best rows for a query, best first; `vector` is the query's embedding (dense and hybrid).

        `alpha` overrides the index's dense share for this call (tuning); ties go to the lower row.
        """
        cands = self.candidates(query, vector, mode=mode, k=k, language=language, product=product)
        rows = cands.rows
        scores = np.asarray(self.fused(cands, mode, alpha), dtype=np.float64)
        boosted = np.zeros(len(rows), dtype=bool)
        if intent and self.intent_boost and len(rows):
            boosted = self._intent_mask(intent)[rows]
            scores = np.where(boosted, scores * (1.0 + self.intent_boost), scores)
        ranked = []
        # Hits are built for the k best only: a pool holds up to 2 * depth candidates.
        for n in np.lexsort((rows, -scores))[:k].tolist():
            row = int(rows[n])
            bm25_rank, dense_rank = cands.bm25_rank.get(row), cands.dense_rank.get(row)
            ranked.append(Hit(row, float(scores[n]), bm25_rank=bm25_rank,
                              bm25_score=float(cands.bm25[n]) if bm25_rank is not None else None,
                              dense_rank=dense_rank, cosine=float(cands.cosine[n]) if mode != "bm25" else None,
                              intent_boosted=bool(boosted[n])))
        if ranked and cands.tokens:
            wanted = set(cands.tokens)
            for hit in ranked:
                if hit.bm25_rank is not None:
                    hit.terms = sorted(wanted & set(self._row_tokens(hit.row)))
        return ranked

    def _intent_mask(self, intent: str) -> np.ndarray:
        if intent not in self._intent_masks:
            self._intent_masks[intent] = np.array([intent in names for names in self.intents_], dtype=bool)
        return self._intent_masks[intent]

    def _row_tokens(self, row: int) -> list[str]:
        """The vocabulary of one row (for explaining a BM25 match), read back from the sparse index."""
        assert self.bm25_ is not None
        if not hasattr(self, "_inverse_vocab"):
            self._inverse_vocab = {i: t for t, i in self.bm25_.vocab_dict.items()}
            self._csr = _to_csr(self.bm25_)
        start, end = self._csr[1][row], self._csr[1][row + 1]
        return [self._inverse_vocab[int(i)] for i in self._csr[0][start:end]]


def _to_csr(bm25: Any) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise (document -> token ids) view of bm25s' column-major score matrix."""
    from scipy.sparse import csc_matrix

    scores = bm25.scores
    n_docs = int(scores["num_docs"])
    csc = csc_matrix((scores["data"], scores["indices"], scores["indptr"]),
                     shape=(n_docs, len(scores["indptr"]) - 1))
    csr = csc.tocsr()
    return csr.indices, csr.indptr


def reciprocal_rank(ranked: Sequence[Any], relevant: set[Any] | frozenset[Any], k: int = 10) -> float:
    """1 / rank of the first relevant item among the first k (0 when none is there)."""
    for n, item in enumerate(ranked[:k], start=1):
        if item in relevant:
            return 1.0 / n
    return 0.0


def ranked_groups(rows: Sequence[int], groups: Sequence[Any] | None) -> list[Any]:
    """Rows mapped to what is judged (an article for chunk rows), first occurrence kept, order kept."""
    if groups is None:
        return list(rows)
    return list(dict.fromkeys(groups[r] for r in rows))


ALPHA_GRID = tuple(round(0.05 * i, 2) for i in range(21))


@dataclass
class AlphaTuning:
    """The outcome of `tune_alpha`: the chosen dense share and MRR@10 per alpha on the labelled queries."""

    alpha: float
    mrr: dict[float, float]
    queries: int

    @property
    def best_single(self) -> float:
        return max(self.mrr[0.0], self.mrr[1.0])


def tune_alpha(index: HybridIndex, queries: Sequence[str], vectors: np.ndarray,
               relevant: Sequence[set[Any] | frozenset[Any]], *, groups: Sequence[Any] | None = None,
               k: int = 10, grid: Sequence[float] = ALPHA_GRID, default: float | None = None) -> AlphaTuning:
    """The alpha on `grid` with the best MRR@k on labelled queries (relevant rows, or groups of rows).

    Candidates are scored once per query and re-fused for every alpha. Ties go to the simpler choice: one
    retriever alone (alpha 0 or 1, dense first) before a mix, then the alpha nearest the default. Because the
    grid holds 0 and 1, the tuned hybrid never scores below the better single retriever on these queries.
    """
    if len(queries) != len(relevant) or len(queries) != len(vectors):
        raise ValueError("one embedding and one set of relevant items per query")
    grid = sorted({float(a) for a in grid} | {0.0, 1.0})
    default = index.alpha if default is None else default
    # The same candidate pool as a served search for k results (min-max depends on the pool).
    pools = [index.candidates(q, v, k=k) for q, v in zip(queries, vectors, strict=True)]
    mrr: dict[float, float] = {}
    for a in grid:
        total = 0.0
        for cands, wanted in zip(pools, relevant, strict=True):
            scores = index.fused(cands, "hybrid", a)
            order = sorted(range(len(cands.rows)), key=lambda n: (-scores[n], int(cands.rows[n])))
            total += reciprocal_rank(ranked_groups([int(cands.rows[n]) for n in order], groups), set(wanted), k)
        mrr[a] = total / len(pools) if pools else 0.0
    best = max(mrr.values()) if mrr else 0.0
    tied = [a for a in grid if mrr[a] >= best - 1e-12]
    chosen = min(tied, key=lambda a: (a not in (0.0, 1.0), -a if a in (0.0, 1.0) else abs(a - default)))
    return AlphaTuning(alpha=chosen, mrr=mrr, queries=len(pools))


def recall_at_k(exact: Sequence[Sequence[int]], approx: Sequence[Sequence[int]], k: int = 10) -> float:
    """Mean share of the exact top k that the approximate search also returned."""
    if not exact:
        return 1.0
    shares = [len(set(e[:k]) & set(a[:k])) / max(1, len(e[:k])) for e, a in zip(exact, approx, strict=True)]
    return float(np.mean(shares))
