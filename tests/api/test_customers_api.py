"""A customer's data over the API (issue 14): export and erasure, for admins only; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.test_tickets_api import make_ticket
from triage.customers.privacy import address_hash
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


def test_admins_export_and_erase_a_customer(rt: Triage, api_key: KeyMaker, auth: Auth) -> None:
    client = TestClient(create_app(rt))
    first = make_ticket(rt, text="Please call me on +49 30 1234567 about LH-104233.")
    second = make_ticket(rt, text="My kettle leaks.")
    admin, supervisor = auth(api_key(rt, "admin")), auth(api_key(rt, "supervisor"))
    her, his = "customer1@example.com", "customer2@example.com"

    assert client.get(f"/api/v1/customers/{her}/export", headers=supervisor).status_code == 403
    assert client.delete(f"/api/v1/customers/{her}", headers=supervisor).status_code == 403
    exported = client.get(f"/api/v1/customers/{her.upper()}/export", headers=admin)
    assert exported.status_code == 200, exported.text
    doc = exported.json()
    assert doc["format"] == "triage.customer-export/1" and [t["id"] for t in doc["tickets"]] == [first]
    assert "+49 30 1234567" in doc["tickets"][0]["messages"][0]["text"]

    erased = client.delete(f"/api/v1/customers/{her}", headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["address_sha256"] == address_hash(her) and erased.json()["counts"]["messages"] == 1
    again = client.delete(f"/api/v1/customers/{her}", headers=admin)
    assert again.status_code == 200 and again.json()["already_erased"] is True
    gone = client.get(f"/api/v1/customers/{her}/export", headers=admin)
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("application/problem+json")
    assert client.delete("/api/v1/customers/never@example.net", headers=admin).status_code == 404

    ticket = client.get(f"/api/v1/tickets/{first}", headers=supervisor).json()
    assert ticket["messages"][0]["text"] == "" and ticket["intent"] == "order_status"
    kept = client.get(f"/api/v1/customers/{his}/export", headers=admin).json()
    assert [t["id"] for t in kept["tickets"]] == [second]
    assert kept["tickets"][0]["messages"][0]["text"] == "My kettle leaks."
