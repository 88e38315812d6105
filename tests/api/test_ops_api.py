"""Readiness, Prometheus metrics and the request size limit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from api.app import create_app
from tests.conftest import build_email
from triage.config import Settings
from triage.inbox.tables import InboxItem
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


def _wait_ready(client: TestClient) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = client.get("/ready")
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 503 and "models are still loading" in response.json()["detail"]
        time.sleep(0.1)
    pytest.fail("the models did not load in time")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(sample name, sorted labels) -> value, from Prometheus text format."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_ready_once_models_are_loaded_and_metrics_for_allowed_roles(rt: Triage, api_key: KeyMaker,
                                                                    auth: Auth) -> None:
    with TestClient(create_app(rt)) as client:
        assert _wait_ready(client) == {"status": "ready"}
        integration, agent = api_key(rt, "integration"), api_key(rt, "agent", "nadia.brooks@larkspur.example")
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers=auth(agent)).status_code == 403
        email = build_email(message_id="<metrics-1@mail.example.com>")
        posted = client.post("/api/v1/emails", content=email,
                             headers={**auth(integration), "Content-Type": "message/rfc822"})
        assert posted.status_code == 202
        assert client.get("/api/v1/tickets/777", headers=auth(api_key(rt, "supervisor"))).status_code == 404
        assert client.get("/no/such/path").status_code == 404

        response = client.get("/metrics", headers=auth(integration))
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        found = samples(response.text)
        # Requests by route template (never the raw path) and status.
        key = ("triage_http_requests_total", (("method", "GET"), ("route", "/api/v1/tickets/{ticket_id}"),
                                              ("status", "404")))
        assert found[key] == 1
        assert found[("triage_http_requests_total", (("method", "POST"), ("route", "/api/v1/emails"),
                                                     ("status", "202")))] == 1
        assert found[("triage_http_requests_total", (("method", "GET"), ("route", "unmatched"),
                                                     ("status", "404")))] == 1
        assert found[("triage_http_request_duration_seconds_count",
                      (("method", "GET"), ("route", "/api/v1/tickets/{ticket_id}"), ("status", "404")))] == 1
        # State read from the database at scrape time: the email waits in the inbox (no worker here).
        assert found[("triage_database_up", ())] == 1
        assert found[("triage_inbox_items", (("status", "pending"),))] == 1
        assert found[("triage_outbox_items", (("status", "queued"),))] == 0
        assert found[("triage_sla_breaches_total", (("metric", "first_response"),))] == 0
        versions = {dict(labels)["task"]: dict(labels) for (name, labels), _ in found.items()
                    if name == "triage_model_info"}
        assert set(versions) == {"intent", "sentiment", "urgency"}
        assert all(v["loaded"] == "true" and v["version"] == rt.suite.versions()[t] for t, v in versions.items())

    # A second app in the same process has its own registry (no duplicate-metric error, its own counts).
    with TestClient(create_app(rt)) as other:
        found = samples(other.get("/metrics", headers=auth(integration)).text)
        assert not any(name == "triage_http_requests_total" and dict(labels).get("route") == "/api/v1/emails"
                       for name, labels in found)


def test_not_ready_without_models_or_database(tmp_path: Path, database_url: str) -> None:
    empty = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "none",
                            environment="test"))
    with TestClient(create_app(empty)) as client:
        deadline = time.monotonic() + 60
        while (response := client.get("/ready")).json()["detail"] == "models are still loading":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "models not loaded" in response.json()["detail"] and "triage init" in response.json()["detail"]
    empty.db.dispose()

    down = Triage(Settings(home=tmp_path / "down", database_url="postgresql+psycopg://nobody@127.0.0.1:9/none",
                           environment="test"))
    client = TestClient(create_app(down))  # no lifespan: the database cannot be migrated
    response = client.get("/ready")
    assert response.status_code == 503
    assert any(p.startswith("database unreachable") for p in response.json()["problems"])
    assert int(response.headers["retry-after"]) > 0  # as every 503 (docs/api.md)
    down.db.dispose()


@pytest.fixture
def small(tmp_path: Path, database_url: str, models_path: Path) -> Iterator[Triage]:
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=models_path,
                              environment="test", api_max_body=4096))
    runtime.db.ensure_schema()
    yield runtime
    runtime.db.dispose()


def test_body_limit_is_counted_while_streaming(small: Triage, api_key: KeyMaker, auth: Auth) -> None:
    headers = {**auth(api_key(small, "integration")), "Content-Type": "message/rfc822"}
    big = build_email(body="x" * 5000, message_id="<big@mail.example.com>")
    client = TestClient(create_app(small))
    declared = client.post("/api/v1/emails", content=big, headers=headers)
    assert declared.status_code == 413
    assert declared.headers["content-type"].startswith("application/problem+json")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must count what arrives
        for start in range(0, len(big), 1000):
            yield big[start:start + 1000]

    streamed = client.post("/api/v1/emails", content=chunks(), headers=headers)
    assert streamed.status_code == 413 and streamed.json()["status"] == 413
    with small.db.session() as session:
        assert session.scalar(select(func.count()).select_from(InboxItem)) == 0
    fits = client.post("/api/v1/emails", content=build_email(), headers=headers)
    assert fits.status_code == 202
