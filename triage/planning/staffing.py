"""Staffing to SLA per hour (issue 17 item 2): agents needed for the forecast volume against agents on shift.

- **Chat** waits in a queue while the customer watches: Erlang C (M/M/N) gives the fewest agents N that answer
  `service_level` of chats within the answer target (the chat/normal first-response SLA), with occupancy
  A/N kept at or under `max_occupancy`.
- **Email** can wait within its target, so the work (volume x handling time) arriving over the target window
  is spread evenly across that window: required = mean workload of the window / max_occupancy.
- Both are divided by (1 - shrinkage): breaks, meetings and training take that share of paid time.
- **Handling times** are learned per intent and channel from the history: for each agent reply, the time since
  the customer message it answers, capped at `max_handle_gap` (longer is waiting, not work), summed per
  ticket; the median per intent and channel. Nothing records agents' working time directly, so this is a proxy
  and the report says which figures were learned and which are fallbacks.
- **Scheduled** agents come from triage.toml: an agent counts in an hour when their working hours
  (`triage.routing.shifts`) cover its middle, split evenly over the teams and channels they serve.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.config import CHANNELS, TriageConfig, parse_duration
from triage.conversations.tables import Message, Ticket
from triage.planning.forecast import HOUR, forecast
from triage.planning.schemas import (
    ForecastReport,
    HandleTime,
    StaffingInterval,
    StaffingReport,
    StaffingSeries,
)
from triage.routing.shifts import on_shift

ANY_INTENT = "*"
DEFAULT_CHAT_TARGET = timedelta(minutes=10)
DEFAULT_EMAIL_WINDOW = timedelta(hours=8)


# -- Erlang C -------------------------------------------------------------------------------------------------

def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a contact waits (Erlang C) with `agents` agents and `traffic` Erlangs offered.

    Computed through the Erlang B recursion, which never forms A^N / N! and so stays exact for hundreds of
    agents; 1.0 when the agents cannot keep up (N <= A).
    """
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    """Share of contacts answered within `target_seconds`: 1 - P(wait) * exp(-(N - A) * target / AHT)."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def erlang_agents(traffic: float, handle_seconds: float, target_seconds: float, level: float,
                  max_occupancy: float = 1.0) -> int:
    """The fewest agents that reach `level` within `target_seconds` with occupancy <= `max_occupancy`."""
    if traffic <= 0:
        return 0
    n = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    while service_level(n, traffic, handle_seconds, target_seconds) < level:
        n += 1
    return n


def with_shrinkage(agents: float, shrinkage: float) -> float:
    """Agents to schedule so that `agents` are available after shrinkage (rounded to 6 places first, so
    14 / 0.7 is 20, not 20.000000000000004)."""
    return round(agents / (1 - shrinkage), 6)


# -- handling times -----------------------------------------------------------------------------------------

def learn_handle_times(*, session: Session, since: datetime, until: datetime,
                       cap: timedelta = timedelta(minutes=30)) -> dict[tuple[str, str], list[float]]:
    """Per (channel, intent): the handling-time proxy in seconds of each ticket created in [since, until)
    with at least one agent reply (see the module docstring)."""
    query = (select(Message.ticket_id, Message.direction, Message.author_kind, Message.sent_at, Ticket.channel,
                    Ticket.intent)
             .join(Ticket, Ticket.id == Message.ticket_id)
             .where(Ticket.created_at >= since, Ticket.created_at < until, Message.auto_kind.is_(None))
             .order_by(Message.ticket_id, Message.sent_at, Message.id))
    out: dict[tuple[str, str], list[float]] = defaultdict(list)
    current, waiting_since, total, key = None, None, 0.0, ("", "")
    limit = cap.total_seconds()

    def flush() -> None:
        if current is not None and total > 0:
            out[key].append(total)

    for ticket_id, direction, author_kind, sent_at, channel, intent in session.execute(query):
        if ticket_id != current:
            flush()
            current, waiting_since, total, key = ticket_id, None, 0.0, (channel, intent or ANY_INTENT)
        if direction == "in" and author_kind == "customer":
            waiting_since = waiting_since or sent_at
        elif direction == "out" and author_kind == "agent" and waiting_since is not None:
            total += min(max((sent_at - waiting_since).total_seconds(), 0.0), limit)
            waiting_since = None
    flush()
    return dict(out)


def handle_time_table(samples: dict[tuple[str, str], list[float]], config: TriageConfig) -> list[HandleTime]:
    """Median handling time per (channel, intent) with enough samples, per channel, and the configured
    defaults for channels without enough."""
    plan = config.planning
    rows = []
    for channel in CHANNELS:
        every = [s for (ch, _), values in samples.items() if ch == channel for s in values]
        if len(every) >= plan.min_handle_samples:
            rows.append(HandleTime(channel=channel, intent=ANY_INTENT, seconds=round(float(np.median(every)), 1),
                                   samples=len(every), source="learned"))
        else:
            seconds = parse_duration(plan.default_handle_time.get(channel, "10m")).total_seconds()
            rows.append(HandleTime(channel=channel, intent=ANY_INTENT, seconds=seconds, samples=len(every),
                                   source="default"))
        for (ch, intent), values in sorted(samples.items()):
            if ch == channel and intent != ANY_INTENT and len(values) >= plan.min_handle_samples:
                rows.append(HandleTime(channel=channel, intent=intent, seconds=round(float(np.median(values)), 1),
                                       samples=len(values), source="learned"))
    return rows


def _mix(*, session: Session, since: datetime, until: datetime) -> dict[tuple[str, str], Counter[str]]:
    query = select(Ticket.queue, Ticket.channel, Ticket.intent).where(Ticket.created_at >= since,
                                                                      Ticket.created_at < until)
    mix: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for queue, channel, intent in session.execute(query):
        mix[(queue or "(none)", channel)][intent or ANY_INTENT] += 1
    return mix


def mean_handle_seconds(mix: Counter[str], channel: str, table: list[HandleTime]) -> float:
    """Handling time of a queue's channel: its intents' figures weighted by their share of its tickets."""
    by_intent = {h.intent: h.seconds for h in table if h.channel == channel}
    fallback = by_intent[ANY_INTENT]
    total = sum(mix.values())
    if not total:
        return fallback
    return sum(n * by_intent.get(intent, fallback) for intent, n in mix.items()) / total


# -- scheduled agents -------------------------------------------------------------------------------------------

def scheduled_agents(config: TriageConfig, queue: str, channel: str, start: datetime, hours: int) -> np.ndarray:
    """Agents of the queue's team on shift for the channel in each hour (fractions for shared agents)."""
    out = np.zeros(hours)
    for agent in config.agents:
        if queue not in agent.teams or channel not in agent.channels or agent.status == "offline":
            continue
        share = 1.0 / (len(agent.teams) * len(agent.channels))
        for i in range(hours):
            if on_shift(agent.timezone, agent.working_hours, start + i * HOUR + HOUR / 2):
                out[i] += share
    return out


