"""Conversations with agents' replies for the QA tests, built through the tables the pipeline writes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.conversations.tables import Customer, Message, Ticket
from triage.sla.tables import SlaEvent
from triage.users.service import create_user

WEEK_47 = datetime(2026, 11, 16, 9, tzinfo=UTC)  # Monday of ISO week 2026-W47
NADIA, CHLOE, OMAR = "nadia.brooks@larkspur.example", "chloe.martin@larkspur.example", "omar.haddad@larkspur.example"


@dataclass
class Conversation:
    ticket_id: int
    reply_ids: list[int]


def agent_id(session: Session, email: str) -> int:
    found = session.scalar(select(Agent.id).where(Agent.email == email))
    assert found is not None, email
    return found


def conversation(session: Session, *, agent: str, at: datetime, replies: int = 1, customer: str = "Maria Jensen",
                 question: str = "Hello, my order LH-104233 has not arrived and the tracking has not moved.",
                 answer: str = "Hi {first}, I checked order LH-104233: the courier has it and it arrives on Friday.",
                 sentiment: str = "neutral", breached: bool = False, by_assignment: bool = False,
                 channel: str = "email", priority: str = "normal") -> Conversation:
    """A ticket with a customer question and `replies` agent answers, each answer 20 minutes after a question.

    `by_assignment` writes the answers as an imported chat does (author "agent"): the agent is known only
    from the assignment history. `breached` records an SLA breach as the scheduler would.
    """
    first = customer.split()[0]
    owner = agent_id(session, agent)
    person = Customer(name=customer)
    session.add(person)
    session.flush()
    ticket = Ticket(channel=channel, subject="Where is my order?", customer_id=person.id, status="open",
                    priority=priority, queue="customer-care", intent="order_status", sentiment=sentiment,
                    urgency="normal", assignee_id=owner, created_at=at,
                    first_response_due=at + timedelta(hours=8))
    session.add(ticket)
    session.flush()
    session.add(Assignment(ticket_id=ticket.id, agent_id=owner, action="assigned", reason="test", created_at=at))
    reply_ids = []
    moment = at
    for i in range(replies):
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="c@example.com",
                            dedup_key=f"test:{uuid.uuid4()}", subject=ticket.subject, text=question,
                            full_text=question, sent_at=moment))
        moment += timedelta(minutes=20)
        text = answer.format(first=first, n=i)
        reply = Message(ticket_id=ticket.id, direction="out", author_kind="agent",
                        author="agent" if by_assignment else agent, dedup_key=f"test:{uuid.uuid4()}",
                        subject=ticket.subject, text=text, full_text=text, sent_at=moment)
        session.add(reply)
        session.flush()
        reply_ids.append(reply.id)
        if i == 0:
            ticket.first_responded_at = moment
        moment += timedelta(minutes=40)
    if breached:
        session.add(SlaEvent(ticket_id=ticket.id, metric="resolution", kind="breach", clock_started_at=at,
                             due_at=at + timedelta(days=1)))
    session.flush()
    return Conversation(ticket.id, reply_ids)


def reviewers(session: Session, *names: str) -> dict[str, int]:
    """QA users by name -> id."""
    return {name: user_id for name, (user_id, _key) in reviewer_keys(session, *names).items()}


def reviewer_keys(session: Session, *names: str) -> dict[str, tuple[int, str]]:
    """QA users by name -> (id, API key)."""
    out = {}
    for name in names:
        user, key = create_user(name, "qa", session=session)
        out[name] = (user.id, key)
    return out
