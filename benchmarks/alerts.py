"""Emerging-issue benchmark (issue 17): `triage alerts` run every hour over generated histories with injected
spikes and new topics; detection delay, recall and false alarms per week.

- **Rises.** Eight weeks of tickets for eight intents (each with its team's queue) on a weekly rhythm (a daily
  curve, quiet weekends); the last four weeks are watched. Eight spikes are injected there, each one intent at
  three times its usual rate for six hours (at least four extra tickets an hour). A spike is found when an
  alert for its intent or its queue opens while it runs (or within one alert window after); the delay is from
  the spike's start to that alert. Every other alert that opens is a false alarm.
- **New topics.** Over the same weeks, unsure customer messages arrive one every two hours, drawn from the
  bundled English training messages of every intent (the everyday mixture a classifier is unsure of); three new
  topics (a rejected discount code, a broken parcel locker, an app crash since an update) each send 12
  messages over 12 hours. A topic is found when a topic alert whose words name it opens; every other topic
  alert is a false alarm. Embeddings come from the bundled MiniLM encoder.

Each pass is `triage.planning.alerts.check_alerts` on SQLite with the default [planning] settings, the code path
of the command.
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources

import numpy as np
from sqlalchemy import insert

from benchmarks.common import Row, temp_runtime
from triage.config import TriageConfig, load_config, parse_duration
from triage.conversations.tables import Customer, Message, Ticket
from triage.planning.alerts import check_alerts

NAME = "alerts"
START = datetime(2026, 9, 7, tzinfo=UTC)  # a Monday
WEEKS, WATCHED = 8, 4
INTENTS = {"order_status": 3.0, "delivery_problem": 2.0, "return_exchange": 1.5, "refund_request": 1.2,
           "billing_issue": 1.0, "payment_problem": 0.8, "technical_problem": 1.0, "account_access": 0.6}
SPIKES, SPIKE_HOURS, SPIKE_FACTOR = 8, 6, 3.0
TOPICS = {
    "discount code": ("code", "discount", "promo", "voucher", "checkout", "rejected"),
    "parcel locker": ("locker", "parcel", "door", "station", "stuck"),
    "app crash": ("app", "crash", "crashes", "update", "scan", "scanner", "freezes", "closes", "barcode"),
}
TOPIC_MESSAGES, TOPIC_HOURS = 12, 12


def daily_curve(hour: float) -> float:
    return 0.1 + math.exp(-(((hour - 10.5) / 2.5) ** 2)) + 0.7 * math.exp(-(((hour - 15.0) / 2.5) ** 2))


def rate(level: float, moment: datetime) -> float:
    return level * daily_curve(moment.hour + 0.5) * (0.3 if moment.weekday() >= 5 else 1.0)


def topic_text(topic: str, rng: random.Random) -> str:
    """One customer's words about a new topic, varied so that no two are the same sentence."""
    pick = rng.choice
    if topic == "discount code":
        return (f"{pick(['Hi,', 'Hello,', ''])} the {pick(['discount', 'promo'])} code "
                f"{pick(['SUMMER25', 'WELCOME10', 'AUTUMN15', 'FRIENDS20'])} is {pick(['rejected', 'not accepted'])} "
                f"at checkout {pick(['even though it is valid', 'today', 'on every try', 'again'])}.")
    if topic == "parcel locker":
        return (f"The parcel locker at {pick(['Main Street', 'the station', 'Oak Road', 'the mall'])} "
                f"{pick(['will not open', 'is broken', 'shows an error', 'keeps the door shut'])} and my parcel is "
                f"stuck {pick(['inside', 'there', 'since yesterday', 'for two days'])}.")
    return (f"Since the {pick(['latest', 'last', 'new'])} update your app "
            f"{pick(['crashes', 'closes', 'freezes'])} when I {pick(['scan', 'open'])} "
            f"{pick(['the barcode', 'my loyalty card', 'a receipt', 'the scanner'])}.")


@dataclass
class Event:
    kind: str  # spike | topic
    name: str  # intent or topic
    start: datetime
    end: datetime
    found_at: datetime | None = None


def _config() -> TriageConfig:
    return load_config()


