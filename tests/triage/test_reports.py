"""Reports against a small hand-worked dataset, on SQLite and PostgreSQL.

Week of Monday 2026-11-02 (UTC). Tickets, with the numbers the reports must give worked out below:

  #  channel queue      agent  prio    created        first reply    solved / state          SLA (fr, res)
  1  email   billing    A      normal  Mon 09:00      +30m           +2h                     met, met
  2  email   billing    A      normal  Tue 09:00      +2h            +6h, pending 3h of it   missed, met
  3  chat    technical  B      high    Wed 10:00      +4m            open                    met, missed (overdue)
  4  chat    technical  -      high    Wed 10:30      none           new                     missed, missed
  5  email   billing    B      normal  Thu 12:00      +10m           +1h                     breach event: missed, met
  6  email   billing    A      normal  Oct 25 09:00   (earlier)      Tue Nov 3 09:00         created before the period
  7  email   technical  -      low     Fri 08:00      +1h            open                    no policy
  8  email   billing    A      normal  Sat 20:00      +30m           pending since 21:00     met, still open
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.config import Settings
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import Database
from triage.reports.periods import make_period
from triage.reports.service import backlog, mix, response_times, sla_attainment, volume
from triage.sla.tables import SlaEvent, SlaPause

NOW = datetime(2026, 11, 9, tzinfo=UTC)
H = 3600


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    settings = Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "models",
                        environment="test")
    database = Database(settings)
    database.ensure_schema()
    yield database
    database.dispose()


class Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.n = 0

    def agent(self, email: str) -> Agent:
        agent = Agent(name=email, email=email, teams=["billing", "technical"])
        self.session.add(agent)
        self.session.flush()
        return agent

    def message(self, ticket: Ticket, when: datetime, *, direction: str, kind: str) -> None:
        self.n += 1
        self.session.add(Message(ticket_id=ticket.id, direction=direction, author_kind=kind, author=kind,
                                 dedup_key=f"test:{self.n}", text="...", sent_at=when))

    def ticket(self, *, channel: str, queue: str | None, created: datetime, agent: Agent | None = None,
               priority: str = "normal", reply: timedelta | None = None, solved: timedelta | None = None,
               status: str | None = None, fr_due: timedelta | None = None, res_due: timedelta | None = None,
               pauses: tuple[tuple[timedelta, timedelta | None], ...] = (), breaches: tuple[str, ...] = (),
               intent: str | None = None, sentiment: str | None = None, **extra: Any) -> Ticket:
        customer = Customer(name="c")
        self.session.add(customer)
        self.session.flush()
        ticket = Ticket(channel=channel, queue=queue, created_at=created, customer_id=customer.id,
                        assignee_id=agent.id if agent else None, priority=priority, intent=intent,
                        sentiment=sentiment, status=status or ("solved" if solved is not None else "open"),
                        first_responded_at=created + reply if reply is not None else None,
                        solved_at=created + solved if solved is not None else None,
                        first_response_due=created + fr_due if fr_due is not None else None,
                        resolution_due=created + res_due if res_due is not None else None, **extra)
        self.session.add(ticket)
        self.session.flush()
        self.message(ticket, created, direction="in", kind="customer")
        self.message(ticket, created + timedelta(minutes=1), direction="out", kind="bot")  # never a response
        if reply is not None:
            self.message(ticket, created + reply, direction="out", kind="agent")
            self.message(ticket, created + reply + timedelta(minutes=5), direction="in", kind="customer")
            self.message(ticket, created + reply + timedelta(minutes=6), direction="out", kind="agent")
        for start, end in pauses:
            self.session.add(SlaPause(ticket_id=ticket.id, started_at=created + start,
                                      ended_at=created + end if end is not None else None))
        for metric in breaches:
            self.session.add(SlaEvent(ticket_id=ticket.id, metric=metric, kind="breach", clock_started_at=created,
                                      due_at=created, fired_at=created))
        self.session.flush()
        return ticket


@pytest.fixture
def week(db: Database) -> Database:
    m, hr = timedelta(minutes=1), timedelta(hours=1)
    with db.transaction() as session:
        b = Builder(session)
        a, bb = b.agent("a@example.com"), b.agent("b@example.com")
        normal = {"fr_due": hr, "res_due": 8 * hr}
        high = {"fr_due": 5 * m, "res_due": 4 * hr, "priority": "high"}
        b.ticket(channel="email", queue="billing", created=at(2, 9), agent=a, reply=30 * m, solved=2 * hr,
                 intent="billing_charge", sentiment="negative", **normal)
        b.ticket(channel="email", queue="billing", created=at(3, 9), agent=a, reply=2 * hr, solved=6 * hr,
                 pauses=((2 * hr, 5 * hr),), intent="billing_charge", sentiment="neutral", **normal)
        b.ticket(channel="chat", queue="technical", created=at(4, 10), agent=bb, reply=4 * m,
                 intent="tech_issue", sentiment="negative", **high)
        b.ticket(channel="chat", queue="technical", created=at(4, 10, 30), status="new", sentiment="negative", **high)
        b.ticket(channel="email", queue="billing", created=at(5, 12), agent=bb, reply=10 * m, solved=hr,
                 breaches=("first_response",), intent="refund", sentiment="neutral", **normal)
        b.ticket(channel="email", queue="billing", created=at(25, 9, month=10), agent=a, reply=hr,
                 solved=timedelta(days=9), intent="refund", sentiment="positive", **normal)
        b.ticket(channel="email", queue="technical", created=at(6, 8), reply=hr, priority="low",
                 intent="tech_issue", sentiment="positive")
        b.ticket(channel="email", queue="billing", created=at(7, 20), agent=a, reply=30 * m, status="pending",
                 pauses=((hr, None),), intent="billing_charge", sentiment="neutral",
                 sla_paused_at=at(7, 21), fr_due=hr, res_due=timedelta(days=2, hours=4))
    return db


def _period(tz: str = "UTC"):  # type: ignore[no-untyped-def]
    return make_period(datetime(2026, 11, 1), datetime(2026, 11, 8), tz=tz)


def _stats(s: Any) -> tuple[Any, ...]:
    return s.count, s.mean, s.median, s.p90


def test_first_response_and_resolution_by_queue(week: Database) -> None:
    with week.session() as session:
        report = response_times(session=session, period=_period(), by="queue")
    rows = {r.key: r for r in report.rows}
    assert list(rows) == ["billing", "technical"]
    # billing first responses [600, 1800, 1800, 7200]: p90 at rank 0.9*3 = 2.7 -> 1800 + 0.7*5400.
    assert _stats(rows["billing"].first_response) == (4, 2850.0, 1800.0, 5580.0)
    assert (rows["billing"].created, rows["billing"].unanswered) == (4, 0)
    # technical [240, 3600] and ticket 4 unanswered.
    assert _stats(rows["technical"].first_response) == (2, 1920.0, 1920.0, 3264.0)
    assert (rows["technical"].created, rows["technical"].unanswered) == (3, 1)
    # Solved in the period, pending time taken out: [3600, 7200, 10800 (6h - 3h), 777600 (9 days, ticket 6)].
    assert _stats(rows["billing"].resolution) == (4, 199800.0, 9000.0, 547560.0)
    assert rows["technical"].resolution.count == 0 and rows["technical"].resolution.median is None
    # All six first responses [240, 600, 1800, 1800, 3600, 7200]: p90 at rank 4.5.
    assert _stats(report.total.first_response) == (6, 2540.0, 1800.0, 5400.0)
    assert (report.total.created, report.total.unanswered) == (7, 1)


def test_resolution_with_pending_time_included(week: Database) -> None:
    with week.session() as session:
        report = response_times(session=session, period=_period(), by="queue", exclude_pending=False)
    billing = next(r for r in report.rows if r.key == "billing")
    assert _stats(billing.resolution) == (4, 202500.0, 14400.0, 550800.0)  # ticket 2 counts 6h


def test_grouping_by_agent_and_channel_and_filters(week: Database) -> None:
    with week.session() as session:
        agents = response_times(session=session, period=_period(), by="agent")
        channels = response_times(session=session, period=_period(), by="channel")
        chat_only = response_times(session=session, period=_period(), by="queue", channel="chat")
    by_agent = {r.key: r for r in agents.rows}
    assert set(by_agent) == {"a@example.com", "b@example.com", "(unassigned)"}
    assert _stats(by_agent["b@example.com"].first_response) == (2, 420.0, 420.0, 564.0)
    assert by_agent["(unassigned)"].unanswered == 1
    assert by_agent["a@example.com"].resolution.count == 3
    by_channel = {r.key: r for r in channels.rows}
    assert by_channel["chat"].first_response.count == 1 and by_channel["chat"].unanswered == 1
    assert by_channel["email"].first_response.count == 5
    assert [r.key for r in chat_only.rows] == ["technical"]
    assert chat_only.total.created == 2


def test_sla_attainment_per_queue_and_priority(week: Database) -> None:
    with week.session() as session:
        report = sla_attainment(session=session, period=_period(), now=NOW)
    rows = {(r.queue, r.priority): r for r in report.rows}
    assert list(rows) == [("billing", "normal"), ("technical", "high"), ("technical", "low")]
    billing = rows["billing", "normal"]
    # Ticket 5 answered in time but a breach fired for it: the record wins.
    assert billing.first_response.model_dump() == {"met": 2, "missed": 2, "open": 0, "no_target": 0, "share": 0.5}
    assert billing.resolution.model_dump() == {"met": 3, "missed": 0, "open": 1, "no_target": 0, "share": 1.0}
    tech = rows["technical", "high"]
    assert (tech.first_response.met, tech.first_response.missed, tech.first_response.share) == (1, 1, 0.5)
    assert (tech.resolution.met, tech.resolution.missed, tech.resolution.share) == (0, 2, 0.0)
    assert rows["technical", "low"].first_response.no_target == 1
    assert rows["technical", "low"].first_response.share is None
    assert report.total.tickets == 7
    assert (report.total.first_response.met, report.total.first_response.missed) == (3, 3)
    # Before ticket 4's deadline passed it was still open, not missed.
    with week.session() as session:
        early = sla_attainment(session=session, period=_period(), now=at(4, 10, 32))
    tech_early = next(r for r in early.rows if r.priority == "high")
    assert (tech_early.first_response.open, tech_early.first_response.missed) == (1, 0)


def test_volume_by_hour_of_week_in_utc_and_new_york(week: Database) -> None:
    with week.session() as session:
        utc = volume(session=session, period=_period())
        ny = volume(session=session, period=_period("America/New_York"))
        messages = volume(session=session, period=_period(), unit="messages")
    assert utc.total == 7
    assert utc.matrix[0][9] == 1 and utc.matrix[2][10] == 2 and utc.matrix[5][20] == 1
    assert len(utc.matrix) == 7 and all(len(row) == 24 for row in utc.matrix)
    # New York is UTC-5 after 1 November: Wednesday 10:00 and 10:30 UTC are 05:00 local.
    assert ny.matrix[2][5] == 2 and ny.matrix[0][4] == 1 and ny.matrix[5][15] == 1
    # Customer messages: every ticket's first one, plus a follow-up on each of the six answered tickets
    # (ticket 7's reply an hour later lands in Friday 09:00).
    assert messages.total == 7 + 6
    assert messages.matrix[4][8] == 1 and messages.matrix[4][9] == 1


def test_volume_hours_follow_daylight_saving(db: Database) -> None:
    with db.transaction() as session:
        b = Builder(session)
        b.ticket(channel="email", queue="billing", created=datetime(2026, 3, 28, 8, tzinfo=UTC))  # 09:00 CET
        b.ticket(channel="email", queue="billing", created=datetime(2026, 3, 30, 7, tzinfo=UTC))  # 09:00 CEST
    with db.session() as session:
        report = volume(session=session, period=make_period(datetime(2026, 3, 27), datetime(2026, 4, 1),
                                                            tz="Europe/Berlin"))
    assert report.matrix[5][9] == 1  # Saturday
    assert report.matrix[0][9] == 1  # Monday
    assert report.total == 2


def test_backlog_daily_snapshots_and_current_ages(week: Database) -> None:
    with week.session() as session:
        report = backlog(session=session, period=_period(), now=NOW)
    daily = {d.day.day: (d.new, d.open, d.pending, d.total) for d in report.daily}
    assert [d.day for d in report.daily] == [date(2026, 11, d) for d in range(1, 8)]
    assert daily == {1: (0, 1, 0, 1),  # ticket 6
                     2: (0, 1, 0, 1),  # ticket 1 solved the same day
                     3: (0, 0, 0, 0),  # ticket 6 and ticket 2 solved
                     4: (1, 1, 0, 2),  # ticket 3 answered, 4 not
                     5: (1, 1, 0, 2),
                     6: (1, 2, 0, 3),  # ticket 7
                     7: (1, 2, 1, 4)}  # ticket 8 pending
    assert report.daily[-1].at == datetime(2026, 11, 8, tzinfo=UTC)
    current = {b.queue: b for b in report.current}
    assert current["technical"].ages == {"<1h": 0, "1-4h": 0, "4-24h": 0, "1-3d": 1, "3-7d": 2, ">7d": 0}
    assert current["billing"].ages["1-3d"] == 1 and current["billing"].total == 1
    assert report.current_total == 4


def test_backlog_stops_at_now_and_counts_pending_before_the_first_reply(db: Database) -> None:
    hr = timedelta(hours=1)
    with db.transaction() as session:
        # Pending an hour after creation without any reply: pending, not new; back to new when it resumes.
        Builder(session).ticket(channel="email", queue="billing", created=at(2, 9), status="new",
                                pauses=((hr, 20 * hr),))
    with db.session() as session:
        report = backlog(session=session, period=_period(), now=at(3, 12))
    assert [(d.day.day, d.new, d.pending, d.at) for d in report.daily] == [
        (1, 0, 0, at(2, 0)), (2, 0, 1, at(3, 0)), (3, 1, 0, at(3, 12))]


def test_intent_and_sentiment_mix_per_day_and_week(week: Database) -> None:
    with week.session() as session:
        daily = mix(session=session, period=_period(), interval="day")
        weekly = mix(session=session, period=_period(), interval="week")
    assert daily.total == 7
    assert [p.start.day for p in daily.intent.points] == list(range(1, 8))
    assert daily.intent.labels == ["billing_charge", "tech_issue", "(unclassified)", "refund"]
    wed = daily.intent.points[3]
    assert wed.counts == {"tech_issue": 1, "(unclassified)": 1} and wed.shares == {"tech_issue": 0.5,
                                                                                 "(unclassified)": 0.5}
    assert daily.intent.points[0].total == 0 and daily.intent.points[0].shares == {}
    assert [p.start for p in weekly.sentiment.points] == [date(2026, 10, 26), date(2026, 11, 2)]
    assert weekly.sentiment.points[1].counts == {"negative": 3, "neutral": 3, "positive": 1}
    assert weekly.sentiment.points[1].shares["negative"] == round(3 / 7, 4)


def test_empty_period_gives_empty_but_valid_reports(week: Database) -> None:
    period = make_period(datetime(2025, 1, 1), datetime(2025, 1, 8))
    with week.session() as session:
        rt = response_times(session=session, period=period)
        sla = sla_attainment(session=session, period=period, now=NOW)
        vol = volume(session=session, period=period)
        back = backlog(session=session, period=period, now=NOW)
        mixed = mix(session=session, period=period)
    assert rt.rows == [] and rt.total.first_response.count == 0 and rt.total.first_response.p90 is None
    assert sla.rows == [] and sla.total.first_response.share is None
    assert vol.total == 0 and vol.matrix == [[0] * 24 for _ in range(7)]
    assert [d.total for d in back.daily] == [0] * 7
    assert back.current_total == 4  # the current backlog is about now, not the period
    assert mixed.total == 0 and all(p.total == 0 for p in mixed.intent.points)
