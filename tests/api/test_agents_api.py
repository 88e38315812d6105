"""Agent routes: list with load, status (own only for agents), capacity (supervisors); SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.test_tickets_api import NADIA, OMAR, make_ticket
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


def test_list_status_and_capacity(rt: Triage, api_key: KeyMaker, auth: Auth) -> None:
    client = TestClient(create_app(rt))
    ticket_id = make_ticket(rt)
    nadia, sup = auth(api_key(rt, "agent", NADIA)), auth(api_key(rt, "supervisor"))
    for headers in (nadia, sup, auth(api_key(rt, "qa"))):
        listed = client.get("/api/v1/agents", headers=headers)
        assert listed.status_code == 200
    rows = {a["email"]: a for a in listed.json()["agents"]}
    holder = next(email for email, row in rows.items() if row["open"].get("email"))
    assert rows[NADIA]["capacity"] == {"email": 6, "chat": 3} and rows[holder]["load_minutes"] > 0
    # the fixture's agents work around the clock: the effective status is the one set (test_sla_traps covers hours)
    assert (rows[NADIA]["status"], rows[NADIA]["status_set"], rows[NADIA]["status_reason"],
            rows[NADIA]["on_shift"]) == ("online", "online", "", True)
    assert listed.json()["waiting"] == 0
    assert client.get("/api/v1/agents", headers=auth(api_key(rt, "integration"))).status_code == 403

    own = client.post(f"/api/v1/agents/{NADIA}/status", json={"status": "away"}, headers=nadia)
    assert own.status_code == 200 and own.json()["status"] == "away"
    other = client.post(f"/api/v1/agents/{OMAR}/status", json={"status": "offline"}, headers=nadia)
    assert other.status_code == 403
    offline = client.post(f"/api/v1/agents/{holder}/status", json={"status": "offline"}, headers=sup)
    # The holder had not answered: the ticket goes back to the queue (only she has the order_status skill).
    assert offline.status_code == 200 and offline.json()["requeued"] == 1
    detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=sup).json()
    assert detail["assignee"] is None and detail["assignments"][-1]["action"] == "unassigned"
    assert client.get("/api/v1/agents", headers=sup).json()["waiting"] == 1
    assert client.post(f"/api/v1/agents/{NADIA}/status", json={"status": "asleep"}, headers=nadia).status_code == 422
    missing = client.post("/api/v1/agents/nobody@example.com/status", json={"status": "online"}, headers=sup)
    assert missing.status_code == 404

    url = f"/api/v1/agents/{OMAR}/capacity"
    changed = client.post(url, json={"capacity": 8, "by_channel": {"chat": 2}}, headers=sup)
    assert changed.status_code == 200, changed.text
    assert changed.json()["capacity"] == {"email": 8, "chat": 2}
    assert client.post(url, json={"capacity": 8}, headers=nadia).status_code == 403
    for body in ({}, {"capacity": -1}, {"by_channel": {"fax": 1}}, {"capacity": 5000}):
        assert client.post(url, json=body, headers=sup).status_code == 422
    assert client.post("/api/v1/agents/nobody@example.com/capacity", json={"capacity": 1},
                       headers=sup).status_code == 404