def populate(rt, config: TriageConfig, seed: int = 5) -> tuple[list[Event], list[Event]]:  # type: ignore[no-untyped-def]
    """Tickets, spikes and unsure messages; the injected spikes and topics."""
    rng = np.random.default_rng(seed)
    choice = random.Random(seed)
    watched = START + timedelta(weeks=WEEKS - WATCHED)
    spikes = []
    for _ in range(SPIKES):
        start = watched + timedelta(hours=choice.randrange(0, WATCHED * 168 - SPIKE_HOURS - 3))
        spikes.append(Event("spike", choice.choice(list(INTENTS)), start, start + timedelta(hours=SPIKE_HOURS)))
    topics = []
    for n, name in enumerate(TOPICS):
        start = watched + timedelta(days=3 + 8 * n, hours=choice.randrange(0, 24))
        topics.append(Event("topic", name, start, start + timedelta(hours=TOPIC_HOURS)))
    with rt.db.transaction() as session:
        customer = Customer(name="bench")
        session.add(customer)
        session.flush()
        rows = []
        for hour in range(WEEKS * 168):
            moment = START + timedelta(hours=hour)
            for intent, level in INTENTS.items():
                expected = rate(level, moment)
                for s in spikes:
                    if s.name == intent and s.start <= moment < s.end:
                        expected = max(expected * SPIKE_FACTOR, expected + 4.0)
                for _ in range(int(rng.poisson(expected))):
                    rows.append({"channel": "email", "queue": config.team_for_intent(intent), "intent": intent,
                                 "intent_confidence": 0.9, "status": "solved", "customer_id": customer.id,
                                 "created_at": moment + timedelta(seconds=choice.uniform(0, 3599))})
        session.execute(insert(Ticket), rows)
    path = resources.files("triage.samples").joinpath("training/intents.csv")
    with path.open(encoding="utf-8") as fh:
        everyday = [r["text"] for r in csv.DictReader(fh) if r["language"] == "en"]
    unsure: list[tuple[datetime, str]] = []
    for hour in range(0, WEEKS * 168, 2):
        unsure.append((START + timedelta(hours=hour, minutes=choice.randrange(60)), choice.choice(everyday)))
    for t in topics:
        for i in range(TOPIC_MESSAGES):
            unsure.append((t.start + timedelta(minutes=i * TOPIC_HOURS * 60 // TOPIC_MESSAGES),
                           topic_text(t.name, choice)))
    with rt.db.transaction() as session:
        for n, (at, text) in enumerate(unsure):
            ticket = Ticket(channel="email", queue=config.default_team, intent="other", intent_confidence=0.2,
                            needs_review=True, status="open", customer_id=customer.id, created_at=at)
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key=f"u{n}",
                                text=text, sent_at=at))
    # Unsure messages are tickets too: the "other" intent is not tested and the default queue gets a few more.
    return spikes, topics


def run() -> list[Row]:
    from models.encoder import Encoder

    config = _config()
    window = parse_duration(config.planning.alert_window)
    rt = temp_runtime()
    encoder = Encoder()
    cache: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:  # the same texts come back every pass: embed each once
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            for text, vector in zip(missing, encoder.encode(missing), strict=True):
                cache[text] = vector
        return np.stack([cache[t] for t in texts])

    try:
        spikes, topics = populate(rt, config)
        watched = START + timedelta(weeks=WEEKS - WATCHED)
        false_rises, false_topics, passes = [], [], 0
        for hour in range(1, WATCHED * 168 + 1):
            now = watched + timedelta(hours=hour)
            with rt.db.transaction() as session:
                report = check_alerts(session=session, config=config, now=now,
                                      encode=encode if hour % 3 == 0 else None)
            passes += 1
            for alert in (a for a in report.alerts if a.new):
                if alert.kind == "topic":
                    words = set(alert.key.split())
                    match = next((t for t in topics if words & set(TOPICS[t.name]) and t.start <= now), None)
                    if match is not None and match.found_at is None:
                        match.found_at = now
                    elif match is None:
                        false_topics.append(alert.key)
                    continue
                match = next((s for s in spikes if s.start < now <= s.end + window and
                              alert.key in (s.name, config.team_for_intent(s.name))), None)
                if match is not None:
                    match.found_at = match.found_at or now
                else:
                    false_rises.append(f"{alert.kind}:{alert.key}@{now:%m-%d %H}")
    finally:
        rt.db.dispose()
    rows = []
    for label, events, false, unit_note in (("spikes", spikes, false_rises, "intent or queue alerts"),
                                            ("new topics", topics, false_topics, "topic alerts")):
        found = [e for e in events if e.found_at is not None]
        delays = [(e.found_at - e.start).total_seconds() / 3600 for e in found]  # type: ignore[operator]
        rows.append(Row(NAME, f"{label}: recall ({len(events)} injected over {WATCHED} weeks)",
                        round(100 * len(found) / len(events), 1), "%"))
        rows.append(Row(NAME, f"{label}: detection delay, median (max)", round(float(np.median(delays)), 1)
                        if delays else 0.0, "h", note=f"max {max(delays):.1f} h" if delays else "none found"))
        rows.append(Row(NAME, f"{label}: false alarms per week", round(len(false) / WATCHED, 2), "/week",
                        note=f"{unit_note}; " + (", ".join(false[:4]) or "none")))
    rows.append(Row(NAME, "passes", passes, "passes", note="hourly; topics every 3 h; window "
                    f"{config.planning.alert_window}, alpha {config.planning.alert_alpha}"))
    return rows
