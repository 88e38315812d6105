"""The router on the database: assignment, the waiting queue, agents' status, freed slots and manual moves.

Decisions come from `triage.routing.balancer`; this module only gathers the facts and records why.

Concurrency (issue 5): on PostgreSQL every routing transaction locks the ticket rows it must wait for
*first*, then every active agent row in id order (one batch per transaction, so two workers can never
hold agents in opposite orders), and after that takes further tickets only with SKIP LOCKED. Holding the
agent rows while counting their open work is what keeps concurrent workers from pushing an agent over
capacity. On SQLite, `BEGIN IMMEDIATE` serialises writers anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from triage.agents.tables import Agent, Assignment
from triage.conversations.tables import OPEN_STATUSES, Customer, Ticket
from triage.db import on_postgres, utcnow
from triage.errors import Conflict, InvalidInput, NotFound
from triage.events.service import record
from triage.routing.balancer import (
    CHANNELS,
    PRIORITY_RANK,
    AgentSnapshot,
    Decision,
    EffortModel,
    TicketNeeds,
    choose,
    eligible,
)
from triage.routing.shifts import EffectiveStatus, effective_status, on_shift
from triage.routing.tables import HandlingStat

AGENT_STATUSES = ("online", "away", "offline")
_LOCKED = "routing.agents_locked"
_BOARD = "routing.board"  # the open work the routing functions keep current within one transaction
# A ticket solved long after assignment measures the agent's absence, not the work: cap what is learned.
MAX_LEARNED_MINUTES = 8 * 60.0
_CHUNK = 100


def _agents_locked(session: Session) -> bool:
    transaction = session.get_transaction()
    return transaction is not None and session.info.get(_LOCKED) is transaction


def agent_capacity(agent: Agent) -> dict[str, int]:
    """Tickets the agent may hold at once per channel: `capacity_by_channel`, else `capacity` for each channel."""
    channels = agent.channels or list(CHANNELS)
    per_channel = agent.capacity_by_channel or {}
    return {ch: int(per_channel.get(ch, agent.capacity)) for ch in channels}


def load_effort(*, session: Session) -> EffortModel:
    """Expected handling minutes learned from solved tickets (defaults where history is thin)."""
    effort = EffortModel()
    for stat in session.scalars(select(HandlingStat)):
        effort.stats[(stat.intent, stat.channel)] = (stat.count, stat.mean_minutes)
    return effort


def _lock_tickets(ids: Iterable[int], *, session: Session) -> None:
    """Row locks on tickets we must wait for; taken before any agent lock (see the module docstring)."""
    ids = sorted(set(ids))
    if ids and on_postgres(session) and not _agents_locked(session):
        session.execute(select(Ticket.id).where(Ticket.id.in_(ids)).order_by(Ticket.id).with_for_update())


def agent_status(agent: Agent, now: datetime) -> EffectiveStatus:
    """The status the router obeys at `now`: online outside the agent's working hours reads as away."""
    return effective_status(agent.status, agent.timezone, agent.working_hours or "", now)


