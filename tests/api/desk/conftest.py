"""Desk fixtures: a home seeded with tickets in two teams, people with passwords, and the app on a real socket."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from tests.conftest import SAMPLES, HashingEncoder
from triage.agents.tables import Agent
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import utcnow
from triage.knowledge.index import knowledge_index
from triage.knowledge.service import import_path
from triage.runtime import Triage
from triage.sla.service import refresh_sla
from triage.users.service import create_user

PASSWORD = "desk test passphrase"
NADIA = "nadia.brooks@larkspur.example"  # customer-care
OMAR = "omar.haddad@larkspur.example"  # billing


@dataclass
class Seeded:
    oldest: int  # Nadia's ticket written first, so its first-response clock runs out first
    newer: int  # Nadia's other ticket, written later
    billing: int  # Omar's, in a queue Nadia does not work


def _ticket(rt: Triage, *, subject: str, body: str, queue: str, agent: str, intent: str, age: timedelta,
            email: str, name: str) -> int:
    now = utcnow()
    with rt.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.email == agent))
        customer = Customer(name=name, language="en")
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=email))
        ticket = Ticket(channel="email", subject=subject, customer_id=customer.id, status="open", queue=queue,
                        assignee_id=agent_id, intent=intent, intent_confidence=0.91, sentiment="negative",
                        urgency="normal", priority="normal", language="en", created_at=now - age)
        session.add(ticket)
        session.flush()
        refresh_sla(ticket, rt.config, session=session)  # due times from the policy, as intake sets them
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author=email,
                            dedup_key=f"test:{uuid.uuid4()}", message_id=f"{uuid.uuid4().hex}@mail.example.com",
                            subject=subject, text=body, full_text=body, sent_at=now - age, language="en"))
        return ticket.id


def seed(rt: Triage) -> Seeded:
    """Three open email tickets; agents 'nadia' and 'omar' and supervisor 'boss' sign in with PASSWORD."""
    with rt.db.transaction() as session:
        create_user("nadia", "agent", session=session, agent_email=NADIA, password=PASSWORD)
        create_user("omar", "agent", session=session, agent_email=OMAR, password=PASSWORD)
        create_user("boss", "supervisor", session=session, password=PASSWORD)
    newer = _ticket(rt, subject="Return a lamp", body="Hello, how do I return a lamp I bought last week?",
                    queue="customer-care", agent=NADIA, intent="return_exchange", age=timedelta(minutes=20),
                    email="liam@example.com", name="Liam Walsh")
    oldest = _ticket(rt, subject="Where is my order?",
                     body="Hello, my order LH-104233 has not arrived and the tracking has not updated.",
                     queue="customer-care", agent=NADIA, intent="order_status", age=timedelta(hours=2),
                     email="maria.jensen@example.com", name="Maria Jensen")
    billing = _ticket(rt, subject="Charged twice", body="I was charged twice for my subscription this month.",
                      queue="billing", agent=OMAR, intent="billing_issue", age=timedelta(hours=1),
                      email="ola@example.com", name="Ola Nordmann")
    return Seeded(oldest=oldest, newer=newer, billing=billing)


@pytest.fixture
def desk_server(rt: Triage, live_server: Callable[[FastAPI], Iterator[str]]) -> Iterator[tuple[str, Seeded]]:
    """The app with the sample knowledge base (a stand-in encoder: no model download, fast) and seeded tickets."""
    index = knowledge_index(rt.settings, encoder=HashingEncoder(dim=4096))
    with rt.db.transaction() as session:
        import_path(SAMPLES / "kb", session=session, index=index)
    seeded = seed(rt)
    for base in live_server(create_app(rt)):
        yield base, seeded


def hidden(html: str, name: str) -> str:
    """The value of a hidden form field in a page."""
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no {name} field in the page"
    return found.group(1)


def sign_in(client: httpx.Client, name: str, password: str = PASSWORD) -> httpx.Response:
    """GET the login form (its CSRF cookie and field) and POST it as a browser would."""
    form = client.get("/login")
    assert form.status_code == 200
    return client.post("/login", data={"name": name, "password": password, "csrf": hidden(form.text, "csrf"),
                                       "next": "/"})
