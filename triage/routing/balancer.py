"""The routing rules as pure functions, shared by the database router and the simulator (issue 5).

Nothing here touches the database or a clock: callers pass snapshots of the agents and the ticket's
needs, so `triage simulate` measures exactly the rules that production runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from models.vocabulary import PRIORITIES

CHANNELS: tuple[str, ...] = ("email", "chat")
# Waiting tickets are served most urgent first; "critical" is the classifier's word for "urgent".
PRIORITY_RANK = {level: rank for rank, level in enumerate(reversed(PRIORITIES))} | {"critical": 0}
# Minutes of effort assumed for an intent and channel before history says otherwise.
DEFAULT_EFFORT = {"email": 12.0, "chat": 8.0}
# How many observations the learned mean needs before it outweighs the default (a Bayesian prior).
PRIOR_WEIGHT = 5.0
# The customer's previous agent keeps them unless that agent holds this much more work than the
# least loaded candidate (in tickets of this kind); beyond it stickiness would unbalance the team.
# Urgent and high tickets allow no slack: a familiar face is not worth a missed first-response target.
STICKY_SLACK = {"urgent": 0.0, "critical": 0.0, "high": 0.0, "normal": 2.0, "low": 2.0}


@dataclass(frozen=True)
class AgentSnapshot:
    """What the router knows about one agent at the moment of a decision."""

    id: int
    name: str
    status: str = "online"  # effective: "away" while an online agent is outside working hours
    off_shift: bool = False  # outside working hours (`triage.routing.shifts`)
    skills: frozenset[str] = frozenset()  # intents; empty means "takes any intent of the queue"
    languages: frozenset[str] = frozenset()  # empty means "no language restriction"
    channels: frozenset[str] = frozenset(CHANNELS)
    capacity: Mapping[str, int] = field(default_factory=dict)  # channel -> tickets held at once
    open_count: Mapping[str, int] = field(default_factory=dict)  # channel -> tickets held now
    load: float = 0.0  # open work in expected minutes (weighted by intent and channel)
    idle_since: datetime | None = None  # last assignment or status change; None: never assigned

    def spare(self, channel: str) -> int:
        return self.capacity.get(channel, 0) - self.open_count.get(channel, 0)


@dataclass(frozen=True)
class TicketNeeds:
    channel: str
    intent: str | None = None
    language: str | None = None
    priority: str = "normal"
    last_agent_id: int | None = None  # who last handled this customer


@dataclass(frozen=True)
class Decision:
    agent_id: int | None
    reason: str
    sticky: bool = False
    # Set when the chosen agent does not speak the ticket's language (nobody online who does): the language.
    unmatched_language: str | None = None


class EffortModel:
    """Expected handling minutes per (intent, channel): a running mean shrunk toward a default.

    The database keeps the counts and means (`handling_stats`); the simulator keeps them in memory.
    """

    def __init__(self, defaults: Mapping[str, float] | None = None, prior_weight: float = PRIOR_WEIGHT) -> None:
        self.defaults = dict(defaults or DEFAULT_EFFORT)
        self.prior_weight = prior_weight
        self.stats: dict[tuple[str, str], tuple[int, float]] = {}

    def expected(self, intent: str | None, channel: str) -> float:
        default = self.defaults.get(channel, max(self.defaults.values()))
        n, mean = self.stats.get((intent or "", channel), (0, 0.0))
        return (n * mean + self.prior_weight * default) / (n + self.prior_weight)

    def observe(self, intent: str | None, channel: str, minutes: float) -> None:
        key = (intent or "", channel)
        n, mean = self.stats.get(key, (0, 0.0))
        self.stats[key] = (n + 1, mean + (minutes - mean) / (n + 1))


def speaks(agent: AgentSnapshot, language: str | None) -> bool:
    """An agent listing no languages takes any; otherwise the language must be listed."""
    return not language or not agent.languages or language in agent.languages


def _qualified(agents: Sequence[AgentSnapshot], needs: TicketNeeds) -> tuple[list[AgentSnapshot], str]:
    """Agents whose skills, language and channels fit; a requirement nobody in the queue meets is waived.

    The language is waived too while none of the agents who speak it is online (issue 15): the customer is
    better served by an answer now than by one that waits for the next shift, and the reason says so.
    Speakers online but at capacity keep the ticket, as a skill does.
    """
    pool = [a for a in agents if needs.channel in a.channels and a.capacity.get(needs.channel, 0) > 0]
    if not pool:
        return [], f"nobody in the queue takes {needs.channel}"
    notes = []
    if needs.intent:
        skilled = [a for a in pool if not a.skills or needs.intent in a.skills]
        if skilled:
            pool = skilled
        else:
            notes.append(f"nobody lists skill {needs.intent}")
    if needs.language:
        speakers = [a for a in pool if speaks(a, needs.language)]
        if not speakers:
            notes.append(f"nobody speaks {needs.language}")
        elif not any(a.status == "online" for a in speakers):
            if any(a.status == "online" for a in pool):
                notes.append(f"nobody online speaks {needs.language}")
            else:
                pool = speakers  # nobody online at all: wait, and the speakers are who we wait for
        else:
            pool = speakers
    return pool, "; ".join(notes)


def eligible(agents: Sequence[AgentSnapshot], needs: TicketNeeds) -> tuple[list[AgentSnapshot], str]:
    """Online qualified agents with a free slot in the ticket's channel, or none and why."""
    pool, note = _qualified(agents, needs)
    if not pool:
        return [], note or "no qualified agent"
    online = [a for a in pool if a.status == "online"]
    if not online:
        off = sum(1 for a in pool if a.off_shift)
        return [], "no qualified agent online" + (f" ({off} outside working hours)" if off else "")
    free = [a for a in online if a.spare(needs.channel) > 0]
    if not free:
        return [], "all agents in queue at capacity"
    return free, note


