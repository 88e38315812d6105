"""Staffing to SLA (issue 17 item 2): Erlang C against a published worked example, email workload, handling
times learned per intent and channel with fallbacks, agents on shift, under/over per interval."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from triage.config import Settings, TriageConfig, load_config
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import Database
from triage.planning.schemas import ForecastReport, SeriesForecast
from triage.planning.staffing import (
    ANY_INTENT,
    erlang_agents,
    erlang_c,
    handle_time_table,
    learn_handle_times,
    mean_handle_seconds,
    required_agents,
    scheduled_agents,
    service_level,
    staffing,
    with_shrinkage,
)

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


def test_erlang_c_matches_the_published_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example": 100 calls per half
    hour (200 an hour), 180 s average handling time, 80% to be answered within 20 s, maximum occupancy 85%,
    shrinkage 30%. Traffic A = 200 x 180 / 3600 = 10 Erlangs. Starting from N = A + 1 = 11 agents, the
    probability that a call waits is 68.21%; the service level first reaches 80% at 14 agents (occupancy
    10 / 14 = 71.4%), and with 30% shrinkage 14 / 0.7 = 20 agents are scheduled."""
    traffic = 200 * 180 / 3600
    assert traffic == 10
    assert erlang_c(11, traffic) == pytest.approx(0.6821, abs=5e-5)
    assert service_level(13, traffic, 180, 20) < 0.80 < service_level(14, traffic, 180, 20)
    assert erlang_agents(traffic, 180, 20, 0.80, max_occupancy=0.85) == 14
    assert traffic / 14 == pytest.approx(0.714, abs=5e-4)
    assert with_shrinkage(14, 0.30) == 20


def test_erlang_c_edges_and_the_occupancy_cap() -> None:
    assert erlang_c(5, 0.0) == 0.0 and erlang_c(10, 10.0) == 1.0
    assert erlang_agents(0.0, 180, 20, 0.8) == 0
    # Hundreds of agents stay finite (no A^N / N! overflow), and a long target needs only A + 1 agents,
    # unless the occupancy cap asks for more.
    assert 0 < erlang_c(400, 380.0) < 1
    assert erlang_agents(8.5, 180, 3600, 0.8) == 9
    assert erlang_agents(8.5, 180, 3600, 0.8, max_occupancy=0.5) == 17


def config(**planning: object) -> TriageConfig:
    data = load_config().model_dump()
    data["planning"] = {**data["planning"], **planning}
    return TriageConfig.model_validate(data)


def test_email_workload_is_spread_over_the_window_then_shrinkage() -> None:
    conf = config(email_window="4h", shrinkage=0.5, max_occupancy=1.0)
    volume = np.zeros(48)
    volume[10] = 40  # 40 emails of 6 minutes = 4 agent-hours arriving in one hour
    needed = required_agents("email", volume, 360.0, conf)
    # Spread over 4 hours: 1 agent-hour per hour from 10:00 to 13:00, doubled by 50% shrinkage.
    assert list(needed[10:14]) == [2.0, 2.0, 2.0, 2.0]
    assert needed[9] == 0 and needed[14] == 0
    assert needed.sum() == pytest.approx(4 / 0.5)


def test_scheduled_agents_follow_working_hours_and_share_agents() -> None:
    conf = load_config()
    # Omar Haddad and Lena Fischer (billing only, Europe/Berlin, Mon-Fri 09-17 and 08-16) and Ines Costa
    # (customer-care and billing, Europe/Lisbon 10-18) serve billing email.
    hours = scheduled_agents(conf, "billing", "email", MONDAY, 24)
    shares = {a.name: 1 / (len(a.teams) * len(a.channels)) for a in conf.agents
              if "billing" in a.teams and "email" in a.channels}
    assert set(shares) == {"Ines Costa", "Omar Haddad", "Lena Fischer"}
    assert hours[3] == 0  # night
    assert hours[9] == pytest.approx(shares["Omar Haddad"] + shares["Lena Fischer"])  # Lisbon is at 09:30
    assert hours[10] == pytest.approx(sum(shares.values()))  # 11:30 in Berlin, 10:30 in Lisbon
    assert hours[15] == pytest.approx(hours[10] - shares["Lena Fischer"])  # 16:30 in Berlin: Lena has left
    saturday = scheduled_agents(conf, "billing", "email", MONDAY + timedelta(days=5), 24)
    assert saturday.sum() == 0