@dataclass
class Board:
    """The active agents, locked for this transaction, with their open work kept current as tickets move.

    `now` is the moment of the decisions: it decides who is on shift (`triage.routing.shifts`).
    """

    agents: dict[int, Agent]
    effort: EffortModel
    open_work: dict[int, list[tuple[str | None, str]]] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)

    @classmethod
    def load(cls, *, session: Session, now: datetime | None = None) -> Board:
        """Lock and read the agents once per transaction; later calls in it reuse the same board."""
        cached = session.info.get(_BOARD)
        if cached is not None and _agents_locked(session):
            cached.now = now or utcnow()
            return cached
        query = select(Agent).where(Agent.active.is_(True)).order_by(Agent.id)
        if on_postgres(session) and not _agents_locked(session):
            query = query.with_for_update()
        agents = {a.id: a for a in session.scalars(query)}
        session.info[_LOCKED] = session.get_transaction()
        board = cls(agents, load_effort(session=session), {agent_id: [] for agent_id in agents}, now or utcnow())
        session.info[_BOARD] = board
        rows = session.execute(select(Ticket.assignee_id, Ticket.intent, Ticket.channel).where(
            Ticket.assignee_id.in_(list(agents)), Ticket.status.in_(OPEN_STATUSES)))
        for agent_id, intent, channel in rows:
            assert agent_id is not None  # the IN clause leaves no NULL assignee
            board.open_work[agent_id].append((intent, channel))
        return board

    def snapshot(self, agent: Agent) -> AgentSnapshot:
        work = self.open_work.get(agent.id, [])
        counts: dict[str, int] = {}
        for _, channel in work:
            counts[channel] = counts.get(channel, 0) + 1
        times = [t for t in (agent.last_assigned_at, agent.status_changed_at) if t is not None]
        status = agent_status(agent, self.now)
        return AgentSnapshot(
            id=agent.id, name=agent.name, status=status.status, off_shift=not status.on_shift,
            skills=frozenset(agent.skills or ()),
            languages=frozenset(agent.languages or ()), channels=frozenset(agent.channels or CHANNELS),
            capacity=agent_capacity(agent), open_count=counts,
            load=sum(self.effort.expected(i, c) for i, c in work), idle_since=max(times) if times else None)

    def queue(self, queue: str | None) -> list[AgentSnapshot]:
        return [self.snapshot(a) for a in self.agents.values() if (queue or "") in (a.teams or [])]

    def channels_with_room(self) -> list[str]:
        """Channels in which some online agent (on shift) could take one more ticket."""
        out: set[str] = set()
        for agent in self.agents.values():
            snap = self.snapshot(agent)
            if snap.status == "online":
                out.update(ch for ch in snap.capacity if snap.spare(ch) > 0)
        return sorted(out)

    def take(self, agent_id: int, ticket: Ticket) -> None:
        self.open_work.setdefault(agent_id, []).append((ticket.intent, ticket.channel))

    def release(self, agent_id: int, ticket: Ticket) -> None:
        work = self.open_work.get(agent_id, [])
        if (ticket.intent, ticket.channel) in work:
            work.remove((ticket.intent, ticket.channel))


def needs_of(ticket: Ticket, *, session: Session) -> TicketNeeds:
    """What the ticket asks of an agent, including who last helped this customer."""
    last_agent = (select(Ticket.assignee_id).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id,
                                                   Ticket.assignee_id.is_not(None))
                  .order_by(Ticket.id.desc()).limit(1).scalar_subquery())
    language, last = session.execute(select(Customer.language, last_agent)
                                     .where(Customer.id == ticket.customer_id)).one()
    # The language this ticket was written in comes first, as for the acknowledgement (issue 15).
    language = ticket.language or language
    return TicketNeeds(channel=ticket.channel, intent=ticket.intent, language=language.lower() if language else None,
                       priority=ticket.priority or "normal", last_agent_id=last)


def _give(ticket: Ticket, agent: Agent, decision: Decision, *, board: Board, session: Session, now: datetime,
          action: str = "assigned", actor: str = "router") -> None:
    ticket.assignee_id = agent.id
    ticket.queued_at = None
    agent.last_assigned_at = now
    board.take(agent.id, ticket)
    session.add(Assignment(ticket_id=ticket.id, agent_id=agent.id, action=action, reason=decision.reason,
                           actor=actor, created_at=now))
    record("ticket.assigned", session=session, ticket_id=ticket.id, agent_id=agent.id, reason=decision.reason,
           actor=actor)
    if decision.unmatched_language is not None:
        # Its own event, so supervisors can count the tickets answered outside the customer's language.
        record("ticket.language_unmatched", session=session, ticket_id=ticket.id, agent_id=agent.id, actor=actor,
               language=decision.unmatched_language, agent_languages=sorted(agent.languages or ()),
               reason=decision.reason)


