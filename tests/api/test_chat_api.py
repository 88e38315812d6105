"""The chat integration reads a conversation back: the customer's messages, the bot's and the agents' replies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from triage.conversations.tables import Message, Ticket
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]
NADIA = "nadia.brooks@larkspur.example"


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    yield TestClient(create_app(rt))


def _chat(conversation_id: str, text: str, at: str) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "timestamp": at, "role": "customer",
            "customer": {"id": "cust-9", "name": "Maria Jensen"}, "text": text}


def _ticket_id(rt: Triage, conversation_id: str) -> int:
    with rt.db.session() as session:
        found = session.scalar(select(Ticket.id).where(Ticket.external_ref == f"chat:{conversation_id}"))
    assert found is not None
    return found


def test_an_agents_chat_reply_reaches_the_integration(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                       auth: Auth) -> None:
    widget = auth(api_key(rt, "integration"))
    conversation = "shop/web-7"  # ids may hold a slash: the route takes the rest of the path
    url = f"/api/v1/chat/{conversation}/messages"
    posted = client.post("/api/v1/messages", json=_chat(conversation, "Where is my parcel LH-104233?",
                                                        "2026-11-16T09:14:03Z"), headers=widget)
    assert posted.status_code == 202, posted.text
    rt.worker().drain()
    ticket_id = _ticket_id(rt, conversation)

    # Before anyone answers: the customer's message and the bot's acknowledgement.
    first = client.get(url, headers=widget)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["conversation_id"], body["ticket_id"], body["has_more"]) == (conversation, ticket_id, False)
    assert [m["role"] for m in body["messages"]] == ["customer", "bot"]
    assert body["messages"][0]["text"] == "Where is my parcel LH-104233?"
    seen = body["next_after"]
    assert seen == body["messages"][-1]["id"]

    # An agent answers on the ticket over the API; a system message and a note are on the ticket too.
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        routed_to = ticket.assignee.email if ticket.assignee is not None else None
    if routed_to != NADIA:
        moved = client.post(f"/api/v1/tickets/{ticket_id}/assignee", headers=auth(api_key(rt, "supervisor")),
                            json={"agent": NADIA, "reason": "she takes this chat", "force": True})
        assert moved.status_code == 200, moved.text
    replied = client.post(f"/api/v1/tickets/{ticket_id}/replies", json={"text": "It arrives tomorrow."},
                          headers=auth(api_key(rt, "agent", NADIA)))
    assert replied.status_code == 201 and replied.json()["delivery"] == "chat", replied.text
    with rt.db.transaction() as session:
        for kind in ("system", "note"):
            session.add(Message(ticket_id=ticket_id, direction="out", author_kind=kind, author=NADIA,
                                dedup_key=f"test:{kind}", text=f"internal {kind}: customer is a VIP"))

    new = client.get(url, params={"after": seen}, headers=widget).json()
    assert [(m["role"], m["text"], m["agent_name"]) for m in new["messages"]] == [
        ("agent", "It arrives tomorrow.", "Nadia Brooks")]
    assert new["messages"][0]["id"] == replied.json()["message"]["id"]
    assert new["ticket_status"] in ("new", "open")
    seen = new["next_after"]

    # Nothing new: the same cursor comes back; the customer writes again and only that is new.
    idle = client.get(url, params={"after": seen}, headers=widget).json()
    assert idle["messages"] == [] and idle["next_after"] == seen and not idle["has_more"]
    client.post("/api/v1/messages", json=_chat(conversation, "Thanks!", "2026-11-16T09:20:00Z"), headers=widget)
    rt.worker().drain()
    assert [m["text"] for m in client.get(url, params={"after": seen}, headers=widget).json()["messages"]] == \
        ["Thanks!"]

    # Paging: everything, one at a time, in order and without internal messages.
    everything = client.get(url, headers=widget).json()["messages"]
    assert [m["role"] for m in everything] == ["customer", "bot", "agent", "customer"]
    paged, after = [], None
    while True:
        page = client.get(url, params={"limit": 1} | ({"after": after} if after is not None else {}),
                          headers=widget).json()
        paged += page["messages"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert paged == everything


def test_unknown_conversations_and_other_roles(rt: Triage, client: TestClient, api_key: KeyMaker,
                                               auth: Auth) -> None:
    unknown = client.get("/api/v1/chat/nobody-here/messages", headers=auth(api_key(rt, "integration")))
    assert unknown.status_code == 404 and unknown.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/chat/nobody-here/messages", headers=auth(api_key(rt, "admin"))).status_code == 404
    for key in (api_key(rt, "agent", NADIA), api_key(rt, "supervisor"), api_key(rt, "qa")):
        assert client.get("/api/v1/chat/x/messages", headers=auth(key)).status_code == 403
    bad = client.get("/api/v1/chat/x/messages", params={"after": "-1"}, headers=auth(api_key(rt, "integration")))
    assert bad.status_code == 422
