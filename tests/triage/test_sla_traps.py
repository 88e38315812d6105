"""Issue 14 item 5, SLA and escalation traps: later events after an escalation, the lead's capacity, working
hours across daylight-saving changes; SQLite and PostgreSQL, every clock given explicitly."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.config import Settings, load_config
from triage.conversations.tables import OPEN_STATUSES, Customer, Ticket
from triage.errors import Conflict, UserError
from triage.events.tables import Event
from triage.flows.sla import check_due
from triage.outbox.tables import OutboxItem
from triage.routing.service import agent_rows, assign, drain_new_shifts, reassign, set_status
from triage.routing.shifts import effective_status
from triage.runtime import Triage
from triage.sla.service import customer_wrote, refresh_sla
from triage.sla.tables import SlaEvent

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday

# Around the clock (no team calendar), so the arithmetic is plain: created 09:00, normal first response due
# 13:00 (warning 12:00). The breach raises the priority to high, whose 5 h resolution clock has its warning at
# 12:45, already past at 13:00, and its breach at 14:00.
CONFIG = """
company = "Larkspur Home"
default_team = "care"

[[teams]]
name = "care"
intents = ["order_status"]
lead = "lead@larkspur.example"

[[agents]]
name = "Lee Lead"
email = "lead@larkspur.example"
teams = ["care"]
channels = ["email"]
capacity = {lead_capacity}
working_hours = "24x7"

[[agents]]
name = "Ada Agent"
email = "ada@larkspur.example"
teams = ["care"]
channels = ["email"]
capacity = 1
working_hours = "24x7"

[[mailboxes]]
address = "support@larkspur.example"

[[sla]]
channel = "email"
priority = "normal"
first_response = "4h"
resolution = "16h"

[[sla]]
channel = "email"
priority = "high"
first_response = "1h"
resolution = "5h"

[[sla]]
channel = "email"
priority = "urgent"
first_response = "30m"
resolution = "5h"

[sla_timers]
warn_at = 0.75

