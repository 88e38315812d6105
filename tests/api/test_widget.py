"""The live chat widget over HTTP: tokens, origins, limits, the webhook's intake, the transcript and the stream."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

import api.widget
from api.app import create_app
from triage.chat.tables import WidgetConversation
from triage.config import ChatConfig
from triage.conversations.tables import Ticket
from triage.inbox.tables import InboxItem
from triage.runtime import Triage

SHOP = "https://shop.example"
KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


def allow_shop(rt: Triage, **limits: int) -> None:
    rt.config.chat = ChatConfig(allowed_origins=[SHOP], **limits)


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    allow_shop(rt)
    yield TestClient(create_app(rt))


def start(client: TestClient, **body: Any) -> str:
    answer = client.post("/widget/conversations", json=body, headers={"Origin": SHOP})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def say(client: TestClient, token: str, text: str) -> httpx2.Response:  # TestClient speaks httpx2
    return client.post("/widget/conversations/messages", json={"text": text}, headers={**bearer(token), "Origin": SHOP})


def test_the_widget_is_off_until_a_site_is_allowed(rt: Triage) -> None:
    client = TestClient(create_app(rt))
    for method, path in (("GET", "/widget.js"), ("GET", "/widget/chat"), ("POST", "/widget/conversations")):
        answer = client.request(method, path, json={} if method == "POST" else None)
        assert answer.status_code == 404, (path, answer.text)
    assert "allowed_origins" in client.post("/widget/conversations", json={}).json()["detail"]


def test_only_the_allowed_sites_may_frame_the_page(client: TestClient) -> None:
    page = client.get("/widget/chat")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert f"frame-ancestors {SHOP};" in csp and "script-src" not in csp  # default-src 'self': no inline script
    assert "x-frame-options" not in page.headers
    assert 'for="chat-text"' in page.text and "/static/desk/widget-chat.js" in page.text
    script = client.get("/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "/widget/chat" in script.text
    assert client.get("/static/desk/widget-chat.js").status_code == 200


def test_every_conversation_call_needs_its_token(rt: Triage, client: TestClient) -> None:
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic eDp5"}):
        sent = client.post("/widget/conversations/messages", json={"text": "hello"}, headers=headers)
        assert sent.status_code == 401, sent.text
        assert sent.headers["www-authenticate"] == "Bearer"
        assert client.get("/widget/conversations/messages", headers=headers).status_code == 401
        assert client.get("/widget/conversations/events", headers=headers).status_code == 401
    token = start(client, name="Maria Jensen", email="Maria.Jensen@Example.com")
    assert say(client, token, "Where is my parcel?").status_code == 202
    with rt.db.session() as session:
        row = session.scalars(select(WidgetConversation)).one()
        stored = [str(getattr(row, c.key)) for c in WidgetConversation.__table__.columns]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in value for value in stored)  # only the hash is kept
    assert (row.name, row.email) == ("Maria Jensen", "maria.jensen@example.com")


def test_a_page_on_another_site_is_refused(client: TestClient) -> None:
    evil = {"Origin": "https://evil.example"}
    refused = client.post("/widget/conversations", json={}, headers=evil)
    assert refused.status_code == 403
    assert "allowed_origins" in refused.json()["detail"] and "evil.example" in refused.json()["detail"]
    token = start(client)
    for answer in (client.post("/widget/conversations/messages", json={"text": "hi"},
                               headers={**bearer(token), **evil}),
                   client.get("/widget/conversations/messages", headers={**bearer(token), **evil})):
        assert answer.status_code == 403, answer.text
    assert client.post("/widget/conversations", json={}, headers={**evil, "Sec-Fetch-Site": "cross-site"}
                       ).status_code == 403
    # The iframe's own calls carry our origin (by Host, or marked same-origin by the browser: behind a
    # TLS-terminating proxy the scheme and host we see may differ); callers outside a browser send none.
    own = client.post("/widget/conversations", json={}, headers={"Origin": "http://testserver"})
    assert own.status_code == 201
    proxied = client.post("/widget/conversations", json={}, headers={"Origin": "https://chat.larkspur.example",
                                                                     "Sec-Fetch-Site": "same-origin"})
    assert proxied.status_code == 201
    assert client.post("/widget/conversations", json={}).status_code == 201


def test_rate_limits_answer_429_with_retry_after(rt: Triage) -> None:
    allow_shop(rt, conversations_per_ip_per_hour=2, messages_per_conversation_per_minute=2,
               messages_per_ip_per_minute=3)
    client = TestClient(create_app(rt))
    first, second = start(client), start(client)
    third = client.post("/widget/conversations", json={}, headers={"Origin": SHOP})
    assert third.status_code == 429
    assert 3500 <= int(third.headers["retry-after"]) <= 3600
    assert "2 new chats an hour" in third.json()["detail"]

    assert [say(client, first, f"question {n}").status_code for n in range(3)] == [202, 202, 429]
    limited = say(client, first, "one more")
    assert "in one chat" in limited.json()["detail"] and 1 <= int(limited.headers["retry-after"]) <= 60
    # Another chat from the same address has its own count, until the address's count is used up.
    assert [say(client, second, f"other {n}").status_code for n in range(2)] == [202, 429]
    assert "from one address" in say(client, second, "again").json()["detail"]
    with rt.db.session() as session:
        assert len(session.scalars(select(InboxItem)).all()) == 3  # refused messages are not stored


def test_message_size_limits_say_what_fits(rt: Triage) -> None:
    allow_shop(rt, max_message_chars=50)
    client = TestClient(create_app(rt))
    token = start(client)
    too_long = say(client, token, "x" * 51)
    assert too_long.status_code == 413 and "51 characters; at most 50" in too_long.json()["detail"]
    assert say(client, token, "   ").status_code == 422
    assert say(client, token, "y" * 50).status_code == 202
    huge = client.post("/widget/conversations", json={"name": "n" * 201}, headers={"Origin": SHOP})
    assert huge.status_code == 422
    not_an_address = client.post("/widget/conversations", json={"email": "no address"})
    assert not_an_address.status_code == 422 and "not an email address" in not_an_address.json()["detail"]


def test_a_message_is_processed_like_the_webhooks_and_the_transcript_survives_a_reload(
        rt: Triage, client: TestClient) -> None:
    token = start(client, name="Maria Jensen")
    before = client.get("/widget/conversations/messages", headers=bearer(token)).json()
    assert (before["status"], before["messages"]) == ("waiting", [])  # until the worker stores the message
    assert say(client, token, "Where is my parcel LH-104233? It has not arrived.").status_code == 202
    rt.worker().drain()

    # A reload: a fresh page with nothing but the token from localStorage.
    reloaded = TestClient(create_app(rt)).get("/widget/conversations/messages", headers=bearer(token))
    assert reloaded.status_code == 200, reloaded.text
    body = reloaded.json()
    assert [m["role"] for m in body["messages"]] == ["customer", "bot"]
    assert body["messages"][0]["text"] == "Where is my parcel LH-104233? It has not arrived."
    assert body["status"] in ("new", "open")
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.external_ref == f"chat:{body['conversation_id']}")).one()
        # The same intake as the chat webhook: classified, routed to a queue and an agent, acknowledged.
        assert ticket.channel == "chat" and ticket.intent is not None and ticket.queue is not None
        assert ticket.assignee_id is not None
        assert ticket.customer.name == "Maria Jensen"
        item = session.scalars(select(InboxItem)).one()
        assert (item.source, item.source_ref) == ("api", f"widget:{body['conversation_id']}")


def _events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Parse server-sent events from a line iterator: {'id', 'event', 'data'} per event."""
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "data" in event:
                yield event
            event = {}
        elif line.startswith("id:"):
            event["id"] = int(line[3:].strip())
        elif line.startswith("event:"):
            event["event"] = line[6:].strip()
        elif line.startswith("data:"):
            event["data"] = json.loads(line[5:].strip())


