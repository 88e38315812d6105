"""Two `triage sla check` processes on one PostgreSQL database: every warning and breach fires once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from triage.config import Settings
from triage.conversations.tables import Customer, Ticket
from triage.events.tables import Event
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.sla.service import refresh_sla
from triage.sla.tables import SlaEvent

TICKETS = 300
CONFIG = """
default_team = "care"
[[teams]]
name = "care"
lead = "lead@larkspur.example"
[[agents]]
name = "Lee Lead"
email = "lead@larkspur.example"
teams = ["care"]
[[mailboxes]]
address = "support@larkspur.example"
[[sla]]
channel = "email"
priority = "normal"
first_response = "1h"
resolution = "1d"
[[sla_timers.escalations]]
on = "breach"
actions = ["notify_email"]
notify = ["lead"]
"""


@pytest.mark.slow
def test_two_scheduler_processes_fire_each_event_once(tmp_path: Path, pg_database: str) -> None:
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG, encoding="utf-8")
    rt = Triage(Settings(home=tmp_path / "home", database_url=pg_database, config_file=config))
    rt.db.ensure_schema()
    rt.sync_agents()
    start = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    with rt.db.transaction() as session:
        customer = Customer(name="Maria")
        session.add(customer)
        session.flush()
        for i in range(TICKETS):
            ticket = Ticket(channel="email", subject=f"t{i}", customer_id=customer.id, status="open",
                            priority="normal", queue="care", created_at=start + timedelta(seconds=i))
            session.add(ticket)
            session.flush()
            refresh_sla(ticket, rt.config, session=session)
    # two hours later every first response is overdue; the resolution warning (18 h) is not due yet
    now = (start + timedelta(hours=2)).isoformat()
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_DATABASE_URL": pg_database,
           "TRIAGE_CONFIG_FILE": str(config)}
    cmd = [sys.executable, "-m", "triage.cli", "sla", "check", "--now", now, "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    fired = [json.loads(out) for out, _ in results]
    keys = [(f["ticket"], f["metric"], f["kind"]) for batch in fired for f in batch]
    assert len(keys) == len(set(keys)) == TICKETS  # one breach per ticket, none twice
    assert {k[1:] for k in keys} == {("first_response", "breach")}
    print(f"events per process: {[len(batch) for batch in fired]}")
    assert all(fired), "both processes should have claimed some events"
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SlaEvent)) == TICKETS
        breaches = session.scalar(select(func.count()).select_from(Event).where(Event.kind == "sla.breach"))
        assert breaches == TICKETS
        mails = session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.kind == "notification"))
        assert mails == TICKETS  # escalations ran once per event, by the process that claimed it
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.sla_next_check_at.is_(None))) == 0
    # a second round finds nothing left to fire
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and json.loads(again.stdout) == []
    rt.db.dispose()