[[sla_timers.escalations]]
on = "breach"
actions = ["raise_priority", "reassign_to_lead", "notify_email"]
notify = ["lead"]
"""


def make_rt(tmp_path: Path, database_url: str, config: str) -> Triage:
    path = tmp_path / "triage.toml"
    path.write_text(config, encoding="utf-8")
    rt = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=path, environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    return rt


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    runtime = make_rt(tmp_path, database_url, CONFIG.format(lead_capacity=6))
    yield runtime
    runtime.db.dispose()


def new_ticket(rt: Triage, session: Session, created: datetime, *, route: bool = True) -> Ticket:
    customer = Customer(name="Maria")
    session.add(customer)
    session.flush()
    ticket = Ticket(channel="email", subject="Where is my order?", customer_id=customer.id, status="new",
                    priority="normal", queue="care", intent="order_status", created_at=created)
    session.add(ticket)
    session.flush()
    customer_wrote(ticket, created)
    refresh_sla(ticket, rt.config, session=session, now=created)
    if route:
        assign(ticket, session=session, now=created)
    return ticket


def agent(session: Session, email: str) -> Agent:
    found = session.scalar(select(Agent).where(Agent.email == email))
    assert found is not None
    return found


def open_held(session: Session, email: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id == agent(session, email).id, Ticket.status.in_(OPEN_STATUSES))) or 0)


def events(session: Session, kind: str, ticket_id: int) -> list[dict[str, object]]:
    rows = session.scalars(select(Event).where(Event.kind == kind, Event.ticket_id == ticket_id).order_by(Event.id))
    return [dict(e.data) for e in rows]


# -- 1. an escalation never parks the ticket's later events --------------------------------------------------

@pytest.mark.parametrize("step", [timedelta(minutes=15), timedelta(hours=6)], ids=["every-15-min", "late"])
def test_every_event_still_fires_after_an_escalation(rt: Triage, step: timedelta,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with rt.db.transaction() as session:
        ticket_id = new_ticket(rt, session, T0).id
    fired = []
    now = T0
    with caplog.at_level(logging.ERROR, logger="triage.flows.sla"):
        while now <= T0 + timedelta(hours=12):
            fired += [(f.metric, f.kind, now) for f in check_due(rt.db, rt.config, now=now)]
            now += step
    assert "did not advance" not in caplog.text
    if step == timedelta(minutes=15):
        # the resolution warning was made due by the escalation itself: it fires in the same pass
        assert fired == [("first_response", "warning", T0 + timedelta(hours=3)),
                         ("first_response", "breach", T0 + timedelta(hours=4)),
                         ("resolution", "warning", T0 + timedelta(hours=4)),
                         ("resolution", "breach", T0 + timedelta(hours=5))]
    else:
        # one late pass at 15:00: both breaches (their warnings are moot), nothing parked
        assert fired == [("first_response", "breach", T0 + timedelta(hours=6)),
                         ("resolution", "breach", T0 + timedelta(hours=6))]
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.sla_next_check_at is None  # nothing left to fire, not parked
        assert ticket.priority == "urgent"  # raised by both breaches
        assert ticket.assignee is not None and ticket.assignee.email == "lead@larkspur.example"
        kinds = {(e.metric, e.kind) for e in session.scalars(select(SlaEvent))}
        assert ("resolution", "breach") in kinds and ("first_response", "breach") in kinds


def test_a_ticket_with_another_event_due_is_not_taken_for_a_spin(rt: Triage) -> None:
    """The first-response breach at 13:00 moves the resolution warning to 12:45: due in the same check_due."""
    with rt.db.transaction() as session:
        ids = [new_ticket(rt, session, T0).id for _ in range(2)]
    fired = check_due(rt.db, rt.config, now=T0 + timedelta(hours=4))
    assert sorted((f.ticket_id, f.metric, f.kind) for f in fired) == sorted(
        [(i, "first_response", "breach") for i in ids] + [(i, "resolution", "warning") for i in ids])
    with rt.db.session() as session:
        for ticket_id in ids:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None and ticket.sla_next_check_at == T0 + timedelta(hours=5)


# -- 2. escalating to the lead respects the lead's capacity ---------------------------------------------------

def test_escalation_to_a_lead_at_capacity_leaves_the_ticket_and_says_why(tmp_path: Path, database_url: str) -> None:
    rt = make_rt(tmp_path, database_url, CONFIG.format(lead_capacity=1))
    try:
        with rt.db.transaction() as session:
            held_by_lead = new_ticket(rt, session, T0 - timedelta(minutes=10), route=False)
            held_by_lead.assignee_id = agent(session, "lead@larkspur.example").id
            breaching = new_ticket(rt, session, T0)  # the router gives it to Ada, the only one with room
            assert breaching.assignee_id == agent(session, "ada@larkspur.example").id
            waiting = new_ticket(rt, session, T0 + timedelta(minutes=5))  # nobody has room
            assert waiting.assignee_id is None and waiting.queued_at is not None
            ids = breaching.id, waiting.id
        held_before = held_by_lead.id

        fired = check_due(rt.db, rt.config, now=T0 + timedelta(hours=4, minutes=10))
        assert {(f.ticket_id, f.kind) for f in fired if f.metric == "first_response"} == {
            (held_before, "breach"), (ids[0], "breach"), (ids[1], "breach")}
        with rt.db.session() as session:
            assert open_held(session, "lead@larkspur.example") == 1  # never above capacity
            breaching = session.get(Ticket, ids[0])
            assert breaching is not None and breaching.assignee is not None
            assert breaching.assignee.email == "ada@larkspur.example"  # stays where it was
            [kept] = events(session, "sla.escalated", ids[0])
            assert kept["outcome"] == "kept" and kept["lead"] == "lead@larkspur.example"
            assert "lead@larkspur.example is at capacity for email (1/1)" in str(kept["reason"])
            assert "stays with ada@larkspur.example" in str(kept["reason"])

            waiting = session.get(Ticket, ids[1])
            assert waiting is not None and waiting.assignee_id is None and waiting.queued_at is not None
            [queued] = events(session, "sla.escalated", ids[1])
            assert queued["outcome"] == "waiting" and queued["position"] == 0  # the head of its queue
            assert "waits in queue care" in str(queued["reason"])

            # the lead is told in every case, by the event and by the rule's notify_email
            lead_id = agent(session, "lead@larkspur.example").id
            told = session.scalars(select(Event.ticket_id).where(Event.kind == "sla.escalated"))
            assert set(told) == {held_before, *ids}
            assert all(e["agent_id"] == lead_id for i in ids for e in events(session, "sla.escalated", i))
            mails = session.scalars(select(OutboxItem.ticket_id).where(OutboxItem.kind == "notification",
                                                                       OutboxItem.recipient == "lead@larkspur.example"))
            assert set(mails) == {held_before, *ids}
            assert session.scalar(select(func.count()).select_from(Assignment).where(
                Assignment.agent_id == lead_id, Assignment.actor == "sla")) == 0
    finally:
        rt.db.dispose()


def test_escalation_to_a_lead_with_room_goes_through_the_router(rt: Triage) -> None:
    with rt.db.transaction() as session:
        breaching = new_ticket(rt, session, T0)
        assert breaching.assignee is not None
        first_holder = breaching.assignee.email
        waiting_id = new_ticket(rt, session, T0 + timedelta(minutes=1)).id
        ticket_id = breaching.id
    check_due(rt.db, rt.config, now=T0 + timedelta(hours=4))
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.assignee is not None
        assert ticket.assignee.email == "lead@larkspur.example"
        [moved] = events(session, "sla.escalated", ticket_id)
        assert moved["outcome"] in ("assigned", "already_held")
        if first_holder == "ada@larkspur.example":
            # Ada's freed slot went to the next waiting ticket, as after any reassignment
            waiting = session.get(Ticket, waiting_id)
            assert waiting is not None and waiting.assignee_id is not None


# -- 4. working hours in the agent's own zone gate routing, across DST ------------------------------------------

SHIFT_CONFIG = """
default_team = "care"