def test_the_stream_delivers_an_agents_reply_live_and_resumes_after_last_event_id(
        rt: Triage, live_server: Callable[[FastAPI], Iterator[str]], api_key: KeyMaker, auth: Auth,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.widget, "POLL_SECONDS", 0.2)
    allow_shop(rt)
    with contextlib.contextmanager(live_server)(create_app(rt)) as base, \
            httpx.Client(base_url=base, timeout=15) as client:
        started = client.post("/widget/conversations", json={}, headers={"Origin": SHOP})
        assert started.status_code == 201, started.text
        token = started.json()["token"]
        sent = client.post("/widget/conversations/messages", headers={**bearer(token), "Origin": SHOP},
                           json={"text": "Can I change the delivery address of my order?"})
        assert sent.status_code == 202, sent.text
        rt.worker().drain()
        seen = client.get("/widget/conversations/messages", headers=bearer(token)).json()["messages"]
        assert [m["role"] for m in seen] == ["customer", "bot"]
        with rt.db.session() as session:
            ticket_id = session.scalars(select(Ticket.id).where(Ticket.channel == "chat")).one()

        with client.stream("GET", "/widget/conversations/events",
                           headers={**bearer(token), "Last-Event-ID": str(seen[-1]["id"])}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "retry: 2000"
            replied = client.post(f"/api/v1/tickets/{ticket_id}/replies", headers=auth(api_key(rt, "supervisor")),
                                  json={"text": "Yes: tell me the new address and I will change it."})
            assert replied.status_code == 201, replied.text
            event = next(_events(lines))
        assert event["event"] == "message" and event["id"] == replied.json()["message"]["id"]
        assert (event["data"]["role"], event["data"]["text"]) == (
            "agent", "Yes: tell me the new address and I will change it.")

        # A reconnect without Last-Event-ID hears the whole conversation, in order, and nothing twice.
        with client.stream("GET", "/widget/conversations/events", headers=bearer(token)) as stream:
            replay = _events(stream.iter_lines())
            ids = [next(replay)["id"] for _ in range(3)]
        assert ids == sorted(ids) and ids == [seen[0]["id"], seen[1]["id"], event["id"]]