def choose(agents: Sequence[AgentSnapshot], needs: TicketNeeds, effort: EffortModel) -> Decision:
    """Pick the agent for a ticket: previous agent if not overloaded, else lowest weighted load, longest idle."""
    candidates, note = eligible(agents, needs)
    if not candidates:
        return Decision(None, note)
    best = min(candidates, key=_balance_key)
    if needs.last_agent_id is not None:
        previous = next((a for a in candidates if a.id == needs.last_agent_id), None)
        slack = STICKY_SLACK.get(needs.priority, 2.0) * effort.expected(needs.intent, needs.channel)
        if previous is not None and previous.load <= best.load + slack:
            return _decided(previous, f"same agent as this customer's last ticket, load {previous.load:.0f} min",
                            note, needs, sticky=True)
    return _decided(best, f"lowest weighted load {best.load:.0f} min, {best.spare(needs.channel)} "
                          f"{needs.channel} slot(s) free of {best.capacity.get(needs.channel, 0)}", note, needs)


def _decided(agent: AgentSnapshot, why: str, note: str, needs: TicketNeeds, *, sticky: bool = False) -> Decision:
    """The decision with its notes; an agent who does not speak the language is named as such (issue 15)."""
    unmatched = None if speaks(agent, needs.language) else needs.language
    if unmatched is not None:
        note = f"{note}; routed to an agent who speaks {', '.join(sorted(agent.languages))}"
    suffix = f" ({note})" if note else ""
    return Decision(agent.id, f"{why}{suffix}", sticky=sticky, unmatched_language=unmatched)


def _balance_key(a: AgentSnapshot) -> tuple[float, float, int]:
    idle = a.idle_since.timestamp() if a.idle_since is not None else -math.inf
    return (round(a.load, 6), idle, a.id)


def queue_key(priority: str | None, due: datetime | None, queued_at: datetime | None,
              ticket_id: int) -> tuple[int, float, float, int]:
    """Order of the waiting queue: most urgent first, then the earliest SLA deadline, then the oldest."""
    rank = PRIORITY_RANK.get(priority or "normal", 2)
    due_ts = due.timestamp() if due is not None else math.inf
    queued_ts = queued_at.timestamp() if queued_at is not None else math.inf
    return (rank, due_ts, queued_ts, ticket_id)


def weighted_load(open_work: Iterable[tuple[str | None, str]], effort: EffortModel) -> float:
    """Expected minutes of work in an agent's open tickets, given as (intent, channel) pairs."""
    return sum(effort.expected(intent, channel) for intent, channel in open_work)


def estimate_wait(position: float, mean_handling_minutes: float, agents: int) -> float | None:
    """Minutes until first response: work ahead of the ticket shared among the agents who can take it.

    `position` counts the tickets to be handled before this one (0.5 for one in progress); None when
    nobody who could take the ticket is online, because then no honest estimate exists.
    """
    if agents <= 0:
        return None
    if position < 0 or mean_handling_minutes < 0:
        raise ValueError("position and mean handling time must not be negative")
    return position * mean_handling_minutes / agents
