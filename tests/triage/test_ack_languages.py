"""Issue 15 item 1: acknowledgements and the chat bot's answer in the customer's language, and a chat that
arrives when nobody is on shift told when the team is back (clocks given explicitly for that part)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.parse import email_dedup_key, parse_email
from triage.config import AutoReplyConfig, AutoReplyTemplate, Settings, load_config
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.events.tables import Event
from triage.flows.expected import ExpectedReply, team_back, template_values
from triage.inbox.service import enqueue
from triage.ingest.chat import ChatRecord
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage

EMAILS = {
    "de": ("Wo bleibt meine Bestellung?",
           "Hallo, meine Bestellung LH-104233 ist immer noch nicht angekommen. Können Sie bitte nachsehen, wo sie ist?",
           "AW: Wo bleibt meine Bestellung?", "vielen Dank für Ihre Nachricht an Larkspur Home"),
    "fr": ("Où est ma commande ?",
           "Bonjour, ma commande LH-104233 n'est toujours pas arrivée. Pouvez-vous me dire où elle se trouve ?",
           "RE: Où est ma commande ?", "Merci d'avoir écrit à Larkspur Home. Nous avons bien reçu votre message"),
    "es": ("¿Dónde está mi pedido?",
           "Hola, mi pedido LH-104233 todavía no ha llegado. ¿Pueden decirme dónde está, por favor?",
           "RE: ¿Dónde está mi pedido?", "Gracias por escribir a Larkspur Home. Hemos recibido su mensaje"),
    "en": ("Where is my order?",
           "Hello, my order LH-104233 has not arrived yet. Could you please tell me where it is?",
           "Re: Where is my order?", "thank you for writing to Larkspur Home. We have received your message"),
}


def _deliver(rt: Triage, raw: bytes) -> None:
    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key=email_dedup_key(raw))
    rt.worker().drain()


def _chat(rt: Triage, text: str, at: datetime, conversation: str = "live-1") -> str:
    """A live chat message (through the API) at `at`; the bot's answer."""
    rec = ChatRecord.model_validate({"conversation_id": conversation, "timestamp": at.isoformat(),
                                     "role": "customer", "customer": {"id": f"visitor-{conversation}"},
                                     "text": text})
    with rt.db.transaction() as session:
        enqueue(session=session, kind="chat", source="api", payload=rec.model_dump_json().encode(),
                dedup_key=rec.dedup_key())
    rt.worker().drain()
    with rt.db.session() as session:
        bots = list(session.scalars(select(Message).where(Message.author_kind == "bot")))
    assert len(bots) == 1
    return bots[0].text


@pytest.mark.parametrize("language", list(EMAILS))
def test_each_shipped_language_gets_its_acknowledgement(rt: Triage, make_email, language: str) -> None:  # type: ignore[no-untyped-def]
    subject, body, want_subject, want_body = EMAILS[language]
    _deliver(rt, make_email(subject=subject, body=body))
    with rt.db.session() as session:
        ticket = session.scalar(select(Ticket))
        ack = session.scalar(select(OutboxItem).where(OutboxItem.kind == "auto_reply"))
        assert ticket is not None and ack is not None
        assert ticket.language == language
        assert ack.subject == f"{want_subject} [#{ticket.id}]"
        text = parse_email(ack.raw).text
    assert want_body in text, text
    assert f"{ticket.id}" in text


def test_a_language_without_templates_falls_back_to_english(rt: Triage, make_email) -> None:  # type: ignore[no-untyped-def]
    with rt.db.transaction() as session:  # an Italian customer, and a mail the detector is not sure of
        customer = Customer(name="Giulia", language="it")
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value="giulia@example.it"))
    _deliver(rt, make_email(sender="Giulia <giulia@example.it>", subject="Ordine LH-104233",
                            body="Ciao! Dov'è il mio ordine LH-104233? Non è ancora arrivato."))
    with rt.db.session() as session:
        ticket = session.scalar(select(Ticket))
        ack = session.scalar(select(OutboxItem).where(OutboxItem.kind == "auto_reply"))
        assert ticket is not None and ack is not None
        assert ticket.customer.language == "it"
        assert ack.subject == f"Re: Ordine LH-104233 [#{ticket.id}]"
        assert "thank you for writing to Larkspur Home" in parse_email(ack.raw).text


def test_a_live_chat_in_french_gets_the_french_bot_answer(rt: Triage) -> None:
    text = _chat(rt, "Bonjour, ma commande LH-104233 n'est toujours pas arrivée. Pouvez-vous me dire où elle est ?",
                 datetime.now(UTC))
    # the rt fixture's agents work around the clock: a queue position, with the wait in French words
    assert text.startswith("Merci pour votre message ! Vous êtes en position "), text
    assert "dans la file d'attente. Temps d'attente estimé : environ " in text and "Our team" not in text


def test_chat_templates_fall_back_per_language_and_need_a_text() -> None:
    conf = AutoReplyConfig(templates=[AutoReplyTemplate(language="fr", chat_body="Bonjour !"),
                                      AutoReplyTemplate(language="de", body="Hallo.")])
    assert conf.chat_body_for("FR", None) == "Bonjour !"
    assert conf.template_for("fr", None) == (conf.subject, conf.body)  # a chat-only template sends no mail
    assert conf.chat_body_for("de", None) == conf.chat_body  # a mail-only template leaves the chat in English
    assert conf.template_for("de", None) == (conf.subject, "Hallo.")
    with pytest.raises(ValueError, match="a template needs body, chat_body or both"):
        AutoReplyTemplate(language="es")
    shipped = load_config().auto_reply
    assert {t.language for t in shipped.templates if t.body and t.chat_body} == {"de", "fr", "es"}


