"""Agents' label corrections: stored with who and when, applied to the ticket, merged into training."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from training.registry import Registry
from training.train import run_training
from triage.config import Settings
from triage.conversations.tables import Classification, Customer, Message, Ticket
from triage.db import Database
from triage.errors import UserError
from triage.events.tables import Event
from triage.feedback.service import list_corrections, record_correction, training_examples
from triage.feedback.tables import LabelFeedback

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def _ticket_with_messages(db: Database) -> tuple[int, list[int]]:
    """A ticket with two customer messages (the second is the latest) and one agent reply."""
    with db.transaction() as session:
        customer = Customer(name="Ana Silva")
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="email", subject="Lamp", customer_id=customer.id, intent="order_status",
                        intent_confidence=0.55, sentiment="neutral", urgency="normal", priority="normal")
        session.add(ticket)
        session.flush()
        ids = []
        for n, (direction, subject, text) in enumerate([
            ("in", "Re: [#1] My lamp arrived broken", "The lamp arrived broken, I want my money back."),
            ("out", "Re: My lamp", "Sorry to hear that, we are on it."),
            ("in", "Re: My lamp", "Still waiting for my refund, this is getting ridiculous."),
        ]):
            message = Message(ticket_id=ticket.id, direction=direction,
                              author_kind="customer" if direction == "in" else "agent",
                              dedup_key=f"k{n}", subject=subject, text=text, sent_at=T0 + timedelta(hours=n))
            session.add(message)
            session.flush()
            ids.append(message.id)
        session.add(Classification(message_id=ids[0], task="intent", label="order_status", confidence=0.55,
                                   model_version="intent-test"))
        return ticket.id, ids


def test_a_correction_is_stored_applied_and_recorded(db: Database) -> None:
    ticket_id, (first, _reply, latest) = _ticket_with_messages(db)
    with db.transaction() as session:
        fb = record_correction(session=session, message_id=first, task="intent", label="refund_request",
                               actor="maria@larkspur.example")
        assert fb.id and fb.old_label == "order_status" and fb.created_at.tzinfo is not None
        # the text the classifier saw: the normalised subject line, then the cleaned body
        assert fb.text == "My lamp arrived broken\nThe lamp arrived broken, I want my money back."
    with db.transaction() as session:
        again = record_correction(session=session, message_id=first, task="intent", label="complaint",
                                  actor="lead@larkspur.example")
        assert again.old_label == "refund_request"
        record_correction(session=session, message_id=latest, task="urgency", label="critical", actor="maria")
        record_correction(session=session, message_id=first, task="sentiment", label="negative", actor="maria")
    with db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert (ticket.intent, ticket.intent_confidence) == ("complaint", 1.0)
        assert (ticket.urgency, ticket.priority) == ("critical", "urgent")
        assert ticket.sentiment == "neutral"  # the corrected message is not the customer's latest
        events = session.scalars(select(Event).where(Event.kind == "label.corrected").order_by(Event.id)).all()
        assert len(events) == 4 and events[0].ticket_id == ticket_id and events[0].actor == "maria@larkspur.example"
        assert events[0].data == {"message_id": first, "task": "intent", "old_label": "order_status",
                                  "label": "refund_request", "feedback_id": events[0].data["feedback_id"]}
    with db.transaction() as session:
        record_correction(session=session, message_id=latest, task="sentiment", label="negative", actor="maria")
    with db.session() as session:
        assert session.get(Ticket, ticket_id).sentiment == "negative"
        assert [c.task for c in list_corrections(session=session)] == ["intent", "intent", "urgency", "sentiment",
                                                                      "sentiment"]
        # of several corrections of one message the last one counts
        assert training_examples(session=session, task="intent") == [
            ("My lamp arrived broken\nThe lamp arrived broken, I want my money back.", "complaint")]
        assert [label for _, label in training_examples(session=session, task="sentiment")] == ["negative"] * 2


def test_bad_corrections_are_refused(db: Database) -> None:
    _, (first, reply, _) = _ticket_with_messages(db)
    cases = [
        ({"message_id": first, "task": "colour", "label": "x"}, "unknown task 'colour'"),
        ({"message_id": 999999, "task": "intent", "label": "refund_request"}, "no message #999999"),
        ({"message_id": reply, "task": "intent", "label": "refund_request"}, "not a classified customer message"),
        ({"message_id": first, "task": "urgency", "label": "meh"}, "unknown urgency 'meh'"),
        ({"message_id": first, "task": "intent", "label": "  "}, "label must be"),
    ]
    for kwargs, message in cases:
        with pytest.raises(UserError, match=message), db.transaction() as session:
            record_correction(session=session, actor="maria", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(UserError, match="needs the actor"), db.transaction() as session:
        record_correction(session=session, message_id=first, task="intent", label="complaint", actor=" ")
    with db.session() as session:
        assert session.scalars(select(LabelFeedback)).all() == []


@pytest.mark.usefixtures("cached_embeddings")
def test_corrections_feed_training(db: Database, tmp_path: Path, intent_csv: Path) -> None:
    _, (first, _reply, _) = _ticket_with_messages(db)
    with db.transaction() as session:
        record_correction(session=session, message_id=first, task="intent", label="refund_request", actor="maria")
    with db.session() as session:
        corrections = training_examples(session=session, task="intent")
    result = run_training("intent", intent_csv, registry=Registry(tmp_path / "models"), feedback=corrections)
    assert result["feedback"] == {"corrections": 1, "added": 1, "replaced": 0}
    assert "1 feedback correction(s)" in result["data_source"]
