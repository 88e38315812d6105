"""Reports computed from the database: response times, SLA attainment, volume, backlog, intent/sentiment mix.

What counts, so the numbers can be checked by hand:

- Times are **wall clock**, in seconds. The SLA clocks count business hours of a team calendar;
  reports do not, because a calendar belongs to a team and a per-channel or per-agent figure mixes
  teams. SLA *attainment* does follow the calendars: it compares against the stored due times.
- **First response**: from the ticket's first customer message to the first agent reply after it
  (bot acknowledgements and automatic mail do not count), over tickets created in the period.
- **Resolution**: from the ticket's creation to its solved time, over tickets solved in the period.
  The solved time is `solved_at` (the last solve when a ticket was reopened), or for a ticket closed
  without being solved its last update. With `exclude_pending` (default) the time spent pending
  on the customer (the SLA pauses) is subtracted, as the SLA clocks do.
- **Per agent** means the ticket's current assignee.
- Percentiles: numpy's default (linear interpolation between closest ranks, Hyndman & Fan type 7,
  like Excel's PERCENTILE.INC); the median is the 50th percentile of the same definition.

Aggregation runs in SQL wherever it does not need percentiles; durations come back as one integer
per ticket, so 100k tickets cost one pass and a few megabytes.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, case, func, literal_column, not_, or_, select
from sqlalchemy.orm import Session, aliased

from models.vocabulary import PRIORITIES
from triage.agents.tables import Agent
from triage.conversations.tables import OPEN_STATUSES, Message, Ticket
from triage.db import utcnow
from triage.reports.periods import DAY, HOUR, Period, day_of, epoch_seconds, offset_stretches, weekday_hour
from triage.reports.schemas import (
    Attainment,
    BacklogDay,
    BacklogQueue,
    BacklogReport,
    DurationStats,
    GroupBy,
    Interval,
    MixPoint,
    MixReport,
    MixSeries,
    PeriodOut,
    ResponseTimesReport,
    ResponseTimesRow,
    SlaReport,
    SlaRow,
    VolumeReport,
    VolumeUnit,
)
from triage.sla.tables import SlaEvent, SlaPause

NO_QUEUE = "(none)"
UNASSIGNED = "(unassigned)"
UNCLASSIFIED = "(unclassified)"
AGE_BUCKETS: list[tuple[str, timedelta | None]] = [
    ("<1h", timedelta(hours=1)), ("1-4h", timedelta(hours=4)), ("4-24h", timedelta(days=1)),
    ("1-3d", timedelta(days=3)), ("3-7d", timedelta(days=7)), (">7d", None)]
_NEVER = np.iinfo(np.int64).max


def period_out(period: Period) -> PeriodOut:
    return PeriodOut(since=period.since, until=period.until, timezone=period.tz)


def _filters(channel: str | None, queue: str | None) -> list[Any]:
    out = []
    if channel is not None:
        out.append(Ticket.channel == channel)
    if queue is not None:
        out.append(Ticket.queue == queue)
    return out


def resolved_at() -> Any:
    """SQL: when a ticket left the backlog; NULL while it is in it."""
    return case((Ticket.solved_at.is_not(None), Ticket.solved_at),
                (Ticket.status.in_(("solved", "closed")), Ticket.updated_at), else_=None)


def _int(value: int) -> Any:
    # Inline integers (ours, not user input): PostgreSQL matches GROUP BY expressions only without parameters.
    return literal_column(str(int(value)))


def duration_stats(values: Iterable[float]) -> DurationStats:
    """Count, mean, median and p90 (numpy's linear percentile) of durations in seconds."""
    arr = np.fromiter(values, dtype=np.float64)
    if arr.size == 0:
        return DurationStats(count=0)
    median, p90 = np.percentile(arr, [50, 90])
    return DurationStats(count=int(arr.size), mean=round(float(arr.mean()), 3), median=round(float(median), 3),
                         p90=round(float(p90), 3))


# -- response times ----------------------------------------------------------------------------------------

def _group_key(by: GroupBy) -> Any:
    if by == "channel":
        return Ticket.channel
    if by == "queue":
        return Ticket.queue
    if by == "agent":
        return Agent.email
    raise ValueError(f"unknown grouping {by!r}: use channel, queue or agent")


def _label(by: GroupBy, key: str | None) -> str:
    if key is not None:
        return key
    return UNASSIGNED if by == "agent" else NO_QUEUE


def response_times(*, session: Session, period: Period, by: GroupBy = "queue", channel: str | None = None,
                   queue: str | None = None, exclude_pending: bool = True) -> ResponseTimesReport:
    """First-response and resolution times (mean, median, p90) per channel, queue or agent."""
    key = _group_key(by)
    where = _filters(channel, queue)
    epoch = lambda col: epoch_seconds(col, session)  # noqa: E731

    first_in = (select(Message.ticket_id.label("ticket_id"), func.min(Message.sent_at).label("first_in"))
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Message.direction == "in", Message.author_kind == "customer", Message.auto_kind.is_(None),
                       Ticket.created_at >= period.since, Ticket.created_at < period.until, *where)
                .group_by(Message.ticket_id).subquery())
    reply = aliased(Message)
    first_out = func.min(reply.sent_at)
    frt = (select(key, epoch(first_out) - epoch(first_in.c.first_in))
           .select_from(first_in)
           .join(Ticket, Ticket.id == first_in.c.ticket_id)
           .outerjoin(Agent, Agent.id == Ticket.assignee_id)
           .outerjoin(reply, and_(reply.ticket_id == first_in.c.ticket_id, reply.direction == "out",
                                  reply.author_kind == "agent", reply.auto_kind.is_(None),
                                  reply.sent_at >= first_in.c.first_in))
           .group_by(Ticket.id, first_in.c.first_in, key))
    first: dict[str, list[float]] = defaultdict(list)
    created: Counter[str] = Counter()
    unanswered: Counter[str] = Counter()
    for k, seconds in session.execute(frt):
        label = _label(by, k)
        created[label] += 1
        if seconds is None:
            unanswered[label] += 1
        else:
            first[label].append(max(float(seconds), 0.0))

    done = resolved_at()
    solved_where = [done >= period.since, done < period.until, *where]
    res = (select(Ticket.id, key, epoch(done) - epoch(Ticket.created_at))
           .outerjoin(Agent, Agent.id == Ticket.assignee_id).where(*solved_where))
    paused: dict[int, float] = defaultdict(float)
    if exclude_pending:
        pauses = (select(SlaPause.ticket_id, epoch(SlaPause.started_at), epoch(SlaPause.ended_at),
                         epoch(Ticket.created_at), epoch(done))
                  .join(Ticket, Ticket.id == SlaPause.ticket_id).where(*solved_where))
        for ticket_id, start, end, born, solved in session.execute(pauses):
            stop = solved if end is None else min(end, solved)
            paused[ticket_id] += max(0, stop - max(start, born))
    resolution: dict[str, list[float]] = defaultdict(list)
    for ticket_id, k, seconds in session.execute(res):
        resolution[_label(by, k)].append(max(float(seconds) - paused.get(ticket_id, 0.0), 0.0))

    keys = sorted(set(created) | set(resolution))
    names: dict[str, str] = {}
    if by == "agent" and keys:  # people read names; the email stays the key (unique, and what the API filters by)
        names = {email: name for email, name in session.execute(select(Agent.email, Agent.name)
                                                                .where(Agent.email.in_(keys)))}
    rows = [ResponseTimesRow(key=k, name=names.get(k), created=created[k], unanswered=unanswered[k],
                             first_response=duration_stats(first[k]), resolution=duration_stats(resolution[k]))
            for k in keys]
    total = ResponseTimesRow(key="(all)", created=sum(created.values()), unanswered=sum(unanswered.values()),
                             first_response=duration_stats(v for k in keys for v in first[k]),
                             resolution=duration_stats(v for k in keys for v in resolution[k]))
    return ResponseTimesReport(period=period_out(period), by=by, exclude_pending=exclude_pending, rows=rows,
                               total=total)


