"""Recording agents' label corrections and reading them back as training examples."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.vocabulary import TASKS, URGENCY_LEVELS, URGENCY_TO_PRIORITY
from triage.conversations.subjects import classification_text
from triage.conversations.tables import Classification, Message, Ticket
from triage.errors import UserError
from triage.events.service import record
from triage.feedback.tables import LabelFeedback

MAX_LABEL = 100


def classified_text(message: Message) -> str:
    """The text the pipeline classified for this message: the normalised subject line, then the body."""
    return classification_text(message.subject, message.text)


def record_correction(*, session: Session, message_id: int, task: str, label: str, actor: str) -> LabelFeedback:
    """Store an agent's corrected label for one customer message and apply it to the ticket (flushed)."""
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    label = (label or "").strip()
    if not label or len(label) > MAX_LABEL or any(c in label for c in "\r\n\t"):
        raise UserError(f"label must be 1 to {MAX_LABEL} characters on one line")
    # Urgency drives priority and SLA clocks, so only the four known levels make sense.
    if task == "urgency" and label not in URGENCY_LEVELS:
        raise UserError(f"unknown urgency {label!r}: choose one of {', '.join(URGENCY_LEVELS)}")
    actor = (actor or "").strip()
    if not actor:
        raise UserError("a correction needs the actor who made it")
    message = session.get(Message, message_id)
    if message is None:
        raise UserError(f"no message #{message_id}")
    if message.direction != "in" or message.auto_kind is not None:
        raise UserError(f"message #{message_id} is not a classified customer message")
    correction = LabelFeedback(message_id=message.id, task=task, old_label=_current_label(message.id, task,
                                                                                          session=session),
                               label=label, actor=actor[:200], text=classified_text(message))
    session.add(correction)
    ticket = session.get(Ticket, message.ticket_id)
    if ticket is not None:
        _apply_to_ticket(ticket, message, task, label, session=session)
    session.flush()
    record("label.corrected", session=session, ticket_id=message.ticket_id, actor=correction.actor,
           message_id=message.id, task=task, old_label=correction.old_label, label=label,
           feedback_id=correction.id)
    return correction


def _current_label(message_id: int, task: str, *, session: Session) -> str | None:
    corrected = session.scalars(
        select(LabelFeedback.label).where(LabelFeedback.message_id == message_id, LabelFeedback.task == task)
        .order_by(LabelFeedback.id.desc()).limit(1)
    ).first()
    if corrected is not None:
        return corrected
    return session.scalars(
        select(Classification.label).where(Classification.message_id == message_id, Classification.task == task)
        .order_by(Classification.id.desc()).limit(1)
    ).first()


def _apply_to_ticket(ticket: Ticket, message: Message, task: str, label: str, *, session: Session) -> None:
    # Kept simple (issue 4): intent and urgency describe the ticket, so a correction applies to it;
    # sentiment follows the customer's latest message, so only a correction of that one applies.
    # Queue, assignment and SLA due times are left as they are: moving work is an agent's decision.
    if task == "intent":
        ticket.intent, ticket.intent_confidence, ticket.needs_review = label, 1.0, False
    elif task == "urgency":
        ticket.urgency = label
        ticket.priority = URGENCY_TO_PRIORITY.get(label, "normal")
    else:
        latest = session.scalars(
            select(Message.id).where(Message.ticket_id == ticket.id, Message.direction == "in",
                                     Message.auto_kind.is_(None))
            .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)
        ).first()
        if latest == message.id:
            ticket.sentiment = label


def list_corrections(*, session: Session, task: str | None = None, limit: int | None = None) -> list[LabelFeedback]:
    """Corrections, oldest first (optionally of one task)."""
    query = select(LabelFeedback).order_by(LabelFeedback.id)
    if task is not None:
        if task not in TASKS:
            raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
        query = query.where(LabelFeedback.task == task)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def training_examples(*, session: Session, task: str) -> list[tuple[str, str]]:
    """(text, label) pairs for training, oldest first; of several corrections of one message the last counts."""
    latest: dict[object, tuple[str, str]] = {}
    for row in list_corrections(session=session, task=task):
        key: object = row.message_id if row.message_id is not None else ("row", row.id)
        latest.pop(key, None)  # re-insert so the order follows the latest correction
        latest[key] = (row.text, row.label)
    return [pair for pair in latest.values() if pair[0].strip()]
