"""What urgency is told about a customer: VIP (listed or flagged) and repeat contact (issue 13 item 6)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import cli_in_process
from triage.config import CustomersConfig, Settings, TriageConfig, load_config
from triage.conversations.service import resolve_customer
from triage.conversations.tables import Customer, Message, Ticket
from triage.customers.service import set_vip, urgency_context
from triage.db import Database
from triage.errors import NotFound
from triage.events.tables import Event

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path, database_url: str) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    database = Database(Settings(home=tmp_path / "home", database_url=database_url, environment="test"))
    database.ensure_schema()
    yield database
    database.dispose()


def configured(**customers: object) -> TriageConfig:
    return load_config().model_copy(update={"customers": CustomersConfig.model_validate(customers)})


def write(session: Session, customer: Customer, at: datetime, *, author_kind: str = "customer",
          direction: str = "in", auto_kind: str | None = None) -> None:
    ticket = Ticket(channel="email", subject="help", customer_id=customer.id, created_at=at)
    session.add(ticket)
    session.flush()
    session.add(Message(ticket_id=ticket.id, direction=direction, author_kind=author_kind,
                        dedup_key=f"test:{ticket.id}", auto_kind=auto_kind,
                        created_at=at, sent_at=at))
    session.flush()


def test_a_customer_listed_by_address_or_domain_is_vip(db: Database) -> None:
    config = configured(vip=["CEO@Big.example", "@partner.example"])
    with db.transaction() as session:
        ceo = resolve_customer([("email", "ceo@big.example")], session=session)
        partner = resolve_customer([("email", "ana@partner.example"), ("chat", "c-1")], session=session)
        staff = resolve_customer([("email", "bob@big.example")], session=session)
        chat_only = resolve_customer([("chat", "c-2")], session=session)
        assert urgency_context(ceo, session=session, config=config, now=NOW)["vip"] is True
        assert urgency_context(partner, session=session, config=config, now=NOW)["vip"] is True
        assert urgency_context(staff, session=session, config=config, now=NOW)["vip"] is False
        assert urgency_context(chat_only, session=session, config=config, now=NOW)["vip"] is False


def test_the_vip_flag_is_set_cleared_and_recorded(db: Database) -> None:
    config = configured()
    with db.transaction() as session:
        customer = resolve_customer([("email", "ana@example.com")], session=session)
        assert urgency_context(customer, session=session, config=config, now=NOW) == {"vip": False,
                                                                                      "previous_contacts": 0}
        assert set_vip(customer.id, True, session=session, actor="maria").vip is True
        assert urgency_context(customer, session=session, config=config, now=NOW)["vip"] is True
        set_vip(customer.id, True, session=session)  # no change, no second event
        set_vip(customer.id, False, session=session)
        assert urgency_context(customer, session=session, config=config, now=NOW)["vip"] is False
        events = session.scalars(select(Event).where(Event.kind == "customer.vip").order_by(Event.id)).all()
        assert [(e.actor, e.data) for e in events] == [("maria", {"customer_id": customer.id, "vip": True}),
                                                       ("system", {"customer_id": customer.id, "vip": False})]
        with pytest.raises(NotFound, match="no customer 999"):
            set_vip(999, True, session=session)


def test_recent_contacts_count_the_customers_own_messages_in_the_window(db: Database) -> None:
    config = configured(contact_window="3d")
    with db.transaction() as session:
        ana = resolve_customer([("email", "ana@example.com")], session=session)
        other = resolve_customer([("email", "bob@example.com")], session=session)
        write(session, ana, NOW - timedelta(days=4))  # before the window
        write(session, ana, NOW - timedelta(days=2))
        write(session, ana, NOW - timedelta(hours=1))
        write(session, ana, NOW - timedelta(hours=1), author_kind="agent", direction="out")  # our reply
        write(session, ana, NOW - timedelta(hours=2), auto_kind="auto_reply")  # no person wrote it
        write(session, ana, NOW)  # the message being classified
        write(session, other, NOW - timedelta(hours=1))
        assert urgency_context(ana, session=session, config=config, now=NOW) == {"vip": False,
                                                                                 "previous_contacts": 2}
        assert urgency_context(other, session=session, config=config, now=NOW)["previous_contacts"] == 1


def test_the_vip_list_refuses_what_is_no_address_or_domain() -> None:
    with pytest.raises(ValueError, match="vip needs addresses or domains"):
        CustomersConfig(vip=["ceo@", "localhost"])
    with pytest.raises(ValueError, match="invalid duration"):
        CustomersConfig(contact_window="a week")
    assert CustomersConfig(vip=[" @Client.Example "]).vip == ["client.example"]


def test_the_cli_flags_a_customer_by_address_and_refuses_an_unknown_one(
        rt, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    with rt.db.transaction() as session:
        customer_id = resolve_customer([("email", "Ana@Client.example")], session=session).id
    flagged = cli_in_process(rt, monkeypatch, "customers", "vip", " ANA@client.example ")
    assert flagged.exit_code == 0 and "is VIP" in flagged.output
    with rt.db.session() as session:
        assert session.get(Customer, customer_id).vip is True  # type: ignore[union-attr]
    unflagged = cli_in_process(rt, monkeypatch, "customers", "vip", "ana@client.example", "--off")
    assert unflagged.exit_code == 0 and "is not VIP" in unflagged.output
    unknown = cli_in_process(rt, monkeypatch, "customers", "vip", "nobody@client.example")
    assert isinstance(unknown.exception, NotFound)
    with rt.db.session() as session:
        assert session.get(Customer, customer_id).vip is False  # type: ignore[union-attr]


def test_two_workers_meeting_a_new_customer_at_once_make_one(db: Database) -> None:
    """Issue 14: the second worker used to insert the same identity and fail with a unique violation."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race needs PostgreSQL")
    first_holds, results, errors = threading.Event(), {}, []

    def worker(name: str, hold: bool) -> None:
        try:
            with db.transaction() as session:
                results[name] = resolve_customer([("email", "New.Person@Example.com")], session=session).id
                if hold:  # still uncommitted while the other one looks the customer up
                    first_holds.set()
                    threading.Event().wait(0.5)
        except Exception as exc:  # the test reports whatever the race raised
            errors.append(exc)

    a = threading.Thread(target=worker, args=("a", True))
    a.start()
    assert first_holds.wait(10)
    b = threading.Thread(target=worker, args=("b", False))
    b.start()
    a.join(10)
    b.join(10)
    assert errors == [] and results["a"] == results["b"]
    with db.session() as session:
        assert len(session.scalars(select(Customer)).all()) == 1