def assign(ticket: Ticket, *, session: Session, now: datetime | None = None) -> Agent | None:
    """Route one unassigned ticket now, or put it in its queue's waiting line; the reason is recorded."""
    now = now or utcnow()
    _lock_tickets([ticket.id], session=session)
    if on_postgres(session):
        session.refresh(ticket, ["assignee_id", "status"])
    if ticket.assignee_id is not None:  # another worker got there first
        return None
    board = Board.load(session=session, now=now)
    decision = choose(board.queue(ticket.queue), needs_of(ticket, session=session), board.effort)
    if decision.agent_id is None:
        if ticket.queued_at is None:
            ticket.queued_at = now
            session.add(Assignment(ticket_id=ticket.id, agent_id=None, action="queued", reason=decision.reason,
                                   created_at=now))
            record("ticket.queued", session=session, ticket_id=ticket.id, queue=ticket.queue,
                   reason=decision.reason)
        session.flush()
        return None
    agent = board.agents[decision.agent_id]
    _give(ticket, agent, decision, board=board, session=session, now=now)
    session.flush()
    return agent


def waiting_order() -> tuple:
    """SQL ordering of the waiting queue, the same as `balancer.queue_key`."""
    rank = case(PRIORITY_RANK, value=Ticket.priority, else_=2)
    return (rank, Ticket.first_response_due.asc().nulls_last(), Ticket.queued_at.asc().nulls_last(), Ticket.id)


def drain(*, session: Session, now: datetime | None = None, queues: Iterable[str] | None = None,
          limit: int = 1000, board: Board | None = None) -> int:
    """Give waiting tickets to agents with room, most urgent first; returns how many were assigned.

    Scans the waiting line as light rows and locks (SKIP LOCKED) only the ticket about to be placed;
    kinds of ticket (queue, channel, intent) that found nobody are not tried again in this pass.
    """
    now = now or utcnow()
    if board is None:
        board = Board.load(session=session, now=now)
    board.now = now
    assigned, seen = 0, 0
    stuck: set[tuple[str | None, str, str | None]] = set()
    passed: list[int] = []
    while seen < limit:
        channels = board.channels_with_room()
        if not channels:
            break
        query = (select(Ticket.id, Ticket.queue, Ticket.channel, Ticket.intent)
                 .where(Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES), Ticket.channel.in_(channels))
                 .order_by(*waiting_order()).limit(min(_CHUNK, limit - seen)))
        if queues is not None:
            query = query.where(Ticket.queue.in_(sorted(set(queues))))
        if passed:
            query = query.where(Ticket.id.not_in(passed))
        rows = session.execute(query).all()
        for ticket_id, queue, channel, intent in rows:
            seen += 1
            passed.append(ticket_id)
            if (queue, channel, intent) in stuck or channel not in channels:
                continue
            if not eligible(board.queue(queue), TicketNeeds(channel=channel, intent=intent))[0]:
                stuck.add((queue, channel, intent))  # decided without touching the row
                continue
            ticket = _claim_waiting(ticket_id, session=session)
            if ticket is None:  # another worker is placing it, or already has
                continue
            decision = choose(board.queue(ticket.queue), needs_of(ticket, session=session), board.effort)
            if decision.agent_id is None:
                stuck.add((queue, channel, intent))
                continue
            _give(ticket, board.agents[decision.agent_id], decision, board=board, session=session, now=now)
            assigned += 1
            channels = board.channels_with_room()
        if len(rows) < _CHUNK:
            break
    session.flush()
    return assigned


def _claim_waiting(ticket_id: int, *, session: Session) -> Ticket | None:
    query = (select(Ticket).where(Ticket.id == ticket_id, Ticket.assignee_id.is_(None))
             .execution_options(populate_existing=True))
    if on_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query).first()


def _agent_by_email(email: str, *, session: Session) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == email.strip().lower()))
    if agent is None:
        raise NotFound(f"no agent with email {email!r} (agents come from triage.toml; run `triage init`)")
    if not agent.active:
        raise Conflict(f"agent {agent.email} is no longer in triage.toml (inactive)")
    return agent


