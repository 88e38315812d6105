"""End to end over a real socket: uvicorn with the inbox worker, an email and a chat in, replies out, metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from tests.api.test_ops_api import samples
from tests.conftest import build_email
from triage.agents.tables import Agent
from triage.background import BackgroundOptions
from triage.conversations.tables import Ticket
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


def _wait_for_tickets(client: httpx.Client, headers: dict[str, str], n: int) -> list[dict]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        items = client.get("/api/v1/tickets", headers=headers).json()["items"]
        if len(items) >= n:
            return items
        time.sleep(0.1)
    pytest.fail(f"the worker did not make {n} tickets in time")


def test_email_and_chat_in_replies_out_metrics(rt: Triage, api_key: KeyMaker, auth: Auth,
                                               live_server: Callable[[FastAPI], Iterator[str]]) -> None:
    # The outbox sender stays off: the test checks what is queued for the relay, not the relay.
    app = create_app(rt, background=BackgroundOptions(worker=True, outbox=False, imap=False, sla=False,
                                                      worker_poll=0.1))
    integration, supervisor = auth(api_key(rt, "integration")), auth(api_key(rt, "supervisor"))
    with contextmanager(live_server)(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        email = build_email(message_id="<e2e-1@mail.example.com>",
                            body="Hello, my order LH-104233 has not arrived and the tracking has not moved.")
        sent = client.post("/api/v1/emails", content=email, headers={**integration,
                                                                     "Content-Type": "message/rfc822"})
        assert sent.status_code == 202, sent.text
        chat = client.post("/api/v1/messages", headers=integration, json={
            "conversation_id": "e2e-chat", "timestamp": "2026-11-16T10:00:00Z", "role": "customer",
            "customer": {"id": "visitor-1", "name": "Liam"}, "text": "I was charged twice for my subscription"})
        assert chat.status_code == 202, chat.text

        tickets = {t["channel"]: t for t in _wait_for_tickets(client, supervisor, 2)}
        assert set(tickets) == {"email", "chat"} and tickets["email"]["intent"]
        email_ticket, chat_ticket = tickets["email"]["id"], tickets["chat"]["id"]
        with rt.db.session() as session:
            ticket = session.get(Ticket, email_ticket)
            assert ticket is not None and ticket.assignee_id is not None
            holder = session.scalar(select(Agent.email).where(Agent.id == ticket.assignee_id))
        agent = auth(api_key(rt, "agent", holder))
        replied = client.post(f"/api/v1/tickets/{email_ticket}/replies", headers=agent,
                              json={"text": "Hello Maria, your parcel left our warehouse today."})
        assert replied.status_code == 201, replied.text
        chat_reply = client.post(f"/api/v1/tickets/{chat_ticket}/replies", headers=supervisor,
                                 json={"text": "Sorry about that, Liam; refunding the second charge now."})
        assert chat_reply.status_code == 201 and chat_reply.json()["delivery"] == "chat"
        detail = client.get(f"/api/v1/tickets/{chat_ticket}", headers=supervisor).json()
        assert detail["messages"][-1]["text"].startswith("Sorry about that")
        assert detail["sla"]["first_responded_at"] is not None

        with rt.db.session() as session:
            queued = session.get(OutboxItem, replied.json()["outbox_id"])
            assert queued is not None and (queued.kind, queued.recipient) == ("agent_reply", "maria.jensen@example.com")
            assert queued.sender == "support@larkspur.example"  # the mailbox she wrote to

        metrics = client.get("/metrics", headers=integration)
        assert metrics.status_code == 200
        found = samples(metrics.text)
        for method, route, status in (("POST", "/api/v1/emails", "202"), ("POST", "/api/v1/messages", "202")):
            labels = (("method", method), ("route", route), ("status", status))
            assert found[("triage_http_requests_total", labels)] == 1
        replies = ("triage_http_requests_total", (("method", "POST"), ("route", "/api/v1/tickets/{ticket_id}/replies"),
                                                  ("status", "201")))
        assert found[replies] == 2
        assert found[("triage_inbox_items", (("status", "pending"),))] == 0
        open_total = sum(v for (name, _), v in found.items() if name == "triage_tickets_open")
        assert open_total == 2
        assert found[("triage_outbox_items", (("status", "queued"),))] >= 1  # the reply (and the acknowledgement)
