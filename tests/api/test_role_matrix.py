"""Every route x every role x no key: the status code says the policy holds, and nothing answers 5xx."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import api_routes, create_app
from api.deps import route_roles
from tests.api.conftest import make_key, sqlite_runtime
from triage.config import Settings
from triage.runtime import Triage
from triage.users.service import Role

A, Q, S, D, I, G = Role.agent, Role.qa, Role.supervisor, Role.data_scientist, Role.integration, Role.admin  # noqa: E741

# The policy, written out once so a change to it is a visible change to this table.
POLICY: dict[str, set[Role]] = {
    "GET /api/v1/agents": {A, Q, S},
    "POST /api/v1/agents/{email}/capacity": {S},
    "POST /api/v1/agents/{email}/status": {A, S},
    "GET /api/v1/chat/{conversation_id:path}/messages": {I},
    "POST /api/v1/classify": {A, Q, S, D, I},
    "DELETE /api/v1/customers/{email}": set(),  # admins only
    "GET /api/v1/customers/{email}/export": set(),
    "POST /api/v1/emails": {S, I},
    "GET /api/v1/kb/articles": {S, D},
    "POST /api/v1/kb/articles": {S, D},
    "DELETE /api/v1/kb/articles/{article_id}": {S, D},
    "GET /api/v1/kb/articles/{article_id}": {S, D},
    "PATCH /api/v1/kb/articles/{article_id}": {S, D},
    "POST /api/v1/kb/import": {S, D},
    "GET /api/v1/kb/search": {A, Q, S, D},
    "POST /api/v1/messages": {S, I},
    "GET /api/v1/models": {S, D},
    "GET /api/v1/models/compare": {S, D},
    "GET /api/v1/models/jobs": {D},
    "POST /api/v1/models/jobs": {D},
    "GET /api/v1/models/jobs/{job_id}": {D},
    "POST /api/v1/models/{task}/rollback": {D},
    "GET /api/v1/models/{version}": {S, D},
    "GET /api/v1/models/{version}/reports/{name}": {S, D},
    "POST /api/v1/models/{version}/promote": {D},
    "GET /api/v1/qa/agents/{agent}/report": {A, Q, S},
    "GET /api/v1/qa/calibration": {Q, S},
    "GET /api/v1/qa/rubric": {A, Q, S},
    "GET /api/v1/qa/runs": {Q, S},
    "POST /api/v1/qa/runs": {Q, S},
    "GET /api/v1/qa/runs/{run_id}": {Q, S},
    "GET /api/v1/qa/samples": {A, Q, S},
    "GET /api/v1/qa/samples/{sample_id}": {A, Q, S},
    "POST /api/v1/qa/samples/{sample_id}/scorecard": {Q, S},
    "PUT /api/v1/qa/samples/{sample_id}/scorecard": {Q, S},
    "GET /api/v1/planning/alerts": {Q, S, D},
    "GET /api/v1/planning/forecast": {Q, S, D},
    "GET /api/v1/planning/staffing": {Q, S, D},
    "GET /api/v1/planning/{name}/png": {Q, S, D},
    "GET /api/v1/reports/backlog": {Q, S, D},
    "GET /api/v1/surveys/report": {Q, S, D},
    "GET /api/v1/reports/mix": {Q, S, D},
    "GET /api/v1/reports/response-times": {Q, S, D},
    "GET /api/v1/reports/sla": {Q, S, D},
    "GET /api/v1/reports/volume": {Q, S, D},
    "GET /api/v1/reports/{name}/png": {Q, S, D},
    "GET /api/v1/tickets": {A, Q, S},
    "GET /api/v1/tickets/{ticket_id}": {A, Q, S},
    "POST /api/v1/tickets/{ticket_id}/assignee": {S},
    "POST /api/v1/tickets/{ticket_id}/labels": {A, S},
    "POST /api/v1/tickets/{ticket_id}/replies": {A, S},
    "POST /api/v1/tickets/{ticket_id}/status": {A, S},
    "POST /api/v1/tickets/{ticket_id}/suggestions": {A, S},
    "POST /api/v1/tickets/{ticket_id}/suggestions/{suggestion_id}/feedback": {A, S},
    "GET /metrics": {S, I},
}

OPEN = {"GET /health", "GET /ready"}


@pytest.fixture(scope="module")
def matrix_client(tmp_path_factory: pytest.TempPathFactory, models_path: Path) -> Iterator[tuple[TestClient, dict]]:
    home = tmp_path_factory.mktemp("matrix")
    rt = sqlite_runtime(home, models_path)
    keys = {role: make_key(rt, role.value, "nadia.brooks@larkspur.example" if role == A else None) for role in Role}
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        yield client, keys
    rt.db.dispose()


def _bare_app() -> FastAPI:
    """The app for reading its routes only: nothing is started, no database is touched."""
    return create_app(Triage(Settings(home=Path(tempfile.mkdtemp(prefix="triage-routes-")), environment="test")))


def _routes() -> list[tuple[str, str]]:
    found = []
    for route in api_routes(_bare_app()):
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            found.append((method, route.path))
    return sorted(set(found))


ROUTES = _routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_policy_table_matches_the_routes() -> None:
    declared = {}
    for route in api_routes(_bare_app()):
        roles = route_roles(route)
        for method in route.methods - {"HEAD", "OPTIONS"}:
            key = f"{method} {route.path}"
            if key not in OPEN:
                assert roles is not None, f"{key} declares no roles"
                declared[key] = set(roles) - {G}
    assert set(declared) == set(POLICY), "routes added or removed: update POLICY"
    for key, roles in POLICY.items():
        assert declared[key] == roles, f"{key}: declared {declared[key]}, policy {roles}"


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_role_and_no_key(matrix_client: tuple[TestClient, dict], method: str, path: str) -> None:
    client, keys = matrix_client
    route = f"{method} {path}"
    url = _url(path)
    anonymous = client.request(method, url)
    if route in OPEN:
        assert anonymous.status_code < 500
        return
    assert anonymous.status_code == 401, f"{route} without a key: {anonymous.status_code}"
    allowed = next(route_roles(r)
                   for r in api_routes(client.app) if r.path == path and method in r.methods)
    assert allowed is not None
    for role, key in keys.items():
        response = client.request(method, url, headers={"Authorization": f"Bearer {key}"})
        assert response.status_code < 500, f"{route} as {role.value}: {response.status_code} {response.text[:300]}"
        if role in allowed:
            assert response.status_code != 401
            # An owner check (an agent acting for another agent) may still say 403, but not the role check.
            if response.status_code == 403:
                assert "role may not use this route" not in response.text, f"{route} refused {role.value}"
        else:
            assert response.status_code == 403, f"{route} as {role.value}: {response.status_code}"