# -- the report ---------------------------------------------------------------------------------------------------

def chat_target(config: TriageConfig) -> timedelta:
    plan = config.planning
    if plan.chat_answer_within:
        return parse_duration(plan.chat_answer_within)
    policy = config.sla_for("chat", "normal")
    return parse_duration(policy.first_response) if policy else DEFAULT_CHAT_TARGET


def email_window(config: TriageConfig) -> timedelta:
    plan = config.planning
    if plan.email_window:
        window = parse_duration(plan.email_window)
    else:
        policy = config.sla_for("email", "normal")
        window = parse_duration(policy.first_response) if policy else DEFAULT_EMAIL_WINDOW
    return min(max(window, HOUR), timedelta(days=1))


def required_agents(channel: str, volume: np.ndarray, handle_seconds: float, config: TriageConfig) -> np.ndarray:
    """Agents to schedule per hour for a channel's hourly volume (after shrinkage)."""
    plan = config.planning
    traffic = volume * handle_seconds / 3600.0  # Erlangs: agent-hours of work per hour
    if channel == "chat":
        target = chat_target(config).total_seconds()
        raw = np.array([erlang_agents(float(a), handle_seconds, target, plan.service_level, plan.max_occupancy)
                        for a in traffic], dtype=float)
    else:
        window = int(email_window(config) / HOUR)
        # Work arriving over the last `window` hours is due within it: spread it evenly over the window. Before
        # the forecast starts, the first window's mean rate stands for the mail already arrived.
        padded = np.concatenate([np.full(window - 1, traffic[:window].mean() if len(traffic) else 0.0), traffic])
        raw = np.convolve(padded, np.ones(window) / window, mode="valid") / plan.max_occupancy
    return np.array([with_shrinkage(float(a), plan.shrinkage) for a in raw])


