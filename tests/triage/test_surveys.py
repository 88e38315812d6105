"""Satisfaction surveys (issue 17 item 4): a signed single-use link, never to automatic or bouncing senders, one
per ticket, rate-limited per customer, opt-out, CSAT reports by the filters; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from triage.agents.tables import Agent
from triage.config import Settings, TriageConfig, load_config
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import Database
from triage.errors import Conflict, InvalidInput
from triage.flows.surveys import send_invitations
from triage.outbox.tables import OutboxItem
from triage.surveys.service import csat_report, make_token, opt_out, respond
from triage.surveys.tables import SurveyInvitation

SECRET = "test-secret"
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def config() -> TriageConfig:
    data = load_config().model_dump()
    data["surveys"] = {**data["surveys"], "enabled": True, "public_url": "https://help.example.com/"}
    return TriageConfig.model_validate(data)


class Shop:
    def __init__(self, session) -> None:  # type: ignore[no-untyped-def]
        self.session = session
        self.n = 0

    def customer(self, email: str, *, bouncing: bool = False) -> Customer:
        customer = Customer(name=email.split("@")[0].title())
        self.session.add(customer)
        self.session.flush()
        self.session.add(CustomerIdentity(customer_id=customer.id, kind="email", value=email,
                                          bouncing_since=NOW - timedelta(days=1) if bouncing else None))
        return customer

    def solved(self, customer: Customer, *, auto: str | None = None, queue: str = "billing", channel: str = "email",
               agent: Agent | None = None, intent: str = "billing_issue", solved: datetime = NOW - timedelta(hours=2)) \
            -> Ticket:
        ticket = Ticket(channel=channel, queue=queue, intent=intent, status="solved", customer_id=customer.id,
                        assignee_id=agent.id if agent else None, created_at=solved - timedelta(hours=3),
                        solved_at=solved)
        self.session.add(ticket)
        self.session.flush()
        self.n += 1
        self.session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", auto_kind=auto,
                                 dedup_key=f"s{self.n}", text="...", sent_at=ticket.created_at))
        self.session.flush()
        return ticket


def test_invitations_skip_automatic_bouncing_opted_out_and_recent(db: Database) -> None:
    conf = config()
    with db.transaction() as session:
        shop = Shop(session)
        maria = shop.customer("maria@example.com")
        shop.solved(maria)
        shop.solved(shop.customer("mailer-daemon@example.net"), auto="bounce")
        shop.solved(shop.customer("gone@example.org", bouncing=True))
    with db.transaction() as session:
        first = send_invitations(session=session, config=conf, secret=SECRET, now=NOW)
        again = send_invitations(session=session, config=conf, secret=SECRET, now=NOW)
        mail = session.scalars(select(OutboxItem).where(OutboxItem.kind == "notification")).all()
    assert first == {"invited": 1, "automatic sender": 1, "bouncing address": 1}
    assert again == {"automatic sender": 1, "bouncing address": 1}  # one invitation per ticket, ever
    assert [m.recipient for m in mail] == ["maria@example.com"]
    body = mail[0].raw.decode()  # type: ignore[union-attr]
    assert "https://help.example.com/survey/" in body and "/opt-out" in body
    # Maria's next solved ticket within 30 days: rate-limited; after opting out: never.
    with db.transaction() as session:
        shop = Shop(session)
        maria = session.scalars(select(Customer).where(Customer.name == "Maria")).one()
        shop.n = 10
        shop.solved(maria, solved=NOW + timedelta(days=1))
    with db.transaction() as session:
        later = send_invitations(session=session, config=conf, secret=SECRET, now=NOW + timedelta(days=1, hours=1))
        invitation = session.scalars(select(SurveyInvitation)).one()
        opt_out(make_token(invitation, SECRET), session=session, secret=SECRET)
        much_later = send_invitations(session=session, config=conf, secret=SECRET, now=NOW + timedelta(days=2))
    assert later["invited recently"] == 1 and "invited" not in later
    assert much_later["opted out"] == 1


def test_the_link_is_single_use_and_cannot_be_forged(db: Database) -> None:
    conf = config()
    with db.transaction() as session:
        shop = Shop(session)
        shop.solved(shop.customer("maria@example.com"))
        send_invitations(session=session, config=conf, secret=SECRET, now=NOW)
        invitation = session.scalars(select(SurveyInvitation)).one()
        token = make_token(invitation, SECRET)
    invitation_id, nonce, signature = token.split(".")
    forged = [f"{invitation_id}.{nonce}.{signature[:-2]}xx", f"{int(invitation_id) + 1}.{nonce}.{signature}",
              f"{invitation_id}.{'0' * 16}.{signature}", make_token(invitation, "another-secret"), "nonsense", ""]
    with db.transaction() as session:
        for bad in forged:
            with pytest.raises(InvalidInput, match="not valid"):
                respond(bad, 5, session=session, secret=SECRET, now=NOW)
        with pytest.raises(InvalidInput, match="1 to 5"):
            respond(token, 6, session=session, secret=SECRET, now=NOW)
        answered = respond(token, 4, "  Quick and kind.  ", session=session, secret=SECRET, now=NOW)
        assert (answered.rating, answered.comment) == (4, "Quick and kind.")
    with db.transaction() as session, pytest.raises(Conflict, match="already answered"):
        respond(token, 1, session=session, secret=SECRET, now=NOW)
    with db.session() as session:
        assert session.scalars(select(SurveyInvitation.rating)).one() == 4  # the second answer changed nothing


def test_an_expired_link_is_refused(db: Database) -> None:
    conf = config()
    with db.transaction() as session:
        shop = Shop(session)
        shop.solved(shop.customer("maria@example.com"))
        send_invitations(session=session, config=conf, secret=SECRET, now=NOW)
        token = make_token(session.scalars(select(SurveyInvitation)).one(), SECRET)
        with pytest.raises(Conflict, match="expired"):
            respond(token, 5, session=session, secret=SECRET, now=NOW + timedelta(days=15))


def test_csat_report_by_the_filters(db: Database) -> None:
    conf = config()
    ratings = [("billing", "email", "a@x.example", 5), ("billing", "email", "a@x.example", 2),
               ("technical", "chat", "b@x.example", 4), ("technical", "email", "b@x.example", None)]
    with db.transaction() as session:
        shop = Shop(session)
        agents = {e: Agent(name=e, email=e, teams=["billing"]) for e in ("a@x.example", "b@x.example")}
        session.add_all(agents.values())
        session.flush()
        for n, (queue, channel, agent, _) in enumerate(ratings):
            shop.solved(shop.customer(f"c{n}@example.com"), queue=queue, channel=channel, agent=agents[agent])
        outcomes = send_invitations(session=session, config=conf, secret=SECRET, now=NOW)
        assert outcomes == {"invited": 4}
        invitations = session.scalars(select(SurveyInvitation).order_by(SurveyInvitation.ticket_id)).all()
        for invitation, (_, _, _, rating) in zip(invitations, ratings, strict=True):
            if rating is not None:
                respond(make_token(invitation, SECRET), rating, session=session, secret=SECRET, now=NOW)
    period = {"since": NOW - timedelta(days=1), "until": NOW + timedelta(days=1)}
    with db.session() as session:
        by_queue = csat_report(session=session, by="queue", **period)
        by_agent = csat_report(session=session, by="agent", **period)
        chat = csat_report(session=session, by="channel", channel="chat", **period)
        weekly = csat_report(session=session, by="week", **period)
        before = csat_report(session=session, by="queue", since=NOW - timedelta(days=9), until=NOW - timedelta(days=2))
    rows = {r.key: r for r in by_queue.rows}
    assert (rows["billing"].responses, rows["billing"].csat, rows["billing"].mean_rating) == (2, 0.5, 3.5)
    assert (rows["technical"].invited, rows["technical"].responses, rows["technical"].response_rate) == (2, 1, 0.5)
    assert (by_queue.total.responses, by_queue.total.csat) == (3, pytest.approx(2 / 3, abs=1e-4))
    assert {r.key: r.mean_rating for r in by_agent.rows} == {"a@x.example": 3.5, "b@x.example": 4.0}
    assert [(r.key, r.invited) for r in chat.rows] == [("chat", 1)]
    assert [r.key for r in weekly.rows] == ["2026-W47"]
    assert before.rows == [] and before.total.csat is None
