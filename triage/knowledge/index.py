"""The searchable knowledge base of one TRIAGE_HOME: chunk embeddings on disk, a hybrid index in memory.

Embeddings live in `TRIAGE_HOME/kb/vectors.npz`, keyed by chunk id and content hash, so a re-import
embeds only chunks whose text changed (a vector whose hash is already known is reused even under a new
id). `TRIAGE_HOME/kb/state.json` carries a generation that every import bumps and the hybrid's tuned alpha;
a process loads the index once and reloads only when the generation on disk moves. Past agents' replies on
solved tickets are kept the same way in `replies.npz`, masked before they are embedded or shown.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.retrieval import AlphaTuning, Hit, HybridIndex, Mode, tune_alpha
from triage.config import Settings
from triage.knowledge.tables import KbArticle, KbChunk

log = logging.getLogger(__name__)


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_text(title: str, heading: str, text: str) -> str:
    """What is embedded and BM25-indexed for a chunk: the article title and section heading give context."""
    from triage.knowledge.prose import inline

    head = f"{title}. {heading}." if heading and heading != title else f"{title}."
    return f"{head} {inline(text)}"


@dataclass(frozen=True)
class ChunkRecord:
    """What search returns about a chunk without another database round trip."""

    chunk_id: int
    article_id: int
    external_id: str
    title: str
    heading: str
    text: str
    language: str
    product: str | None
    intents: tuple[str, ...]


@dataclass(frozen=True)
class ReplyRecord:
    message_id: int
    ticket_id: int
    intent: str | None
    text: str  # masked


def _normalised(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def _save_npz(path: Path, **arrays: Any) -> None:
    """Write next to the target and rename, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


