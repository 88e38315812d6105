"""Ticket routes on SQLite and PostgreSQL: filters and search, detail with SLA, status, reply, relabel, reassign."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from models.vocabulary import OUT_OF_SCOPE
from triage.conversations.service import resolve_customer
from triage.conversations.tables import Classification, Message, Ticket
from triage.feedback.tables import LabelFeedback
from triage.outbox.tables import OutboxItem
from triage.routing.service import assign
from triage.routing.tables import HandlingStat
from triage.runtime import Triage
from triage.sla.service import customer_wrote, refresh_sla

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]
NADIA = "nadia.brooks@larkspur.example"  # customer-care
OMAR = "omar.haddad@larkspur.example"  # billing


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    yield TestClient(create_app(rt))


def make_ticket(rt: Triage, *, queue: str = "customer-care", channel: str = "email", intent: str = "order_status",
                subject: str = "Where is my order?", text: str = "My order LH-104233 has not arrived.",
                created_at: datetime | None = None) -> int:
    """A classified customer ticket, routed like the pipeline does (no models needed)."""
    at = created_at or datetime.now(UTC) - timedelta(minutes=30)
    with rt.db.transaction() as session:
        n = session.scalar(select(Ticket.id).order_by(Ticket.id.desc()).limit(1)) or 0
        address = f"customer{n + 1}@example.com"
        customer = resolve_customer([("email", address)], session=session, name=f"Customer {n + 1}")
        ticket = Ticket(channel=channel, subject=subject if channel == "email" else text[:80], queue=queue,
                        customer_id=customer.id, status="new", intent=intent, sentiment="neutral", urgency="normal",
                        created_at=at)
        session.add(ticket)
        session.flush()
        message = Message(ticket_id=ticket.id, direction="in", author_kind="customer",
                          author=address if channel == "email" else f"chat-{n + 1}", dedup_key=f"t:{ticket.id}",
                          message_id=f"m{ticket.id}@mail.example.com" if channel == "email" else None,
                          subject=subject, text=text, full_text=text, sent_at=at)
        session.add(message)
        session.flush()
        for task, label in (("intent", intent), ("sentiment", "neutral"), ("urgency", "normal")):
            session.add(Classification(message_id=message.id, task=task, label=label, confidence=0.9,
                                       model_version=f"{task}-test"))
        customer_wrote(ticket, at)
        refresh_sla(ticket, rt.config, session=session, now=at)
        assign(ticket, session=session, now=at)
        return ticket.id


def _ids(response: object) -> list[int]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [t["id"] for t in response.json()["items"]]  # type: ignore[attr-defined]


def test_list_filters_search_paging_and_agent_visibility(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                         auth: Auth) -> None:
    old = make_ticket(rt, created_at=datetime(2026, 1, 5, tzinfo=UTC), text="The lamp flickers")
    chat = make_ticket(rt, channel="chat", intent="delivery_problem", text="Parcel 100% lost, tracking dead")
    bill = make_ticket(rt, queue="billing", intent="billing_issue", subject="Charged twice",
                       text="You charged my card twice")
    sup = auth(api_key(rt, "supervisor"))
    url = "/api/v1/tickets"
    assert _ids(client.get(url, headers=sup)) == [bill, chat, old]
    assert _ids(client.get(url, params={"channel": "chat"}, headers=sup)) == [chat]
    assert _ids(client.get(url, params={"intent": "billing_issue"}, headers=sup)) == [bill]
    assert _ids(client.get(url, params={"queue": "customer-care", "q": "LAMP"}, headers=sup)) == [old]
    assert _ids(client.get(url, params={"q": "charged twice"}, headers=sup)) == [bill]  # subject or message
    assert _ids(client.get(url, params={"q": "100%"}, headers=sup)) == [chat]
    assert _ids(client.get(url, params={"created_until": "2026-02-01T00:00:00"}, headers=sup)) == [old]
    assert _ids(client.get(url, params={"created_since": "2026-02-01T00:00:00+01:00"}, headers=sup)) == [bill, chat]
    assert _ids(client.get(url, params={"assignee": NADIA.upper()}, headers=sup)) == \
        [t for t in (chat, old) if _assignee(rt, t) == NADIA]
    assert _ids(client.get(url, params={"status": "new", "sentiment": "neutral", "priority": "normal"},
                           headers=sup)) == [bill, chat, old]
    seen, cursor = [], None
    while True:
        page = client.get(url, params={"limit": 1, "queue": "customer-care"} | ({"cursor": cursor} if cursor else {}),
                          headers=sup).json()
        seen += [t["id"] for t in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == [chat, old]
    for params, status in (({"cursor": "abc"}, 400), ({"assignee": "nobody@example.com"}, 422),
                           ({"sentiment": "furious"}, 422), ({"created_since": "last week"}, 422), ({"q": ""}, 422)):
        bad = client.get(url, params=params, headers=sup)
        assert bad.status_code == status and bad.headers["content-type"].startswith("application/problem+json")

    # A customer's history, by any address they wrote from (any case); an unknown one has none.
    assert _ids(client.get(url, params={"customer": f"Customer{old}@Example.com"}, headers=sup)) == [old]
    assert _ids(client.get(url, params={"customer": "nobody@example.com"}, headers=sup)) == []
    assert client.get(url, params={"assignee": "me"}, headers=sup).status_code == 422  # not an agent's key

    nadia = auth(api_key(rt, "agent", NADIA))
    assert _ids(client.get(url, headers=nadia)) == [chat, old]  # billing is not her queue
    assert _ids(client.get(url, params={"assignee": "me"}, headers=nadia)) == \
        [t for t in (chat, old) if _assignee(rt, t) == NADIA]
    assert client.get(f"{url}/{bill}", headers=nadia).status_code == 404
    assert _ids(client.get(url, headers=auth(api_key(rt, "qa")))) == [bill, chat, old]
    for role in ("integration", "data_scientist"):
        assert client.get(url, headers=auth(api_key(rt, role))).status_code == 403


def _assignee(rt: Triage, ticket_id: int) -> str | None:
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.assignee.email if ticket.assignee else None


def test_detail_shows_messages_history_and_sla(rt: Triage, client: TestClient, api_key: KeyMaker,
                                               auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=auth(api_key(rt, "qa"))).json()
    assert [m["text"] for m in detail["messages"]] == ["My order LH-104233 has not arrived."]
    assert {c["task"] for c in detail["messages"][0]["classifications"]} == {"intent", "sentiment", "urgency"}
    assert detail["assignments"] and detail["assignments"][0]["actor"] == "router"
    sla = detail["sla"]
    assert sla["policy"]["first_response"] == "8h" and sla["paused_since"] is None
    clocks = {t["metric"]: t for t in sla["timers"]}
    assert set(clocks) == {"first_response", "resolution"}
    assert clocks["first_response"]["state"] == "ok" and 7 * 3600 < clocks["first_response"]["seconds_left"] < 8 * 3600
    for bad in ("0", "2147483648", "abc"):
        assert client.get(f"/api/v1/tickets/{bad}", headers=auth(api_key(rt, "qa"))).status_code == 422


def test_reply_status_and_relabel(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    email_id, chat_id = make_ticket(rt), make_ticket(rt, channel="chat", text="hello? anyone?")
    bill = make_ticket(rt, queue="billing", intent="billing_issue")
    nadia = auth(api_key(rt, "agent", NADIA))
    replied = client.post(f"/api/v1/tickets/{email_id}/replies", json={"text": "Hello, it ships today.",
                                                                      "status": "pending"}, headers=nadia)
    assert replied.status_code == 201, replied.text
    body = replied.json()
    assert body["delivery"] == "email" and body["ticket"]["status"] == "pending"
    assert body["message"]["author"] == NADIA and body["message"]["in_reply_to"] == f"m{email_id}@mail.example.com"
    with rt.db.session() as session:
        queued = session.get(OutboxItem, body["outbox_id"])
        assert queued is not None and queued.kind == "agent_reply" and queued.status == "queued"
        assert queued.recipient.startswith("customer") and f"[#{email_id}]" in queued.subject
    detail = client.get(f"/api/v1/tickets/{email_id}", headers=nadia).json()
    assert detail["sla"]["paused_since"] is not None and detail["sla"]["first_responded_at"] is not None
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]

    solved = client.post(f"/api/v1/tickets/{email_id}/status", json={"status": "solved"}, headers=nadia)
    assert solved.status_code == 200 and solved.json()["previous"] == "pending"
    assert client.get(f"/api/v1/tickets/{email_id}", headers=nadia).json()["sla"]["timers"] == []
    with rt.db.session() as session:
        assert session.get(HandlingStat, ("order_status", "email")) is not None  # the router learned
    closed = client.post(f"/api/v1/tickets/{email_id}/status", json={"status": "closed"}, headers=nadia)
    assert closed.status_code == 200
    late = client.post(f"/api/v1/tickets/{email_id}/replies", json={"text": "one more thing"}, headers=nadia)
    assert late.status_code == 409 and "closed" in late.json()["detail"]

    chat = client.post(f"/api/v1/tickets/{chat_id}/replies", json={"text": "Hi! Checking now."},
                       headers=auth(api_key(rt, "supervisor")))
    assert chat.status_code == 201 and chat.json()["delivery"] == "chat" and chat.json()["outbox_id"] is None

    relabel = client.post(f"/api/v1/tickets/{chat_id}/labels", json={"task": "urgency", "label": "high"},
                          headers=nadia)
    assert relabel.status_code == 201, relabel.text
    assert relabel.json()["old_label"] == "normal" and relabel.json()["ticket"]["priority"] == "high"
    with rt.db.session() as session:
        feedback = session.scalar(select(LabelFeedback))
        assert feedback is not None and feedback.actor == NADIA and feedback.label == "high"
    for payload, status in (({"task": "urgency", "label": "soonish"}, 422), ({"task": "mood", "label": "x"}, 422),
                            ({"task": "intent", "label": "refund_request", "message_id": 999999}, 404)):
        assert client.post(f"/api/v1/tickets/{chat_id}/labels", json=payload, headers=nadia).status_code == status

    # Outside her queues nothing exists for an agent; QA staff read but do not act.
    for path, payload in (("status", {"status": "solved"}), ("replies", {"text": "hi"}),
                          ("labels", {"task": "intent", "label": "other"})):
        assert client.post(f"/api/v1/tickets/{bill}/{path}", json=payload, headers=nadia).status_code == 404
        assert client.post(f"/api/v1/tickets/{bill}/{path}", json=payload,
                           headers=auth(api_key(rt, "qa"))).status_code == 403
    assert client.post(f"/api/v1/tickets/{chat_id}/status", json={"status": "done"}, headers=nadia).status_code == 422
    assert client.post(f"/api/v1/tickets/{chat_id}/replies", json={"text": ""}, headers=nadia).status_code == 422


def test_reassign_is_for_supervisors(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    url = f"/api/v1/tickets/{ticket_id}/assignee"
    move = {"agent": "chloe.martin@larkspur.example", "reason": "she knows this customer"}
    assert client.post(url, json=move, headers=auth(api_key(rt, "agent", NADIA))).status_code == 403
    sup = auth(api_key(rt, "supervisor"))
    if _assignee(rt, ticket_id) == move["agent"]:
        move["agent"] = NADIA
    moved = client.post(url, json=move, headers=sup)
    assert moved.status_code == 200, moved.text
    assert moved.json()["ticket"]["assignee"] == ("Chloe Martin" if "chloe" in move["agent"] else "Nadia Brooks")
    history = client.get(f"/api/v1/tickets/{ticket_id}", headers=sup).json()["assignments"]
    assert history[-1]["reason"] == "by hand: she knows this customer" and history[-1]["actor"].startswith("supervisor")
    away = {"agent": "kenji.watanabe@larkspur.example", "reason": "escalation"}  # away in the sample config
    refused = client.post(url, json=away, headers=sup)
    assert refused.status_code == 409 and "away" in refused.json()["detail"]
    assert client.post(url, json={**away, "force": True}, headers=sup).status_code == 200
    assert client.post(url, json={"agent": "nobody@example.com", "reason": "x"}, headers=sup).status_code == 422
    assert client.post(url, json={"agent": NADIA, "reason": ""}, headers=sup).status_code == 422
    assert client.post("/api/v1/tickets/999999/assignee", json=move, headers=sup).status_code == 404


def test_relabelled_intent_must_exist_and_moves_a_waiting_ticket_to_its_queue(
        rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    waiting, held = make_ticket(rt), make_ticket(rt)
    with rt.db.transaction() as session:  # the first one has not reached an agent yet
        ticket = session.get(Ticket, waiting)
        assert ticket is not None and ticket.assignee_id is not None
        ticket.assignee_id = None
    lead = auth(api_key(rt, "supervisor"))
    unknown = client.post(f"/api/v1/tickets/{waiting}/labels", json={"task": "intent", "label": "order_statsu"},
                          headers=lead)
    assert unknown.status_code == 422 and "unknown intent 'order_statsu'" in unknown.json()["detail"]
    for ticket_id in (waiting, held):
        moved = client.post(f"/api/v1/tickets/{ticket_id}/labels", json={"task": "intent", "label": "billing_issue"},
                            headers=lead)
        assert moved.status_code == 201, moved.text
    with rt.db.session() as session:
        now_waiting, now_held = session.get(Ticket, waiting), session.get(Ticket, held)
        assert now_waiting is not None and now_held is not None
        assert now_waiting.intent == "billing_issue" and now_waiting.queue == "billing"
        # Routed in its new queue: given to a billing agent, or waiting in the billing line.
        assert now_waiting.assignee_id is None or "billing" in (now_waiting.assignee.teams or [])
        assert now_waiting.assignee_id is not None or now_waiting.queued_at is not None
        assert now_held.intent == "billing_issue" and now_held.queue == "customer-care"  # its agent keeps it
    # Out of scope is always a valid answer.
    assert client.post(f"/api/v1/tickets/{held}/labels", json={"task": "intent", "label": OUT_OF_SCOPE},
                       headers=lead).status_code == 201