# -- SLA attainment ----------------------------------------------------------------------------------------

def _breaches() -> Any:
    """One row per ticket with a breach: flags per metric (joined once instead of a lookup per ticket)."""
    def flag(metric: str) -> Any:
        return func.max(case((SlaEvent.metric == metric, 1), else_=0)).label(metric)

    return (select(SlaEvent.ticket_id, flag("first_response"), flag("resolution"))
            .where(SlaEvent.kind == "breach").group_by(SlaEvent.ticket_id).subquery())


def _attainment_columns(due: Any, done: Any, breached: Any, now: datetime) -> list[Any]:
    """SQL sums: met, missed, open, no target. Missed: a breach fired, done late, or not done and overdue."""
    missed = and_(due.is_not(None), or_(breached, done > due, and_(done.is_(None), due <= now)))
    met = and_(due.is_not(None), done.is_not(None), not_(missed))
    is_open = and_(due.is_not(None), done.is_(None), due > now, not_(breached))
    return [func.sum(case((cond, 1), else_=0)) for cond in (met, missed, is_open, due.is_(None))]


def _attainment(met: int, missed: int, still_open: int, no_target: int) -> Attainment:
    decided = met + missed
    return Attainment(met=met, missed=missed, open=still_open, no_target=no_target,
                      share=round(met / decided, 4) if decided else None)


