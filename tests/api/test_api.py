"""The HTTP API served by uvicorn on a real loopback socket."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from triage.inbox.service import enqueue
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage


@pytest.fixture
def server(rt: Triage, live_server: Callable[[FastAPI], Iterator[str]]) -> Iterator[str]:
    """uvicorn with the app and its background inbox worker, on 127.0.0.1:<free port>."""
    yield from live_server(create_app(rt, run_worker=True))


@pytest.fixture
def supervisor(rt: Triage, api_key: Callable[..., str], auth: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return auth(api_key(rt, "supervisor"))


def _chat(i: int, text: str) -> ChatRecord:
    return ChatRecord.model_validate({"conversation_id": f"api-{i}", "timestamp": f"2026-11-16T10:{i:02d}:00Z",
                                      "role": "customer", "customer": {"id": f"c{i}", "name": f"Customer {i}"},
                                      "text": text})


def _wait_for(client: httpx.Client, n: int) -> list[dict]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = client.get("/api/v1/tickets", params={"limit": 500}).json()["items"]
        if len(items) >= n:
            return items
        time.sleep(0.1)
    pytest.fail(f"the background worker did not process {n} messages in time")


def test_health_tickets_paging_and_detail(rt: Triage, server: str, supervisor: dict[str, str]) -> None:
    with httpx.Client(base_url=server, timeout=30, headers=supervisor) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/api/v1/tickets").json() == {"items": [], "next_cursor": None}
        # Accepted into the inbox while the server runs: the background worker picks it up.
        texts = ["Where is my order LH-123456?", "I was charged twice", "The lamp will not pair",
                 "Cancel my membership please", "Thanks, great service!"]
        with rt.db.transaction() as session:
            for i, text in enumerate(texts):
                rec = _chat(i, text)
                enqueue(session=session, kind="chat", source="api-test", payload=rec.model_dump_json().encode(),
                        dedup_key=rec.dedup_key())
        everything = _wait_for(client, len(texts))
        assert [t["id"] for t in everything] == sorted((t["id"] for t in everything), reverse=True)

        seen, cursor = [], None
        while True:
            params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get("/api/v1/tickets", params=params).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [t["id"] for t in everything]

        detail = client.get(f"/api/v1/tickets/{everything[-1]['id']}").json()
        assert detail["customer"] == "Customer 0" and detail["channel"] == "chat"
        [message] = detail["messages"]
        assert message["text"] == texts[0]
        assert {c["task"] for c in message["classifications"]} == {"intent", "sentiment", "urgency"}
        assert detail["assignments"], "routing decisions are part of the ticket history"

        queue = detail["queue"]
        filtered = client.get("/api/v1/tickets", params={"queue": queue}).json()["items"]
        assert filtered and all(t["queue"] == queue for t in filtered)


def test_errors_are_problem_json(server: str, supervisor: dict[str, str]) -> None:
    with httpx.Client(base_url=server, timeout=30, headers=supervisor) as client:
        missing = client.get("/api/v1/tickets/424242")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert missing.json()["status"] == 404 and "424242" in missing.json()["detail"]
        bad = client.get("/api/v1/tickets", params={"limit": 0})
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
        assert "limit" in bad.json()["detail"]
        cursor = client.get("/api/v1/tickets", params={"cursor": "zzz"})
        assert cursor.status_code == 400
        wrong_type = client.get("/api/v1/tickets/not-a-number")
        assert wrong_type.status_code == 422
