"""SLA clocks stored on tickets, pauses, and the scheduler's warnings, breaches and escalations."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.config import Settings
from triage.conversations.tables import Customer, Ticket
from triage.db import utcnow
from triage.errors import InvalidInput
from triage.events.tables import Event
from triage.flows.sla import check_due
from triage.flows.tickets import apply_status
from triage.outbox.service import deliver_due
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.sla.service import agent_replied, customer_wrote, refresh_sla, set_priority
from triage.sla.tables import SlaEvent, SlaPause

BERLIN = ZoneInfo("Europe/Berlin")

CONFIG = """
company = "Larkspur Home"
default_team = "care"

[[teams]]
name = "care"
intents = ["order_status"]
lead = "lead@larkspur.example"
calendar = "office"

[[calendars]]
name = "office"
timezone = "Europe/Berlin"
hours = "Mon-Fri 09:00-17:00"
holidays = [2026-12-25]

[[agents]]
name = "Lee Lead"
email = "lead@larkspur.example"
teams = ["care"]

[[agents]]
name = "Ada Agent"
email = "ada@larkspur.example"
teams = ["care"]

[[mailboxes]]
address = "support@larkspur.example"

[[sla]]
channel = "email"
priority = "normal"
first_response = "4h"
next_response = "2h"
resolution = "16h"

[[sla]]
channel = "email"
priority = "high"
first_response = "1h"
resolution = "8h"

[sla_timers]
warn_at = 0.75
"""

ESCALATIONS = """
[[sla_timers.escalations]]
on = "warning"
metrics = ["first_response"]
actions = ["notify_email"]
notify = ["lead", "assignee"]

