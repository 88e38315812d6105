"""Idempotency-Key on replies and labels, on SQLite and PostgreSQL: a retried request does its work once."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from api.app import create_app
from tests.api.conftest import serve
from tests.api.test_tickets_api import NADIA, make_ticket
from triage.conversations.tables import Message
from triage.db import utcnow
from triage.feedback.tables import LabelFeedback
from triage.idempotency.service import claim, complete, purge_expired
from triage.idempotency.tables import IdempotencyKey
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.users.service import create_user

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    yield TestClient(create_app(rt))


def _count(rt: Triage, table: type, **where: object) -> int:
    with rt.db.session() as session:
        query = select(func.count()).select_from(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return int(session.scalar(query) or 0)


def test_a_retried_reply_is_sent_once(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    nadia = auth(api_key(rt, "agent", NADIA))
    url = f"/api/v1/tickets/{ticket_id}/replies"
    headers = {**nadia, "Idempotency-Key": "7c1e2b9e-reply-1"}
    first = client.post(url, json={"text": "It ships today.", "status": "pending"}, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    # The retry: same key and the same body, however its JSON is spelled.
    again = client.post(url, content='{ "status":"pending",  "text":"It ships today." }',
                        headers={**headers, "Content-Type": "application/json"})
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.content == first.content
    assert _count(rt, OutboxItem, ticket_id=ticket_id) == 1
    assert _count(rt, Message, ticket_id=ticket_id, direction="out") == 1

    # The same key with another body is refused; so is the key on another ticket.
    other = client.post(url, json={"text": "It ships tomorrow."}, headers=headers)
    assert other.status_code == 409 and other.headers["content-type"].startswith("application/problem+json")
    assert "different request" in other.json()["detail"]
    elsewhere = client.post(f"/api/v1/tickets/{make_ticket(rt)}/replies", json={"text": "It ships today.",
                                                                               "status": "pending"}, headers=headers)
    assert elsewhere.status_code == 409
    # The IETF draft's structured-field form names the same key.
    quoted = client.post(url, json={"text": "It ships today.", "status": "pending"},
                         headers={**nadia, "Idempotency-Key": '"7c1e2b9e-reply-1"'})
    assert quoted.status_code == 201 and quoted.headers["idempotent-replayed"] == "true"
    # Without a key every call is a new reply, as before.
    assert client.post(url, json={"text": "One more thing."}, headers=nadia).status_code == 201
    assert _count(rt, OutboxItem, ticket_id=ticket_id) == 2
    with rt.db.session() as session:
        [row] = session.scalars(select(IdempotencyKey))
        assert (row.route, row.response_status) == (f"POST {url}", 201) and len(row.fingerprint) == 64


def test_keys_belong_to_their_user(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    url = f"/api/v1/tickets/{ticket_id}/replies"
    for key in (api_key(rt, "agent", NADIA), api_key(rt, "supervisor")):
        answer = client.post(url, json={"text": "Looking into it."}, headers={**auth(key), "Idempotency-Key": "k1"})
        assert answer.status_code == 201 and "idempotent-replayed" not in answer.headers
    assert _count(rt, OutboxItem, ticket_id=ticket_id) == 2


@pytest.mark.parametrize("value", ["", "x" * 256, "caf\u00e9", "tab\there", '""'])
def test_a_malformed_key_is_400(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth, value: str) -> None:
    ticket_id = make_ticket(rt)
    answer = client.post(f"/api/v1/tickets/{ticket_id}/replies", json={"text": "hi"},
                         headers={**auth(api_key(rt, "supervisor")), "Idempotency-Key": value.encode("latin-1")})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "Idempotency-Key" in answer.json()["detail"]
    assert _count(rt, OutboxItem) == 0


def test_two_key_headers_are_400_and_a_255_character_key_is_fine(rt: Triage, client: TestClient,
                                                                 api_key: KeyMaker, auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    url = f"/api/v1/tickets/{ticket_id}/replies"
    sup = auth(api_key(rt, "supervisor"))
    twice = client.post(url, json={"text": "hi"},
                        headers=[*sup.items(), ("Idempotency-Key", "a"), ("Idempotency-Key", "b")])
    assert twice.status_code == 400
    assert client.post(url, json={"text": "hi"}, headers={**sup, "Idempotency-Key": "~" * 255}).status_code == 201


def test_failures_are_not_kept_and_keys_expire_after_a_day(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                           auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    url = f"/api/v1/tickets/{ticket_id}/replies"
    sup = auth(api_key(rt, "supervisor"))
    # A request that fails leaves no key behind: its retry runs again (and here fails again the same way).
    closed = make_ticket(rt)
    client.post(f"/api/v1/tickets/{closed}/status", json={"status": "closed"}, headers=sup)
    for _ in range(2):
        refused = client.post(f"/api/v1/tickets/{closed}/replies", json={"text": "hi"},
                              headers={**sup, "Idempotency-Key": "closed-1"})
        assert refused.status_code == 409 and "closed" in refused.json()["detail"]
    assert _count(rt, IdempotencyKey) == 0

    headers = {**sup, "Idempotency-Key": "day-old"}
    assert client.post(url, json={"text": "hi"}, headers=headers).status_code == 201
    with rt.db.transaction() as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    # A day later the key is forgotten: the same request is a new reply.
    later = client.post(url, json={"text": "hi"}, headers=headers)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert _count(rt, OutboxItem, ticket_id=ticket_id) == 2
    assert _count(rt, IdempotencyKey) == 1

    with rt.db.transaction() as session:
        session.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
        assert purge_expired(session=session) == 1
    assert _count(rt, IdempotencyKey) == 0


def test_a_retried_label_is_recorded_once(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    ticket_id = make_ticket(rt)
    headers = {**auth(api_key(rt, "agent", NADIA)), "Idempotency-Key": "label-1"}
    url = f"/api/v1/tickets/{ticket_id}/labels"
    first = client.post(url, json={"task": "urgency", "label": "high"}, headers=headers)
    again = client.post(url, json={"task": "urgency", "label": "high"}, headers=headers)
    assert first.status_code == again.status_code == 201 and again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert _count(rt, LabelFeedback) == 1
    assert client.post(url, json={"task": "urgency", "label": "low"}, headers=headers).status_code == 409


def test_concurrent_retries_send_once(rt: Triage, api_key: KeyMaker, auth: Auth) -> None:
    """Retries racing the first request on a real server: the unique key makes them wait, then replay."""
    ticket_id = make_ticket(rt)
    headers = {**auth(api_key(rt, "supervisor")), "Idempotency-Key": "race-1"}
    start = threading.Barrier(4)
    answers: list[httpx.Response] = []
    with contextlib.contextmanager(serve)(create_app(rt)) as base:

        def send() -> None:
            with httpx.Client(base_url=base, timeout=60) as http:
                start.wait()
                answers.append(http.post(f"/api/v1/tickets/{ticket_id}/replies", json={"text": "On its way."},
                                         headers=headers))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 3
    assert _count(rt, OutboxItem, ticket_id=ticket_id) == 1


def test_a_retry_waits_for_the_running_first_request_then_replays(rt: Triage) -> None:
    """The first request's transaction holds the key until it commits; the retry waits on it, then replays."""
    with rt.db.transaction() as session:
        user_id = create_user("waiter", "supervisor", session=session)[0].id
    found: list[tuple[bool, int | None, str | None]] = []

    def retry() -> None:
        with rt.db.session() as session, session.begin():
            again = claim("slow-1", user_id=user_id, route="POST /x", fingerprint="f" * 64, session=session)
            found.append((again.replay, again.row.response_status, again.row.response_body))

    with rt.db.session() as session, session.begin():
        first = claim("slow-1", user_id=user_id, route="POST /x", fingerprint="f" * 64, session=session)
        assert not first.replay
        waiting = threading.Thread(target=retry)
        waiting.start()
        waiting.join(timeout=1.5)
        assert waiting.is_alive() and not found  # blocked on the unique key (PostgreSQL) or the write lock (SQLite)
        complete(first.row, status=201, body='{"ok":true}', session=session)
    waiting.join(timeout=30)
    assert found == [(True, 201, '{"ok":true}')]
