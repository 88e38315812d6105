"""Knowledge-base benchmark: retrieval quality (BM25, dense, hybrid), search latency at 1k/10k/100k chunks,
recall of the approximate index against exact search, and `suggest` end to end.

Retrieval sets: (1) Bitext customer-support requests from ../shared/data (never copied here): one document
per intent, made from the canned answer of one request; a disjoint, held-out set of requests of that intent
are the queries. (2) The shipped sample knowledge base with the labelled requests in
triage/samples/training/intents.csv as queries; relevant = the English articles listing the request's
intent. Ranking is per article (a chunk hit counts for its article). Everything runs through the serving
code: `chunk_markdown`, `embed_text`, `HybridIndex.search`, `service.suggest`.
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
from models.retrieval import HybridIndex, recall_at_k
from triage.knowledge.index import embed_text
from triage.knowledge.sources import chunk_markdown, read_path

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bitext_customer_support"
SAMPLES = Path(__file__).resolve().parents[1] / "triage" / "samples"
NAME = "knowledge"
QUERIES_PER_INTENT = 20
SEED = 13

Encode = Callable[[Sequence[str]], np.ndarray]


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


# ---------------------------------------------------------------------------- retrieval sets


def bitext_set(rng: random.Random) -> tuple[list[tuple[str, str, str]], list[tuple[str, set[str]]]]:
    """(doc id, title, Markdown body) per intent, and held-out (query, relevant ids)."""
    with (DATA / "Bitext_Sample_Customer_Support_Training_Dataset.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row)
    docs, queries = [], []
    for intent in sorted(by_intent):
        group = by_intent[intent][:]
        rng.shuffle(group)
        # {{Order Number}} placeholders become their words; the answer row is never a query.
        body = re.sub(r"\{\{\s*([^}]+?)\s*\}\}", r"\1", group[0]["response"])
        docs.append((intent, intent.replace("_", " ").capitalize(), body))
        queries += [(r["instruction"], {intent}) for r in group[1: 1 + QUERIES_PER_INTENT]]
    return docs, queries


def shipped_set() -> tuple[list[tuple[str, str, str]], list[tuple[str, set[str]]]]:
    articles = [a for a in read_path(SAMPLES / "kb").articles if a.language == "en"]
    docs = [(a.external_id, a.title, a.body) for a in articles]
    by_intent: dict[str, set[str]] = defaultdict(set)
    for a in articles:
        for intent in a.intents:
            by_intent[intent].add(a.external_id)
    with (SAMPLES / "training" / "intents.csv").open(newline="", encoding="utf-8") as fh:
        queries = [(r["text"], by_intent[r["label"]]) for r in csv.DictReader(fh) if by_intent.get(r["label"])]
    return docs, queries


def _chunked(docs: list[tuple[str, str, str]]) -> tuple[list[str], list[str]]:
    texts, owners = [], []
    for doc_id, title, body in docs:
        for chunk in chunk_markdown(body):
            texts.append(embed_text(title, chunk.heading, chunk.text))
            owners.append(doc_id)
    return texts, owners


def evaluate(docs: list[tuple[str, str, str]], queries: list[tuple[str, set[str]]], encode: Encode,
             name: str) -> list[Row]:
    texts, owners = _chunked(docs)
    index = HybridIndex().fit(texts, encode(texts))
    vectors = encode([q for q, _ in queries])
    rows = []
    scores: dict[str, float] = {}
    for mode in ("bm25", "dense", "hybrid"):
        rr, r1, r5 = [], [], []
        for (query, relevant), vector in zip(queries, vectors, strict=True):
            ranked: list[str] = []
            for hit in index.search(query, vector, k=50, mode=mode):  # type: ignore[arg-type]
                if owners[hit.row] not in ranked:
                    ranked.append(owners[hit.row])
            ranked = ranked[:10]
            first = next((i for i, d in enumerate(ranked, start=1) if d in relevant), None)
            rr.append(1.0 / first if first else 0.0)
            r1.append(1.0 if first == 1 else 0.0)
            r5.append(1.0 if first and first <= 5 else 0.0)
        scores[mode] = float(np.mean(rr))
        note = f"{len(docs)} documents, {len(texts)} chunks, {len(queries)} held-out queries"
        rows += [
            Row(NAME, f"{name}: MRR@10, {mode}", round(scores[mode], 4), "MRR",
                baseline=max(scores["bm25"], scores["dense"]) if mode == "hybrid" else None,
                note=note + ("; baseline: best single method" if mode == "hybrid" else "")),
            Row(NAME, f"{name}: recall@1 / recall@5, {mode}", round(100 * float(np.mean(r1)), 1), "% @1",
                note=f"recall@5 {100 * float(np.mean(r5)):.1f}%"),
        ]
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


def run() -> list[Row]:
    from models.encoder import shared_encoder

    encoder = shared_encoder()

    def encode(texts: Sequence[str]) -> np.ndarray:
        return encoder.encode(list(texts))

    rows: list[Row] = []
    if (DATA / "Bitext_Sample_Customer_Support_Training_Dataset.csv").exists():
        docs, queries = bitext_set(random.Random(SEED))
        rows += evaluate(docs, queries, encode, "bitext")
    else:
        rows.append(Row(NAME, "bitext retrieval", 0.0, "-", note=f"skipped: {DATA} not found"))
    docs, queries = shipped_set()
    rows += evaluate(docs, queries, encode, "shipped KB")
    rows += latency(encode)
    rows += suggest_latency()
    return rows
