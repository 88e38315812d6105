"""What the pipeline makes of the signals: urgency with its reasons on the ticket, sentiment over a conversation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from triage.config import CustomersConfig
from triage.conversations.schemas import ticket_detail
from triage.conversations.service import get_ticket
from triage.conversations.tables import Ticket
from triage.events.tables import Event
from triage.flows.processing import Pipeline, Worker
from triage.flows.tickets import change_status
from triage.ingest.files import ingest_paths
from triage.runtime import Triage


def _chat(rt: Triage, path: Path, conversation: str, *turns: tuple[str, str]) -> None:
    base = {"conversation_id": conversation, "customer": {"id": f"cust-{conversation}", "name": "Ana"}}
    lines = [{**base, "timestamp": f"2026-11-16T09:{i:02d}:00Z", "role": role, "text": text}
             for i, (role, text) in enumerate(turns)]
    path.write_text("\n".join(json.dumps(x) for x in lines))
    with rt.db.session() as session:
        ingest_paths([path], session=session, commit=session.commit)
    rt.worker("test").drain()


def _ticket(rt: Triage, conversation: str) -> int:
    with rt.db.session() as session:
        return session.scalars(select(Ticket.id).where(Ticket.external_ref == f"chat:{conversation}")).one()


def test_urgency_and_its_reasons_reach_the_ticket_detail(rt: Triage, tmp_path: Path) -> None:
    _chat(rt, tmp_path / "a.jsonl", "heater", ("customer", "Die Heizung riecht verbrannt und wir haben kleine Kinder."))
    _chat(rt, tmp_path / "b.jsonl", "jo", ("customer", "Hi Jo! Are we still on for Saturday?"))
    heater_id, jo_id = _ticket(rt, "heater"), _ticket(rt, "jo")
    with rt.db.session() as session:
        heater = get_ticket(heater_id, session=session)
        assert heater is not None and heater.urgency == "critical"
        detail = ticket_detail(heater)
        assert detail.urgency_reasons[0].startswith("model: ")
        assert 'safety hazard: "riecht verbrannt", children at risk' in detail.urgency_reasons
        # The same reasons are in the audit log.
        event = session.scalars(select(Event).where(Event.kind == "ticket.classified",
                                                    Event.ticket_id == heater.id)).one()
        assert event.data["urgency_reasons"] == detail.urgency_reasons
        jo = get_ticket(jo_id, session=session)
        assert jo is not None and jo.urgency == "low"
        assert any(r.startswith("personal message") for r in ticket_detail(jo).urgency_reasons)


def test_a_closing_thanks_keeps_the_customer_negative_until_the_ticket_is_answered(rt: Triage,
                                                                                  tmp_path: Path) -> None:
    _chat(rt, tmp_path / "a.jsonl", "c1",
          ("customer", "This is ridiculous, the heater broke again and nobody helps!!!"),
          ("agent", "So sorry! Thank you for your patience, great news, we are on it."),
          ("customer", "Thanks!"))
    ticket_id = _ticket(rt, "c1")
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.sentiment == "negative"  # neither the agent nor "Thanks!" changed it
        change_status(ticket_id, "solved", config=rt.config, session=session, actor="agent@example.com")
        session.commit()
    _chat(rt, tmp_path / "b.jsonl", "c1", ("customer", "Thanks!"))
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.sentiment == "positive"  # thanks for a resolution


def _emails(rt: Triage, tmp_path: Path, make_email: Any, *mails: tuple[str, str, str]) -> dict[str, list[str]]:
    """(sender, subject, hour) -> the urgency reasons of each new ticket, by subject."""
    paths = []
    for i, (sender, subject, hour) in enumerate(mails):
        paths.append(tmp_path / f"{i}.eml")
        paths[-1].write_bytes(make_email(sender=sender, subject=subject, message_id=f"<c{i}@mail.example>",
                                         body="Hello, could you tell me how I change the address on my order?",
                                         date=f"Mon, 16 Nov 2026 {hour}:00:00 +0000"))
    with rt.db.session() as session:
        ingest_paths(paths, session=session, commit=session.commit)
    config = rt.config.model_copy(update={"customers": CustomersConfig(vip=["bigclient.example"])})
    Worker(rt.db, Pipeline(config, rt.suite), "test").drain()
    with rt.db.session() as session:
        return {t.subject: ticket_detail(get_ticket(t.id, session=session)).urgency_reasons  # type: ignore[arg-type]
                for t in session.scalars(select(Ticket))}


def test_vip_and_repeated_contact_reach_the_urgency_model(rt: Triage, tmp_path: Path, make_email: Any) -> None:
    reasons = _emails(rt, tmp_path, make_email,
                      ("Lea <lea@bigclient.example>", "Address change", "09"),
                      ("Tom <tom@small.example>", "First try", "09"),
                      ("Tom <tom@small.example>", "Second try", "10"),
                      ("Tom <tom@small.example>", "Third try", "11"))
    assert "VIP customer" in reasons["Address change"]
    assert not any("VIP" in r for r in reasons["First try"])
    # Two earlier messages within the contact window make the third one a repeated contact; the first two are not.
    assert any(r.startswith("repeated contact: 2 earlier") for r in reasons["Third try"])
    assert not any(r.startswith("repeated contact") for r in reasons["First try"] + reasons["Second try"])
