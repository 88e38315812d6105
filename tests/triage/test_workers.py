"""Several worker processes sharing one PostgreSQL inbox: every row processed exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from triage.agents.tables import Agent
from triage.config import Settings
from triage.conversations.tables import OPEN_STATUSES, Message, Ticket
from triage.events.tables import Event
from triage.inbox.service import enqueue
from triage.inbox.tables import InboxItem
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage

ROWS = 150  # enough that both workers take rows while the other is busy; throughput is benchmarks' job
TEXTS = ["Where is my order? It was due yesterday.", "I was charged twice for the same purchase",
         "The app crashes when I open settings", "Please cancel my Larkspur Plus membership",
         "I can't log in, the reset email never comes", "Do you ship to Norway?"]


@pytest.mark.slow
def test_two_worker_processes_drain_150_rows_exactly_once(tmp_path: Path, pg_database: str,
                                                          models_path: Path) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    settings = Settings(home=tmp_path / "home", database_url=pg_database, models_path=models_path)
    rt = Triage(settings)
    rt.db.ensure_schema()
    rt.sync_agents()
    with rt.db.transaction() as session:
        for i in range(ROWS):
            rec = ChatRecord.model_validate({
                "conversation_id": f"conv-{i}", "timestamp": f"2026-11-16T{9 + i // 60:02d}:{i % 60:02d}:00Z",
                "role": "customer", "customer": {"id": f"cust-{i % 150}"}, "text": TEXTS[i % len(TEXTS)],
            })
            enqueue(session=session, kind="chat", source="test", payload=rec.model_dump_json().encode(),
                    dedup_key=rec.dedup_key())
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home"), "TRIAGE_DATABASE_URL": pg_database,
           "TRIAGE_MODELS_PATH": str(models_path)}
    cmd = [sys.executable, "-m", "triage.cli", "worker", "--once"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results

    with rt.db.session() as session:
        items = list(session.scalars(select(InboxItem)))
        assert len(items) == ROWS
        assert {i.status for i in items} == {"done"}
        assert {i.attempts for i in items} == {1}  # nobody processed a row twice
        workers = {i.processed_by for i in items}
        assert len(workers) == 2, f"both workers should have taken rows, got {workers}"
        assert session.scalar(select(func.count()).select_from(Message)) == ROWS
        assert session.scalar(select(func.count()).select_from(Ticket)) == ROWS
        processed = session.execute(select(Event.inbox_id, func.count()).where(Event.kind == "inbox.processed")
                                    .group_by(Event.inbox_id)).all()
        assert len(processed) == ROWS and all(n == 1 for _, n in processed)
        # concurrent assignment never pushed an agent over capacity
        for agent in session.scalars(select(Agent)):
            held = session.scalar(select(func.count()).select_from(Ticket).where(
                Ticket.assignee_id == agent.id, Ticket.status.in_(OPEN_STATUSES)))
            assert (held or 0) <= agent.capacity, (agent.email, held, agent.capacity)
    summary = json.dumps({w: sum(1 for i in items if i.processed_by == w) for w in workers})
    print(f"rows per worker: {summary}")
    rt.db.dispose()
