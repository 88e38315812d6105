"""Errors are translated once, in api/problems.py: typed errors, a database outage and our own bugs all answer
RFC 9457 problem details with a trace id (issue 13)."""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import reports as reports_api
from api.app import create_app
from api.deps import Principal, current_user
from tests.api.conftest import free_port, make_key, sqlite_runtime
from triage.config import Settings
from triage.runtime import Triage
from triage.users.service import Role

API = Path(__file__).resolve().parents[2] / "api"
Auth = Callable[[str], dict[str, str]]


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Triage]:
    home = tmp_path_factory.mktemp("errors")
    runtime = sqlite_runtime(home, home / "models")  # no models: none of these routes needs one
    yield runtime
    runtime.db.dispose()


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    assert isinstance(body["trace_id"], str) and len(body["trace_id"]) == 12
    return body


def test_typed_errors_from_services_keep_their_status(rt: Triage, auth: Auth) -> None:
    client = TestClient(create_app(rt))
    editor = auth(make_key(rt, "data_scientist"))
    # knowledge service: NotFound
    missing = _problem(client.get("/api/v1/kb/articles/no-such-article", headers=editor), 404)
    assert missing["title"] == "Not found" and "no-such-article" in str(missing["detail"])
    # model registry: nothing to roll back is a conflict with the stored state
    conflict = _problem(client.post("/api/v1/models/intent/rollback", headers=editor), 409)
    assert conflict["title"] == "Conflict" and "roll back" in str(conflict["detail"])
    # reports: a bad period is a 400, as the route has always answered
    bad = _problem(client.get("/api/v1/reports/volume", params={"tz": "Mars/Base"},
                              headers=auth(make_key(rt, "supervisor"))), 400)
    assert "unknown time zone" in str(bad["detail"])
    # Each request has its own trace id.
    assert missing["trace_id"] != conflict["trace_id"] != bad["trace_id"]


def test_every_problem_has_a_trace_id(rt: Triage, auth: Auth) -> None:
    client = TestClient(create_app(rt))
    _problem(client.get("/api/v1/nowhere"), 404)  # Starlette's own
    assert _problem(client.get("/api/v1/tickets"), 401)["detail"]  # the auth dependency's HTTPException
    key = auth(make_key(rt, "supervisor"))
    invalid = _problem(client.get("/api/v1/tickets", params={"limit": 0}, headers=key), 422)
    assert invalid["errors"]
    _problem(client.post("/api/v1/tickets/1/status", content=b"x" * (rt.settings.api_max_body + 1), headers=key),
             413)  # refused by the body-limit middleware before any route runs


def _boom(**_kwargs: object) -> None:
    raise RuntimeError("secret internals: password=hunter2")


def test_an_unexpected_error_is_logged_with_its_trace_id(rt: Triage, auth: Auth, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(reports_api.service, "volume", _boom)
    client = TestClient(create_app(rt), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="api.problems"):
        body = _problem(client.get("/api/v1/reports/volume", headers=auth(make_key(rt, "supervisor"))), 500)
    assert "hunter2" not in str(body) and body["trace_id"] in str(body["detail"])
    logged = [r for r in caplog.records if body["trace_id"] in r.getMessage()]
    assert logged and logged[0].exc_info is not None and "hunter2" in caplog.text  # the traceback, in the log only


def test_an_unexpected_error_over_a_real_socket(rt: Triage, auth: Auth, monkeypatch: pytest.MonkeyPatch,
                                                live_server: Callable[[FastAPI], Iterator[str]]) -> None:
    # Starlette answers a handler for Exception from ServerErrorMiddleware, outside the app's own
    # middleware; check that uvicorn really sends our problem, not its text/plain 500.
    monkeypatch.setattr(reports_api.service, "volume", _boom)
    key = auth(make_key(rt, "supervisor"))
    with contextmanager(live_server)(create_app(rt)) as base:
        response = httpx.get(f"{base}/api/v1/reports/volume", headers=key, timeout=30)
    assert "hunter2" not in _problem(response, 500)["detail"]


def _unreachable_database(tmp_path: Path) -> Triage:
    return Triage(Settings(home=tmp_path, models_path=tmp_path / "models", environment="test",
                           database_url=f"postgresql+psycopg://triage@127.0.0.1:{free_port()}/triage"))


def test_database_outage_in_the_auth_dependency_is_503(tmp_path: Path, auth: Auth) -> None:
    down = _unreachable_database(tmp_path)
    client = TestClient(create_app(down), raise_server_exceptions=False)
    response = client.get("/api/v1/tickets", headers=auth("some-key"))
    body = _problem(response, 503)
    assert response.headers["retry-after"].isdigit() and "database" in str(body["detail"])
    assert "127.0.0.1" not in response.text  # no connection details
    down.db.dispose()


def test_database_outage_in_a_route_is_503(tmp_path: Path) -> None:
    down = _unreachable_database(tmp_path)
    app = create_app(down)
    app.dependency_overrides[current_user] = lambda: Principal(user_id=1, name="lead", role=Role.supervisor)
    response = TestClient(app, raise_server_exceptions=False).get("/api/v1/tickets")
    _problem(response, 503)
    assert int(response.headers["retry-after"]) > 0
    down.db.dispose()


def _translating_handlers(source: str) -> list[int]:
    """Lines of `except` clauses that catch one of our errors and raise something else: a route mapping it."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            caught = {n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node.type)
                      if isinstance(n, ast.Name | ast.Attribute)}
            ours = any(name.endswith(("Error", "NotFound", "Conflict")) and name != "ValidationError"
                       for name in caught)
            if ours and any(isinstance(n, ast.Raise) and n.exc is not None for n in ast.walk(node)):
                found.append(node.lineno)
    return found


def test_routes_do_not_translate_errors_themselves() -> None:
    """The one exception handler maps errors; routes no longer catch UserError to pick a status."""
    for path in sorted(API.glob("*.py")):
        source = path.read_text()
        assert "except UserError as exc:\n        raise HTTPException" not in source, path.name
        assert not _translating_handlers(source), (path.name, _translating_handlers(source))
