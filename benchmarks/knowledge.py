"""Knowledge-base benchmark: retrieval quality (BM25, dense, RRF and the tuned convex hybrid), search latency at
1k/10k/100k chunks, recall of the approximate index against exact search, and `suggest` end to end.

Retrieval sets, each split into validation queries (to tune the hybrid's alpha) and test queries (reported):
(1) Bitext customer-support requests from ../shared/data (never copied here), one FAQ entry per intent made from
one request and its canned answer; other requests of that intent are the queries. (2) Banking77 from
../shared/data, one FAQ entry per intent listing a few of its training questions under the intent's name; test
questions are the queries. (3) The shipped sample knowledge base with the labelled requests in
triage/samples/training/intents.csv (English) as queries; relevant = the English articles listing the request's
intent.
Ranking is per article (a chunk hit counts for its article). Everything runs through the serving code:
`chunk_markdown`, `embed_text`, `HybridIndex.search`, `tune_alpha`, `service.suggest`.
"""

from __future__ import annotations

import csv
import logging
import random
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import Row, temp_runtime
from models.retrieval import HybridIndex, ranked_groups, recall_at_k, reciprocal_rank, tune_alpha
from triage.knowledge.index import embed_text
from triage.knowledge.sources import chunk_markdown, read_path

log = logging.getLogger(__name__)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA = SHARED / "bitext_customer_support"
BANKING = SHARED / "banking77"
SAMPLES = Path(__file__).resolve().parents[1] / "triage" / "samples"
NAME = "knowledge"
QUERIES_PER_INTENT = 20  # per split: validation and test each get this many requests of every intent
BITEXT_QUESTIONS = 10  # ways of asking listed in the richer Bitext FAQ entry
BANKING_EXAMPLES = 10  # training questions listed in each Banking77 FAQ entry
BANKING_QUERIES = 10  # per intent and split
SEED = 13

Encode = Callable[[Sequence[str]], np.ndarray]
Docs = list[tuple[str, str, str]]
Queries = list[tuple[str, set[str]]]


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# ---------------------------------------------------------------------------- retrieval sets


