"""The encoder never runs while the worker holds SQLite's write lock (issue 14, item 1).

On SQLite a write transaction locks the whole database: the API's and the SMTP server's writes wait behind
it. The worker parses and embeds a row first (`Pipeline.prepare`) and only then opens its transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from triage.flows.intake import accept_chat, accept_email
from triage.flows.processing import Worker
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage


@pytest.fixture
def database_url(tmp_path) -> str:  # type: ignore[no-untyped-def, override]
    return f"sqlite:///{tmp_path / 'triage.db'}"


def _write_now(path: str) -> None:
    """Another process's write that gives up after 0.2 s: what the API does while the worker works."""
    conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_database_is_writable_while_the_encoder_runs(rt: Triage, make_email: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = rt.db.engine.url.database
    assert path is not None
    pipeline = rt.pipeline()
    real_embed = pipeline.suite.embed
    embedded: list[int] = []

    def embed_and_write(texts: list[str]) -> Any:
        _write_now(path)  # sqlite3.OperationalError("database is locked") if the worker held the lock
        embedded.append(len(texts))
        return real_embed(texts)

    monkeypatch.setattr(pipeline.suite, "embed", embed_and_write)
    accept_email(rt.db, make_email(message_id="<lock@example.com>", body="Where is my parcel? Order 4471."),
                 source="api")
    accept_chat(rt.db, ChatRecord.model_validate({
        "conversation_id": "lock", "customer": {"id": "c-lock"}, "role": "customer",
        "timestamp": "2026-11-16T09:00:00Z", "text": "My refund has not arrived"}), source="api")
    outcomes = Worker(rt.db, pipeline, "w").drain()
    assert [o.status for o in outcomes] == ["done", "done"]
    # Both messages were embedded once, together in one pass (issue 18), before any transaction: classify used it.
    assert embedded == [2]


def test_prepared_embedding_gives_the_same_classification(rt: Triage, make_email: Any) -> None:
    from sqlalchemy import select

    from triage.conversations.tables import Classification

    raw = make_email(message_id="<same@example.com>", body="The heater I bought smells of burning, please help.")
    accept_email(rt.db, raw, source="file")
    pipeline = rt.pipeline()
    [outcome] = Worker(rt.db, pipeline, "w").drain()
    with rt.db.session() as session:
        stored = {c.task: (c.label, round(c.confidence, 6))
                  for c in session.scalars(select(Classification).where(Classification.message_id
                                                                        == outcome.message_id))}
    from mail.parse import parse_email
    from triage.flows.processing import email_classification_text

    direct = pipeline.suite.classify_one(email_classification_text(parse_email(raw)),
                                         {"vip": False, "previous_contacts": 0})
    assert stored == {task: (pred.label, round(pred.confidence, 6)) for task, (pred, _) in direct.items()}


def test_unparseable_row_is_still_failed_with_its_error(rt: Triage) -> None:
    accept_chat(rt.db, ChatRecord.model_validate({
        "conversation_id": "ok", "customer": {"id": "c-ok"}, "role": "customer",
        "timestamp": "2026-11-16T09:00:00Z", "text": "hello"}), source="api")
    from triage.inbox.tables import InboxItem

    with rt.db.transaction() as session:  # corrupt the stored record after intake accepted it
        item = session.query(InboxItem).one()
        item.payload = b"{not json"
    [outcome] = Worker(rt.db, rt.pipeline(), "w").drain()
    assert outcome.status == "failed" and "ValidationError" in (outcome.error or "")


def test_a_database_error_leaves_the_row_pending_not_failed(rt: Triage, make_email: Any,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock timeout or a dropped connection is not the message's fault: it is tried again, not failed for good."""
    from sqlalchemy.exc import OperationalError

    from triage.inbox.tables import InboxItem

    accept_email(rt.db, make_email(message_id="<flaky-db@example.com>"), source="api")
    pipeline = rt.pipeline()
    real = pipeline.process
    calls = {"n": 0}

    def flaky(item: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))
        return real(item, **kw)

    monkeypatch.setattr(pipeline, "process", flaky)
    worker = Worker(rt.db, pipeline, "w")
    with pytest.raises(OperationalError):
        worker.run_once()
    with rt.db.session() as session:
        row = session.query(InboxItem).one()
        assert (row.status, row.attempts) == ("pending", 1)
    [outcome] = worker.drain()
    assert outcome.status == "done"