@dataclass(frozen=True)
class StaffingInputs:
    """What staffing reads from the history besides the forecast: handling-time samples and the intent mix."""

    samples: dict[tuple[str, str], list[float]]
    mix: dict[tuple[str, str], Counter[str]]


def load_inputs(*, session: Session, config: TriageConfig, start: datetime) -> StaffingInputs:
    """Read the handling-time samples and intent mix of the `history_weeks` before `start`."""
    plan = config.planning
    since = start - timedelta(weeks=plan.history_weeks)
    return StaffingInputs(learn_handle_times(session=session, since=since, until=start,
                                             cap=parse_duration(plan.max_handle_gap)),
                          _mix(session=session, since=since, until=start))


def plan_staffing(report: ForecastReport, inputs: StaffingInputs, *, config: TriageConfig) -> StaffingReport:
    """Agents needed per hour for a forecast against agents on shift (no database)."""
    plan = config.planning
    table = handle_time_table(inputs.samples, config)
    series = []
    for s in report.series:
        volume = np.asarray(s.hourly)
        handle = mean_handle_seconds(inputs.mix.get((s.queue, s.channel), Counter()), s.channel, table)
        required = required_agents(s.channel, volume, handle, config)
        scheduled = scheduled_agents(config, s.queue, s.channel, report.start, len(volume))
        intervals = [StaffingInterval(start=report.start + i * HOUR, volume=round(float(v), 2),
                                      required=round(float(r), 2), scheduled=round(float(c), 2),
                                      gap=round(float(c - r), 2))
                     for i, (v, r, c) in enumerate(zip(volume, required, scheduled, strict=True))]
        gaps = scheduled - required
        series.append(StaffingSeries(
            queue=s.queue, channel=s.channel, method="erlang_c" if s.channel == "chat" else "workload",
            handle_seconds=round(handle, 1), intervals=intervals,
            under_hours=int((gaps < -0.005).sum()), over_hours=int((gaps > 0.005).sum()),
            under_agent_hours=round(float(-gaps[gaps < 0].sum()), 1),
            over_agent_hours=round(float(gaps[gaps > 0].sum()), 1)))
    return StaffingReport(start=report.start, hours=report.hours, service_level=plan.service_level,
                          chat_answer_seconds=chat_target(config).total_seconds(),
                          email_window_hours=email_window(config) / HOUR, shrinkage=plan.shrinkage,
                          max_occupancy=plan.max_occupancy, handle_times=table, series=series)


def staffing(*, session: Session, config: TriageConfig, weeks: int = 1, queue: str | None = None,
             channel: str | None = None, now: datetime | None = None,
             report: ForecastReport | None = None) -> StaffingReport:
    """Agents needed per hour for the forecast volume (or a given forecast) against agents on shift."""
    if report is None:  # no backtest: staffing uses the forecast only
        report = forecast(session=session, config=config, weeks=weeks, queue=queue, channel=channel, now=now,
                          history_weeks=config.planning.history_weeks, backtest_origins=0)
    return plan_staffing(report, load_inputs(session=session, config=config, start=report.start), config=config)
