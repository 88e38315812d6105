"""What the API and `--json` output show of tickets and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from triage.conversations.tables import Customer, Ticket


class CustomerOut(BaseModel):
    id: int
    name: str | None
    emails: list[str]
    chat_ids: list[str]
    language: str | None = None


class ClassificationOut(BaseModel):
    task: str
    label: str
    confidence: float
    model_version: str
    details: dict[str, Any]


class MessageOut(BaseModel):
    id: int
    direction: str
    author_kind: str
    author: str
    sent_at: datetime
    subject: str
    text: str
    message_id: str | None
    in_reply_to: str | None
    attachments: list[dict[str, Any]]
    parse_notes: list[str]
    classifications: list[ClassificationOut]
    language: str | None = None  # detected for customer messages (ISO 639-1), else the ticket's


class AssignmentOut(BaseModel):
    agent: str | None
    action: str
    reason: str
    actor: str
    created_at: datetime


class TicketSummary(BaseModel):
    id: int
    channel: str
    subject: str
    status: str
    priority: str
    queue: str | None
    assignee: str | None
    customer: str
    customer_id: int
    intent: str | None
    intent_confidence: float | None
    needs_review: bool = Field(description="the intent was unsure or out of scope and no agent has relabelled it")
    sentiment: str | None
    urgency: str | None
    language: str | None  # detected from the customer's messages (ISO 639-1)
    first_response_due: datetime | None
    resolution_due: datetime | None
    created_at: datetime
    updated_at: datetime


class TicketDetail(TicketSummary):
    urgency_reasons: list[str] = Field(
        default_factory=list,
        description="why the ticket has its urgency: the model's answer and the signals that moved it, from the "
                    "latest customer message classified at that level (empty when an agent set it)")
    customer_detail: CustomerOut
    messages: list[MessageOut]
    assignments: list[AssignmentOut]


def customer_label(customer: Customer) -> str:
    """Name, else an email address, else a chat id: what an agent recognises."""
    emails = [i.value for i in customer.identities if i.kind == "email"]
    chat_ids = [i.value for i in customer.identities if i.kind == "chat"]
    known = emails or chat_ids
    return customer.name or (known[0] if known else f"customer {customer.id}")


def ticket_summary(ticket: Ticket) -> TicketSummary:
    return TicketSummary(
        id=ticket.id, channel=ticket.channel, subject=ticket.subject, status=ticket.status,
        priority=ticket.priority, queue=ticket.queue,
        assignee=ticket.assignee.name if ticket.assignee else None,
        customer=customer_label(ticket.customer), customer_id=ticket.customer_id, intent=ticket.intent,
        intent_confidence=ticket.intent_confidence, needs_review=bool(ticket.needs_review),
        sentiment=ticket.sentiment, urgency=ticket.urgency,
        language=ticket.language,
        first_response_due=ticket.first_response_due, resolution_due=ticket.resolution_due,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
    )


def urgency_reasons(ticket: Ticket) -> list[str]:
    """The reasons given for the latest customer message whose urgency is the ticket's."""
    for message in reversed(ticket.messages):
        for c in reversed(message.classifications):
            if c.task == "urgency" and c.label == ticket.urgency:
                return [str(r) for r in (c.details or {}).get("reasons") or []]
    return []


def ticket_detail(ticket: Ticket) -> TicketDetail:
    customer = ticket.customer
    return TicketDetail(
        **ticket_summary(ticket).model_dump(),
        urgency_reasons=urgency_reasons(ticket),
        customer_detail=CustomerOut(
            id=customer.id, name=customer.name,
            emails=[i.value for i in customer.identities if i.kind == "email"],
            chat_ids=[i.value for i in customer.identities if i.kind == "chat"],
            language=customer.language,
        ),
        messages=[
            MessageOut(
                id=m.id, direction=m.direction, author_kind=m.author_kind, author=m.author, sent_at=m.sent_at,
                subject=m.subject, text=m.text, message_id=m.message_id, in_reply_to=m.in_reply_to,
                attachments=m.attachments or [], parse_notes=m.parse_notes or [], language=m.language,
                classifications=[
                    ClassificationOut(task=c.task, label=c.label, confidence=c.confidence,
                                      model_version=c.model_version, details=c.details or {})
                    for c in m.classifications
                ],
            )
            for m in ticket.messages
        ],
        assignments=[
            AssignmentOut(agent=a.agent.name if a.agent else None, action=a.action, reason=a.reason,
                          actor=a.actor, created_at=a.created_at)
            for a in ticket.assignments
        ],
    )
