"""Issue 15: routing prefers agents who speak the ticket's language and says when nobody online does.

A billing queue with Lena (English and German) and Omar (English only); SQLite and PostgreSQL, clocks given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.config import Settings
from triage.conversations.schemas import ticket_detail
from triage.conversations.tables import Customer, Ticket
from triage.events.tables import Event
from triage.routing.balancer import AgentSnapshot, EffortModel, TicketNeeds, choose
from triage.routing.service import assign, set_status
from triage.runtime import Triage

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # a Wednesday

CONFIG = """
company = "Larkspur Home"
default_team = "billing"

[[teams]]
name = "billing"
intents = ["payment_problem"]

[[agents]]
name = "Lena Fischer"
email = "lena@larkspur.example"
teams = ["billing"]
languages = ["en", "de"]
channels = ["email"]
capacity = {lena_capacity}
working_hours = "24x7"

[[agents]]
name = "Omar Haddad"
email = "omar@larkspur.example"
teams = ["billing"]
languages = ["en"]
channels = ["email"]
capacity = 5
working_hours = "24x7"
"""


def make_rt(tmp_path: Path, database_url: str, lena_capacity: int = 5) -> Triage:
    path = tmp_path / "triage.toml"
    path.write_text(CONFIG.format(lena_capacity=lena_capacity), encoding="utf-8")
    rt = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=path, environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    return rt


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    runtime = make_rt(tmp_path, database_url)
    yield runtime
    runtime.db.dispose()


def new_ticket(session: Session, *, language: str | None, customer_language: str | None = None) -> Ticket:
    customer = Customer(name="Jana", language=customer_language)
    session.add(customer)
    session.flush()
    ticket = Ticket(channel="email", subject="Zahlung abgelehnt", customer_id=customer.id, status="new",
                    priority="normal", queue="billing", intent="payment_problem", created_at=T0, language=language)
    session.add(ticket)
    session.flush()
    return ticket


def email_of(session: Session, agent_id: int | None) -> str | None:
    return session.get(Agent, agent_id).email if agent_id is not None else None  # type: ignore[union-attr]


def unmatched(session: Session, ticket_id: int) -> list[dict[str, object]]:
    rows = session.scalars(select(Event).where(Event.kind == "ticket.language_unmatched", Event.ticket_id == ticket_id))
    return [dict(e.data) for e in rows]


def test_a_german_ticket_goes_to_the_german_speaker_online(rt: Triage) -> None:
    with rt.db.transaction() as session:
        # Omar holds less work, so without the language he would be chosen
        busy = new_ticket(session, language="en")
        busy.assignee_id = session.scalar(select(Agent.id).where(Agent.email == "lena@larkspur.example"))
        session.flush()
        ticket = new_ticket(session, language="de")
        agent = assign(ticket, session=session, now=T0)
        assert agent is not None and agent.email == "lena@larkspur.example"
        assert unmatched(session, ticket.id) == []
        reason = session.scalars(select(Assignment.reason).where(Assignment.ticket_id == ticket.id)).one()
        assert "speaks" not in reason
        # an English ticket goes by load, to Omar
        english = new_ticket(session, language="en")
        assert email_of(session, assign(english, session=session, now=T0).id) == "omar@larkspur.example"  # type: ignore[union-attr]


def test_with_the_german_speaker_offline_it_goes_to_another_agent_with_the_note(rt: Triage) -> None:
    with rt.db.transaction() as session:
        set_status("lena@larkspur.example", "offline", session=session, now=T0)
        ticket = new_ticket(session, language="de")
        agent = assign(ticket, session=session, now=T0)
        assert agent is not None and agent.email == "omar@larkspur.example"
        ticket_id = ticket.id
        [event] = unmatched(session, ticket_id)
        assert event["language"] == "de" and event["agent_languages"] == ["en"]
    note = "nobody online speaks de; routed to an agent who speaks en"
    with rt.db.session() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        # what `triage tickets show` and GET /api/v1/tickets/{id} print as the assignment history
        [assigned] = ticket_detail(found).assignments
        assert assigned.agent == "Omar Haddad" and note in assigned.reason


def test_the_tickets_language_beats_the_customers(rt: Triage) -> None:
    with rt.db.transaction() as session:
        set_status("lena@larkspur.example", "offline", session=session, now=T0)
        # an English-speaking customer on record, writing in English this time: no note
        english = new_ticket(session, language="en", customer_language="de")
        assert assign(english, session=session, now=T0) is not None and unmatched(session, english.id) == []
        # no detected language: the customer's decides
        german = new_ticket(session, language=None, customer_language="DE")
        assert assign(german, session=session, now=T0) is not None
        assert [e["language"] for e in unmatched(session, german.id)] == ["de"]


def test_a_german_speaker_online_at_capacity_keeps_the_ticket_waiting(tmp_path: Path, database_url: str) -> None:
    rt = make_rt(tmp_path, database_url, lena_capacity=1)
    try:
        with rt.db.transaction() as session:
            first = new_ticket(session, language="de")
            assert email_of(session, assign(first, session=session, now=T0).id) == "lena@larkspur.example"  # type: ignore[union-attr]
            second = new_ticket(session, language="de")
            assert assign(second, session=session, now=T0) is None
            assert second.queued_at is not None and unmatched(session, second.id) == []
            # Lena leaves before answering: both go to Omar, each with the note
            set_status("lena@larkspur.example", "offline", session=session, now=T0)
            for ticket in (first, second):
                session.refresh(ticket)
                assert email_of(session, ticket.assignee_id) == "omar@larkspur.example"
                assert [e["language"] for e in unmatched(session, ticket.id)] == ["de"]
    finally:
        rt.db.dispose()


# -- the pure rule, as the simulator runs it ---------------------------------------------------------------------

def snap(id: int, languages: set[str], **kw: object) -> AgentSnapshot:
    return AgentSnapshot(id=id, name=f"a{id}", languages=frozenset(languages), capacity={"email": 3}, **kw)  # type: ignore[arg-type]


def test_nobody_online_at_all_waits_for_the_speakers() -> None:
    agents = [snap(1, {"en", "de"}, status="offline"), snap(2, {"en"}, status="offline")]
    decision = choose(agents, TicketNeeds(channel="email", language="de"), EffortModel())
    assert decision.agent_id is None and decision.reason == "no qualified agent online"


def test_an_agent_without_listed_languages_counts_as_a_speaker() -> None:
    agents = [snap(1, set(), load=30.0), snap(2, {"en"})]
    decision = choose(agents, TicketNeeds(channel="email", language="de"), EffortModel())
    assert decision.agent_id == 1 and decision.unmatched_language is None
    nobody = choose([snap(2, {"en"}), snap(3, {"fr", "en"}, load=5.0)], TicketNeeds(channel="email", language="de"),
                    EffortModel())
    assert nobody.agent_id == 2 and nobody.unmatched_language == "de"
    assert "nobody speaks de; routed to an agent who speaks en" in nobody.reason