def sla_attainment(*, session: Session, period: Period, channel: str | None = None, queue: str | None = None,
                   now: datetime | None = None) -> SlaReport:
    """Share of tickets created in the period that met their first-response and resolution targets."""
    now = now or utcnow()
    breaches = _breaches()
    fr_breached = func.coalesce(breaches.c.first_response, 0) == 1
    res_breached = func.coalesce(breaches.c.resolution, 0) == 1
    stmt = (select(Ticket.queue, Ticket.priority, func.count(),
                   *_attainment_columns(Ticket.first_response_due, Ticket.first_responded_at, fr_breached, now),
                   *_attainment_columns(Ticket.resolution_due, resolved_at(), res_breached, now))
            .outerjoin(breaches, breaches.c.ticket_id == Ticket.id)
            .where(Ticket.created_at >= period.since, Ticket.created_at < period.until,
                   *_filters(channel, queue))
            .group_by(Ticket.queue, Ticket.priority))
    rows = []
    sums = [0] * 9
    for q, priority, *counts in session.execute(stmt):
        counts = [int(c or 0) for c in counts]
        sums = [a + b for a, b in zip(sums, counts, strict=True)]
        rows.append(SlaRow(queue=q or NO_QUEUE, priority=priority, tickets=counts[0],
                           first_response=_attainment(*counts[1:5]), resolution=_attainment(*counts[5:9])))
    rows.sort(key=lambda r: (r.queue, _priority_order(r.priority)))
    total = SlaRow(queue="(all)", priority="(all)", tickets=sums[0], first_response=_attainment(*sums[1:5]),
                   resolution=_attainment(*sums[5:9]))
    return SlaReport(period=period_out(period), as_of=now, rows=rows, total=total)


def _priority_order(priority: str) -> int:
    # Most pressing first.
    return len(PRIORITIES) - 1 - PRIORITIES.index(priority) if priority in PRIORITIES else len(PRIORITIES)


# -- volume by hour of week --------------------------------------------------------------------------------

def _local_counts(session: Session, period: Period, column: Any, size: int, stmt: Any,
                  *extra: Any) -> Counter[tuple[Any, ...]]:
    """Counts per (local bucket, *extra) of rows of `stmt` whose `column` falls in the period."""
    counts: Counter[tuple[Any, ...]] = Counter()
    for start, end, offset in offset_stretches(period):
        bucket = (epoch_seconds(column, session) + _int(offset)) // _int(size)
        query = (stmt.add_columns(bucket, *extra, func.count())
                 .where(column >= start, column < end).group_by(bucket, *extra))
        for index, *rest in session.execute(query):
            *labels, n = rest
            counts[(int(index), *labels)] += int(n)
    return counts


