"""Acknowledgements that state a realistic reply time: SLA on the calendar, corrected by the live queue."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mail.parse import email_dedup_key, parse_email
from tests.conftest import build_email
from triage.config import Settings
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import utcnow
from triage.inbox.service import enqueue
from triage.ingest.chat import ChatRecord
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.sla.calendar import BusinessCalendar

OFFICE = BusinessCalendar("Europe/Berlin", "Mon-Fri 09:00-17:00")

CONFIG = """
company = "Larkspur Home"
default_team = "care"

[[teams]]
name = "care"
calendar = "office"

[[calendars]]
name = "office"
timezone = "Europe/Berlin"
hours = "{hours}"

[[agents]]
name = "Ada Agent"
email = "ada@larkspur.example"
teams = ["care"]
capacity = 0          # online but full: every new ticket waits in the queue
status = "{status}"

[[mailboxes]]
address = "support@larkspur.example"

[auto_reply]
[[auto_reply.templates]]
language = "de"
subject = "AW: {{{{ subject }}}} [#{{{{ ticket_id }}}}]"
body = "Antwort bis {{{{ expected_reply_at.isoformat() }}}}; Platz {{{{ queue_position }}}}."
"""
SLA = "".join(f'\n[[sla]]\nchannel = "{c}"\npriority = "{p}"\nfirst_response = "4h"\nresolution = "2d"\n'
              for c in ("email", "chat") for p in ("low", "normal", "high", "urgent"))


@pytest.fixture
def make_rt(settings: Settings) -> Iterator:  # type: ignore[type-arg]
    made: list[Triage] = []

    def make(*, hours: str = "Mon-Fri 09:00-17:00", status: str = "offline") -> Triage:
        settings.config_path.parent.mkdir(parents=True, exist_ok=True)
        settings.config_path.write_text(CONFIG.format(hours=hours, status=status) + SLA, encoding="utf-8")
        rt = Triage(settings)
        rt.db.ensure_schema()
        rt.sync_agents()
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.db.dispose()


def _customer(rt: Triage, address: str, *, timezone: str | None = None, language: str | None = None) -> None:
    with rt.db.transaction() as session:
        customer = Customer(name="Maria", timezone=timezone, language=language)
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=address))


def _deliver(rt: Triage, raw: bytes) -> None:
    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key=email_dedup_key(raw))
    rt.worker().drain()


def _waiting(rt: Triage, n: int) -> None:
    with rt.db.transaction() as session:
        customer = Customer(name="Someone")
        session.add(customer)
        session.flush()
        for _ in range(n):
            hour_ago = utcnow() - timedelta(hours=1)
            session.add(Ticket(channel="email", subject="older", customer_id=customer.id, status="open",
                               priority="urgent", queue="care", created_at=hour_ago, queued_at=hour_ago,
                               first_response_due=hour_ago))


def test_acknowledgement_states_the_sla_time_on_the_calendar_in_the_customers_zone(make_rt) -> None:  # type: ignore[no-untyped-def]
    rt = make_rt(status="offline")  # nobody online: no queue estimate, the SLA deadline stands
    _customer(rt, "maria.jensen@example.com", timezone="America/New_York")
    raw = build_email(date=datetime.now(ZoneInfo("UTC")).strftime("%a, %d %b %Y %H:%M:%S +0000"))
    _deliver(rt, raw)
    with rt.db.session() as session:
        ticket = session.scalar(select(Ticket))
        message = session.scalar(select(Message).where(Message.author_kind == "customer"))
        ack = session.scalar(select(OutboxItem).where(OutboxItem.kind == "auto_reply"))
        assert ticket is not None and message is not None and ack is not None
        due = OFFICE.add(message.sent_at, timedelta(hours=4))
        assert ticket.first_response_due == due.replace(microsecond=0)
        shown = datetime.fromtimestamp(math.ceil(ticket.first_response_due.timestamp() / 300) * 300,
                                       tz=ZoneInfo("America/New_York"))
        body = parse_email(ack.raw).text
        assert f"You can expect our reply by {shown:%A %d %B %Y, %H:%M} (America/New_York)." in body, body
        assert f"#{ticket.id}" in body


def test_live_queue_corrects_the_promise_and_language_picks_the_template(make_rt) -> None:  # type: ignore[no-untyped-def]
    rt = make_rt(hours="24x7", status="online")
    _customer(rt, "maria.jensen@example.com")  # no language on file: the one detected in the mail picks it
    _waiting(rt, 3)
    before = utcnow()
    _deliver(rt, build_email(subject="Wo bleibt meine Bestellung?",
                             body="Hallo, meine Bestellung LH-104233 ist noch nicht angekommen."))
    after = utcnow()
    with rt.db.session() as session:
        ack = session.scalar(select(OutboxItem).where(OutboxItem.kind == "auto_reply"))
        assert ack is not None and ack.subject.startswith("AW: Wo bleibt meine Bestellung?")
        text = parse_email(ack.raw).text
    assert text.startswith("Antwort bis ") and text.rstrip().endswith("Platz 4."), text
    promised = datetime.fromisoformat(text.removeprefix("Antwort bis ").split(";")[0])
    # 3 tickets ahead x 12 min (default email effort) / 1 agent + 12 min for this one = 48 min, not the 4 h SLA
    assert before + timedelta(minutes=48) <= promised <= after + timedelta(minutes=48 + 5)
    assert promised.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(promised.replace(tzinfo=None))


def test_live_chat_gets_queue_position_and_wait_once(make_rt) -> None:  # type: ignore[no-untyped-def]
    rt = make_rt(hours="24x7", status="online")
    _waiting(rt, 2)
    for i, text in enumerate(["Hi, where is my order LH-104233?", "Hello? Anyone there?"]):
        rec = ChatRecord.model_validate({"conversation_id": "live-1", "timestamp": utcnow().isoformat(),
                                         "role": "customer", "customer": {"id": f"c-{i and 1}"}, "text": text})
        with rt.db.transaction() as session:
            enqueue(session=session, kind="chat", source="api", payload=rec.model_dump_json().encode(),
                    dedup_key=rec.dedup_key())
        rt.worker().drain()
    with rt.db.session() as session:
        bots = list(session.scalars(select(Message).where(Message.author_kind == "bot")))
    assert len(bots) == 1  # the second customer message gets no second greeting
    # 2 ahead x 8 min (default chat effort) / 1 agent + 8 min = 24 min
    assert bots[0].text == ("Thanks for your message! You are number 3 in the queue. "
                            "The expected wait is about 24 minutes.")


def test_imported_chats_get_no_bot_message(make_rt) -> None:  # type: ignore[no-untyped-def]
    rt = make_rt(status="online")
    rec = ChatRecord.model_validate({"conversation_id": "old-1", "timestamp": "2026-11-16T09:00:00Z",
                                     "role": "customer", "customer": {"id": "c"}, "text": "Where is my order?"})
    with rt.db.transaction() as session:
        enqueue(session=session, kind="chat", source="file", payload=rec.model_dump_json().encode(),
                dedup_key=rec.dedup_key())
    rt.worker().drain()
    with rt.db.session() as session:
        assert session.scalar(select(Message).where(Message.author_kind == "bot")) is None