class KnowledgeIndex:
    """Loads once, answers searches from memory; `sync` brings embeddings in line with the database."""

    def __init__(self, settings: Settings, encoder: TextEncoder | None = None,
                 retriever: HybridIndex | None = None, reply_min_cosine: float = 0.45) -> None:
        self.settings = settings
        # Below this a past reply is about something else (all-MiniLM-L6-v2 cosines of related tickets: 0.5-0.8).
        self.reply_min_cosine = reply_min_cosine
        self.dir = settings.home / "kb"
        self._encoder = encoder
        self._template = retriever or HybridIndex()
        self._lock = threading.RLock()
        self._generation: str | None = None
        self.records: list[ChunkRecord] = []
        self.retriever: HybridIndex = self._template
        self.replies: list[ReplyRecord] = []
        self._reply_vectors = np.zeros((0, 0), dtype=np.float32)
        self.encoder_calls = 0  # texts sent to the encoder by this index (tests count re-embedding with it)

    # ----------------------------------------------------------------- encoder

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            from models.encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoder_calls += len(texts)
        return np.asarray(self.encoder.encode(list(texts)), dtype=np.float32)

    # ----------------------------------------------------------------- disk state

    def _state_path(self) -> Path:
        return self.dir / "state.json"

    def _state(self) -> dict[str, Any]:
        try:
            state = json.loads(self._state_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) else {}

    def disk_generation(self) -> str | None:
        return self._state().get("generation")

    def _write_state(self, **changes: Any) -> str:
        """Write state.json with a new generation (other processes reload), keeping what is not changed."""
        state = self._state() | changes
        state["generation"] = uuid.uuid4().hex
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self._state_path().with_name(f".state.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self._state_path())
        return str(state["generation"])

    def hybrid_alpha(self) -> tuple[float, str]:
        """The dense share served and where it comes from: "setting", "tuned" (stored with the index) or
        "default"."""
        if self.settings.kb_hybrid_alpha is not None:
            return float(self.settings.kb_hybrid_alpha), "setting"
        tuned = self._state().get("hybrid", {})
        if isinstance(tuned, dict) and isinstance(tuned.get("alpha"), int | float):
            return float(tuned["alpha"]), "tuned"
        return float(self._template.alpha), "default"

    def _load_vectors(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        path = self.dir / name
        if not path.exists():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype="<U64"), np.zeros((0, 0), dtype=np.float32)
        with np.load(path, allow_pickle=False) as data:
            return data["ids"], data["hashes"], data["vectors"]

    # ----------------------------------------------------------------- knowledge base

    def _chunk_rows(self, session: Session) -> list[tuple[KbChunk, KbArticle]]:
        stmt = (select(KbChunk, KbArticle).join(KbArticle, KbChunk.article_id == KbArticle.id)
                .order_by(KbChunk.id))
        return [(c, a) for c, a in session.execute(stmt).all()]

    def sync(self, session: Session) -> int:
        """Embed chunks whose (id, hash) is not on disk yet, drop vectors of deleted chunks, rebuild the index.

        Returns the number of chunks embedded. Called after an import (before its commit: a failed commit
        only leaves unused vectors behind, which the next sync drops).
        """
        with self._lock:
            rows = self._chunk_rows(session)
            ids, hashes, vectors = self._load_vectors("vectors.npz")
            by_id = {int(i): (str(h), n) for n, (i, h) in enumerate(zip(ids.tolist(), hashes.tolist(), strict=True))}
            by_hash = {str(h): n for n, h in enumerate(hashes.tolist())}
            texts = [embed_text(a.title, c.heading, c.text) for c, a in rows]
            wanted_hashes = [c.content_hash for c, _ in rows]
            source: list[int] = []  # row in the old matrix, or -1 to encode
            missing: list[int] = []
            for n, (chunk, _article) in enumerate(rows):
                old = by_id.get(chunk.id)
                if old is not None and old[0] == chunk.content_hash:
                    source.append(old[1])
                elif chunk.content_hash in by_hash:
                    source.append(by_hash[chunk.content_hash])
                else:
                    source.append(-1)
                    missing.append(n)
            fresh = self.encode([texts[n] for n in missing]) if missing else None
            dim = fresh.shape[1] if fresh is not None else (vectors.shape[1] if vectors.size else 0)
            matrix = np.zeros((len(rows), dim), dtype=np.float32)
            for n, old_row in enumerate(source):
                if old_row >= 0:
                    matrix[n] = vectors[old_row]
            if fresh is not None:
                matrix[missing] = fresh
            self.dir.mkdir(parents=True, exist_ok=True)
            _save_npz(self.dir / "vectors.npz", ids=np.array([c.id for c, _ in rows], dtype=np.int64),
                      hashes=np.array(wanted_hashes, dtype="<U64"), vectors=matrix)
            generation = self._write_state(chunks=len(rows))
            self._build(rows, texts, matrix, generation)
            if missing:
                log.info("knowledge base: embedded %d of %d chunks", len(missing), len(rows))
            return len(missing)

    def _build(self, rows: list[tuple[KbChunk, KbArticle]], texts: list[str], matrix: np.ndarray,
               generation: str) -> None:
        self.records = [ChunkRecord(c.id, a.id, a.external_id, a.title, c.heading, c.text, a.language, a.product,
                                    tuple(a.intents or ())) for c, a in rows]
        retriever = HybridIndex(**(self._template.get_params() | {"alpha": self.hybrid_alpha()[0]}))
        ann = None
        ann_path = self.dir / f"ann-{generation}.bin"
        if len(rows) >= retriever.ann_threshold:
            # Building the HNSW graph takes a while at 100k chunks: once per import, then loaded from disk.
            if ann_path.exists():
                import hnswlib

                ann = hnswlib.Index(space="ip", dim=matrix.shape[1])
                ann.load_index(str(ann_path), max_elements=len(rows))
            else:
                ann = retriever.build_ann(_normalised(matrix))
                ann.save_index(str(ann_path))
                for old in self.dir.glob("ann-*.bin"):
                    if old != ann_path:
                        old.unlink(missing_ok=True)
        retriever.fit(texts, matrix if len(rows) else np.zeros((0, 1), dtype=np.float32),
                      languages=[r.language for r in self.records], products=[r.product for r in self.records],
                      intents=[r.intents for r in self.records], ann=ann)
        self.retriever = retriever
        self._generation = generation

    def ensure_loaded(self, session: Session) -> None:
        """Load (or reload after another process imported) the index; embeds chunks that lack vectors."""
        with self._lock:
            on_disk = self.disk_generation()
            if self._generation is not None and on_disk == self._generation:
                return
            rows = self._chunk_rows(session)
            ids, hashes, vectors = self._load_vectors("vectors.npz")
            known = {int(i): (str(h), n) for n, (i, h) in enumerate(zip(ids.tolist(), hashes.tolist(), strict=True))}
            if on_disk is None or any(known.get(c.id, ("",))[0] != c.content_hash for c, _ in rows) \
                    or len(known) != len(rows):
                self.sync(session)  # the database moved on without us (another home, a restore): catch up
                return
            order = [known[c.id][1] for c, _ in rows]
            texts = [embed_text(a.title, c.heading, c.text) for c, a in rows]
            self._build(rows, texts, vectors[order] if rows else vectors, on_disk)

    def search(self, query: str, *, session: Session, k: int = 5, mode: Mode = "hybrid",
               language: str | None = None, product: str | None = None, intent: str | None = None,
               vector: np.ndarray | None = None) -> list[tuple[Hit, ChunkRecord]]:
        """Ranked chunks for a query (the query is embedded here unless `vector` is given)."""
        self.ensure_loaded(session)
        if not self.records:
            return []
        if vector is None and mode != "bm25":
            vector = self.encode([query])[0]
        hits = self.retriever.search(query, vector, k=k, mode=mode, language=language, product=product,
                                     intent=intent)
        return [(h, self.records[h.row]) for h in hits]

    def tune_alpha(self, labelled: Sequence[tuple[str, Iterable[str]]], *, session: Session) -> AlphaTuning:
        """Choose the hybrid's dense share by MRR@10 on labelled queries (query, ids of the articles that answer
        it) and store it with the index, for this process and every other one serving the same home."""
        self.ensure_loaded(session)
        with self._lock:
            if not self.records:
                raise ValueError("the knowledge base is empty: import articles before tuning search")
            if not labelled:
                raise ValueError("tuning needs labelled queries")
            queries = [q for q, _ in labelled]
            groups = [r.external_id for r in self.records]
            tuning = tune_alpha(self.retriever, queries, self.encode(queries), [set(ids) for _, ids in labelled],
                                groups=groups, default=self._template.alpha)
            self._generation = self._write_state(hybrid={
                "alpha": tuning.alpha, "queries": tuning.queries, "mrr_at_10": round(tuning.mrr[tuning.alpha], 4),
                "mrr_at_10_bm25": round(tuning.mrr[0.0], 4), "mrr_at_10_dense": round(tuning.mrr[1.0], 4)})
            self.retriever.alpha = self.hybrid_alpha()[0]
            log.info("knowledge base: hybrid alpha %.2f tuned on %d queries", tuning.alpha, tuning.queries)
            return tuning

    def products(self) -> list[str]:
        return sorted({r.product for r in self.records if r.product})

    # ----------------------------------------------------------------- past replies

    def refresh_replies(self, session: Session) -> int:
        """Mask and embed agents' replies on solved or closed tickets that are not indexed yet."""
        from triage.conversations.tables import Customer, Message, Ticket

        stmt = (select(Message.id, Message.ticket_id, Message.text, Ticket.intent, Customer.name)
                .join(Ticket, Message.ticket_id == Ticket.id).join(Customer, Ticket.customer_id == Customer.id)
                .where(Message.direction == "out", Message.author_kind == "agent",
                       Ticket.status.in_(("solved", "closed"))).order_by(Message.id))
        with self._lock:
            if not self.replies and (self.dir / "replies.npz").exists():
                self._load_replies()
            rows = session.execute(stmt).all()
            # A reply whose text was erased (issue 14: a customer's erasure, maybe by another process) goes too.
            erased = {row.id for row in rows if not (row.text or "").strip()}
            if erased & {r.message_id for r in self.replies}:
                self._drop_replies(erased)
            known = {r.message_id for r in self.replies}
            new = [row for row in rows if row.id not in known and (row.text or "").strip()]
            if not new:
                return 0
            masked = [mask_reply(row.text, row.name) for row in new]
            vectors = self.encode(masked)
            self.replies += [ReplyRecord(row.id, row.ticket_id, row.intent, text)
                             for row, text in zip(new, masked, strict=True)]
            old = self._reply_vectors if self._reply_vectors.size else np.zeros((0, vectors.shape[1]), np.float32)
            self._reply_vectors = np.vstack([old, vectors])
            self.dir.mkdir(parents=True, exist_ok=True)
            meta = json.dumps([[r.message_id, r.ticket_id, r.intent, r.text] for r in self.replies])
            _save_npz(self.dir / "replies.npz", vectors=self._reply_vectors, meta=np.array(meta))
            return len(new)

    def forget_replies(self, message_ids: Iterable[int]) -> int:
        """Drop these messages' past-reply entries (vectors and masked text) from memory and disk; how many went."""
        with self._lock:
            if not self.replies and (self.dir / "replies.npz").exists():
                self._load_replies()
            return self._drop_replies(set(message_ids))

    def _drop_replies(self, message_ids: set[int]) -> int:
        keep = [n for n, r in enumerate(self.replies) if r.message_id not in message_ids]
        dropped = len(self.replies) - len(keep)
        if not dropped:
            return 0
        self.replies = [self.replies[n] for n in keep]
        self._reply_vectors = self._reply_vectors[keep] if self._reply_vectors.size else self._reply_vectors
        meta = json.dumps([[r.message_id, r.ticket_id, r.intent, r.text] for r in self.replies])
        _save_npz(self.dir / "replies.npz", vectors=self._reply_vectors, meta=np.array(meta))
        return dropped

    def _load_replies(self) -> None:
        with np.load(self.dir / "replies.npz", allow_pickle=False) as data:
            self._reply_vectors = data["vectors"].astype(np.float32)
            meta = json.loads(str(data["meta"]))
        self.replies = [ReplyRecord(int(m), int(t), i, text) for m, t, i, text in meta]

    def search_replies(self, vector: np.ndarray, *, k: int = 2, intent: str | None = None,
                       exclude_ticket: int | None = None) -> list[tuple[float, ReplyRecord]]:
        """Similar past replies (cosine, same intent first); the ticket's own replies are left out."""
        if not self.replies:
            return []
        q = np.asarray(vector, dtype=np.float32)
        q = q / (np.linalg.norm(q) or 1.0)
        sims = self._reply_vectors @ q
        order = np.argsort(-sims)
        out: list[tuple[float, ReplyRecord]] = []
        for row in order.tolist():
            record, sim = self.replies[row], float(sims[row])
            if sim < self.reply_min_cosine:
                break
            if record.ticket_id == exclude_ticket:
                continue
            out.append((sim, record))
        out.sort(key=lambda x: (x[1].intent != intent, -x[0]))
        return out[:k]


def mask_reply(text: str, customer_name: str | None = None) -> str:
    """A past reply without the customer's personal data: names, emails, phones, order and account numbers."""
    from models.entities import mask

    if customer_name:
        # The greeting rule catches "Hi Maria"; the known name catches it anywhere else in the reply.
        for part in sorted({customer_name, *customer_name.split()}, key=len, reverse=True):
            if len(part) > 1:
                text = _replace_word(text, part, "[NAME]")
    return mask(text)


def _replace_word(text: str, word: str, placeholder: str) -> str:
    import re

    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", placeholder, text)


_indexes: dict[str, KnowledgeIndex] = {}
_indexes_lock = threading.Lock()


def knowledge_index(settings: Settings, encoder: TextEncoder | None = None) -> KnowledgeIndex:
    """The one index per TRIAGE_HOME and database in this process (tests may inject an encoder first)."""
    key = f"{settings.home.resolve()}|{settings.db_url}"
    with _indexes_lock:
        index = _indexes.get(key)
        if index is None or (encoder is not None and index._encoder is not encoder):
            index = _indexes[key] = KnowledgeIndex(settings, encoder)
        return index
