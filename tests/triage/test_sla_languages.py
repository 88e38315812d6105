"""Issue 15: the SLA notice to the customer (escalation action notify_customer) comes in their language.

Runs the bundled triage.toml, whose first-response breach rule sends the notice, so the shipped en/de/fr/es texts
are the ones tested; SQLite and PostgreSQL, every clock given explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.config import Settings, default_config_text
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.events.tables import Event
from triage.flows.sla import check_due
from triage.inbox.tables import InboxItem
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.sla.service import customer_wrote, refresh_sla

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)  # a Wednesday
ADDRESS = "maria.jensen@example.com"

# A phrase of each shipped notice (mail, then chat) that only that language's text contains.
MAIL = {"en": "we have not forgotten your message", "de": "nicht vergessen", "fr": "pas oublié",
        "es": "No nos hemos olvidado"}
CHAT = {"en": "Sorry for the wait", "de": "Entschuldigen Sie bitte die Wartezeit", "fr": "Merci de votre patience",
        "es": "Gracias por su paciencia"}


@pytest.fixture
def rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    path = tmp_path / "triage.toml"
    path.write_text(default_config_text(), encoding="utf-8")
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, config_file=path,
                              environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    yield runtime
    runtime.db.dispose()


def new_ticket(rt: Triage, session: Session, *, ticket_language: str | None, customer_language: str | None,
               channel: str = "email", address: str = ADDRESS) -> Ticket:
    """An unassigned ticket with one customer message at T0 and its SLA clocks running."""
    customer = Customer(name="Maria", language=customer_language)
    session.add(customer)
    session.flush()
    session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=address))
    ticket = Ticket(channel=channel, subject="Where is my order?", customer_id=customer.id, status="new",
                    priority="normal", queue="customer-care", intent="order_status", created_at=T0,
                    language=ticket_language)
    session.add(ticket)
    session.flush()
    session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer",
                        author=address if channel == "email" else "chat-visitor-1",
                        dedup_key=f"test:{ticket.id}", message_id=f"m{ticket.id}@example.com" if channel == "email"
                        else None, subject="Where is my order?", text="LH-104233?", sent_at=T0))
    customer_wrote(ticket, T0)
    refresh_sla(ticket, rt.config, session=session, now=T0)
    assert ticket.first_response_due is not None
    return ticket


def breach(rt: Triage, ticket_id: int) -> datetime:
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.first_response_due is not None
        due = ticket.first_response_due
    check_due(rt.db, rt.config, now=due + timedelta(minutes=1))
    return due


def mails(session: Session, ticket_id: int, address: str = ADDRESS) -> list[EmailMessage]:
    rows = session.scalars(select(OutboxItem).where(OutboxItem.ticket_id == ticket_id, OutboxItem.kind ==
                                                    "notification", OutboxItem.recipient == address))
    out = [message_from_bytes(row.raw, policy=default_policy) for row in rows]
    assert all(isinstance(m, EmailMessage) for m in out)  # the default policy parses into EmailMessage
    return out


def body_of(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def notified(session: Session, ticket_id: int) -> list[dict[str, object]]:
    rows = session.scalars(select(Event).where(Event.kind == "sla.customer_notified", Event.ticket_id == ticket_id))
    return [dict(e.data) for e in rows]


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_the_delay_notice_is_mailed_in_the_tickets_language(rt: Triage, language: str) -> None:
    with rt.db.transaction() as session:
        # the ticket's detected language wins over what the customer record says
        ticket_id = new_ticket(rt, session, ticket_language=language, customer_language="fr" if language != "fr"
                               else "de").id
    breach(rt, ticket_id)
    with rt.db.session() as session:
        [mail] = mails(session, ticket_id)
        text = body_of(mail)
        assert MAIL[language] in text
        assert all(phrase not in text for other, phrase in MAIL.items() if other != language)
        assert f"#{ticket_id}" in str(mail["Subject"]) and "Where is my order?" in str(mail["Subject"])
        assert str(mail["In-Reply-To"]).strip("<>") == f"m{ticket_id}@example.com"
        assert mail["Auto-Submitted"] == "auto-generated"
        # kept on the ticket, so agents see what the customer was told
        kept = session.scalars(select(Message).where(Message.ticket_id == ticket_id,
                                                     Message.auto_kind == "sla_notice")).one()
        assert kept.direction == "out" and kept.language == language and MAIL[language] in kept.text
        [event] = notified(session, ticket_id)
        assert event["language"] == language and event["fallback"] is False and event["metric"] == "first_response"


def test_the_customers_language_is_used_when_the_ticket_has_none(rt: Triage) -> None:
    with rt.db.transaction() as session:
        ticket_id = new_ticket(rt, session, ticket_language=None, customer_language="ES").id
    breach(rt, ticket_id)
    with rt.db.session() as session:
        [mail] = mails(session, ticket_id)
        assert MAIL["es"] in body_of(mail)


@pytest.mark.parametrize(("ticket_language", "customer_language"), [("it", "it"), (None, None)])
def test_a_language_without_a_notice_falls_back_to_english(rt: Triage, ticket_language: str | None,
                                                           customer_language: str | None) -> None:
    with rt.db.transaction() as session:
        ticket_id = new_ticket(rt, session, ticket_language=ticket_language, customer_language=customer_language).id
    breach(rt, ticket_id)
    with rt.db.session() as session:
        [mail] = mails(session, ticket_id)
        assert MAIL["en"] in body_of(mail)
        [event] = notified(session, ticket_id)
        assert event["language"] == "en" and event["wanted_language"] == ticket_language
        assert event["fallback"] is (ticket_language is not None)


@pytest.mark.parametrize("language", ["en", "de", "fr", "es"])
def test_a_late_chat_gets_the_short_notice_in_the_conversation(rt: Triage, language: str) -> None:
    with rt.db.transaction() as session:
        ticket_id = new_ticket(rt, session, ticket_language=language, customer_language=None, channel="chat").id
    breach(rt, ticket_id)
    with rt.db.session() as session:
        assert mails(session, ticket_id) == []
        bot = session.scalars(select(Message).where(Message.ticket_id == ticket_id,
                                                    Message.auto_kind == "sla_notice")).one()
        assert bot.author_kind == "bot" and bot.direction == "out" and CHAT[language] in bot.text
        assert "Hello" not in bot.text and "support\n" not in bot.text  # a chat line, not a letter


def test_the_notice_goes_once_and_never_to_a_bouncing_address(rt: Triage) -> None:
    with rt.db.transaction() as session:
        once = new_ticket(rt, session, ticket_language="de", customer_language=None).id
    due = breach(rt, once)
    check_due(rt.db, rt.config, now=due + timedelta(hours=1))
    with rt.db.transaction() as session:
        assert len(mails(session, once)) == 1 and len(notified(session, once)) == 1
        bouncing = new_ticket(rt, session, ticket_language="de", customer_language=None,
                              address="gone@example.com")
        session.flush()
        identity = session.scalars(select(CustomerIdentity).where(
            CustomerIdentity.customer_id == bouncing.customer_id)).one()
        identity.bouncing_since, identity.bounce_reason = T0, "550 5.1.1 no such user"
        bouncing_id = bouncing.id
    breach(rt, bouncing_id)
    with rt.db.session() as session:
        assert mails(session, bouncing_id, "gone@example.com") == [] and notified(session, bouncing_id) == []
        [skipped] = [dict(e.data) for e in session.scalars(select(Event).where(
            Event.kind == "sla.customer_notice_skipped", Event.ticket_id == bouncing_id))]
        assert "bouncing" in str(skipped["reason"])


@pytest.mark.parametrize(("source", "told"), [("file", False), ("smtp", True)])
def test_customers_of_an_imported_archive_are_never_written_to(rt: Triage, source: str, told: bool) -> None:
    with rt.db.transaction() as session:
        ticket = new_ticket(rt, session, ticket_language="fr", customer_language=None)
        item = InboxItem(kind="email", source=source, dedup_key=f"sha256:{source}", payload=b"", status="done")
        session.add(item)
        session.flush()
        message = session.scalars(select(Message).where(Message.ticket_id == ticket.id)).one()
        message.inbox_id = item.id
        ticket_id = ticket.id
    breach(rt, ticket_id)
    with rt.db.session() as session:
        assert len(mails(session, ticket_id)) == (1 if told else 0)
        skipped = [dict(e.data) for e in session.scalars(select(Event).where(
            Event.kind == "sla.customer_notice_skipped", Event.ticket_id == ticket_id))]
        assert [s["reason"] for s in skipped] == ([] if told else ["the customer's message was imported from a file"])