[[sla_timers.escalations]]
on = "breach"
metrics = ["first_response"]
priorities = ["normal"]
actions = ["raise_priority", "reassign_to_lead", "webhook"]
webhook_url = "{url}"
"""


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def make_rt(tmp_path: Path, database_url: str, extra: str = "") -> Triage:
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG + extra, encoding="utf-8")
    rt = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=config,
                         environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    return rt


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    runtime = make_rt(tmp_path, database_url)
    yield runtime
    runtime.db.dispose()


def new_ticket(rt: Triage, session: Session, created: datetime, *, priority: str = "normal") -> Ticket:
    customer = Customer(name="Maria")
    session.add(customer)
    session.flush()
    ticket = Ticket(channel="email", subject="Where is my order?", customer_id=customer.id, status="new",
                    priority=priority, queue="care", created_at=created)
    session.add(ticket)
    session.flush()
    customer_wrote(ticket, created)
    refresh_sla(ticket, rt.config, session=session, now=created)
    return ticket


def test_due_times_follow_the_team_calendar(rt: Triage) -> None:
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, local(2026, 11, 20, 16, 30), priority="high")  # a Friday
        ticket_id = ticket.id
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.first_response_due == local(2026, 11, 23, 9, 30)  # 1 business hour later
        assert ticket.resolution_due == local(2026, 11, 23, 16, 30)  # 8 h: 0.5 h Friday + 7.5 h Monday
        assert ticket.sla_next_check_at == local(2026, 11, 23, 9, 15)  # warning at 75 %
        assert ticket.next_response_due is None


def test_pending_pause_pushes_the_deadline_out_and_silences_the_scheduler(rt: Triage) -> None:
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, local(2026, 11, 18, 10, 0))  # Wednesday, 4 h target
        assert ticket.first_response_due == local(2026, 11, 18, 14, 0)
        apply_status(ticket, "pending", config=rt.config, session=session, now=local(2026, 11, 18, 11, 0))
        ticket_id = ticket.id
    assert check_due(rt.db, rt.config, now=local(2026, 11, 18, 16, 0)) == []  # past due, but paused
    with rt.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.sla_next_check_at is None
        apply_status(ticket, "open", config=rt.config, session=session, now=local(2026, 11, 19, 10, 0))
        # paused 11:00-17:00 Wednesday and 09:00-10:00 Thursday: 7 business hours added
        assert ticket.first_response_due == local(2026, 11, 19, 13, 0)
        assert ticket.sla_paused_at is None
        pauses = list(session.scalars(select(SlaPause).where(SlaPause.ticket_id == ticket_id)))
        assert [(p.started_at, p.ended_at) for p in pauses] == [(local(2026, 11, 18, 11, 0),
                                                                 local(2026, 11, 19, 10, 0))]
        statuses = [e.data for e in session.scalars(select(Event).where(Event.kind == "ticket.status"))]
        assert [(s["old"], s["new"]) for s in statuses] == [("new", "pending"), ("pending", "open")]


def test_next_response_counts_from_the_oldest_unanswered_message(rt: Triage) -> None:
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, local(2026, 11, 18, 9, 0))
        agent_replied(ticket, local(2026, 11, 18, 9, 30), config=rt.config, session=session)
        assert ticket.first_responded_at == local(2026, 11, 18, 9, 30) and ticket.status == "open"
        assert ticket.next_response_due is None
        for hour in (11, 12):
            customer_wrote(ticket, local(2026, 11, 18, hour, 0))
            refresh_sla(ticket, rt.config, session=session)
        assert ticket.next_response_due == local(2026, 11, 18, 13, 0)  # 11:00 + 2 h, not 12:00 + 2 h
        agent_replied(ticket, local(2026, 11, 18, 12, 30), config=rt.config, session=session)
        assert ticket.awaiting_reply_since is None and ticket.next_response_due is None


def test_priority_and_status_changes_move_or_stop_the_clocks(rt: Triage) -> None:
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, local(2026, 11, 18, 9, 0))
        assert ticket.first_response_due == local(2026, 11, 18, 13, 0)
        set_priority(ticket, "high", config=rt.config, session=session)
        assert ticket.first_response_due == local(2026, 11, 18, 10, 0)
        apply_status(ticket, "solved", config=rt.config, session=session, now=local(2026, 11, 18, 9, 30))
        assert ticket.sla_next_check_at is None and ticket.solved_at == local(2026, 11, 18, 9, 30)
        with pytest.raises(InvalidInput, match="unknown status 'done'"):
            apply_status(ticket, "done", config=rt.config, session=session)
        with pytest.raises(ValueError, match="unknown priority"):
            set_priority(ticket, "critical", config=rt.config, session=session)


class Hook:
    """A real HTTP endpoint on loopback answering with the given status codes in turn, then 200."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.bodies: list[dict[str, object]] = []
        self.headers: list[dict[str, str]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = hook.answers.pop(0) if hook.answers else 200
                if code == 200:
                    hook.bodies.append(json.loads(body))
                    hook.headers.append(dict(self.headers))
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sla"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_warning_and_breach_fire_once_and_escalate(tmp_path: Path, database_url: str) -> None:
    hook = Hook([503])
    rt = make_rt(tmp_path, database_url, ESCALATIONS.format(url=hook.url))
    try:
        with rt.db.transaction() as session:
            ada = session.scalar(select(Agent).where(Agent.email == "ada@larkspur.example"))
            ticket = new_ticket(rt, session, local(2026, 11, 18, 9, 0))  # first response due 13:00
            ticket.assignee_id = ada.id if ada else None
            ticket_id = ticket.id

        assert check_due(rt.db, rt.config, now=local(2026, 11, 18, 11, 59)) == []
        fired = check_due(rt.db, rt.config, now=local(2026, 11, 18, 12, 0))  # 75 % of 4 h
        assert [(f.metric, f.kind) for f in fired] == [("first_response", "warning")]
        assert check_due(rt.db, rt.config, now=local(2026, 11, 18, 12, 30)) == []  # never twice
        with rt.db.session() as session:
            mails = list(session.scalars(select(OutboxItem).where(OutboxItem.kind == "notification")))
            assert sorted(m.recipient for m in mails) == ["ada@larkspur.example", "lead@larkspur.example"]
            assert all(m.subject.startswith(f"[SLA warning] #{ticket_id} first response due 2026-11-18 13:00")
                       for m in mails)
            assert all(b"Auto-Submitted: auto-generated" in m.raw for m in mails)

        fired = check_due(rt.db, rt.config, now=local(2026, 11, 18, 13, 5))
        assert [(f.metric, f.kind) for f in fired] == [("first_response", "breach")]
        with rt.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None and ticket.priority == "high"  # raised; deadline now 10:00, already past
            assert ticket.assignee is not None and ticket.assignee.email == "lead@larkspur.example"
            rows = list(session.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id)
                                        .order_by(Assignment.id)))
            # through the router, like any move: one "reassigned" row, Ada's slot freed
            assert [(a.action, a.agent.email if a.agent else None) for a in rows] == [
                ("reassigned", "lead@larkspur.example")]
            assert rows[-1].reason == "SLA first response breach: escalated to the team lead of care"
        # the earlier deadline of the raised priority does not fire the same clock again
        assert [f for f in check_due(rt.db, rt.config, now=local(2026, 11, 18, 16, 0))
                if f.metric == "first_response"] == []

        relay = rt.config.smtp_relay.model_copy(update={"port": 1})  # mail fails; we look at the webhook
        first = deliver_due(rt.db, relay)  # queued at the real current time
        assert hook.bodies == [] and first.deferred >= 1  # the 503 is retried later
        deliver_due(rt.db, relay, now=utcnow() + timedelta(hours=2))
        assert len(hook.bodies) == 1
        body = hook.bodies[0]
        assert body["event"] == "sla.breach" and body["metric"] == "first_response"
        assert body["ticket_id"] == ticket_id
        assert datetime.fromisoformat(str(body["due_at"])) == local(2026, 11, 18, 13, 0)
        assert hook.headers[0]["X-Triage-Delivery"] == body["delivery_id"]
        with rt.db.session() as session:
            item = session.scalar(select(OutboxItem).where(OutboxItem.kind == "webhook"))
            assert item is not None and item.status == "sent" and item.attempts == 2
            kinds = session.execute(select(SlaEvent.metric, SlaEvent.kind)).all()
            assert sorted(kinds) == [("first_response", "breach"), ("first_response", "warning"),
                                     ("resolution", "warning")]
            assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "sla.breach")) == 1
    finally:
        hook.close()
        rt.db.dispose()


