"""Planning routes through the app (issue 17): roles as the reports, forecast and staffing JSON, the PNG chart,
alert episodes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.app import create_app
from triage.config import Settings
from triage.conversations.tables import Customer, Ticket
from triage.db import utcnow
from triage.planning.forecast import floor_hour
from triage.planning.tables import AlertEpisode
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def planning_rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    """Three weeks of billing email up to the current hour, two tickets an hour; no trained models needed."""
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "models",
                              environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    start = floor_hour(utcnow()) - timedelta(weeks=3)
    with runtime.db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        session.execute(insert(Ticket), [{"channel": "email", "queue": "billing", "intent": "billing_issue",
                                          "status": "open", "customer_id": customer.id,
                                          "created_at": start + timedelta(minutes=30 * i)} for i in range(3 * 336)])
        session.add(AlertEpisode(kind="queue", key="billing", open_key="queue:billing", observed=30, expected=8.0,
                                 p_value=1e-6, details={}))
    yield runtime
    runtime.db.dispose()


def test_forecast_staffing_alerts_and_roles(planning_rt: Triage, api_key: KeyMaker, auth: Auth) -> None:
    client = TestClient(create_app(planning_rt), raise_server_exceptions=False)
    reader = auth(api_key(planning_rt, "supervisor"))
    agent = auth(api_key(planning_rt, "agent", "nadia.brooks@larkspur.example"))
    for route in ("/api/v1/planning/forecast", "/api/v1/planning/staffing", "/api/v1/planning/alerts"):
        assert client.get(route).status_code == 401
        assert client.get(route, headers=agent).status_code == 403
    forecast = client.get("/api/v1/planning/forecast", params={"weeks": 2}, headers=reader).json()
    (series,) = forecast["series"]
    assert (series["queue"], series["channel"], len(series["hourly"])) == ("billing", "email", 336)
    assert np.mean(series["hourly"]) == pytest.approx(2.0, rel=0.05)  # two an hour, every hour
    assert series["backtest_origins"] == 0  # the backtest costs several fits: asked for, not by default
    measured = client.get("/api/v1/planning/forecast", params={"backtest": True}, headers=reader).json()
    assert measured["series"][0]["backtest_origins"] == 1 and measured["backtest"][0]["wape"] is not None
    staffing = client.get("/api/v1/planning/staffing", params={"queue": "billing"}, headers=reader).json()
    (plan,) = staffing["series"]
    assert plan["method"] == "workload" and len(plan["intervals"]) == 168
    assert all(i["gap"] == pytest.approx(i["scheduled"] - i["required"], abs=0.011) for i in plan["intervals"])
    alerts = client.get("/api/v1/planning/alerts", headers=reader).json()
    assert [(a["kind"], a["key"], a["observed"]) for a in alerts] == [("queue", "billing", 30)]
    png = client.get("/api/v1/planning/forecast/png", headers=reader)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get("/api/v1/planning/forecast", params={"weeks": 5}, headers=reader).status_code == 422
