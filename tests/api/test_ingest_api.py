"""Intake over HTTP: the chat webhook and raw emails are stored in the inbox, once, and answered 202."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from tests.conftest import build_email
from triage.inbox.tables import InboxItem
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]

CHAT = {"conversation_id": "web-42", "timestamp": "2026-11-16T09:14:03+01:00", "role": "customer",
        "customer": {"id": "cust-9", "name": "Maria Jensen", "email": "Maria.Jensen@example.com"},
        "text": "Hi, my order LH-104233 still hasn't arrived."}


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    yield TestClient(create_app(rt))  # no lifespan: intake needs no models


def _inbox(rt: Triage) -> list[InboxItem]:
    with rt.db.session() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def test_chat_message_is_stored_once(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    headers = auth(api_key(rt, "integration"))
    first = client.post("/api/v1/messages", json=CHAT, headers=headers)
    assert first.status_code == 202, first.text
    assert first.json() == {"intake_id": first.json()["intake_id"], "duplicate": False, "status": "pending"}
    again = client.post("/api/v1/messages", json=CHAT, headers=auth(api_key(rt, "supervisor")))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["intake_id"] == first.json()["intake_id"]
    [item] = _inbox(rt)
    assert (item.kind, item.source, item.status) == ("chat", "api", "pending")
    assert item.source_ref.startswith("api:integration") and item.envelope["api_user"].startswith("integration")
    # The worker reads exactly what `triage ingest` would have stored: the validated record.
    stored = ChatRecord.model_validate_json(item.payload)
    assert stored.customer.email == "maria.jensen@example.com" and stored.dedup_key() == item.dedup_key


@pytest.mark.parametrize(("change", "where"), [
    ({"role": "robot"}, "role"),
    ({"text": "   "}, "text"),
    ({"timestamp": "yesterday"}, "timestamp"),
    ({"customer": {"name": "no id"}}, "customer.id"),
    ({"conversation_id": ""}, "conversation_id"),
])
def test_bad_chat_records_are_refused_with_the_field(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                     auth: Auth, change: dict, where: str) -> None:
    response = client.post("/api/v1/messages", json={**CHAT, **change}, headers=auth(api_key(rt, "integration")))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert where in response.json()["detail"]
    assert _inbox(rt) == []


def test_raw_email_is_stored_once(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    headers = {**auth(api_key(rt, "integration")), "Content-Type": "message/rfc822"}
    raw = build_email(message_id="<api-1@mail.example.com>")
    first = client.post("/api/v1/emails", content=raw, headers=headers)
    assert first.status_code == 202 and first.json()["duplicate"] is False
    # The same message relayed again (another Received line on top) is the same message.
    relayed = b"Received: from relay.example.com by mx; Mon, 16 Nov 2026 09:00:05 +0000\r\n" + raw
    again = client.post("/api/v1/emails", content=relayed, headers=headers)
    assert again.status_code == 200 and again.json()["intake_id"] == first.json()["intake_id"]
    [item] = _inbox(rt)
    assert (item.kind, item.source, item.payload) == ("email", "api", raw)
    assert item.dedup_key == "mid:api-1@mail.example.com"
    no_id = build_email(message_id=None, subject="No id")
    assert client.post("/api/v1/emails", content=no_id, headers=headers).status_code == 202
    assert client.post("/api/v1/emails", content=no_id, headers=headers).status_code == 200


@pytest.mark.parametrize(("body", "content_type", "status", "says"), [
    (build_email(), "application/json", 415, "message/rfc822"),
    (build_email(), None, 415, "message/rfc822"),
    (b"", "message/rfc822", 422, "empty"),
    (b"just some text, no headers\n", "message/rfc822", 422, "header field"),
    (b"Subject: hi\r\nTo: support@larkspur.example\r\n\r\nbody\r\n", "message/rfc822", 422, "From"),
])
def test_bad_emails_are_refused_with_a_reason(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth,
                                              body: bytes, content_type: str | None, status: int, says: str) -> None:
    headers = auth(api_key(rt, "integration")) | ({"Content-Type": content_type} if content_type else {})
    response = client.post("/api/v1/emails", content=body, headers=headers)
    assert response.status_code == status and says in response.json()["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _inbox(rt) == []


def test_only_integrations_and_supervisors_ingest(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                  auth: Auth) -> None:
    email = {"Content-Type": "message/rfc822"}
    for role, expected in (("agent", 403), ("qa", 403), ("data_scientist", 403), ("admin", 202)):
        key = api_key(rt, role, "nadia.brooks@larkspur.example" if role == "agent" else None)
        chat = {**CHAT, "conversation_id": f"web-{role}"}
        assert client.post("/api/v1/messages", json=chat, headers=auth(key)).status_code == expected
        raw = build_email(message_id=f"<{role}@mail.example.com>")
        assert client.post("/api/v1/emails", content=raw, headers=auth(key) | email).status_code == expected
    assert client.post("/api/v1/messages", json=CHAT).status_code == 401
    # No key: refused before the body is even looked at.
    assert client.post("/api/v1/emails", content=b"", headers=email).status_code == 401
    assert len(_inbox(rt)) == 2
