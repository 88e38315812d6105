"""`triage forecast`, `triage staffing` and `triage alerts` (issue 17) on a small home: JSON, tables, PNG, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from tests.conftest import main_in_process, on_shift_config
from triage.config import Settings
from triage.conversations.tables import Customer, Ticket
from triage.db import Database

NOW = "2026-11-16T00:00:00+00:00"  # a Monday
START = datetime(2026, 10, 26, tzinfo=UTC)  # three weeks before


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "triage.toml").write_text(on_shift_config(), encoding="utf-8")
    db = Database(Settings(home=home, environment="test"))
    with db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        rows = [{"channel": channel, "queue": "billing", "intent": "billing_issue", "status": "open",
                 "customer_id": customer.id, "created_at": START + timedelta(minutes=step * i)}
                for channel, step in (("email", 20), ("chat", 60)) for i in range(3 * 7 * 24 * 60 // step)]
        session.execute(insert(Ticket), rows)
    db.dispose()
    return home


def test_forecast_staffing_and_alerts_commands(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = main_in_process(home, monkeypatch, "forecast", "--now", NOW, "--weeks", "2", "--json",
                          "--png", str(tmp_path / "f.png"))
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    totals = {(s["queue"], s["channel"]): s["total"] for s in report["series"]}
    assert totals == {("billing", "chat"): pytest.approx(336, rel=0.02), ("billing", "email"): pytest.approx(1008,
                                                                                                            rel=0.02)}
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")
    table = main_in_process(home, monkeypatch, "forecast", "--now", NOW, "--queue", "billing", "--channel", "chat")
    assert table.returncode == 0 and "Backtest" in table.stdout and "billing" in table.stdout

    staffing = main_in_process(home, monkeypatch, "staffing", "--now", NOW, "--json")
    assert staffing.returncode == 0, staffing.stderr
    plan = {s["channel"]: s for s in json.loads(staffing.stdout)["series"]}
    assert plan["chat"]["method"] == "erlang_c" and plan["email"]["method"] == "workload"
    # Around the clock at one chat an hour: at least one agent every hour, but the billing team keeps office hours.
    assert all(i["required"] >= 1 for i in plan["chat"]["intervals"])
    assert plan["chat"]["under_hours"] > 0
    tables = main_in_process(home, monkeypatch, "staffing", "--now", NOW, "--tz", "Europe/Berlin")
    assert tables.returncode == 0 and "under-staffed" in tables.stdout

    alerts = main_in_process(home, monkeypatch, "alerts", "--now", NOW, "--no-topics", "--json")
    assert alerts.returncode == 0 and alerts.stdout, (alerts.stdout, alerts.stderr)
    assert json.loads(alerts.stdout)["alerts"] == []  # the same every hour: nothing rises

    bad = main_in_process(home, monkeypatch, "forecast", "--weeks", "9", "--now", NOW)
    assert bad.returncode == 2 and "between 1 and 4" in bad.stderr
    naive = main_in_process(home, monkeypatch, "staffing", "--now", "2026-11-16T00:00")
    assert naive.returncode == 2 and "UTC offset" in naive.stderr
