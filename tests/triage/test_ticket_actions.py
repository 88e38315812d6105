"""Status changes (SLA and routing together), replies through the outbox, relabels; SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.config import Settings
from triage.conversations.service import TicketFilter, list_tickets
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.errors import Conflict, NotFound, UserError
from triage.flows.mail import sender_address
from triage.flows.tickets import change_status, relabel, reply
from triage.outbox.tables import OutboxItem
from triage.routing.service import assign, set_capacity
from triage.routing.tables import HandlingStat
from triage.runtime import Triage
from triage.sla.service import refresh_sla, sla_state
from triage.sla.tables import SlaPause

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)
CONFIG = """
company = "Larkspur Home"
default_team = "care"

[[teams]]
name = "care"
intents = ["order_status", "refund_request"]

[[agents]]
name = "Ann Agent"
email = "ann@larkspur.example"
teams = ["care"]
capacity = 1

[[mailboxes]]
address = "care@larkspur.example"
team = "care"

[[mailboxes]]
address = "info@larkspur.example"

[[sla]]
channel = "email"
priority = "normal"
first_response = "4h"
next_response = "2h"
resolution = "16h"

[[sla]]
channel = "chat"
priority = "normal"
first_response = "10m"
resolution = "1h"
"""


@pytest.fixture
def desk(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    """One agent with room for one ticket per channel, a team mailbox and SLA policies (no models needed)."""
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG)
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=config,
                              environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    yield runtime
    runtime.db.dispose()


def make_ticket(rt: Triage, session: Session, *, channel: str = "email", at: datetime = T0,
                subject: str = "Where is my order?", text: str = "My order LH-1 has not arrived.",
                email: str | None = None, intent: str = "order_status") -> Ticket:
    customer = Customer(name="Maria Jensen")
    session.add(customer)
    session.flush()
    email = email or f"customer{customer.id}@example.com"
    session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=email))
    ticket = Ticket(channel=channel, subject=subject, customer_id=customer.id, status="new", queue="care",
                    intent=intent, sentiment="neutral", urgency="normal", created_at=at)
    session.add(ticket)
    session.flush()
    session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer",
                        author=email if channel == "email" else "chat-7", dedup_key=f"k:{ticket.id}",
                        message_id=f"m{ticket.id}@mail.example.com" if channel == "email" else None,
                        references=["root@mail.example.com"] if channel == "email" else [],
                        subject=subject, text=text, full_text=text, sent_at=at))
    session.flush()
    refresh_sla(ticket, rt.config, session=session, now=at)
    assign(ticket, session=session, now=at)
    return ticket


def ann(session: Session) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == "ann@larkspur.example"))
    assert agent is not None
    return agent


def test_solving_stops_the_clocks_frees_the_slot_and_learns(desk: Triage) -> None:
    with desk.db.transaction() as session:
        first = make_ticket(desk, session)
        waiting = make_ticket(desk, session, at=T0 + timedelta(minutes=1))
        assert first.assignee_id == ann(session).id and waiting.assignee_id is None  # capacity 1
        change_status(first.id, "pending", config=desk.config, session=session, actor="ann", now=T0 + timedelta(
            minutes=10))
        assert first.sla_paused_at is not None and first.sla_next_check_at is None

        change = change_status(first.id, "solved", config=desk.config, session=session, actor="ann",
                               now=T0 + timedelta(minutes=40))
        assert (change.old, change.new, change.assigned) == ("pending", "solved", 1)
        # SLA half: the pause is closed, the ticket is stopped, nothing is scheduled.
        assert first.solved_at == T0 + timedelta(minutes=40) and first.sla_paused_at is None
        pause = session.scalar(select(SlaPause).where(SlaPause.ticket_id == first.id))
        assert pause is not None and pause.ended_at == T0 + timedelta(minutes=40)
        assert first.sla_next_check_at is None and sla_state(first, desk.config, session=session).timers == []
        # Routing half: the freed slot went to the waiting ticket, and 40 minutes were learned.
        assert waiting.assignee_id == ann(session).id
        stat = session.get(HandlingStat, ("order_status", "email"))
        assert stat is not None and stat.count == 1 and stat.mean_minutes == pytest.approx(40.0)

        # Reopening keeps the assignee; closing frees the slot again without learning anything.
        change_status(first.id, "open", config=desk.config, session=session, actor="ann",
                      now=T0 + timedelta(minutes=50))
        assert first.solved_at is None and first.sla_next_check_at is not None
        change_status(waiting.id, "closed", config=desk.config, session=session, actor="ann",
                      now=T0 + timedelta(minutes=60))
        assert session.get(HandlingStat, ("order_status", "email")).count == 1  # type: ignore[union-attr]

        with pytest.raises(UserError, match="unknown status 'done'"):
            change_status(first.id, "done", config=desk.config, session=session, actor="ann")
        with pytest.raises(NotFound):
            change_status(999999, "solved", config=desk.config, session=session, actor="ann")


def test_reopening_an_unassigned_ticket_routes_it(desk: Triage) -> None:
    with desk.db.transaction() as session:
        ticket = make_ticket(desk, session)
        change_status(ticket.id, "solved", config=desk.config, session=session, actor="ann")
        ticket.assignee_id = None
        session.flush()
        change_status(ticket.id, "open", config=desk.config, session=session, actor="ann")
        assert ticket.assignee_id == ann(session).id


def test_cli_status_and_solve_use_both_halves(tmp_path: Path) -> None:
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG)
    settings = Settings(home=tmp_path / "home", config_file=config, environment="test")  # SQLite: a CLI check
    rt = Triage(settings)
    rt.db.ensure_schema()
    rt.sync_agents()
    with rt.db.transaction() as session:
        first_id = make_ticket(rt, session, at=datetime.now(UTC) - timedelta(minutes=20)).id
        waiting_id = make_ticket(rt, session).id
    rt.db.dispose()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TRIAGE_HOME": str(settings.home), "TRIAGE_CONFIG_FILE": str(config)}
        env.pop("TRIAGE_DATABASE_URL", None)
        return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, capture_output=True,
                              text=True, timeout=120)

    status = cli("tickets", "status", str(first_id), "Solved")
    assert status.returncode == 0 and "1 waiting ticket(s) assigned" in status.stdout, status.stderr
    assert cli("tickets", "solve", str(waiting_id)).returncode == 0
    again = cli("tickets", "solve", str(waiting_id))
    assert again.returncode == 2 and "already solved" in again.stderr
    rt = Triage(settings)
    with rt.db.session() as session:
        stat = session.get(HandlingStat, ("order_status", "email"))
        assert stat is not None and stat.count == 2  # both commands learned the handling time
        solved = session.get(Ticket, first_id)
        assert solved is not None and solved.solved_at is not None and solved.sla_next_check_at is None
    rt.db.dispose()


def test_email_reply_goes_through_the_outbox_threaded(desk: Triage) -> None:
    with desk.db.transaction() as session:
        ticket = make_ticket(desk, session, email="maria@example.com")
        agent = ann(session)
        out = reply(ticket.id, "Hello Maria,\nit ships today.", config=desk.config, session=session,
                    actor="ann-key", agent_id=agent.id, now=T0 + timedelta(minutes=5))
        assert out.outbox is not None and out.outbox.kind == "agent_reply"
        assert out.outbox.recipient == "maria@example.com" and out.outbox.sender == "care@larkspur.example"
        mail = message_from_bytes(out.outbox.raw, policy=default_policy)
        assert mail["Subject"] == f"Re: Where is my order? [#{ticket.id}]"
        assert mail["In-Reply-To"] == f"<m{ticket.id}@mail.example.com>"
        assert mail["References"] == f"<root@mail.example.com> <m{ticket.id}@mail.example.com>"
        assert "Ann Agent" in mail["From"] and mail["Auto-Submitted"] is None
        assert mail.get_content().splitlines() == ["Hello Maria,", "it ships today."]
        assert out.message.direction == "out" and out.message.author == "ann@larkspur.example"
        assert out.message.dedup_key == f"mid:{out.outbox.message_id}"
        # The reply is the first response: its clock stops, the next-response clock is idle.
        assert ticket.first_responded_at == T0 + timedelta(minutes=5) and ticket.status == "open"
        assert [t.metric for t in sla_state(ticket, desk.config, session=session).timers] == ["resolution"]

        with pytest.raises(UserError, match="empty"):
            reply(ticket.id, "  ", config=desk.config, session=session, actor="ann")
        change_status(ticket.id, "closed", config=desk.config, session=session, actor="ann")
        with pytest.raises(Conflict, match="closed"):
            reply(ticket.id, "late", config=desk.config, session=session, actor="ann")
        assert len(list(session.scalars(select(OutboxItem)))) == 1


def test_email_reply_comes_from_the_mailbox_the_customer_wrote_to(desk: Triage) -> None:
    with desk.db.transaction() as session:
        ticket = make_ticket(desk, session)
        # Classified into "care", whose mailbox is care@: the customer wrote to info@, and hears back from it.
        ticket.messages[0].raw = (b"From: c@example.com\r\nTo: Info <INFO@larkspur.example>, c2@example.com\r\n"
                                  b"Subject: hi\r\n\r\nbody\r\n")
        session.flush()
        out = reply(ticket.id, "Hello", config=desk.config, session=session, actor="supervisor-1")
        assert out.outbox is not None and out.outbox.sender == "info@larkspur.example"


def test_sender_address_prefers_the_mailbox_written_to(desk: Triage) -> None:
    config = desk.config
    written = ["c2@example.com", "info@larkspur.example", "care@larkspur.example"]
    # agent reply: the first of ours the customer wrote to, else the team's, else from_address, else the first
    assert sender_address(config, kind="agent_reply", team="care", written_to=written) == "info@larkspur.example"
    assert sender_address(config, kind="agent_reply", team="care", written_to=["c2@example.com"]) == \
        "care@larkspur.example"
    assert sender_address(config, kind="agent_reply", team="other") == "care@larkspur.example"  # sorted first
    config.auto_reply.from_address = "help@larkspur.example"
    try:
        assert sender_address(config, kind="agent_reply", team="other") == "help@larkspur.example"
        assert sender_address(config, kind="agent_reply", team="care") == "care@larkspur.example"
        # automatic mail keeps the configured address first
        assert sender_address(config, kind="notification", written_to=written) == "help@larkspur.example"
    finally:
        config.auto_reply.from_address = None


def test_chat_reply_is_stored_for_the_widget(desk: Triage) -> None:
    with desk.db.transaction() as session:
        ticket = make_ticket(desk, session, channel="chat")
        out = reply(ticket.id, "Hi! Let me check.", config=desk.config, session=session, actor="supervisor-1",
                    now=T0 + timedelta(minutes=1))
        assert out.outbox is None and out.message.author == "supervisor-1"
        assert ticket.first_responded_at == T0 + timedelta(minutes=1)
        assert session.scalar(select(OutboxItem)) is None


def test_relabel_records_feedback_on_the_latest_customer_message(desk: Triage) -> None:
    with desk.db.transaction() as session:
        ticket = make_ticket(desk, session)
        other = make_ticket(desk, session)
        feedback = relabel(ticket.id, "intent", "refund_request", session=session, actor="ann@larkspur.example")
        assert feedback.label == "refund_request" and ticket.intent == "refund_request"
        foreign = other.messages[0].id
        with pytest.raises(NotFound, match="no message"):
            relabel(ticket.id, "intent", "refund_request", session=session, actor="ann", message_id=foreign)
        with pytest.raises(UserError, match="unknown urgency"):
            relabel(ticket.id, "urgency", "whenever", session=session, actor="ann")


def test_filters_search_and_visibility(desk: Triage) -> None:
    with desk.db.transaction() as session:
        email = make_ticket(desk, session, subject="Invoice 100% wrong", text="charged twice")
        chat = make_ticket(desk, session, channel="chat", subject="", text="The lamp_x will not pair",
                           intent="refund_request", at=T0 + timedelta(hours=2))
        chat.queue, chat.assignee_id = "elsewhere", None
        session.flush()

        def ids(**kw: object) -> list[int]:
            return [t.id for t in list_tickets(session=session, where=TicketFilter(**kw))]  # type: ignore[arg-type]

        assert ids(q="100%") == [email.id] and ids(q="lamp_x") == [chat.id] and ids(q="CHARGED") == [email.id]
        assert ids(q="100_") == [] and ids(q="lamp%") == []  # wildcards are literal
        assert ids(channel="chat") == [chat.id] and ids(intent="order_status") == [email.id]
        assert ids(created_since=T0 + timedelta(hours=1)) == [chat.id]
        assert ids(created_until=T0 + timedelta(hours=1)) == [email.id]
        assert ids(assignee_id=ann(session).id) == [email.id] and ids(unassigned=True) == [chat.id]
        # Combined with an agent's visibility: only the queues given, plus what is assigned to him.
        visible = list_tickets(session=session, visible_queues={"elsewhere"}, or_assignee=ann(session).id,
                               where=TicketFilter(q="a"))
        assert [t.id for t in visible] == [chat.id, email.id]
        assert [t.id for t in list_tickets(session=session, visible_queues={"elsewhere"},
                                           where=TicketFilter(channel="email"))] == []


def test_capacity_change_takes_waiting_work(desk: Triage) -> None:
    with desk.db.transaction() as session:
        make_ticket(desk, session)
        waiting = make_ticket(desk, session)
        assert waiting.assignee_id is None
        assert set_capacity("ann@larkspur.example", session=session, by_channel={"email": 2}) == {"assigned": 1}
        assert waiting.assignee_id == ann(session).id
        with pytest.raises(UserError, match="unknown channel"):
            set_capacity("ann@larkspur.example", session=session, by_channel={"fax": 1})
        with pytest.raises(UserError, match="no agent"):
            set_capacity("nobody@larkspur.example", session=session, capacity=3)