def set_status(email: str, status: str, *, session: Session, now: datetime | None = None,
               actor: str = "cli") -> dict[str, int]:
    """Change an agent's status; offline sends their unanswered tickets back, online drains the queues."""
    if status not in AGENT_STATUSES:
        raise InvalidInput(f"unknown status {status!r}: use one of {', '.join(AGENT_STATUSES)}")
    now = now or utcnow()
    agent = _agent_by_email(email, session=session)
    unanswered: list[Ticket] = []
    if status == "offline":
        query = select(Ticket).where(Ticket.assignee_id == agent.id, Ticket.status.in_(OPEN_STATUSES),
                                     Ticket.first_responded_at.is_(None)).order_by(Ticket.id)
        unanswered = list(session.scalars(query))
        _lock_tickets([t.id for t in unanswered], session=session)
        if on_postgres(session):  # re-read under the lock: one may have been answered meanwhile
            unanswered = list(session.scalars(query.execution_options(populate_existing=True)))
    board = Board.load(session=session, now=now)
    agent = board.agents[agent.id]
    previous = agent.status
    agent.status, agent.status_changed_at = status, now
    for ticket in unanswered:
        board.release(agent.id, ticket)
        ticket.assignee_id, ticket.queued_at = None, now
        session.add(Assignment(ticket_id=ticket.id, agent_id=agent.id, action="unassigned", actor=actor,
                               reason=f"{agent.name} went offline before answering", created_at=now))
    session.flush()
    record("agent.status", session=session, agent_id=agent.id, status=status, previous=previous,
           requeued=len(unanswered))
    queues = set(agent.teams or []) | {t.queue for t in unanswered if t.queue}
    assigned = drain(session=session, now=now, queues=queues, board=board) if status != "away" or unanswered else 0
    return {"requeued": len(unanswered), "assigned": assigned}


def _learn(ticket: Ticket, *, session: Session, now: datetime) -> float | None:
    """Fold the minutes from the holder's assignment to solved into the (intent, channel) running mean."""
    since = session.scalar(select(Assignment.created_at).where(
        Assignment.ticket_id == ticket.id, Assignment.agent_id == ticket.assignee_id,
        Assignment.action.in_(("assigned", "reassigned"))).order_by(Assignment.id.desc()).limit(1))
    if since is None:
        return None
    minutes = min(max((now - since).total_seconds() / 60.0, 0.0), MAX_LEARNED_MINUTES)
    insert = pg_insert if on_postgres(session) else sqlite_insert
    stmt = insert(HandlingStat).values(intent=ticket.intent or "", channel=ticket.channel, count=1,
                                       mean_minutes=minutes, updated_at=now)
    # An upsert, so two workers solving the same kind of ticket at once both count.
    stmt = stmt.on_conflict_do_update(index_elements=["intent", "channel"], set_={
        "count": HandlingStat.count + 1,
        "mean_minutes": HandlingStat.mean_minutes + (minutes - HandlingStat.mean_minutes) / (HandlingStat.count + 1),
        "updated_at": now})
    session.execute(stmt)
    return minutes


def lock_ticket(ticket_id: int, *, session: Session) -> Ticket | None:
    """The ticket, re-read under its row lock (taken before any agent lock, see the module docstring)."""
    _lock_tickets([ticket_id], session=session)
    return session.get(Ticket, ticket_id, populate_existing=True)


def release(ticket: Ticket, *, board: Board, session: Session, now: datetime, learn: bool, actor: str) -> int:
    """A locked ticket just left the open statuses: free its agent's slot and drain; returns how many were assigned.

    `board` must have been loaded while the ticket was still open, so that it counts the ticket being
    freed. `learn` folds the handling time into the effort model (solved, not closed unanswered).
    """
    if ticket.assignee_id is not None:
        board.release(ticket.assignee_id, ticket)
        if learn:
            _learn(ticket, session=session, now=now)
    session.flush()
    if learn:
        record("ticket.solved", session=session, ticket_id=ticket.id, actor=actor)
    holder = board.agents.get(ticket.assignee_id) if ticket.assignee_id is not None else None
    queues = set(holder.teams or []) if holder is not None else {ticket.queue or ""}
    return drain(session=session, now=now, queues=queues, board=board)


