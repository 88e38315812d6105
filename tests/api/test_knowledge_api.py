"""Suggestions, feedback and knowledge-base search over HTTP (uvicorn on a loopback socket)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_app
from tests.conftest import SAMPLES, HashingEncoder
from triage.conversations.tables import Customer, Message, Ticket
from triage.knowledge.index import knowledge_index
from triage.knowledge.service import import_path
from triage.runtime import Triage


@pytest.fixture
def server(rt: Triage, hashing_encoder: HashingEncoder) -> Iterator[str]:
    index = knowledge_index(rt.settings, encoder=hashing_encoder)  # the app picks up this process-wide index
    with rt.db.transaction() as session:
        import_path(SAMPLES / "kb", session=session, index=index)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    srv = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=30)


def _ticket(rt: Triage) -> int:
    text = "Hello, my order LH-104233 has not arrived and the tracking has not updated."
    with rt.db.transaction() as session:
        customer = Customer(name="Maria Jensen")
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="email", subject="Where is my order?", customer_id=customer.id,
                        intent="order_status", sentiment="neutral", urgency="normal")
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="m@example.com",
                            dedup_key=f"test:{uuid.uuid4()}", subject=ticket.subject, text=text, full_text=text))
        return ticket.id


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_suggestions_and_feedback_over_http(rt: Triage, server: str) -> None:
    ticket_id = _ticket(rt)
    with httpx.Client(base_url=server, timeout=30) as client:
        response = client.post(f"/api/v1/tickets/{ticket_id}/suggestions", json={"k": 2})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ticket_id"] == ticket_id and body["language"] == "en"
        assert "Maria" in body["draft"] and "LH-104233" in body["draft"]
        kb = [s for s in body["snippets"] if s["source"] == "knowledge_base"]
        assert len(kb) == 2 and all(s["id"].startswith("kb:") and s["why"] and s["title"] for s in kb)
        assert client.post(f"/api/v1/tickets/{ticket_id}/suggestions").status_code == 200  # body is optional

        url = f"/api/v1/tickets/{ticket_id}/suggestions/{body['suggestion_id']}/feedback"
        final = body["draft"].replace("Hello Maria,", "Hi Maria,")
        created = client.post(url, json={"action": "edited", "actor": "ana@larkspur.example", "final_text": final,
                                         "snippet_id": kb[0]["id"]})
        assert created.status_code == 201, created.text
        assert created.json()["edit_distance"] == 1 and created.json()["action"] == "edited"

        assert "no ticket #999999" in _problem(client.post("/api/v1/tickets/999999/suggestions"), 404)["detail"]
        _problem(client.post(f"/api/v1/tickets/{ticket_id}/suggestions/999999/feedback",
                             json={"action": "used", "actor": "ana"}), 404)
        for payload in ({"k": 0}, {"k": "many"}, {"unknown": 1}):
            _problem(client.post(f"/api/v1/tickets/{ticket_id}/suggestions", json=payload), 422)
        for payload in ({"action": "edited", "actor": "ana"}, {"action": "liked", "actor": "ana"},
                        {"action": "used"}, {"action": "used", "actor": ""}):
            problem = _problem(client.post(url, json=payload), 422)
            assert problem["errors"] and problem["title"] == "Invalid request"
        _problem(client.post("/api/v1/tickets/abc/suggestions"), 422)

        results = client.get("/api/v1/kb/search", params={"q": "Rücksendung", "language": "de", "k": 3}).json()
        assert results and {r["language"] for r in results} == {"de"}
        _problem(client.get("/api/v1/kb/search", params={"q": ""}), 422)
