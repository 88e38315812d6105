"""One router process for the concurrency test: drain the waiting queue and solve tickets until none is open.

Solving goes through `triage.flows.tickets.change_status`, as the API and CLI do (SLA half included).

After every transaction's routing work, while it still holds every agent row lock (so no other router
can be between its count and its commit), it checks that no agent holds more than capacity in any channel.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from triage.config import Settings, load_config
from triage.conversations.tables import OPEN_STATUSES, Ticket
from triage.db import Database
from triage.flows.tickets import change_status
from triage.routing.service import Board, agent_capacity, drain


def check_capacity(session) -> None:  # type: ignore[no-untyped-def]
    board = Board.load(session=session)  # locks are already ours: this reads the exact state being committed
    rows = session.execute(select(Ticket.assignee_id, Ticket.channel, func.count()).where(
        Ticket.assignee_id.is_not(None), Ticket.status.in_(OPEN_STATUSES)).group_by(Ticket.assignee_id,
                                                                                     Ticket.channel))
    for agent_id, channel, n in rows:
        cap = agent_capacity(board.agents[agent_id]).get(channel, 0)
        if n > cap:
            raise SystemExit(f"agent {agent_id} holds {n} {channel} tickets, capacity {cap}")


def main() -> None:
    url, home = sys.argv[1], Path(sys.argv[2])
    rng = random.Random(sys.argv[3])
    settings = Settings(home=home, database_url=url, environment="test")
    db = Database(settings)
    config = load_config(settings=settings)  # no triage.toml in home: the bundled default's SLA policies
    db._migrated = True  # the parent migrated; four processes racing Alembic is not what we test
    solved = assigned = 0
    started = time.time()  # wall clock, comparable across processes: the parent checks that all four overlapped
    while True:
        with db.transaction() as session:
            assigned += drain(session=session, limit=40)
            check_capacity(session)
        with db.transaction() as session:
            ids = list(session.scalars(select(Ticket.id).where(
                Ticket.assignee_id.is_not(None), Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.id)
                .limit(rng.randint(3, 12)).with_for_update(skip_locked=True)))
            for ticket_id in ids:
                assigned += change_status(ticket_id, "solved", config=config, session=session,
                                          actor="worker").assigned
                solved += 1
            if ids:
                check_capacity(session)
        with db.session() as session:
            left = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status.in_(OPEN_STATUSES)))
        if not left:
            break
    print(f"{solved} {assigned} {started} {time.time()}")
    db.dispose()


if __name__ == "__main__":
    main()