def set_capacity(email: str, *, session: Session, capacity: int | None = None,
                 by_channel: dict[str, int] | None = None, actor: str = "cli",
                 now: datetime | None = None) -> dict[str, int]:
    """Change how many tickets an agent holds at once; more room drains the agent's queues at once.

    Lasts until triage.toml is synced again (`triage init`, `triage serve`): the file stays the
    source of truth, so a permanent change belongs there.
    """
    if capacity is None and by_channel is None:
        raise InvalidInput("give a capacity, a capacity per channel, or both")
    if capacity is not None and not 0 <= capacity <= 1000:
        raise InvalidInput(f"capacity must be between 0 and 1000 (got {capacity})")
    for channel, value in (by_channel or {}).items():
        if channel not in CHANNELS:
            raise InvalidInput(f"unknown channel {channel!r}: use one of {', '.join(CHANNELS)}")
        if not 0 <= value <= 1000:
            raise InvalidInput(f"capacity for {channel} must be between 0 and 1000 (got {value})")
    now = now or utcnow()
    agent = _agent_by_email(email, session=session)
    board = Board.load(session=session, now=now)
    agent = board.agents[agent.id]
    before = agent_capacity(agent)
    if capacity is not None:
        agent.capacity = capacity
    if by_channel is not None:
        agent.capacity_by_channel = {**(agent.capacity_by_channel or {}), **by_channel} or None
    after = agent_capacity(agent)
    session.flush()
    record("agent.capacity", session=session, agent_id=agent.id, actor=actor, before=before, after=after)
    grew = any(after.get(ch, 0) > before.get(ch, 0) for ch in after)
    assigned = drain(session=session, now=now, queues=set(agent.teams or []), board=board) if grew else 0
    return {"assigned": assigned}


def reassign(ticket_id: int, email: str, *, session: Session, reason: str, actor: str,
             force: bool = False, now: datetime | None = None) -> dict[str, int]:
    """A supervisor moves a ticket; refused above capacity or to an agent not online unless forced."""
    now = now or utcnow()
    if not reason.strip():
        raise InvalidInput("give a --reason: the assignment history keeps why each move happened")
    _lock_tickets([ticket_id], session=session)
    ticket = session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise NotFound(f"no ticket #{ticket_id}")
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(f"ticket #{ticket_id} is {ticket.status}; only open tickets are assigned")
    agent = _agent_by_email(email, session=session)
    if ticket.assignee_id == agent.id:
        raise Conflict(f"ticket #{ticket_id} is already assigned to {agent.email}")
    board = Board.load(session=session, now=now)
    agent = board.agents[agent.id]
    refusal = None if force else _refusal(agent, ticket, board=board)
    if refusal is not None:
        raise Conflict(f"{refusal[0]}; use --force to {refusal[1]}")
    text = f"by hand: {reason.strip()}" + (" (forced)" if force else "")
    return {"assigned": _move(ticket, agent, text, board=board, session=session, now=now, actor=actor)}


def _refusal(agent: Agent, ticket: Ticket, *, board: Board) -> tuple[str, str] | None:
    """Why the agent may not be given the ticket now (status, shift, channel, capacity) and what forcing does."""
    snap = board.snapshot(agent)
    if snap.status != "online":
        why = agent_status(agent, board.now).reason
        return f"{agent.email} is {snap.status}" + (f" ({why})" if why else ""), "assign anyway"
    if ticket.channel not in snap.capacity:
        return f"{agent.email} does not take {ticket.channel}", "assign anyway"
    if snap.spare(ticket.channel) <= 0:
        return (f"{agent.email} is at capacity for {ticket.channel} "
                f"({snap.open_count.get(ticket.channel, 0)}/{snap.capacity[ticket.channel]})"), "go above it"
    return None


def _move(ticket: Ticket, agent: Agent, reason: str, *, board: Board, session: Session, now: datetime,
          actor: str) -> int:
    """Give a (locked) ticket to `agent`, freeing its previous holder's slot for the waiting line."""
    previous = board.agents.get(ticket.assignee_id) if ticket.assignee_id is not None else None
    if previous is not None:
        board.release(previous.id, ticket)
    _give(ticket, agent, Decision(agent.id, reason), board=board, session=session, now=now,
          action="reassigned" if previous is not None else "assigned", actor=actor)
    session.flush()
    queues = set(previous.teams or []) if previous is not None else set()
    return drain(session=session, now=now, queues=queues, board=board) if queues else 0


@dataclass(frozen=True)
class Escalation:
    moved: bool  # the ticket went to the agent
    outcome: str  # assigned | already_held | kept | waiting
    reason: str  # why it did not move ("" when it did)
    position: int | None = None  # waiting: how many waiting tickets of its queue come first