def volume(*, session: Session, period: Period, unit: VolumeUnit = "tickets", channel: str | None = None,
           queue: str | None = None) -> VolumeReport:
    """New tickets (or customer messages) per local weekday and hour: a 7x24 matrix."""
    where = _filters(channel, queue)
    if unit == "tickets":
        column, stmt = Ticket.created_at, select().select_from(Ticket).where(*where)
    elif unit == "messages":
        column = Message.sent_at
        stmt = (select().select_from(Message).join(Ticket, Ticket.id == Message.ticket_id)
                .where(Message.direction == "in", Message.author_kind == "customer", *where))
    else:
        raise ValueError(f"unknown unit {unit!r}: use tickets or messages")
    matrix = [[0] * 24 for _ in range(7)]
    for (index,), n in _local_counts(session, period, column, HOUR, stmt).items():
        weekday, hour = weekday_hour(index)
        matrix[weekday][hour] += n
    return VolumeReport(period=period_out(period), unit=unit, matrix=matrix, total=sum(map(sum, matrix)))


# -- backlog -----------------------------------------------------------------------------------------------

def _open_during(starts: np.ndarray, ends: np.ndarray, at: np.ndarray) -> np.ndarray:
    """How many [start, end) intervals contain each instant (ends >= starts)."""
    return (np.searchsorted(np.sort(starts), at, side="right")
            - np.searchsorted(np.sort(ends), at, side="right"))


def _snapshots(period: Period, now: datetime) -> list[tuple[date, datetime]]:
    """(local day, instant) at which to count: each day's end, or until/now for the day under way."""
    out = []
    for day in period.local_days():
        if max(period.since, period.day_end(day - timedelta(days=1))) >= now:
            break  # days still to come
        out.append((day, min(period.day_end(day), period.until, now)))
    return out


def backlog(*, session: Session, period: Period, channel: str | None = None, queue: str | None = None,
            now: datetime | None = None) -> BacklogReport:
    """Unsolved tickets at the end of each local day (new, open, pending), and now by queue and age.

    Reconstructed from created, first-reply and solved times and the SLA pauses (pending). A ticket
    keeps only its last solve, so one solved and later reopened counts as unsolved in between.
    """
    now = now or utcnow()
    where = _filters(channel, queue)
    epoch = lambda col: epoch_seconds(col, session)  # noqa: E731
    snaps = _snapshots(period, now)
    at = np.array([int(s.timestamp()) for _, s in snaps], dtype=np.int64)
    done = resolved_at()
    relevant = [Ticket.created_at < period.until, or_(done.is_(None), done >= period.since), *where]

    rows = session.execute(select(epoch(Ticket.created_at), epoch(done), epoch(Ticket.first_responded_at))
                           .where(*relevant)).all()
    born = np.array([r[0] for r in rows], dtype=np.int64)
    gone = np.maximum(np.array([_NEVER if r[1] is None else r[1] for r in rows], dtype=np.int64), born)
    replied = np.array([_NEVER if r[2] is None else r[2] for r in rows], dtype=np.int64)
    fresh_end = np.maximum(np.minimum(gone, replied), born)

    pauses = session.execute(select(epoch(SlaPause.started_at), epoch(SlaPause.ended_at), epoch(Ticket.created_at),
                                    epoch(done), epoch(Ticket.first_responded_at))
                             .join(Ticket, Ticket.id == SlaPause.ticket_id).where(*relevant)).all()
    p = np.array([[s, _NEVER if e is None else e, c, _NEVER if d is None else d, _NEVER if f is None else f]
                  for s, e, c, d, f in pauses], dtype=np.int64).reshape(-1, 5)
    p_start = np.maximum(p[:, 0], p[:, 2])
    p_end = np.maximum(np.minimum(p[:, 1], p[:, 3]), p_start)
    p_fresh_end = np.maximum(np.minimum(p_end, p[:, 4]), p_start)  # paused before the first reply

    total = _open_during(born, gone, at)
    pending = _open_during(p_start, p_end, at)
    new = _open_during(born, fresh_end, at) - _open_during(p_start, p_fresh_end, at)
    daily = [BacklogDay(day=day, at=moment, new=int(n), open=int(t - n - pe), pending=int(pe), total=int(t))
             for (day, moment), t, n, pe in zip(snaps, total, new, pending, strict=True)]

    ages = [func.sum(case((Ticket.created_at > now - limit, 1), else_=0)) for _, limit in AGE_BUCKETS if limit]
    current = []
    for q, n, *young in session.execute(select(Ticket.queue, func.count(), *ages)
                                        .where(Ticket.status.in_(OPEN_STATUSES), *where).group_by(Ticket.queue)):
        cumulative = [int(y or 0) for y in young] + [int(n)]  # younger than each limit; the last is everything
        counts = [c - (cumulative[i - 1] if i else 0) for i, c in enumerate(cumulative)]
        current.append(BacklogQueue(queue=q or NO_QUEUE, total=int(n),
                                    ages={name: c for (name, _), c in zip(AGE_BUCKETS, counts, strict=True)}))
    current.sort(key=lambda b: b.queue)
    return BacklogReport(period=period_out(period), as_of=now, daily=daily, age_buckets=[n for n, _ in AGE_BUCKETS],
                         current=current, current_total=sum(b.total for b in current))


