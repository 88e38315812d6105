"""`triage surveys send` and `triage surveys report` (issue 17 item 4) on a small home."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import main_in_process, on_shift_config
from triage.config import Settings
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import Database

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def make_home(tmp_path: Path, *, enabled: bool) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "triage.toml").write_text(on_shift_config() + f"\n[surveys]\nenabled = {str(enabled).lower()}\n",
                                      encoding="utf-8")
    db = Database(Settings(home=home, environment="test"))
    with db.transaction() as session:
        customer = Customer(name="Maria")
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value="maria@example.com"))
        ticket = Ticket(channel="email", queue="billing", status="solved", customer_id=customer.id,
                        created_at=NOW - timedelta(hours=5), solved_at=NOW - timedelta(hours=1))
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key="m",
                            sent_at=ticket.created_at))
    db.dispose()
    return home


def test_send_and_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = make_home(tmp_path, enabled=True)
    sent = main_in_process(home, monkeypatch, "surveys", "send", "--now", NOW.isoformat(), "--json")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout.strip().splitlines()[-1]) == {"invited": 1}
    again = main_in_process(home, monkeypatch, "surveys", "send", "--now", NOW.isoformat())
    assert again.returncode == 0 and "no solved ticket" in again.stdout
    report = main_in_process(home, monkeypatch, "surveys", "report", "--json", "--by", "channel",
                             "--since", (NOW - timedelta(days=1)).isoformat(), "--until",
                             (NOW + timedelta(days=1)).isoformat())
    assert report.returncode == 0, report.stderr
    rows = json.loads(report.stdout)["rows"]
    assert [(r["key"], r["invited"], r["responses"]) for r in rows] == [("email", 1, 0)]
    assert main_in_process(home, monkeypatch, "surveys", "report", "--by", "colour").returncode == 2


def test_send_refuses_when_surveys_are_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = make_home(tmp_path, enabled=False)
    off = main_in_process(home, monkeypatch, "surveys", "send", "--now", NOW.isoformat())
    assert off.returncode == 2 and "enabled = true" in off.stderr