[[teams]]
name = "care"
intents = ["order_status"]

[[agents]]
name = "Bea Berlin"
email = "bea@larkspur.example"
teams = ["care"]
timezone = "Europe/Berlin"
working_hours = "Mon-Fri 09:00-17:00"
"""


@pytest.mark.parametrize(("before", "at_nine"), [
    # spring forward on Sunday 2026-03-29: 09:00 in Berlin is 08:00 UTC on Friday, 07:00 UTC on Monday
    (datetime(2026, 3, 27, 7, 59, tzinfo=UTC), datetime(2026, 3, 27, 8, 0, tzinfo=UTC)),
    (datetime(2026, 3, 30, 6, 59, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),
    # fall back on Sunday 2026-10-25: 07:00 UTC on Friday, 08:00 UTC on Monday
    (datetime(2026, 10, 23, 6, 59, tzinfo=UTC), datetime(2026, 10, 23, 7, 0, tzinfo=UTC)),
    (datetime(2026, 10, 26, 7, 59, tzinfo=UTC), datetime(2026, 10, 26, 8, 0, tzinfo=UTC)),
], ids=["fri-before-spring", "mon-after-spring", "fri-before-autumn", "mon-after-autumn"])
def test_working_hours_gate_routing_across_dst(tmp_path: Path, database_url: str, before: datetime,
                                               at_nine: datetime) -> None:
    rt = make_rt(tmp_path, database_url, SHIFT_CONFIG)
    try:
        with rt.db.transaction() as session:
            ticket = new_ticket(rt, session, before)  # one minute before nine in Berlin: she is not there
            assert ticket.assignee_id is None and ticket.queued_at == before
            reason = session.scalar(select(Assignment.reason).where(Assignment.ticket_id == ticket.id))
            assert reason == "no qualified agent online (1 outside working hours)"
            [row] = agent_rows(session=session, now=before)
            assert (row["status"], row["status_set"], row["on_shift"]) == ("away", "online", False)
            assert str(row["status_reason"]).startswith("outside working hours (Mon-Fri 09:00-17:00, Europe/Berlin)")
            assert f"on shift again {at_nine.astimezone(UTC):%a}" in str(row["status_reason"])
            assert "09:00" in str(row["status_reason"])
            with pytest.raises(Conflict, match=re.escape("bea@larkspur.example is away (outside working hours")):
                reassign(ticket.id, "bea@larkspur.example", session=session, reason="try", actor="sup", now=before)
            # her shift starts: the scheduler's shift drain hands her what waited overnight
            assert drain_new_shifts(session=session, since=before, now=at_nine) == 1
            assert ticket.assignee_id == agent(session, "bea@larkspur.example").id
            [row] = agent_rows(session=session, now=at_nine)
            assert (row["status"], row["status_reason"], row["on_shift"]) == ("online", "", True)
            # a status set by hand still wins: away stays away in working hours
            assert effective_status("away", "Europe/Berlin", "Mon-Fri 09:00-17:00", at_nine).status == "away"
    finally:
        rt.db.dispose()


def test_going_online_outside_working_hours_takes_no_work(tmp_path: Path, database_url: str) -> None:
    saturday = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)
    rt = make_rt(tmp_path, database_url, SHIFT_CONFIG)
    try:
        with rt.db.transaction() as session:
            ticket = new_ticket(rt, session, saturday)
            set_status("bea@larkspur.example", "offline", session=session, now=saturday)
            assert set_status("bea@larkspur.example", "online", session=session, now=saturday) == \
                {"requeued": 0, "assigned": 0}
            assert ticket.assignee_id is None
            assert drain_new_shifts(session=session, since=saturday, now=saturday + timedelta(hours=1)) == 0
            monday = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
            assert drain_new_shifts(session=session, since=None, now=monday) == 1
    finally:
        rt.db.dispose()


def test_working_hours_are_checked_and_optional(tmp_path: Path) -> None:
    path = tmp_path / "triage.toml"
    path.write_text(SHIFT_CONFIG.replace("Mon-Fri 09:00-17:00", "Mon-Fri 9-5"), encoding="utf-8")
    with pytest.raises(UserError, match=re.escape("agents.0.working_hours: Value error, invalid hours 'Mon-Fri 9-5'")):
        load_config(path)
    # none given: around the clock, as before working hours gated routing
    path.write_text(SHIFT_CONFIG.replace('working_hours = "Mon-Fri 09:00-17:00"\n', ""), encoding="utf-8")
    [bea] = load_config(path).agents
    assert bea.working_hours == ""
    assert effective_status("online", bea.timezone, bea.working_hours, datetime(2026, 3, 29, 3, tzinfo=UTC)).on_shift
