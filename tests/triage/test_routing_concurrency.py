"""Four router processes on one PostgreSQL database: no ticket assigned twice, no agent over capacity."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from triage.agents.tables import Agent, Assignment
from triage.config import Settings
from triage.conversations.tables import Customer, Ticket
from triage.runtime import Triage

# 12 agents hold 66 tickets at a time: 400 tickets is six refills, plenty for four processes to interleave.
TICKETS = 400
PROCESSES = 4
WORKER = Path(__file__).with_name("routing_worker.py")
INTENTS = ["order_status", "refund_request", "technical_problem"]
PRIORITIES = ["low", "normal", "high", "urgent"]
AGENTS = "\n".join(f"""
[[agents]]
name = "Agent {i}"
email = "agent{i}@example.com"
teams = ["support"]
skills = {INTENTS if i % 3 == 0 else INTENTS[i % 3:]!r}
channels = {'["email"]' if i % 4 == 3 else '["email", "chat"]'}
capacity_by_channel = {{ email = 4{', chat = 2' if i % 4 != 3 else ''} }}
""" for i in range(12))
CONFIG = f"""
default_team = "support"
[[teams]]
name = "support"
intents = {INTENTS!r}
{AGENTS}
"""


@pytest.mark.slow
def test_four_router_processes_share_400_tickets(tmp_path: Path, pg_database: str) -> None:
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG)
    rt = Triage(Settings(home=tmp_path / "home", database_url=pg_database, config_file=config, environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    t0 = datetime(2026, 11, 16, 9, tzinfo=UTC)
    with rt.db.transaction() as session:
        customers = [Customer(name=f"c{i}") for i in range(300)]
        session.add_all(customers)
        session.flush()
        for i in range(TICKETS):
            session.add(Ticket(channel="chat" if i % 3 == 0 else "email", intent=INTENTS[i % 3],
                               priority=PRIORITIES[i % 4], queue="support", customer_id=customers[i % 300].id,
                               status="new", created_at=t0, queued_at=t0 + timedelta(seconds=i),
                               first_response_due=t0 + timedelta(minutes=i % 97)))
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, str(WORKER), pg_database, str(tmp_path / "home"), str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(PROCESSES)]
    results = [p.communicate(timeout=300) for p in procs]
    elapsed = time.monotonic() - started
    assert [p.returncode for p in procs] == [0] * PROCESSES, [r[1][-2000:] for r in results]
    lines = [r[0].split() for r in results]
    counts = [(int(solved), int(assigned)) for solved, assigned, _, _ in lines]
    assert all(solved > 0 and assigned > 0 for solved, assigned in counts), f"every process should work: {counts}"
    # Contention really happened: all four were routing at the same time, not one after another.
    spans = [(float(start), float(end)) for _, _, start, end in lines]
    assert max(s for s, _ in spans) < min(e for _, e in spans), f"the processes did not overlap: {spans}"

    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status != "solved")) == 0
        per_ticket = dict(session.execute(select(Assignment.ticket_id, func.count()).where(
            Assignment.action == "assigned").group_by(Assignment.ticket_id)).all())
        assert len(per_ticket) == TICKETS and set(per_ticket.values()) == {1}, "a ticket was assigned twice"
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.assignee_id.is_(None))) == 0
        handled = dict(session.execute(select(Ticket.assignee_id, func.count()).group_by(Ticket.assignee_id)).all())
        assert len(handled) == session.scalar(select(func.count()).select_from(Agent))
    assert sum(assigned for _, assigned in counts) == TICKETS
    print(f"{PROCESSES} processes routed {TICKETS} tickets in {elapsed:.1f}s; (solved, assigned) per process: "
          f"{counts}")
    rt.db.dispose()