def test_webhook_client_errors_are_not_retried(tmp_path: Path, database_url: str) -> None:
    hook = Hook([404])
    rt = make_rt(tmp_path, database_url)
    try:
        from triage.outbox.service import queue_webhook

        with rt.db.transaction() as session:
            queue_webhook(hook.url, {"event": "sla.breach"}, session=session, ticket_id=None, kind="sla.breach")
        result = deliver_due(rt.db, rt.config.smtp_relay)
        assert result.failed == 1
        with rt.db.session() as session:
            item = session.scalar(select(OutboxItem))
            assert item is not None and item.status == "failed" and "404" in (item.last_error or "")
    finally:
        hook.close()
        rt.db.dispose()


def test_bad_escalation_config_names_the_field(tmp_path: Path) -> None:
    from triage.config import load_config
    from triage.errors import UserError

    path = tmp_path / "triage.toml"
    path.write_text(CONFIG + '[[sla_timers.escalations]]\non = "breach"\nactions = ["webhook"]\n', encoding="utf-8")
    with pytest.raises(UserError, match=re.escape("sla_timers.escalations.0: Value error, webhook needs webhook_url")):
        load_config(path)
    path.write_text(CONFIG.replace('calendar = "office"', 'calendar = "shop"'), encoding="utf-8")
    with pytest.raises(UserError, match="unknown calendar 'shop'"):
        load_config(path)
    path.write_text(CONFIG.replace("Mon-Fri 09:00-17:00", "Mon-Fri 9-5"), encoding="utf-8")
    with pytest.raises(UserError, match=re.escape("calendars.0: Value error, invalid hours")):
        load_config(path)


def test_reopening_a_solved_ticket_restarts_the_checks(rt: Triage) -> None:
    """Reopening a solved ticket clears solved_at and brings the clocks back."""
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, local(2026, 11, 18, 9, 0))
        apply_status(ticket, "solved", config=rt.config, session=session, now=local(2026, 11, 18, 10, 0))
        assert ticket.sla_next_check_at is None
        apply_status(ticket, "open", config=rt.config, session=session, now=local(2026, 11, 18, 10, 30))
        assert ticket.solved_at is None and ticket.sla_next_check_at == local(2026, 11, 18, 12, 0)
        assert ticket.first_response_due == local(2026, 11, 18, 13, 0)