def add_ticket(session, customer: Customer, *, channel: str, intent: str, created: datetime,
               replies: list[tuple[int, int]]) -> None:
    """A ticket whose customer writes at each (minute, ...) and the agent replies after the given minutes."""
    ticket = Ticket(channel=channel, queue="billing", intent=intent, customer_id=customer.id, created_at=created)
    session.add(ticket)
    session.flush()
    for n, (asked, answered) in enumerate(replies):
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer",
                            dedup_key=f"t{ticket.id}:{n}:in", sent_at=created + timedelta(minutes=asked)))
        session.add(Message(ticket_id=ticket.id, direction="out", author_kind="agent",
                            dedup_key=f"t{ticket.id}:{n}:out", sent_at=created + timedelta(minutes=answered)))


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def test_handle_times_learned_per_intent_and_channel_with_fallbacks(db: Database) -> None:
    conf = config(min_handle_samples=3, max_handle_gap="30m")
    with db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        for i in range(3):  # refunds by email: 10 + 5 minutes of work each
            add_ticket(session, customer, channel="email", intent="refund", created=MONDAY + timedelta(hours=i),
                       replies=[(0, 10), (20, 25)])
        for i in range(2):  # one reply after 3 hours: capped at 30 minutes
            add_ticket(session, customer, channel="email", intent="billing_issue",
                       created=MONDAY + timedelta(hours=5 + i), replies=[(0, 180)])
        add_ticket(session, customer, channel="chat", intent="refund", created=MONDAY, replies=[(0, 4)])
    with db.session() as session:
        samples = learn_handle_times(session=session, since=MONDAY, until=MONDAY + timedelta(days=1),
                                     cap=timedelta(minutes=30))
    assert samples[("email", "refund")] == [900.0, 900.0, 900.0]
    assert samples[("email", "billing_issue")] == [1800.0, 1800.0]
    table = {(h.channel, h.intent): h for h in handle_time_table(samples, conf)}
    assert table[("email", "refund")].seconds == 900 and table[("email", "refund")].source == "learned"
    assert ("email", "billing_issue") not in table  # 2 < 3 samples: the channel's figure serves it
    assert table[("email", ANY_INTENT)].seconds == 900 and table[("email", ANY_INTENT)].samples == 5
    assert table[("chat", ANY_INTENT)].source == "default" and table[("chat", ANY_INTENT)].seconds == 480
    mix = Counter({"refund": 1, "billing_issue": 3})
    assert mean_handle_seconds(mix, "email", list(table.values())) == 900


def test_staffing_report_under_and_over_per_interval(db: Database) -> None:
    conf = config(shrinkage=0.0, max_occupancy=1.0, chat_answer_within="1h", service_level=0.5)
    hours = 24
    chat = [0.0] * hours
    chat[9] = 60.0  # 60 chats of 8 minutes (the default) = 8 Erlangs at 10:00 Berlin
    forecast = ForecastReport(start=MONDAY, weeks=1, hours=hours, model="given", backtest=[], series=[
        SeriesForecast(queue="billing", channel="chat", timezone="UTC", total=60.0, hourly=chat, daily=[],
                       holidays=[], history_hours=0, backtest_origins=0, backtest=[])])
    with db.session() as session:
        report = staffing(session=session, config=conf, report=forecast)
    (series,) = report.series
    assert series.method == "erlang_c" and series.handle_seconds == 480
    at9 = series.intervals[9]
    assert at9.required == 9  # A = 8 Erlangs; a 1-hour target at 50% needs only N = A + 1
    assert at9.gap == pytest.approx(at9.scheduled - 9)
    assert series.intervals[3].required == 0 and series.intervals[3].scheduled == 0
    assert series.under_hours == 1 and series.under_agent_hours == pytest.approx(9 - at9.scheduled, abs=0.05)
    over = [i for i in series.intervals if i.gap > 0]
    assert series.over_hours == len(over) > 0  # the billing agents' other office hours with no chats