# ---------------------------------------------------------------------------- nobody on shift

SATURDAY_NIGHT = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)  # 04:00 in Berlin
MONDAY_NINE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
WEDNESDAY = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)  # 11:00 in Berlin

# Who could take a chat in "care": its agents who work chat. An email-only agent around the clock and an
# agent of another team do not count; the earliest of the chat agents' shifts is when the team is back.
SHIFT_CONFIG = """
company = "Larkspur Home"
default_team = "care"

[[teams]]
name = "care"
intents = ["order_status"]
calendar = "office"

[[teams]]
name = "billing"
intents = ["payment_issue"]

[[calendars]]
name = "office"
timezone = "Europe/Berlin"
hours = "Mon-Fri 09:00-17:00"

[[agents]]
name = "Bea Berlin"
email = "bea@larkspur.example"
teams = ["care"]
channels = ["chat"]
capacity = 0
timezone = "Europe/Berlin"
working_hours = "Mon-Fri 09:00-17:00"

[[agents]]
name = "Lou Lisbon"
email = "lou@larkspur.example"
teams = ["care"]
channels = ["chat", "email"]
capacity = 0
timezone = "Europe/Lisbon"
working_hours = "Mon-Fri 09:00-17:00"

[[agents]]
name = "Eve Email"
email = "eve@larkspur.example"
teams = ["care"]
channels = ["email"]
working_hours = "24x7"

[[agents]]
name = "Bob Billing"
email = "bob@larkspur.example"
teams = ["billing"]
working_hours = "24x7"

[[mailboxes]]
address = "support@larkspur.example"
"""


@pytest.fixture
def shift_rt(tmp_path: Path, database_url: str, models_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator:  # type: ignore[type-arg]
    """A runtime whose agents keep office hours, and a clock to set (processing and routing read it)."""
    path = tmp_path / "triage.toml"
    path.write_text(SHIFT_CONFIG, encoding="utf-8")
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=models_path,
                              config_file=path, environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    clock = {"now": SATURDAY_NIGHT}
    monkeypatch.setattr("triage.flows.processing.utcnow", lambda: clock["now"])
    monkeypatch.setattr("triage.routing.service.utcnow", lambda: clock["now"])
    yield runtime, clock
    runtime.db.dispose()


def test_a_chat_when_nobody_is_on_shift_is_told_when_the_team_is_back(shift_rt) -> None:  # type: ignore[no-untyped-def]
    rt, clock = shift_rt
    clock["now"] = SATURDAY_NIGHT
    text = _chat(rt, "Hi, where is my order LH-104233? It has not arrived yet.", SATURDAY_NIGHT)
    assert text == ("Thanks for your message! Our team is not available right now; we are back on Monday at "
                    "09:00 (CET). If you leave your email address here, we will answer you by email, so you do "
                    "not need to keep this chat open."), text
    with rt.db.session() as session:
        event = session.scalar(select(Event).where(Event.kind == "chat.acknowledged"))
        ticket = session.scalar(select(Ticket))
        assert event is not None and ticket is not None and ticket.queue == "care"
        assert event.data["team_back"] == MONDAY_NINE.isoformat()
        # Lisbon starts an hour later in UTC: Bea's 09:00 in Berlin is the earliest
        assert team_back(ticket, session=session, now=SATURDAY_NIGHT) == MONDAY_NINE
        assert team_back(ticket, session=session, now=WEDNESDAY) is None  # both on shift


def test_a_chat_during_office_hours_gets_its_queue_position(shift_rt) -> None:  # type: ignore[no-untyped-def]
    rt, clock = shift_rt
    clock["now"] = WEDNESDAY
    text = _chat(rt, "Hi, where is my order LH-104233? It has not arrived yet.", WEDNESDAY)
    assert text.startswith("Thanks for your message! You are number 1 in the queue. The expected wait is about "), text
    assert "back on" not in text and "email" not in text


def test_team_back_is_told_in_the_customers_zone_and_words() -> None:
    expected = ExpectedReply(at=None, position=2, timezone="America/New_York")
    values = template_values(expected, now=SATURDAY_NIGHT, back=MONDAY_NINE, language="fr")
    assert (values["team_back"], values["team_back_day"], values["team_back_time"], values["team_back_zone"]) == \
        ("lundi 03:00 EST", "lundi", "03:00", "EST")
    assert values["team_back_at"] == MONDAY_NINE and values["team_back_date"] == "2026-11-23"
    spanish = template_values(expected, now=SATURDAY_NIGHT, back=MONDAY_NINE + timedelta(days=7), language="es")
    assert spanish["team_back_day"] == "lunes 2026-11-30"  # a week or more ahead: the date too
    english = template_values(expected, now=SATURDAY_NIGHT, back=MONDAY_NINE, language="it")
    assert english["team_back"] == "Monday 03:00 EST"
    assert template_values(expected, now=SATURDAY_NIGHT)["team_back"] is None