def escalate_to(ticket: Ticket, agent_id: int, *, session: Session, reason: str, actor: str,
                now: datetime | None = None) -> Escalation:
    """Move a locked open ticket to `agent_id` within the routing rules (online, on shift, capacity).

    When the agent may not take it, an assigned ticket stays with its holder and an unassigned one waits
    in its queue's line (the waiting order puts a breached, raised ticket first among its priority).
    """
    now = now or utcnow()
    board = Board.load(session=session, now=now)
    agent = board.agents.get(agent_id)
    if ticket.assignee_id == agent_id:
        return Escalation(False, "already_held", "")
    if agent is None:
        refusal = f"agent #{agent_id} is not active"
    elif ticket.status not in OPEN_STATUSES:
        refusal = f"ticket #{ticket.id} is {ticket.status}"
    else:
        refused = _refusal(agent, ticket, board=board)
        if refused is None:
            _move(ticket, agent, reason, board=board, session=session, now=now, actor=actor)
            return Escalation(True, "assigned", "")
        refusal = refused[0]
    if ticket.assignee_id is not None:
        return Escalation(False, "kept", refusal)
    if ticket.queued_at is None:
        ticket.queued_at = now
        session.add(Assignment(ticket_id=ticket.id, agent_id=None, action="queued", reason=refusal, actor=actor,
                               created_at=now))
    session.flush()
    return Escalation(False, "waiting", refusal, waiting_position(ticket, session=session))


def waiting_position(ticket: Ticket, *, session: Session) -> int:
    """How many tickets of the same queue and channel wait ahead of this one in the waiting order."""
    ahead = 0
    query = (select(Ticket.id).where(Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES),
                                     Ticket.queue == ticket.queue, Ticket.channel == ticket.channel)
             .order_by(*waiting_order()))
    for ticket_id in session.scalars(query):
        if ticket_id == ticket.id:
            return ahead
        ahead += 1
    return ahead


def drain_new_shifts(*, session: Session, since: datetime | None, now: datetime | None = None) -> int:
    """Give waiting tickets to online agents whose working hours began after `since` (None: anyone on shift).

    Nothing else happens when a shift starts, so without this the tickets that came in overnight would wait
    until somebody's status or a ticket changed.
    """
    now = now or utcnow()
    starting = [a for a in session.scalars(select(Agent).where(Agent.active.is_(True), Agent.status == "online"))
                if on_shift(a.timezone, a.working_hours or "", now)
                and (since is None or not on_shift(a.timezone, a.working_hours or "", since))]
    if not starting:
        return 0
    queues = {team for a in starting for team in (a.teams or [])}
    return drain(session=session, now=now, queues=queues)


def agent_rows(*, session: Session, now: datetime | None = None) -> list[dict[str, object]]:
    """Agents with their status, open work per channel and capacity, for the CLI and API.

    `status` is the one the router obeys at `now` (online reads as away outside working hours),
    `status_set` the one chosen, `status_reason` why they differ.
    """
    board = Board(agents={a.id: a for a in session.scalars(select(Agent).order_by(Agent.id))},
                  effort=load_effort(session=session), now=now or utcnow())
    rows = session.execute(select(Ticket.assignee_id, Ticket.intent, Ticket.channel).where(
        Ticket.assignee_id.is_not(None), Ticket.status.in_(OPEN_STATUSES)))
    for agent_id, intent, channel in rows:
        assert agent_id is not None  # filtered by the query
        board.open_work.setdefault(agent_id, []).append((intent, channel))
    out = []
    for agent in board.agents.values():
        snap = board.snapshot(agent)
        status = agent_status(agent, board.now)
        out.append({"email": agent.email, "name": agent.name, "status": status.status, "status_set": agent.status,
                    "status_reason": status.reason, "on_shift": status.on_shift, "active": agent.active,
                    "teams": list(agent.teams or []), "open": dict(snap.open_count), "capacity": dict(snap.capacity),
                    "load_minutes": round(snap.load, 1)})
    return out


def waiting_count(*, session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id.is_(None), Ticket.status.in_(OPEN_STATUSES))) or 0)
