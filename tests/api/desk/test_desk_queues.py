"""Queue order: the running SLA clock that ends first, then priority, then who has waited longest; paused last."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from api.deps import Principal
from api.desk.queues import my_queue, team_queue, visible_teams
from triage.agents.tables import Agent
from triage.conversations.tables import Customer, Ticket
from triage.db import utcnow
from triage.runtime import Triage
from triage.users.service import Role


def test_queue_order_and_scope(rt: Triage) -> None:
    now = utcnow()
    with rt.db.transaction() as session:
        nadia = session.scalar(select(Agent.id).where(Agent.email == "nadia.brooks@larkspur.example"))
        customer = Customer(name="Maria Jensen")
        session.add(customer)
        session.flush()

        def ticket(subject: str, **fields: object) -> None:
            values = {"channel": "email", "status": "open", "queue": "customer-care", "assignee_id": nadia,
                      "customer_id": customer.id, "created_at": now - timedelta(hours=1), **fields}
            session.add(Ticket(subject=subject, external_ref=f"test:{uuid.uuid4()}", **values))

        ticket("later", first_response_due=now + timedelta(hours=2))
        ticket("paused", status="pending", sla_paused_at=now, first_response_due=now + timedelta(minutes=1))
        ticket("sooner", first_response_due=now + timedelta(minutes=30))
        # Answered once: its next-response clock counts, not the first-response one it no longer has.
        ticket("answered", first_responded_at=now, first_response_due=now - timedelta(hours=5),
               next_response_due=now + timedelta(hours=1), awaiting_reply_since=now - timedelta(minutes=5))
        ticket("urgent tie", priority="urgent", first_response_due=now + timedelta(hours=2))
        ticket("solved", status="solved", first_response_due=now)
        ticket("unassigned", assignee_id=None, first_response_due=now)
        ticket("billing", queue="billing", assignee_id=None, first_response_due=now)
        session.flush()

        agent = Principal(user_id=1, name="nadia", role=Role.agent, agent_id=nadia, queues=frozenset({"customer-care"}))
        mine = my_queue(agent, session=session)
        assert [r.subject for r in mine] == ["sooner", "answered", "urgent tie", "later", "paused"]
        assert mine[1].due_metric == "next response" and mine[4].due is None
        team = [r.subject for r in team_queue("customer-care", session=session)]
        assert team == ["unassigned", "sooner", "answered", "urgent tie", "later", "paused"]
        supervisor = Principal(user_id=2, name="boss", role=Role.supervisor)
        assert my_queue(supervisor, session=session) == []
        teams = ["customer-care", "billing", "technical"]
        assert visible_teams(agent, teams) == ["customer-care"] and visible_teams(supervisor, teams) == teams