# -- intent and sentiment mix ------------------------------------------------------------------------------

def _points(period: Period, interval: Interval) -> list[date]:
    days = period.local_days()
    if interval == "day":
        return days
    if interval == "week":
        return sorted({d - timedelta(days=d.weekday()) for d in days})
    raise ValueError(f"unknown interval {interval!r}: use day or week")


def _partial(period: Period, start: date, interval: Interval) -> bool:
    """Whether the period leaves out part of the local day or week starting at `start`."""
    last = start + timedelta(days=0 if interval == "day" else 6)
    return period.since > period.day_end(start - timedelta(days=1)) or period.until < period.day_end(last)


def _series(counts: Counter[tuple[Any, ...]], starts: list[date], interval: Interval, period: Period) -> MixSeries:
    per: dict[date, Counter[str]] = {s: Counter() for s in starts}
    totals: Counter[str] = Counter()
    for (index, label), n in counts.items():
        day = day_of(index)
        start = day if interval == "day" else day - timedelta(days=day.weekday())
        name = label or UNCLASSIFIED
        per[start][name] += n
        totals[name] += n
    labels = [name for name, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    points = []
    for start in starts:
        c = per[start]
        n = sum(c.values())
        ordered = {name: c[name] for name in labels if c[name]}
        points.append(MixPoint(start=start, partial=_partial(period, start, interval), total=n, counts=ordered,
                               shares={name: round(v / n, 4) for name, v in ordered.items()}))
    return MixSeries(labels=labels, points=points)


def mix(*, session: Session, period: Period, interval: Interval = "day", channel: str | None = None,
        queue: str | None = None) -> MixReport:
    """Tickets created per local day or week by intent and by sentiment (the ticket's latest), counts and shares."""
    starts = _points(period, interval)
    stmt = select().select_from(Ticket).where(*_filters(channel, queue))
    intents = _local_counts(session, period, Ticket.created_at, DAY, stmt, Ticket.intent)
    sentiments = _local_counts(session, period, Ticket.created_at, DAY, stmt, Ticket.sentiment)
    return MixReport(period=period_out(period), interval=interval, total=sum(intents.values()),
                     intent=_series(intents, starts, interval, period),
                     sentiment=_series(sentiments, starts, interval, period))
