"""Reports benchmark: each report over 100,000 generated tickets (30 days), on SQLite and PostgreSQL.

The baseline column is the time to fetch every ticket's creation time once (a full scan, read by
Python), measured in the same run: a report costing a few baselines aggregates in the database.
Set TRIAGE_BENCH_REPORT_TICKETS for another size.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from benchmarks.common import Row, drop_database, postgres_url, temp_runtime, timed
from models.vocabulary import PRIORITIES, SENTIMENTS
from triage.agents.tables import Agent
from triage.conversations.tables import Customer, Message, Ticket
from triage.reports import service
from triage.reports.charts import render_png
from triage.reports.periods import make_period
from triage.sla.tables import SlaEvent, SlaPause

NAME = "reports"
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
DAYS = 30
INTENTS = ("order_status", "billing_charge", "refund", "tech_issue", "cancel", "other")


def populate(rt, tickets: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Tickets spread over 30 days with customer messages, agent replies, pauses and breaches."""
    rng = random.Random(seed)
    with rt.db.transaction() as session:
        agents = list(session.scalars(select(Agent.id)))
        session.execute(insert(Customer), [{"name": f"c{i}"} for i in range(1000)])
        customers = list(session.scalars(select(Customer.id)))
    start = UNTIL - timedelta(days=DAYS)
    batch = 10_000
    for first in range(0, tickets, batch):
        rows, messages, pauses, breaches = [], [], [], []
        for i in range(first, min(first + batch, tickets)):
            created = start + timedelta(seconds=rng.uniform(0, DAYS * 86400 - 3600))
            reply = timedelta(minutes=rng.expovariate(1 / 90)) if rng.random() < 0.9 else None
            solved = (created + timedelta(hours=rng.expovariate(1 / 20))) if reply and rng.random() < 0.7 else None
            if solved is not None and solved > UNTIL:
                solved = None
            rows.append({"id": i + 1, "channel": rng.choice(("email", "chat")),
                         "queue": rng.choice(("customer-care", "billing", "technical")),
                         "priority": rng.choice(PRIORITIES), "customer_id":
                         rng.choice(customers), "assignee_id": rng.choice(agents) if reply else None,
                         "intent": rng.choice(INTENTS), "sentiment": rng.choice(SENTIMENTS),
                         "status": "solved" if solved else ("open" if reply else "new"), "created_at": created,
                         "updated_at": solved or created, "solved_at": solved,
                         "first_responded_at": created + reply if reply else None,
                         "first_response_due": created + timedelta(hours=4),
                         "resolution_due": created + timedelta(days=1)})
            messages.append({"ticket_id": i + 1, "direction": "in", "author_kind": "customer",
                             "dedup_key": f"b:{i}:0", "sent_at": created})
            if reply:
                messages.append({"ticket_id": i + 1, "direction": "out", "author_kind": "agent",
                                 "dedup_key": f"b:{i}:1", "sent_at": created + reply})
                messages.append({"ticket_id": i + 1, "direction": "in", "author_kind": "customer",
                                 "dedup_key": f"b:{i}:2", "sent_at": created + reply + timedelta(minutes=20)})
                if rng.random() < 0.2:
                    pause = created + reply + timedelta(minutes=1)
                    pauses.append({"ticket_id": i + 1, "started_at": pause,
                                   "ended_at": pause + timedelta(hours=2) if solved else None})
            if reply is None or reply > timedelta(hours=4):
                breaches.append({"ticket_id": i + 1, "metric": "first_response", "kind": "breach",
                                 "clock_started_at": created, "due_at": created + timedelta(hours=4),
                                 "fired_at": created + timedelta(hours=4)})
        with rt.db.transaction() as session:
            for table, values in ((Ticket, rows), (Message, messages), (SlaPause, pauses), (SlaEvent, breaches)):
                if values:
                    session.execute(insert(table), values)
    if rt.db.engine.dialect.name == "postgresql":
        with rt.db.engine.begin() as conn:
            conn.exec_driver_sql("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
            conn.exec_driver_sql("ANALYZE")


def _measure(rt, backend: str, tickets: int) -> list[Row]:  # type: ignore[no-untyped-def]
    period = make_period(UNTIL - timedelta(days=DAYS), UNTIL, tz="Europe/Berlin")
    now = UNTIL + timedelta(hours=1)
    where = f"{tickets:,} tickets, 30 days, {backend}"
    with rt.db.session() as session:
        baseline = timed(lambda: session.execute(select(Ticket.created_at)).all())
        reports = {
            "response-times by agent": lambda: service.response_times(session=session, period=period, by="agent"),
            "sla": lambda: service.sla_attainment(session=session, period=period, now=now),
            "volume (Europe/Berlin)": lambda: service.volume(session=session, period=period),
            "volume of customer messages": lambda: service.volume(session=session, period=period, unit="messages"),
            "backlog": lambda: service.backlog(session=session, period=period, now=now),
            "mix per day": lambda: service.mix(session=session, period=period),
        }
        rows = []
        for case, make in reports.items():
            make()  # warm caches once, then the best of three
            seconds = min(timed(make) for _ in range(3))
            rows.append(Row(NAME, f"{case} ({where})", seconds, "s", baseline, "baseline: fetch every created_at"))
        report = service.backlog(session=session, period=period, now=now)
    render_png(report)  # the first chart pays for importing matplotlib
    rows.append(Row(NAME, f"backlog PNG chart ({backend})", timed(lambda: render_png(report)), "s"))
    return rows


def run() -> list[Row]:
    tickets = int(os.environ.get("TRIAGE_BENCH_REPORT_TICKETS", "100000"))
    rows = []
    for backend, url in (("SQLite", None), ("PostgreSQL", postgres_url())):
        if backend == "PostgreSQL" and url is None:
            rows.append(Row(NAME, "PostgreSQL", 0, "-", note="PostgreSQL not reachable: skipped"))
            continue
        rt = temp_runtime(url)
        try:
            populate(rt, tickets)
            rows += _measure(rt, backend, tickets)
        finally:
            rt.db.dispose()
            if url is not None:
                drop_database(url)
    return rows
