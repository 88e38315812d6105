"""Replay synthetic traffic through the routing rules on a simulated clock (`triage simulate`, issue 5).

Event-driven (a heap of arrivals, finishes and shift changes), in memory, seeded. Every policy sees
exactly the same tickets, handling times and shifts; only the assignment rule differs:

- ``router``: `balancer.choose` (skills, capacity, weighted load, longest idle, stickiness) and a
  waiting queue served most urgent first, earliest deadline next (`balancer.queue_key`);
- ``round_robin``: the next qualified agent with room in a fixed rotation, waiting queue first come first served;
- ``random``: a random qualified agent with room, first come first served.

All policies share the hard rules (online, skill, channel, never above capacity) and the agents'
behaviour: an agent works on one ticket at a time, earliest first-response deadline first, and at the
end of a shift hands unanswered tickets back to the queue. The first response is when the agent starts
on the ticket.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from models.vocabulary import PRIORITIES
from triage.config import TriageConfig, parse_duration
from triage.routing.balancer import (
    AgentSnapshot,
    Decision,
    EffortModel,
    TicketNeeds,
    choose,
    eligible,
    estimate_wait,
    queue_key,
)

POLICIES: tuple[str, ...] = ("router", "round_robin", "random")
PRIORITY_MIX = (0.20, 0.55, 0.18, 0.07)
INTENTS: tuple[str, ...] = ("order_status", "delivery_problem", "return_exchange", "product_question",
                            "refund_request", "billing_issue", "payment_problem", "cancel_subscription",
                            "technical_problem", "account_access", "warranty_repair", "complaint")
MEAN_WORK = {"email": 12.0, "chat": 8.0}  # minutes, before the intent's own factor
CAPACITY = {"email": 12, "chat": 3}
SHIFT_HOURS = 8
# An estimate counts as right within 20% of the real wait, or within a minute for near-immediate answers
# (20% of ten seconds is not a promise anyone can check).
ESTIMATE_TOLERANCE = 0.20
ESTIMATE_FLOOR_MINUTES = 1.0
EPOCH = datetime(2026, 11, 16, tzinfo=UTC)  # a Monday; only differences matter
# Fallback first-response targets (minutes) when the configuration has no SLA policy for a pair.
DEFAULT_TARGETS = {("email", "urgent"): 60, ("email", "high"): 240, ("email", "normal"): 480,
                   ("email", "low"): 1440, ("chat", "urgent"): 2, ("chat", "high"): 5, ("chat", "normal"): 10,
                   ("chat", "low"): 30}


def daily_curve(hour: float) -> float:
    """Relative arrival rate over a day: a quiet night, a morning peak and a smaller afternoon one."""
    return 0.15 + math.exp(-(((hour - 10.5) / 2.5) ** 2)) + 0.7 * math.exp(-(((hour - 15.0) / 2.5) ** 2))


@dataclass
class SimTicket:
    id: int
    arrival: float  # minutes from the start
    channel: str
    intent: str
    priority: str
    customer: int
    work: float  # true handling minutes
    due: float  # first-response deadline
    queued_at: float | None = None
    agent: int | None = None
    started: float | None = None  # first response
    estimate: float | None = None


@dataclass
class SimAgent:
    id: int
    skills: frozenset[str]
    channels: frozenset[str]
    capacity: dict[str, int]
    shifts: list[tuple[float, float]]
    status: str = "offline"
    held: list[SimTicket] = field(default_factory=list)  # assigned, not solved (including the current one)
    current: SimTicket | None = None
    last_assigned: float | None = None
    status_changed: float | None = None
    handled: float = 0.0  # minutes of work finished
    on_shift: float = 0.0  # minutes on shift within the horizon


@dataclass
class Scenario:
    agents: list[SimAgent]
    tickets: list[SimTicket]
    hours: float
    targets: dict[tuple[str, str], float]


def _at(minutes: float) -> datetime:
    return EPOCH + timedelta(minutes=minutes)


def sla_targets(config: TriageConfig | None) -> dict[tuple[str, str], float]:
    """First-response targets in minutes per (channel, priority), from the configured policies."""
    targets: dict[tuple[str, str], float] = dict(DEFAULT_TARGETS)
    for policy in config.sla if config is not None else []:
        targets[(policy.channel, policy.priority)] = parse_duration(policy.first_response).total_seconds() / 60
    return {k: float(v) for k, v in targets.items()}


def _shift_starts(n: int) -> list[int]:
    """Shift start hours so that staffing follows the daily curve (greedy cover of the demand)."""
    demand = np.array([daily_curve(h + 0.5) for h in range(24)])
    target = demand / demand.sum() * n * SHIFT_HOURS
    staffed = np.zeros(24)
    starts = []
    for _ in range(n):
        gains = [sum(target[(s + h) % 24] - staffed[(s + h) % 24] for h in range(SHIFT_HOURS)) for s in range(24)]
        s = int(np.argmax(gains))
        starts.append(s)
        for h in range(SHIFT_HOURS):
            staffed[(s + h) % 24] += 1
    return starts


def make_scenario(*, agents: int, hours: float, seed: int, utilisation: float = 0.85, chat_share: float = 0.5,
                  skill_share: float = 0.75, config: TriageConfig | None = None) -> Scenario:
    """Synthetic agents (shifts, skills, channels) and traffic sized so the team is busy but not swamped."""
    if agents < 1:
        raise ValueError("the simulation needs at least one agent")
    if hours <= 0:
        raise ValueError("the simulation needs a positive number of hours")
    rng = np.random.default_rng(seed)
    horizon = hours * 60.0
    factors = {intent: float(f) for intent, f in zip(INTENTS, rng.uniform(0.6, 1.8, len(INTENTS)), strict=True)}
    team: list[SimAgent] = []
    for i, start in enumerate(_shift_starts(agents)):
        # Most intents each, so every intent has several people but not everybody does everything.
        skills = frozenset(str(x) for x in rng.choice(INTENTS, size=round(len(INTENTS) * skill_share),
                                                         replace=False))
        channels = frozenset({"email"} if i % 4 == 3 else {"email", "chat"})
        shifts = [(d * 1440.0 + start * 60.0, d * 1440.0 + (start + SHIFT_HOURS) * 60.0)
                  for d in range(-1, int(hours // 24) + 2)]
        team.append(SimAgent(id=i + 1, skills=skills, channels=channels,
                             capacity={ch: CAPACITY[ch] for ch in channels}, shifts=shifts))
    for agent in team:
        agent.on_shift = sum(max(0.0, min(e, horizon) - max(s, 0.0)) for s, e in agent.shifts)
    mean_factor = float(np.mean(list(factors.values())))
    mean_work = (chat_share * MEAN_WORK["chat"] + (1 - chat_share) * MEAN_WORK["email"]) * mean_factor
    # Arrivals follow the curve; the rate is set so the offered work is `utilisation` of the staffed minutes.
    curve_max = max(daily_curve(h / 10) for h in range(240))
    day_mean = float(np.mean([daily_curve(h / 10) for h in range(240)]))
    total_work = utilisation * sum(a.on_shift for a in team)
    if total_work <= 0:
        raise ValueError(f"no agent's shift falls within {hours:g} hours: simulate at least a day")
    peak_rate = total_work / mean_work / horizon * curve_max / day_mean  # arrivals per minute at the peak
    targets = sla_targets(config)
    tickets: list[SimTicket] = []
    t, customers = 0.0, 0
    while True:  # thinning of a Poisson process with the daily curve as intensity
        t += float(rng.exponential(1.0 / peak_rate))
        if t >= horizon:
            break
        if rng.random() > daily_curve((t / 60.0) % 24) / curve_max:
            continue
        channel = "chat" if rng.random() < chat_share else "email"
        intent = str(rng.choice(INTENTS))
        priority = str(rng.choice(PRIORITIES, p=PRIORITY_MIX))
        if customers and rng.random() < 0.25:  # a returning customer
            customer = int(rng.integers(1, customers + 1))
        else:
            customers += 1
            customer = customers
        work = MEAN_WORK[channel] * factors[intent] * float(rng.lognormal(-0.125, 0.5))
        tickets.append(SimTicket(id=len(tickets) + 1, arrival=t, channel=channel, intent=intent,
                                 priority=priority, customer=customer, work=work,
                                 due=t + targets[(channel, priority)]))
    return Scenario(team, tickets, hours, targets)


class _Run:
    """One policy over one scenario."""

    def __init__(self, scenario: Scenario, policy: str, seed: int) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}: use one of {', '.join(POLICIES)}")
        self.policy = policy
        self.horizon = scenario.hours * 60.0
        self.rng = np.random.default_rng(seed + 7919)
        self.agents = {a.id: SimAgent(id=a.id, skills=a.skills, channels=a.channels, capacity=dict(a.capacity),
                                      shifts=list(a.shifts), on_shift=a.on_shift) for a in scenario.agents}
        self.tickets = [SimTicket(**{k: getattr(t, k) for k in ("id", "arrival", "channel", "intent", "priority",
                                                               "customer", "work", "due")})
                        for t in scenario.tickets]
        self.effort = EffortModel()
        self.waiting: list[SimTicket] = []
        self.last_agent: dict[int, int] = {}
        self.pointer = 0
        self.events: list[tuple[float, int, str, int]] = []
        self.seq = 0

    def push(self, at: float, kind: str, ref: int) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, ref))

    def snapshot(self, a: SimAgent) -> AgentSnapshot:
        counts: dict[str, int] = {}
        for t in a.held:
            counts[t.channel] = counts.get(t.channel, 0) + 1
        times = [x for x in (a.last_assigned, a.status_changed) if x is not None]
        return AgentSnapshot(id=a.id, name=f"agent {a.id}", status=a.status, skills=a.skills, channels=a.channels,
                             capacity=a.capacity, open_count=counts,
                             load=sum(self.effort.expected(t.intent, t.channel) for t in a.held),
                             idle_since=_at(max(times)) if times else None)

    def decide(self, ticket: SimTicket, snaps: Sequence[AgentSnapshot]) -> Decision:
        needs = TicketNeeds(channel=ticket.channel, intent=ticket.intent, priority=ticket.priority,
                            last_agent_id=self.last_agent.get(ticket.customer))
        if self.policy == "router":
            return choose(snaps, needs, self.effort)
        candidates, note = eligible(snaps, needs)
        if not candidates:
            return Decision(None, note)
        if self.policy == "random":
            return Decision(candidates[int(self.rng.integers(len(candidates)))].id, "random")
        ids = sorted(c.id for c in candidates)
        chosen = next((i for i in ids if i > self.pointer), ids[0])
        self.pointer = chosen
        return Decision(chosen, "round robin")

    def give(self, ticket: SimTicket, agent: SimAgent, now: float) -> None:
        ticket.agent, ticket.queued_at = agent.id, None
        agent.held.append(ticket)
        agent.last_assigned = now
        self.last_agent[ticket.customer] = agent.id
        self.work_next(agent, now)

    def work_next(self, agent: SimAgent, now: float) -> None:
        if agent.current is not None or agent.status != "online":
            return
        todo = [t for t in agent.held if t.started is None]
        if not todo:
            return
        ticket = min(todo, key=lambda t: (t.due, t.arrival, t.id))  # earliest deadline first
        ticket.started, agent.current = now, ticket
        self.push(now + ticket.work, "finish", agent.id)

    def order(self) -> list[SimTicket]:
        if self.policy == "router":
            return sorted(self.waiting, key=lambda t: queue_key(t.priority, _at(t.due), _at(t.queued_at or 0), t.id))
        return sorted(self.waiting, key=lambda t: (t.queued_at or 0, t.id))

    def drain(self, now: float) -> None:
        if not self.waiting:
            return
        for ticket in self.order():
            snaps = [self.snapshot(a) for a in self.agents.values()]
            if not any(s.status == "online" and s.spare(ch) > 0 for s in snaps for ch in s.capacity):
                return
            decision = self.decide(ticket, snaps)
            if decision.agent_id is not None:
                self.waiting.remove(ticket)
                self.give(ticket, self.agents[decision.agent_id], now)

    def estimate(self, ticket: SimTicket) -> float | None:
        """What the acknowledgement would tell the customer, from what the system knows at arrival."""
        if ticket.started is not None:  # an agent was free and took it at once
            return 0.0
        if ticket.agent is not None:
            agent = self.agents[ticket.agent]
            ahead = [t for t in agent.held if t.started is None and t is not ticket
                     and (t.due, t.arrival, t.id) < (ticket.due, ticket.arrival, ticket.id)]
            position = len(ahead) + (0.5 if agent.current is not None else 0.0)
            kinds = ahead + ([agent.current] if agent.current is not None else [])
            mean = (float(np.mean([self.effort.expected(t.intent, t.channel) for t in kinds])) if kinds
                    else self.effort.expected(ticket.intent, ticket.channel))
            return estimate_wait(position, mean, 1)
        needs = TicketNeeds(channel=ticket.channel, intent=ticket.intent)
        snaps = [self.snapshot(a) for a in self.agents.values()]
        online = [s for s in snaps if s.status == "online"]
        able = [s for s in eligible_all(online, needs)]
        order = self.order()
        position = order.index(ticket) + sum(
            1 for s in able for t in self.agents[s.id].held if t.started is None)
        position += 0.5 * sum(1 for s in able if self.agents[s.id].current is not None)
        return estimate_wait(position, self.effort.expected(ticket.intent, ticket.channel), len(able))

    def run(self) -> dict[str, object]:
        for agent in self.agents.values():
            for start, end in agent.shifts:
                if end > 0 and start < self.horizon:
                    self.push(max(start, 0.0), "on", agent.id)
                    self.push(end, "off", agent.id)
        for ticket in self.tickets:
            self.push(ticket.arrival, "arrive", ticket.id)
        while self.events:
            now, _, kind, ref = heapq.heappop(self.events)
            if now > self.horizon:
                break
            if kind == "arrive":
                ticket = self.tickets[ref - 1]
                decision = self.decide(ticket, [self.snapshot(a) for a in self.agents.values()])
                if decision.agent_id is None:
                    ticket.queued_at = now
                    self.waiting.append(ticket)
                else:
                    self.give(ticket, self.agents[decision.agent_id], now)
                ticket.estimate = self.estimate(ticket)
            elif kind == "finish":
                agent = self.agents[ref]
                done = agent.current
                assert done is not None
                agent.current = None
                agent.held.remove(done)
                agent.handled += done.work
                self.effort.observe(done.intent, done.channel, done.work)
                self.work_next(agent, now)
                self.drain(now)
            elif kind == "on":
                agent = self.agents[ref]
                agent.status, agent.status_changed = "online", now
                self.work_next(agent, now)
                self.drain(now)
            elif kind == "off":
                agent = self.agents[ref]
                agent.status, agent.status_changed = "offline", now
                for t in [t for t in agent.held if t.started is None]:  # unanswered work goes back
                    agent.held.remove(t)
                    t.agent, t.queued_at = None, now
                    self.waiting.append(t)
                self.drain(now)
        return self.report()

    def report(self) -> dict[str, object]:
        sla: dict[str, float | None] = {}
        for priority in PRIORITIES:
            outcomes = []
            for t in self.tickets:
                if t.priority != priority:
                    continue
                if t.started is not None:
                    outcomes.append(t.started <= t.due)
                elif t.due < self.horizon:  # still unanswered after its deadline passed
                    outcomes.append(False)
            sla[priority] = round(100.0 * sum(outcomes) / len(outcomes), 2) if outcomes else None
        waits = np.array([t.started - t.arrival for t in self.tickets if t.started is not None])
        staffed = [a for a in self.agents.values() if a.on_shift > 0]
        per_hour = np.array([a.handled / (a.on_shift / 60.0) for a in staffed])
        told = [(t.estimate, t.started - t.arrival) for t in self.tickets
                if t.estimate is not None and t.started is not None]
        right = sum(1 for estimate, waited in told
                    if abs(estimate - waited) <= max(ESTIMATE_TOLERANCE * waited, ESTIMATE_FLOOR_MINUTES))
        return {
            "tickets": len(self.tickets),
            "answered": len(waits),
            "sla_attainment": sla,
            "first_response_mean_min": round(float(waits.mean()), 2) if len(waits) else None,
            "first_response_p90_min": round(float(np.percentile(waits, 90)), 2) if len(waits) else None,
            "load_max_over_mean": round(float(per_hour.max() / per_hour.mean()), 3) if per_hour.mean() else None,
            "load_gini": round(gini(per_hour), 3),
            "estimate_within_20pct": round(100.0 * right / len(told), 2) if told else None,
            "estimates_given": len(told),
        }


def eligible_all(snaps: Sequence[AgentSnapshot], needs: TicketNeeds) -> list[AgentSnapshot]:
    """Online agents who could take the ticket, full or not (who shares the queue ahead of it)."""
    roomy = [AgentSnapshot(id=s.id, name=s.name, status=s.status, skills=s.skills, languages=s.languages,
                           channels=s.channels, capacity=s.capacity) for s in snaps]
    return eligible(roomy, needs)[0]


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values: 0 is perfectly even."""
    x = np.sort(np.asarray(values, dtype=float))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1).dot(x) / (n * x.sum()))


def simulate(*, agents: int, hours: float, seed: int, config: TriageConfig | None = None,
             policies: Sequence[str] = POLICIES, utilisation: float = 0.85, chat_share: float = 0.5,
             progress: Callable[[str], None] | None = None) -> dict[str, dict[str, object]]:
    """Run every policy over the same synthetic scenario; a report per policy name."""
    scenario = make_scenario(agents=agents, hours=hours, seed=seed, config=config, utilisation=utilisation,
                             chat_share=chat_share)
    results = {}
    for policy in policies:
        if progress is not None:
            progress(policy)
        results[policy] = _Run(scenario, policy, seed).run()
    return results
