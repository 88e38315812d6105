"""The router on SQLite and PostgreSQL: capacity, skills, draining, stickiness, requeue, manual moves."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.config import Settings
from triage.conversations.tables import OPEN_STATUSES, Customer, Ticket
from triage.errors import NotFound, UserError
from triage.flows.tickets import change_status
from triage.routing.service import agent_capacity, assign, reassign, set_status
from triage.routing.tables import HandlingStat
from triage.runtime import Triage

T0 = datetime(2026, 11, 16, 9, tzinfo=UTC)
CONFIG = """
default_team = "support"
[[teams]]
name = "support"
intents = ["order_status", "refund_request", "technical_problem"]

[[agents]]
name = "Ann"
email = "ann@example.com"
teams = ["support"]
skills = ["order_status", "refund_request"]
capacity_by_channel = { email = 2, chat = 1 }

[[agents]]
name = "Bob"
email = "bob@example.com"
teams = ["support"]
skills = ["order_status", "technical_problem"]
channels = ["email"]
capacity = 2
"""


@pytest.fixture
def router(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    """A two-agent team (no models needed): Ann takes email and chat, Bob only email."""
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG)
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=config,
                              environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    yield runtime
    runtime.db.dispose()


def ticket(session: Session, *, intent: str = "order_status", channel: str = "email", priority: str = "normal",
           customer: Customer | None = None, at: datetime = T0, route: bool = True) -> Ticket:
    customer = customer or Customer(name="c")
    session.add(customer)
    session.flush()
    t = Ticket(channel=channel, intent=intent, priority=priority, queue="support", customer_id=customer.id,
               status="new", created_at=at, first_response_due=at + timedelta(hours=1))
    session.add(t)
    session.flush()
    if route:
        assign(t, session=session, now=at)
    return t


def agents(session: Session) -> dict[str, Agent]:
    return {a.name: a for a in session.scalars(select(Agent))}


def held(session: Session, agent: Agent, channel: str | None = None) -> int:
    query = select(func.count()).select_from(Ticket).where(Ticket.assignee_id == agent.id,
                                                            Ticket.status.in_(OPEN_STATUSES))
    if channel:
        query = query.where(Ticket.channel == channel)
    return int(session.scalar(query) or 0)


def test_capacity_per_channel_is_never_exceeded(router: Triage) -> None:
    with router.db.transaction() as session:
        emails = [ticket(session) for _ in range(6)]
        chats = [ticket(session, channel="chat") for _ in range(2)]
        a = agents(session)
        assert agent_capacity(a["Ann"]) == {"email": 2, "chat": 1}
        assert agent_capacity(a["Bob"]) == {"email": 2}
        assert held(session, a["Ann"], "email") == 2 and held(session, a["Bob"], "email") == 2
        assert held(session, a["Ann"], "chat") == 1
        assert [t.assignee_id for t in emails].count(None) == 2
        assert chats[1].assignee_id is None and chats[1].queued_at is not None  # Bob takes no chat
        reasons = set(session.scalars(select(Assignment.reason).where(Assignment.action == "queued")))
        assert reasons == {"all agents in queue at capacity"}


def test_skills_are_respected(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        tech = [ticket(session, intent="technical_problem") for _ in range(3)]
        # Ann is idle throughout, but only Bob knows technical problems: the third waits for him
        assert [t.assignee_id for t in tech] == [a["Bob"].id, a["Bob"].id, None]
        refund = ticket(session, intent="refund_request")
        assert refund.assignee_id == a["Ann"].id


def test_solving_frees_a_slot_for_the_most_urgent_waiting_ticket(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        set_status("bob@example.com", "offline", session=session, now=T0)
        first, _ = ticket(session), ticket(session)
        normal = ticket(session, priority="normal", at=T0 + timedelta(minutes=1))
        urgent = ticket(session, priority="urgent", at=T0 + timedelta(minutes=2))
        assert normal.assignee_id is None and urgent.assignee_id is None
        result = change_status(first.id, "solved", config=router.config, session=session, actor="cli",
                               now=T0 + timedelta(minutes=30))
        assert result.assigned == 1
        assert urgent.assignee_id == a["Ann"].id and normal.assignee_id is None
        stat = session.get(HandlingStat, ("order_status", "email"))
        assert stat is not None and stat.count == 1 and stat.mean_minutes == pytest.approx(30.0)
        again = change_status(first.id, "solved", config=router.config, session=session, actor="cli")
        assert (again.old, again.assigned) == ("solved", 0)  # already solved: nothing freed twice


def test_agent_coming_online_drains_the_queue(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        set_status("ann@example.com", "offline", session=session, now=T0)
        refund = ticket(session, intent="refund_request")
        assert refund.assignee_id is None  # only Ann knows refunds: it waits for her, not for Bob
        reason = session.scalar(select(Assignment.reason).where(Assignment.ticket_id == refund.id))
        assert reason == "no qualified agent online"
        assert set_status("ann@example.com", "online", session=session, now=T0 + timedelta(minutes=5)) == \
            {"requeued": 0, "assigned": 1}
        assert refund.assignee_id == a["Ann"].id and refund.queued_at is None


def test_going_offline_sends_unanswered_tickets_back(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        set_status("bob@example.com", "away", session=session, now=T0)
        answered, unanswered = ticket(session), ticket(session)
        assert answered.assignee_id == unanswered.assignee_id == a["Ann"].id
        answered.first_responded_at = T0 + timedelta(minutes=1)
        set_status("bob@example.com", "online", session=session, now=T0 + timedelta(minutes=2))
        result = set_status("ann@example.com", "offline", session=session, now=T0 + timedelta(minutes=3))
        assert result == {"requeued": 1, "assigned": 1}
        assert answered.assignee_id == a["Ann"].id  # she keeps what she already answered
        assert unanswered.assignee_id == a["Bob"].id
        history = [(h.action, h.agent_id) for h in session.scalars(
            select(Assignment).where(Assignment.ticket_id == unanswered.id).order_by(Assignment.id))]
        assert history == [("assigned", a["Ann"].id), ("unassigned", a["Ann"].id), ("assigned", a["Bob"].id)]
        with pytest.raises(UserError, match="unknown status"):
            set_status("ann@example.com", "asleep", session=session)


def test_returning_customer_goes_back_to_their_agent(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        customer = Customer(name="Maria")
        session.add(customer)
        set_status("ann@example.com", "away", session=session, now=T0)
        earlier = ticket(session, customer=customer)
        assert earlier.assignee_id == a["Bob"].id
        set_status("ann@example.com", "online", session=session, now=T0 + timedelta(minutes=1))
        again = ticket(session, customer=customer, at=T0 + timedelta(minutes=2))
        # Bob holds one ticket, Ann none: balance alone would pick Ann
        assert again.assignee_id == a["Bob"].id
        assert "same agent as this customer's last ticket" in (
            session.scalar(select(Assignment.reason).where(Assignment.ticket_id == again.id)) or "")


def test_manual_reassign_is_recorded_and_checked(router: Triage) -> None:
    with router.db.transaction() as session:
        a = agents(session)
        tickets = [ticket(session) for _ in range(5)]
        waiting = tickets[4]
        moved = next(t for t in tickets if t.assignee_id == a["Bob"].id)
        with pytest.raises(UserError, match="at capacity"):
            reassign(moved.id, "ann@example.com", session=session, reason="knows the case", actor="sam")
        with pytest.raises(UserError, match="reason"):
            reassign(moved.id, "ann@example.com", session=session, reason=" ", actor="sam")
        with pytest.raises(UserError, match="no agent"):
            reassign(moved.id, "eve@example.com", session=session, reason="x", actor="sam")
        result = reassign(moved.id, "ann@example.com", session=session, reason="knows the case", actor="sam",
                          force=True)
        assert moved.assignee_id == a["Ann"].id
        assert result == {"assigned": 1} and waiting.assignee_id == a["Bob"].id  # Bob's freed slot drained
        last = session.scalars(select(Assignment).where(Assignment.ticket_id == moved.id)
                               .order_by(Assignment.id.desc())).first()
        assert last is not None and (last.action, last.actor) == ("reassigned", "sam")
        assert last.reason == "by hand: knows the case (forced)"


def test_status_from_the_file_does_not_undo_a_live_change(router: Triage) -> None:
    with router.db.transaction() as session:
        set_status("ann@example.com", "offline", session=session, now=T0)
    router.sync_agents()
    with router.db.session() as session:
        assert agents(session)["Ann"].status == "offline"


def _cli(home: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRIAGE_HOME": str(home), "TRIAGE_CONFIG_FILE": str(config)}
    env.pop("TRIAGE_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_agents_and_assignment_errors(tmp_path: Path) -> None:
    config = tmp_path / "triage.toml"
    config.write_text(CONFIG)
    home = tmp_path / "home"
    ok = _cli(home, config, "agents", "status", "ANN@example.com", "away")
    assert ok.returncode == 0, ok.stderr
    listed = _cli(home, config, "agents", "list", "--json")
    assert listed.returncode == 0 and '"status": "away"' in listed.stdout
    bad = _cli(home, config, "agents", "status", "ann@example.com", "asleep")
    assert bad.returncode == 2 and "unknown status 'asleep'" in bad.stderr and "Traceback" not in bad.stderr
    missing = _cli(home, config, "tickets", "assign", "999", "ann@example.com", "--reason", "x")
    assert missing.returncode == NotFound.exit_code and "no ticket #999" in missing.stderr


def test_config_channels_and_capacities_are_checked(tmp_path: Path) -> None:
    from triage.config import load_config

    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG.replace('channels = ["email"]', 'channels = ["email"]\ncapacity_by_channel = { chat = 3 }'))
    with pytest.raises(UserError, match=r"capacity_by_channel names \['chat'\] but channels is \['email'\]"):
        load_config(bad)
    negative = tmp_path / "negative.toml"
    negative.write_text(CONFIG.replace("email = 2, chat = 1", "email = -1"))
    with pytest.raises(UserError, match="capacity_by_channel"):
        load_config(negative)
