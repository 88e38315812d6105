"""The worker embeds a batch of rows in one encoder pass and commits each on its own (issue 18)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select, text

from mail.parse import parse_email
from models.encoder import shared_encoder
from triage.conversations.service import message_embedding, message_embeddings
from triage.conversations.tables import Message, MessageEmbedding
from triage.customers.privacy import erase_customer
from triage.events.tables import Event
from triage.flows.intake import accept_chat, accept_email
from triage.flows.processing import Worker, email_classification_text
from triage.inbox.service import enqueue
from triage.inbox.tables import InboxItem
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage

TEXTS = ["Where is my order? It was due yesterday.", "I was charged twice for the same purchase",
         "The app crashes when I open settings", "Please cancel my Larkspur Plus membership"]


def _chat(i: int, text: str) -> ChatRecord:
    return ChatRecord.model_validate({"conversation_id": f"conv-{i}", "customer": {"id": f"cust-{i}"},
                                      "role": "customer", "timestamp": f"2026-11-16T09:{i % 60:02d}:00Z",
                                      "text": text})


def _spy_embed(rt: Triage, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[int]]:
    pipeline = rt.pipeline()
    real = pipeline.suite.embed
    calls: list[int] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(pipeline.suite, "embed", embed)
    return pipeline, calls


def test_one_malformed_row_fails_alone_and_the_batch_is_embedded_once(
        rt: Triage, make_email: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    accept_chat(rt.db, _chat(0, TEXTS[0]), source="api")
    accept_chat(rt.db, _chat(1, TEXTS[1]), source="api")
    accept_email(rt.db, make_email(message_id="<batch@example.com>", body=TEXTS[2]), source="file")
    accept_chat(rt.db, _chat(3, TEXTS[3]), source="api")
    with rt.db.transaction() as session:  # corrupt one stored record after intake accepted it
        broken = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()[1]
        broken.payload = b"{not json"
        broken_id = broken.id
    pipeline, calls = _spy_embed(rt, monkeypatch)

    outcomes = Worker(rt.db, pipeline, "w").drain()

    assert calls == [3], "the three good rows in one encoder pass; the broken one has nothing to embed"
    assert {o.inbox_id: o.status for o in outcomes}[broken_id] == "failed"
    assert sorted(o.status for o in outcomes) == ["done", "done", "done", "failed"]
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == 3
        assert session.scalar(select(func.count()).select_from(MessageEmbedding)) == 3
        rows = {i.id: i for i in session.scalars(select(InboxItem))}
        assert "ValidationError" in (rows[broken_id].error or "")
        assert {i.attempts for i in rows.values()} == {1}


def test_a_row_failing_in_processing_leaves_its_batch_committed(
        rt: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, words in enumerate(TEXTS):
        accept_chat(rt.db, _chat(i, words), source="api")
    pipeline = rt.pipeline()
    real = pipeline.process

    def process(item: InboxItem, **kw: Any) -> Any:
        if b"charged twice" in item.payload:
            raise RuntimeError("boom")
        return real(item, **kw)

    monkeypatch.setattr(pipeline, "process", process)
    outcomes = Worker(rt.db, pipeline, "w").drain()
    assert [o.status for o in outcomes] == ["done", "failed", "done", "done"]
    assert outcomes[1].error == "RuntimeError: boom"
    with rt.db.session() as session:
        texts = set(session.scalars(select(Message.text).where(Message.direction == "in")))
    assert texts == {TEXTS[0], TEXTS[2], TEXTS[3]}


def test_a_row_begun_before_is_processed_alone(rt: Triage) -> None:
    for i, words in enumerate(TEXTS):
        accept_chat(rt.db, _chat(i, words), source="api")
    with rt.db.transaction() as session:  # a worker died on the second row: its attempt is counted
        second = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()[1]
        second.attempts = 1
        second_id = second.id
    worker = Worker(rt.db, rt.pipeline(), "w")
    first = worker.run_batch()
    assert len(first) == 1, "the fresh rows before the suspect go together, the suspect is not among them"
    alone = worker.run_batch()
    assert [o.inbox_id for o in alone] == [second_id]
    rest = worker.run_batch()
    assert len(rest) == 2
    with rt.db.session() as session:
        attempts = {i.id: i.attempts for i in session.scalars(select(InboxItem))}
    assert attempts.pop(second_id) == 2 and set(attempts.values()) == {1}


def test_the_stored_embedding_is_the_encoders_vector_for_the_classification_text(rt: Triage,
                                                                                  make_email: Any) -> None:
    raw = make_email(message_id="<vec@example.com>", subject="Re: Heater smells",
                     body="The heater I bought smells of burning, please help.")
    accept_email(rt.db, raw, source="file")
    [outcome] = Worker(rt.db, rt.pipeline(), "w").drain()
    message_id = outcome.message_id
    assert message_id is not None
    words = email_classification_text(parse_email(raw))
    expected = shared_encoder().encode([words])[0]
    with rt.db.session() as session:
        stored = message_embedding(message_id, session=session)
        assert stored is not None and stored.dtype == np.float32
        np.testing.assert_allclose(stored, expected, atol=1e-5)
        assert message_embedding(message_id, session=session, text=words) is not None
        assert message_embedding(message_id, session=session, text=words + " more") is None
        assert message_embedding(message_id, session=session, encoder="another-model") is None
        assert set(message_embeddings([message_id, 999_999], session=session)) == {message_id}
    with rt.db.transaction() as session:  # the vector is derived from the customer's words: erased with them
        erase_customer("maria.jensen@example.com", session=session)
    with rt.db.session() as session:
        assert message_embedding(message_id, session=session) is None


def test_two_batching_workers_on_postgresql_neither_lose_nor_duplicate_rows(rt: Triage, make_email: Any) -> None:
    if rt.db.engine.dialect.name != "postgresql":
        pytest.skip("several workers share one inbox on PostgreSQL; SQLite runs one writer at a time")
    n = 48
    with rt.db.transaction() as session:
        for i in range(n):
            rec = _chat(i, TEXTS[i % len(TEXTS)])
            enqueue(session=session, kind="chat", source="test", payload=rec.model_dump_json().encode(),
                    dedup_key=rec.dedup_key())
        # A thread of two emails: the reply must land on its parent's ticket whichever worker takes it.
        parent = make_email(message_id="<tp@example.com>", subject="Broken lamp", body="My lamp arrived broken.")
        reply = make_email(message_id="<tr@example.com>", subject="Re: Broken lamp", in_reply_to="<tp@example.com>",
                           references="<tp@example.com>", body="Any news about the lamp?")
        enqueue(session=session, kind="email", source="file", payload=parent, dedup_key="mid:tp@example.com")
        enqueue(session=session, kind="email", source="file", payload=reply, dedup_key="mid:tr@example.com")
    workers = [Worker(rt.db, rt.pipeline(), name, batch_size=8) for name in ("a", "b")]
    results: dict[str, list[Any]] = {}
    errors: list[BaseException] = []

    def run(worker: Worker) -> None:
        try:
            results[worker.name] = worker.drain()
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    done = [o.inbox_id for outcomes in results.values() for o in outcomes]
    assert len(done) == len(set(done)) == n + 2, "every row processed once, by one worker"
    assert all(results.values()), f"both workers should have taken rows: {results}"
    with rt.db.session() as session:
        items = list(session.scalars(select(InboxItem)))
        assert {i.status for i in items} == {"done"} and {i.attempts for i in items} == {1}
        assert session.scalar(select(func.count()).select_from(Message).where(Message.direction == "in")) == n + 2
        assert session.scalar(select(func.count()).select_from(MessageEmbedding)) == n + 2
        processed = session.execute(select(Event.inbox_id, func.count()).where(Event.kind == "inbox.processed")
                                    .group_by(Event.inbox_id)).all()
        assert len(processed) == n + 2 and all(count == 1 for _, count in processed)
        lamp = set(session.scalars(select(Message.ticket_id).where(Message.subject.like("%Broken lamp%"),
                                                                   Message.direction == "in")))
        assert len(lamp) == 1, "the reply joined its parent's ticket"
        # Nothing is left held (the session-level locks were all released): a new worker claims at once.
        assert session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")) == 0


def test_drain_looks_ahead_a_batch_at_a_time_and_never_past_its_limit(
        rt: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(7):
        accept_chat(rt.db, _chat(i, TEXTS[i % len(TEXTS)]), source="api")
    pipeline, calls = _spy_embed(rt, monkeypatch)
    worker = Worker(rt.db, pipeline, "w", batch_size=3)

    first = worker.drain(limit=4)
    assert len(first) == 4 and calls == [3, 1]
    with rt.db.session() as session:  # the look-ahead claimed nothing beyond the limit
        attempts = [i.attempts for i in session.scalars(select(InboxItem).order_by(InboxItem.id))]
    assert attempts == [1, 1, 1, 1, 0, 0, 0]

    rest = worker.drain()
    assert [o.status for o in rest] == ["done"] * 3 and calls == [3, 1, 3]
    assert [o.inbox_id for o in first + rest] == sorted(o.inbox_id for o in first + rest)
    with rt.db.session() as session:
        assert {i.attempts for i in session.scalars(select(InboxItem))} == {1}
