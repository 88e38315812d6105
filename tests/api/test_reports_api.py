"""Report routes through the app: roles, JSON answers on a tiny dataset, PNG charts, bad input as problem+json."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from triage.config import Settings
from triage.conversations.tables import Customer, Message, Ticket
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]
ROUTES = ["/api/v1/reports/response-times", "/api/v1/reports/sla", "/api/v1/reports/volume",
          "/api/v1/reports/backlog", "/api/v1/reports/mix", "/api/v1/reports/volume/png"]
PERIOD = {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z"}


@pytest.fixture
def reports_rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    """A runtime without trained models: reports need none."""
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "models",
                              environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    created = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with runtime.db.transaction() as session:
        for i, (queue, reply) in enumerate([("billing", 600), ("billing", 1800), ("technical", None)]):
            customer = Customer(name=f"c{i}")
            session.add(customer)
            session.flush()
            ticket = Ticket(channel="email", queue=queue, customer_id=customer.id, created_at=created,
                            intent="refund", sentiment="neutral", status="open")
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key=f"in{i}",
                                sent_at=created))
            if reply is not None:
                session.add(Message(ticket_id=ticket.id, direction="out", author_kind="agent", dedup_key=f"out{i}",
                                    sent_at=created + timedelta(seconds=reply)))
    yield runtime
    runtime.db.dispose()


@pytest.fixture
def client(reports_rt: Triage) -> TestClient:
    return TestClient(create_app(reports_rt), raise_server_exceptions=False)


def test_roles_no_key_401_agent_and_integration_403_readers_200(reports_rt: Triage, client: TestClient,
                                                               api_key: KeyMaker, auth: Auth) -> None:
    keys = {role: api_key(reports_rt, role) for role in ("supervisor", "qa", "data_scientist", "admin",
                                                          "integration")}
    keys["agent"] = api_key(reports_rt, "agent", "nadia.brooks@larkspur.example")
    for route in ROUTES:
        missing = client.get(route, params=PERIOD)
        assert missing.status_code == 401, route
        assert missing.headers["content-type"].startswith("application/problem+json")
        for role, key in keys.items():
            expected = 403 if role in ("agent", "integration") else 200
            assert client.get(route, params=PERIOD, headers=auth(key)).status_code == expected, (route, role)
    # The role check comes first: a bad query from an agent is still a 403, without a key a 401.
    assert client.get(ROUTES[0], params={"tz": "Mars/Base"}, headers=auth(keys["agent"])).status_code == 403
    assert client.get(ROUTES[0], params={"tz": "Mars/Base"}).status_code == 401


def test_json_answers(reports_rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    headers = auth(api_key(reports_rt, "qa"))
    times = client.get("/api/v1/reports/response-times", params=PERIOD, headers=headers).json()
    billing = next(r for r in times["rows"] if r["key"] == "billing")
    assert billing["first_response"] == {"count": 2, "mean": 1200.0, "median": 1200.0, "p90": 1680.0}
    assert times["total"]["unanswered"] == 1 and times["by"] == "queue"
    assert times["period"] == {"since": "2026-11-02T00:00:00Z", "until": "2026-11-03T00:00:00Z", "timezone": "UTC"}
    by_channel = client.get("/api/v1/reports/response-times", params=PERIOD | {"by": "channel"}, headers=headers)
    assert [r["key"] for r in by_channel.json()["rows"]] == ["email"]

    # Naive times are read in the report's zone: 09:00 UTC is 10:00 in Berlin.
    local = {"since": "2026-11-02", "until": "2026-11-03", "tz": "Europe/Berlin"}
    volume = client.get("/api/v1/reports/volume", params=local, headers=headers).json()
    assert volume["matrix"][0][10] == 3 and volume["total"] == 3
    assert volume["period"]["since"] == "2026-11-01T23:00:00Z"

    mix = client.get("/api/v1/reports/mix", params=PERIOD | {"interval": "week"}, headers=headers).json()
    # One day of the week that starts on Monday 2 November: a partial week.
    assert mix["intent"]["points"] == [{"start": "2026-11-02", "partial": True, "total": 3, "counts": {"refund": 3},
                                        "shares": {"refund": 1.0}}]
    sla = client.get("/api/v1/reports/sla", params=PERIOD, headers=headers).json()
    assert sla["total"]["tickets"] == 3 and sla["total"]["first_response"]["no_target"] == 3
    backlog = client.get("/api/v1/reports/backlog", params=PERIOD, headers=headers).json()
    assert backlog["daily"][0]["total"] == 3 and backlog["current_total"] == 3

    # A quiet period: empty, not an error; without since/until the last 30 days.
    empty = client.get("/api/v1/reports/response-times", params={"since": "2025-01-01", "until": "2025-02-01"},
                       headers=headers)
    assert empty.status_code == 200 and empty.json()["rows"] == [] and empty.json()["total"]["created"] == 0
    default = client.get("/api/v1/reports/response-times", headers=headers).json()["period"]
    span = datetime.fromisoformat(default["until"]) - datetime.fromisoformat(default["since"])
    assert span == timedelta(days=30)


@pytest.mark.parametrize(("params", "status", "fragment"), [
    ({"tz": "Mars/Base"}, 400, "unknown time zone"),
    ({"since": "2026-11-03", "until": "2026-11-02"}, 400, "must be before until"),
    ({"since": "2020-01-01", "until": "2026-01-01"}, 400, "longer than"),
    ({"since": "yesterday"}, 422, "since"),
    ({"by": "planet"}, 422, "by"),
    ({"queue": "bill\x00ing"}, 422, "queue"),
    ({"since": "0001-01-01T00:00:00+14:00"}, 400, "out of range"),
])
def test_bad_input_is_a_problem(reports_rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth,
                                params: dict[str, str], status: int, fragment: str) -> None:
    response = client.get("/api/v1/reports/response-times", params=params,
                          headers=auth(api_key(reports_rt, "supervisor")))
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fragment in response.json()["detail"]


@pytest.mark.parametrize("name", ["response-times", "sla", "volume", "backlog", "mix"])
def test_png_charts(reports_rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth, name: str) -> None:
    headers = auth(api_key(reports_rt, "data_scientist"))
    for params in (PERIOD, {"since": "2020-01-01", "until": "2020-01-02"}):  # with data, and "no data"
        response = client.get(f"/api/v1/reports/{name}/png", params=params, headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png"
        body = response.content
        assert body[:8] == b"\x89PNG\r\n\x1a\n" and body[12:16] == b"IHDR"
        width, height = struct.unpack(">II", body[16:24])
        assert 600 <= width <= 2000 and 300 <= height <= 2000
    assert client.get("/api/v1/reports/nonsense/png", headers=headers).status_code == 422