def bitext_set(rng: random.Random, *, questions: int = 1) -> tuple[Docs, Queries, Queries]:
    """(doc id, title, Markdown body) per intent, validation and test (query, relevant ids), all disjoint.

    With `questions` an entry reads like an FAQ: that many requests as its question (the first) and other ways
    to ask it, then the canned answer to the first; with 0 it is the answer alone (the set measured before
    issue 15).
    """
    with (DATA / "Bitext_Sample_Customer_Support_Training_Dataset.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row)
    docs: Docs = []
    val: Queries = []
    test: Queries = []
    n = QUERIES_PER_INTENT
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        # {{Order Number}} placeholders become their words; the entry's own request is never a query.
        answer = re.sub(r"\{\{\s*([^}]+?)\s*\}\}", r"\1", group[0]["response"])
        asked = [re.sub(r"\{\{\s*([^}]+?)\s*\}\}", r"\1", r["instruction"]).strip() for r in group[:questions]]
        body = answer
        if asked:
            also = "".join(f"\n- {q}" for q in asked[1:])
            body = f"**{asked[0]}**\n\n{answer}" + (f"\n\nAlso asked as:{also}" if also else "")
        docs.append((intent, intent.replace("_", " ").capitalize(), body))
        used = max(1, questions)
        val += [(r["instruction"], {intent}) for r in group[used: used + n]]
        test += [(r["instruction"], {intent}) for r in group[used + n: used + 2 * n]]
    return docs, val, test


def banking_set(rng: random.Random) -> tuple[Docs, Queries, Queries]:
    """One entry per Banking77 intent: its name as the title and a few training questions as the body;
    validation queries are other training questions, test queries come from the official test split."""
    def read(name: str) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        with (BANKING / name).open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                out[row["category"]].append(row["text"])
        return out

    train, test_rows = read("train.csv"), read("test.csv")
    docs: Docs = []
    val: Queries = []
    test: Queries = []
    for intent in sorted(train):
        texts = train[intent][:]
        rng.shuffle(texts)
        body = "\n".join(f"- {t.strip()}" for t in texts[:BANKING_EXAMPLES])
        docs.append((intent, intent.replace("_", " ").capitalize(), body))
        val += [(t, {intent}) for t in texts[BANKING_EXAMPLES: BANKING_EXAMPLES + BANKING_QUERIES]]
        held = test_rows[intent][:]
        rng.shuffle(held)
        test += [(t, {intent}) for t in held[:BANKING_QUERIES]]
    return docs, val, test


def shipped_set(rng: random.Random) -> tuple[Docs, Queries, Queries]:
    articles = [a for a in read_path(SAMPLES / "kb").articles if a.language == "en"]
    docs = [(a.external_id, a.title, a.body) for a in articles]
    by_intent: dict[str, set[str]] = defaultdict(set)
    for a in articles:
        for intent in a.intents:
            by_intent[intent].add(a.external_id)
    with (SAMPLES / "training" / "intents.csv").open(newline="", encoding="utf-8") as fh:
        # English requests only: the articles are the English ones (the file has de/fr/es examples too).
        queries = [(r["text"], by_intent[r["label"]]) for r in csv.DictReader(fh)
                   if by_intent.get(r["label"]) and r.get("language", "en") == "en"]
    rng.shuffle(queries)
    return docs, queries[: len(queries) // 2], queries[len(queries) // 2:]


def _chunked(docs: Docs) -> tuple[list[str], list[str]]:
    texts, owners = [], []
    for doc_id, title, body in docs:
        for chunk in chunk_markdown(body):
            texts.append(embed_text(title, chunk.heading, chunk.text))
            owners.append(doc_id)
    return texts, owners


def _scores(index: HybridIndex, mode: str, queries: Queries, vectors: np.ndarray,
            owners: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per query: reciprocal rank within the first 10 articles, and the rank of the first relevant one (99: none)."""
    rr, firsts = [], []
    for (query, relevant), vector in zip(queries, vectors, strict=True):
        # k=25 keeps the candidate pool of a served search (depth 50 per retriever), deep enough for 10 articles.
        hits = index.search(query, vector, k=25, mode=mode)  # type: ignore[arg-type]
        ranked = ranked_groups([h.row for h in hits], owners)[:10]
        rr.append(reciprocal_rank(ranked, relevant, 10))
        firsts.append(next((i for i, d in enumerate(ranked, start=1) if d in relevant), 99))
    return np.asarray(rr), np.asarray(firsts)


def evaluate(docs: Docs, val: Queries, test: Queries, encode: Encode, name: str) -> list[Row]:
    """Tune alpha on validation, then report every method on test, all in this run."""
    texts, owners = _chunked(docs)
    embeddings = encode(texts)
    convex = HybridIndex().fit(texts, embeddings)
    default_alpha = convex.alpha
    rrf = HybridIndex(fusion="rrf").fit(texts, embeddings)
    val_vectors, test_vectors = encode([q for q, _ in val]), encode([q for q, _ in test])
    tuning = tune_alpha(convex, [q for q, _ in val], val_vectors, [r for _, r in val], groups=owners)
    note = (f"{len(docs)} documents, {len(texts)} chunks; tuned on {len(val)} validation queries, "
            f"tested on {len(test)}")
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for label, index, mode, alpha in (("BM25", convex, "bm25", None), ("dense", convex, "dense", None),
                                      ("hybrid RRF (k=20, before)", rrf, "hybrid", None),
                                      (f"hybrid convex, default alpha {default_alpha}", convex, "hybrid",
                                       default_alpha),
                                      (f"hybrid convex, tuned alpha {tuning.alpha}", convex, "hybrid",
                                       tuning.alpha)):
        index.alpha = alpha if alpha is not None else default_alpha
        results[label] = _scores(index, mode, test, test_vectors, owners)
    convex.alpha = default_alpha
    best_label = max(("BM25", "dense"), key=lambda m: float(results[m][0].mean()))
    best_single = float(results[best_label][0].mean())
    rows = []
    for label, (rr, firsts) in results.items():
        tuned = label.startswith("hybrid convex, tuned")
        extra = ""
        if tuned:
            # Paired over the same test queries: how far the difference is from noise.
            diff = rr - results[best_label][0]
            se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
            extra = (f"; vs {best_label} on test {float(diff.mean()):+.4f} (paired s.e. {se:.4f}); validation "
                     f"MRR@10 {tuning.mrr[tuning.alpha]:.4f} (BM25 {tuning.mrr[0.0]:.4f}, dense "
                     f"{tuning.mrr[1.0]:.4f}); baseline: better single method on test")
        r1, r5, r10 = (float(np.mean(firsts <= n)) for n in (1, 5, 10))
        rows.append(Row(NAME, f"{name}: MRR@10, {label}", round(float(rr.mean()), 4), "MRR",
                        baseline=best_single if tuned else None,
                        note=f"recall@1 {100 * r1:.1f}%, @5 {100 * r5:.1f}%, @10 {100 * r10:.1f}%; " + note + extra))
    return rows


# ---------------------------------------------------------------------------- latency


def latency(encode: Encode, sizes: Sequence[int] = (1_000, 10_000, 100_000), n_queries: int = 200) -> list[Row]:
    """Replicated sample chunks with fixed pseudo-random embeddings around the real ones (clustered, as
    chunk embeddings are); queries are the labelled sample requests, embedded for real."""
    articles = read_path(SAMPLES / "kb").articles
    base_texts, base_langs, base_products = [], [], []
    for a in articles:
        for chunk in chunk_markdown(a.body):
            base_texts.append(embed_text(a.title, chunk.heading, chunk.text))
            base_langs.append(a.language)
            base_products.append(a.product)
    base = encode(base_texts)
    with (SAMPLES / "training" / "intents.csv").open(newline="", encoding="utf-8") as fh:
        query_texts = [r["text"] for r in csv.DictReader(fh)][:n_queries]
    qvec = encode(query_texts)
    rows = []
    rng = np.random.default_rng(SEED)
    for size in sizes:
        pick = np.arange(size) % len(base_texts)
        # Each copy keeps a cosine of about 0.7 to its original: distinct chunks on the same topics.
        noise = rng.normal(scale=1.0 / np.sqrt(base.shape[1]), size=(size, base.shape[1])).astype(np.float32)
        emb = base[pick] + noise
        texts = [f"{base_texts[i]} v{n // len(base_texts)}" for n, i in enumerate(pick.tolist())]
        start = time.perf_counter()
        index = HybridIndex().fit(texts, emb, languages=[base_langs[i] for i in pick],
                                  products=[base_products[i] for i in pick])
        build = time.perf_counter() - start
        for q, v in zip(query_texts[:20], qvec[:20], strict=True):  # warm up
            index.search(q, v, k=5, language="en")
        times = []
        for q, v in zip(query_texts, qvec, strict=True):
            t0 = time.perf_counter()
            index.search(q, v, k=5, language="en")
            times.append(1000 * (time.perf_counter() - t0))
        kind = "HNSW" if index.ann_ is not None else "exact"
        rows.append(Row(NAME, f"hybrid search p50 / p95, {size:,} chunks ({kind} dense)", round(_pct(times, 50), 2),
                        "ms p50", note=f"p95 {_pct(times, 95):.2f} ms; index built in {build:.1f}s; "
                                       "language filter on; query embedding excluded"))
        if index.ann_ is not None:
            exact = HybridIndex(ann_threshold=10**9).fit(texts, emb)
            approx_ids = [[h.row for h in index.search("", v, k=10, mode="dense")] for v in qvec]
            exact_ids = [[h.row for h in exact.search("", v, k=10, mode="dense")] for v in qvec]
            rows.append(Row(NAME, f"HNSW recall@10 vs exact, {size:,} chunks",
                            round(recall_at_k(exact_ids, approx_ids, 10), 4), "recall",
                            note=f"M={index.ann_m}, ef={index.ann_ef}, {len(qvec)} queries"))
    times = []
    for q in query_texts[:100]:
        t0 = time.perf_counter()
        encode([q])
        times.append(1000 * (time.perf_counter() - t0))
    rows.append(Row(NAME, "query embedding p50 / p95 (all-MiniLM-L6-v2, one query)", round(_pct(times, 50), 2),
                    "ms p50", note=f"p95 {_pct(times, 95):.2f} ms"))
    return rows


def suggest_latency(n: int = 100) -> list[Row]:
    """`suggest` end to end on SQLite: load ticket, entities, embed, search, past replies, draft, store, commit."""
    from triage.conversations.tables import Customer, Message, Ticket
    from triage.knowledge.index import knowledge_index
    from triage.knowledge.service import import_path, suggest

    rt = temp_runtime()
    index = knowledge_index(rt.settings)
    with rt.db.transaction() as session:
        import_path(SAMPLES / "kb", session=session, index=index)
    with (SAMPLES / "training" / "intents.csv").open(newline="", encoding="utf-8") as fh:
        examples = [r for r in csv.DictReader(fh) if r["label"] != "oos"][::15]
    ids = []
    with rt.db.transaction() as session:
        for i, ex in enumerate(examples):
            customer = Customer(name=f"Customer {i}")
            session.add(customer)
            session.flush()
            ticket = Ticket(channel="email", subject="Question", customer_id=customer.id, intent=ex["label"],
                            sentiment="negative" if i % 3 == 0 else "neutral", urgency="normal")
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="c@example.com",
                                dedup_key=f"bench:{uuid.uuid4()}", subject="Question", text=ex["text"],
                                full_text=ex["text"]))
            ids.append(ticket.id)
    for ticket_id in ids[:5]:  # warm up: encoder and spaCy load once per process
        with rt.db.transaction() as session:
            suggest(ticket_id, session=session, index=index, config=rt.config)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        with rt.db.transaction() as session:
            suggest(ids[i % len(ids)], session=session, index=index, config=rt.config)
        times.append(1000 * (time.perf_counter() - t0))
    rt.db.dispose()
    return [Row(NAME, "suggest end to end p50 / p95 (SQLite, sample KB, committed)", round(_pct(times, 50), 2),
                "ms p50", note=f"p95 {_pct(times, 95):.2f} ms over {n} calls, {len(ids)} tickets")]


def retrieval(encode: Encode) -> list[Row]:
    """Every retrieval set in one run; a public set that is absent is reported as skipped."""
    rows: list[Row] = []
    if (DATA / "Bitext_Sample_Customer_Support_Training_Dataset.csv").exists():
        rows += evaluate(*bitext_set(random.Random(SEED), questions=0), encode, "bitext answers only")
        rows += evaluate(*bitext_set(random.Random(SEED), questions=1), encode, "bitext FAQ, 1 question")
        rows += evaluate(*bitext_set(random.Random(SEED), questions=BITEXT_QUESTIONS), encode,
                         f"bitext FAQ, {BITEXT_QUESTIONS} questions")
    else:
        rows.append(Row(NAME, "bitext retrieval", 0.0, "-", note=f"skipped: {DATA} not found"))
    if (BANKING / "train.csv").exists():
        rows += evaluate(*banking_set(random.Random(SEED)), encode, "banking77 FAQ")
    else:
        rows.append(Row(NAME, "banking77 retrieval", 0.0, "-", note=f"skipped: {BANKING} not found"))
    rows += evaluate(*shipped_set(random.Random(SEED)), encode, "shipped KB")
    return rows


def run() -> list[Row]:
    from models.encoder import shared_encoder

    encoder = shared_encoder()

    def encode(texts: Sequence[str]) -> np.ndarray:
        return encoder.encode(list(texts))

    rows = retrieval(encode)
    rows += latency(encode)
    rows += suggest_latency()
    return rows
