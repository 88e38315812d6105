"""API keys and roles: who may call what, and agents confined to their own queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import api_routes, create_app
from api.deps import route_roles
from triage.conversations.service import resolve_customer
from triage.conversations.tables import Ticket
from triage.errors import UserError
from triage.runtime import Triage
from triage.users.service import Role, authenticate, create_user, revoke_user
from triage.users.tables import User

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    with TestClient(create_app(rt), raise_server_exceptions=False) as c:
        yield c


def _ticket(rt: Triage, queue: str, *, assignee_email: str | None = None) -> int:
    from triage.agents.tables import Agent

    with rt.db.transaction() as session:
        customer = resolve_customer([("email", f"someone-{queue}@example.com")], session=session)
        assignee = session.scalar(select(Agent.id).where(Agent.email == assignee_email)) if assignee_email else None
        ticket = Ticket(channel="email", subject=f"about {queue}", queue=queue, customer_id=customer.id,
                        assignee_id=assignee)
        session.add(ticket)
        session.flush()
        return ticket.id


def test_keys_are_shown_once_stored_hashed_and_revocable(rt: Triage) -> None:
    with rt.db.transaction() as session:
        user, key = create_user("dana", "supervisor", session=session)
        assert key.startswith("trg_") and key not in (user.key_hash, user.key_prefix)
        assert authenticate(key, session=session) is user
        assert authenticate(key + "x", session=session) is None
        assert authenticate(key.replace("trg_", "xyz_"), session=session) is None
        assert authenticate("trg_", session=session) is None
        assert user.last_used_at is not None
        revoke_user("dana", session=session)
        assert authenticate(key, session=session) is None
        # The name is free again and the old row stays for the audit trail.
        create_user("dana", "qa", session=session)
        assert len(session.scalars(select(User)).all()) == 2


@pytest.mark.parametrize(("args", "message"), [
    (("x", "wizard"), "unknown role"),
    (("", "qa"), "needs a name"),
    (("a", "agent"), "must name the agent"),
    (("a", "qa", "nadia.brooks@larkspur.example"), "only applies to the agent role"),
    (("a", "agent", "nobody@example.com"), "no agent with email"),
])
def test_bad_users_are_refused_with_a_reason(rt: Triage, args: tuple[str, ...], message: str) -> None:
    name, role, *agent = args
    with rt.db.transaction() as session, pytest.raises(UserError, match=message):
        create_user(name, role, session=session, agent_email=agent[0] if agent else None)


def test_missing_wrong_and_revoked_keys_get_401_wrong_role_403(rt: Triage, client: TestClient,
                                                               api_key: KeyMaker, auth: Auth) -> None:
    assert client.get("/health").status_code == 200
    missing = client.get("/api/v1/tickets")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/tickets", headers=auth("trg_abc_def")).status_code == 401
    assert client.get("/api/v1/tickets", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
    scientist = api_key(rt, "data_scientist")
    denied = client.get("/api/v1/tickets", headers=auth(scientist))
    assert denied.status_code == 403 and "data_scientist" in denied.json()["detail"]
    qa = api_key(rt, "qa")
    assert client.get("/api/v1/tickets", headers=auth(qa)).status_code == 200
    with rt.db.transaction() as session:
        name = session.scalar(select(User.name).where(User.role == "qa"))
        assert name is not None
        revoke_user(name, session=session)
    assert client.get("/api/v1/tickets", headers=auth(qa)).status_code == 401


def test_agents_see_their_own_queues_and_what_is_assigned_to_them(rt: Triage, client: TestClient,
                                                                  api_key: KeyMaker, auth: Auth) -> None:
    mine = _ticket(rt, "customer-care")
    billing = _ticket(rt, "billing")
    handed_to_me = _ticket(rt, "technical", assignee_email="nadia.brooks@larkspur.example")
    nadia = auth(api_key(rt, "agent", "nadia.brooks@larkspur.example"))  # customer-care only
    listed = {t["id"] for t in client.get("/api/v1/tickets", headers=nadia).json()["items"]}
    assert listed == {mine, handed_to_me}
    assert client.get(f"/api/v1/tickets/{mine}", headers=nadia).status_code == 200
    hidden = client.get(f"/api/v1/tickets/{billing}", headers=nadia)
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"no ticket #{billing}"
    boss = auth(api_key(rt, "supervisor"))
    everything = {t["id"] for t in client.get("/api/v1/tickets", headers=boss).json()["items"]}
    assert everything == {mine, billing, handed_to_me}


def test_every_api_route_declares_its_roles(rt: Triage) -> None:
    app = create_app(rt)
    open_routes = {"/health", "/ready"}
    routes = [r for r in api_routes(app) if r.path not in open_routes]
    assert len(routes) >= 3
    for route in routes:
        roles = route_roles(route)
        assert roles is not None, f"{sorted(route.methods)} {route.path} has no allow(...)"
        assert Role.admin in roles
