"""Emerging-issue alerts (issue 17 item 3): the count test against a seasonal baseline, once per episode,
silent on ordinary weekly seasonality, new topics from unsure messages; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from triage.config import Settings, TriageConfig, load_config
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import Database
from triage.flows.alerts import run_alerts
from triage.outbox.tables import OutboxItem
from triage.planning.alerts import find_topics, list_alerts, rise_p_value, score_rises
from triage.planning.tables import AlertEpisode

START = datetime(2026, 10, 5, tzinfo=UTC)
# The hashed bag of words puts one topic's messages within about 0.6 of each other (cosine), topics 0.66 apart.
STAND_IN_DISTANCE = 0.58  # a Monday; five weeks of history follow


def test_the_count_test_against_its_baseline_windows() -> None:
    assert rise_p_value(10, [10, 11, 9, 10]) > 0.3  # as usual
    assert rise_p_value(40, [10, 11, 9, 10]) < 1e-8  # four times the usual
    assert rise_p_value(0, [3, 3]) == 1.0 and rise_p_value(5, []) == 1.0
    # A thin baseline is less sure: the same ratio on a tenth of the volume is far less significant.
    assert rise_p_value(4, [1, 1, 1, 1]) > 1000 * rise_p_value(40, [10, 10, 10, 10])


def test_bonferroni_and_the_minimum_count() -> None:
    counts = {("intent", "refund"): (12, [2, 3, 2, 3]), ("intent", "delivery"): (4, [0, 0, 0, 0])}
    fired = {r.key: r.fired for r in score_rises(counts, alpha=0.01, min_count=5)}
    assert fired == {"refund": True, "delivery": False}  # 4 < min_count however unusual
    # At high volume ordinary growth is significant: 15% more than usual is no emerging issue, 60% is.
    big = {("queue", "billing"): (1150, [1000, 1000, 1000, 1000]), ("queue", "tech"): (1600, [1000, 1000, 990, 1010])}
    assert rise_p_value(1150, [1000] * 4) < 1e-4
    assert {r.key: r.fired for r in score_rises(big, alpha=0.01, min_count=5, min_rise=0.5)} == {
        "billing": False, "tech": True}
    # With enough other keys tested, the same refund count no longer clears alpha / m.
    crowd = {**counts, **{("intent", f"i{n}"): (1, [1, 1, 1, 1]) for n in range(5000)}}
    assert not {r.key: r.fired for r in score_rises(crowd, alpha=0.01, min_count=5)}["refund"]


def weekly_rate(moment: datetime) -> float:
    """Tickets per hour of one intent: busy weekday mornings, quiet nights and weekends (a strong weekly rhythm)."""
    weekday_peak = 6.0 * math.exp(-(((moment.hour + 0.5 - 10.0) / 2.0) ** 2))
    return (0.2 + weekday_peak) * (0.2 if moment.weekday() >= 5 else 1.0)


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def config() -> TriageConfig:
    data = load_config().model_dump()
    data["planning"] = {**data["planning"], "alert_notify": ["ops@example.com"],
                        "alert_webhook_url": "https://hooks.example.com/alerts", "topic_min_size": 5,
                        "topic_distance": STAND_IN_DISTANCE}
    return TriageConfig.model_validate(data)


def populate(db: Database, weeks: int = 5, seed: int = 1) -> int:
    rng = np.random.default_rng(seed)
    with db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        rows = []
        for hour in range(weeks * 168):
            moment = START + timedelta(hours=hour)
            for intent, queue in (("order_status", "customer-care"), ("billing_issue", "billing")):
                for k in range(int(rng.poisson(weekly_rate(moment)))):
                    rows.append({"channel": "email", "queue": queue, "intent": intent, "customer_id": customer.id,
                                 "created_at": moment + timedelta(minutes=(7 * k) % 60), "status": "open"})
        session.execute(insert(Ticket), rows)
        return customer.id


def add_spike(db: Database, customer_id: int, at: datetime, n: int, intent: str = "refund_request",
              queue: str = "billing") -> None:
    with db.transaction() as session:
        session.execute(insert(Ticket), [{"channel": "chat", "queue": queue, "intent": intent, "status": "new",
                                          "customer_id": customer_id,
                                          "created_at": at + timedelta(minutes=i * 170 // n)} for i in range(n)])


def outbox(db: Database) -> dict[str, int]:
    with db.session() as session:
        return dict(session.execute(select(OutboxItem.kind, func.count()).group_by(OutboxItem.kind)).all())


def test_weekly_seasonality_alone_never_fires(db: Database) -> None:
    populate(db)
    conf = config()
    last_week = START + timedelta(weeks=4)
    with db.transaction() as session:
        fired = [a for hour in range(0, 168, 5)
                 for a in run_alerts(session=session, config=conf, now=last_week + timedelta(hours=hour)).alerts]
    assert fired == []
    assert outbox(db) == {}


def test_a_spike_alerts_once_per_episode_and_closes(db: Database) -> None:
    customer = populate(db)
    conf = config()
    monday_noon = START + timedelta(weeks=4, hours=12)
    add_spike(db, customer, monday_noon - timedelta(hours=3), 25)  # refunds, never seen before, 25 in 3 hours
    with db.transaction() as session:
        first = run_alerts(session=session, config=conf, now=monday_noon)
    with db.transaction() as session:
        again = run_alerts(session=session, config=conf, now=monday_noon + timedelta(minutes=30))
    # Refund requests were never seen in these hours (a baseline of zeros) and their queue, billing, rises too.
    assert [(a.kind, a.key, a.new) for a in first.alerts] == [("intent", "refund_request", True),
                                                              ("queue", "billing", True)]
    assert [(a.kind, a.key, a.new) for a in again.alerts] == [("intent", "refund_request", False),
                                                              ("queue", "billing", False)]
    billing = first.alerts[1]
    assert billing.observed > 2 * billing.expected > 0
    # Notified once per episode: mail to the configured address and to the team lead, and one webhook.
    leads = [conf.team(t).lead for t in (conf.team_for_intent("refund_request"), "billing")]  # type: ignore[union-attr]
    assert outbox(db) == {"notification": 2 + sum(lead is not None for lead in leads), "webhook": 2}
    # Hours later the count is back to its baseline: the episode closes; a new spike is a new episode.
    with db.transaction() as session:
        run_alerts(session=session, config=conf, now=monday_noon + timedelta(hours=6))
        assert list_alerts(session=session) == []
    add_spike(db, customer, monday_noon + timedelta(hours=21), 25)
    with db.transaction() as session:
        later = run_alerts(session=session, config=conf, now=monday_noon + timedelta(hours=24))
        episodes = session.scalar(select(func.count()).select_from(AlertEpisode))
    assert [(a.kind, a.key, a.new) for a in later.alerts] == [("intent", "refund_request", True),
                                                              ("queue", "billing", True)]
    assert episodes == 4 and outbox(db)["webhook"] == 4


def test_a_rise_of_a_known_intent_is_named(db: Database) -> None:
    customer = populate(db)
    conf = config()
    tuesday_night = START + timedelta(weeks=4, days=1, hours=23)  # quiet hours: usually about one ticket
    add_spike(db, customer, tuesday_night - timedelta(hours=3), 12, intent="order_status", queue="customer-care")
    with db.transaction() as session:
        report = run_alerts(session=session, config=conf, now=tuesday_night, send=False)
    assert ("intent", "order_status") in {(a.kind, a.key) for a in report.alerts}
    assert outbox(db) == {}  # send=False: recorded, not notified


def stand_in_encode(texts: Sequence[str]) -> np.ndarray:
    """Bag of hashed words: texts sharing words are near each other (no model to load in a unit test)."""
    out = np.zeros((len(texts), 512))
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, int(hashlib.sha1(word.strip(".,!?").encode()).hexdigest(), 16) % 512] += 1.0
    return out


VOUCHER = ["My voucher code expired before checkout", "The voucher code says expired although it is new",
           "Voucher code expired, can you renew the voucher", "Checkout rejects my voucher code as expired",
           "Expired voucher code at checkout again", "Why is my gift voucher code expired already",
           "Voucher code expired message on the checkout page"]
LOCKER = ["The parcel locker door is broken", "Parcel locker broken, cannot collect my parcel",
          "Locker door broken at the parcel station", "My parcel is stuck, the locker is broken",
          "Broken parcel locker, door will not open", "The locker station door stays broken for my parcel"]
NOISE = ["Quantum bicycle umbrella", "Lizard symphony on Tuesday", "Granite waffles melted quickly"]


def test_find_topics_names_clusters_by_their_words() -> None:
    texts = VOUCHER + LOCKER + NOISE
    topics = find_topics(texts, stand_in_encode(texts), min_size=5, max_distance=STAND_IN_DISTANCE)
    assert len(topics) == 2
    names = {t.key for t in topics}
    assert any("voucher" in n for n in names) and any("locker" in n for n in names)
    voucher = next(t for t in topics if "voucher" in t.key)
    assert voucher.size == len(VOUCHER) and len(voucher.examples) == 3
    assert all("voucher" in e.lower() for e in voucher.examples)
    # Unrelated messages are noise, however many.
    unrelated = [*NOISE, "Purple elephants dance at noon", "Cosmic kettle whistles loudly", "Sleepy otters juggle"]
    assert find_topics(unrelated, stand_in_encode(unrelated), min_size=5, max_distance=STAND_IN_DISTANCE) == []


def test_new_topics_alert_once(db: Database) -> None:
    conf = config()
    now = START + timedelta(days=3)
    with db.transaction() as session:
        customer = Customer(name="c")
        session.add(customer)
        session.flush()
        for n, text in enumerate(VOUCHER + NOISE + ["Where is my order?"]):
            unsure = n < len(VOUCHER) + len(NOISE)
            ticket = Ticket(channel="email", queue="customer-care", customer_id=customer.id,
                            intent="other" if unsure else "order_status", intent_confidence=0.3 if unsure else 0.9,
                            created_at=now - timedelta(hours=5))
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key=f"m{n}",
                                text=text, sent_at=now - timedelta(hours=5 - n % 3)))
    with db.transaction() as session:
        first = run_alerts(session=session, config=conf, now=now, encode=stand_in_encode)
        second = run_alerts(session=session, config=conf, now=now + timedelta(hours=1), encode=stand_in_encode)
    topics = [a for a in first.alerts if a.kind == "topic"]
    assert len(topics) == 1 and topics[0].new and "voucher" in topics[0].terms
    assert topics[0].observed == len(VOUCHER)
    assert [(a.kind, a.new) for a in second.alerts if a.kind == "topic"] == [("topic", False)]
    assert outbox(db)["webhook"] == 1
