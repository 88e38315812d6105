"""Intake, deduplication, threading, customers and replay, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import func, select

from triage.agents.tables import Agent, Assignment
from triage.conversations.tables import Classification, Customer, CustomerIdentity, Message, Ticket
from triage.flows.processing import Pipeline
from triage.inbox.service import enqueue, retry_failed
from triage.inbox.tables import InboxItem
from triage.ingest.files import ingest_paths
from triage.runtime import Triage


def _ingest(rt: Triage, *paths: Path):  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        report = ingest_paths(list(paths), session=session, commit=session.commit)
    outcomes = rt.worker("test").drain()
    return report, outcomes


def _count(rt: Triage, model) -> int:  # type: ignore[no-untyped-def]
    with rt.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_same_email_twice_is_one_message(rt: Triage, tmp_path: Path, make_email) -> None:
    raw = make_email()
    first = _write(tmp_path, "a.eml", raw)
    # The same message delivered again with a transport header added is still the same message.
    second = _write(tmp_path, "b.eml", b"Received: from mx.example.net; Mon, 16 Nov 2026 09:01:00 +0000\r\n" + raw)
    report, outcomes = _ingest(rt, first)
    assert report.accepted == 1 and [o.status for o in outcomes] == ["done"]
    report2, outcomes2 = _ingest(rt, first, second)
    assert report2.accepted == 0 and report2.duplicates == 2 and outcomes2 == []
    assert _count(rt, Message) == 1
    assert _count(rt, Ticket) == 1
    assert _count(rt, InboxItem) == 1


def test_missing_message_id_is_deduplicated_by_content(rt: Triage, tmp_path: Path, make_email) -> None:
    raw = make_email(message_id=None)
    _ingest(rt, _write(tmp_path, "a.eml", raw))
    _ingest(rt, _write(tmp_path, "b.eml", b"Received: from relay; Mon, 16 Nov 2026 09:02:00 +0000\n" + raw))
    other = make_email(message_id=None, body="A different question about a refund.")
    _ingest(rt, _write(tmp_path, "c.eml", other))
    with rt.db.session() as session:
        keys = list(session.scalars(select(Message.dedup_key)))
    assert len(keys) == 2 and all(k.startswith("sha256:") for k in keys)


def test_threading_by_in_reply_to_references_and_subject_token(rt: Triage, tmp_path: Path, make_email) -> None:
    first = make_email(message_id="<t1@example.com>", subject="Lamp not pairing")
    by_irt = make_email(message_id="<t2@example.com>", subject="Re: Lamp not pairing",
                        in_reply_to="<t1@example.com>", references="<t1@example.com>",
                        body="Still not pairing after the reset.")
    by_refs = make_email(message_id="<t3@example.com>", subject="Another question",
                         references="<unknown@elsewhere> <t2@example.com>", body="And the app crashes too.")
    _ingest(rt, _write(tmp_path, "1.eml", first), _write(tmp_path, "2.eml", by_irt), _write(tmp_path, "3.eml", by_refs))
    with rt.db.session() as session:
        tickets = list(session.scalars(select(Ticket)))
        assert len(tickets) == 1
        ticket_id = tickets[0].id
    # Headers lost (a customer starts a new mail) but our token is kept in the subject.
    token = make_email(message_id="<t4@example.com>", subject=f"Lamp again [#{ticket_id}]",
                       sender="Someone Else <other@example.org>", body="Following up on my ticket.")
    unrelated = make_email(message_id="<t5@example.com>", subject="Lamp not pairing", body="New problem")
    _ingest(rt, _write(tmp_path, "4.eml", token), _write(tmp_path, "5.eml", unrelated))
    with rt.db.session() as session:
        counts = dict(session.execute(select(Message.ticket_id, func.count()).group_by(Message.ticket_id)).all())
    assert counts[ticket_id] == 4
    assert len(counts) == 2  # the bare same-subject mail without references is a new ticket


def test_agent_reply_from_our_mailbox_is_outbound(rt: Triage, tmp_path: Path, make_email) -> None:
    question = make_email(message_id="<q@example.com>")
    answer = make_email(message_id="<a@larkspur.example>", sender="Larkspur Support <support@larkspur.example>",
                        to="maria.jensen@example.com", subject="Re: Where is my order?", in_reply_to="<q@example.com>",
                        body="It ships today.", date="Mon, 16 Nov 2026 10:30:00 +0000")
    _ingest(rt, _write(tmp_path, "q.eml", question), _write(tmp_path, "a.eml", answer))
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        directions = [m.direction for m in ticket.messages]
        assert directions == ["in", "out"]
        assert ticket.first_responded_at is not None and ticket.status == "open"
        # only the customer's message is classified
        assert session.scalar(select(func.count()).select_from(Classification)) == 3


def test_one_customer_across_email_and_chat(rt: Triage, tmp_path: Path, make_email) -> None:
    _ingest(rt, _write(tmp_path, "m.eml", make_email()))
    chat = {"conversation_id": "c-77", "timestamp": "2026-11-16T11:00:00+01:00", "role": "customer",
            "customer": {"id": "cust-1001", "name": "Maria Jensen", "email": "Maria.Jensen@example.com"},
            "text": "Hi, I also wrote an email about my missing order."}
    chat2 = {**chat, "timestamp": "2026-11-16T11:05:00+01:00", "customer": {"id": "cust-1001"},
             "text": "Any news?"}
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(chat) + "\n" + json.dumps(chat2) + "\n")
    _ingest(rt, path)
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        identities = set(session.execute(select(CustomerIdentity.kind, CustomerIdentity.value)).all())
        assert identities == {("email", "maria.jensen@example.com"), ("chat", "cust-1001")}
        channels = sorted(session.scalars(select(Ticket.channel)))
        assert channels == ["chat", "email"]


def test_chat_then_email_merges_two_known_customers(rt: Triage, tmp_path: Path, make_email) -> None:
    # A chat-only customer and an email-only customer turn out to be one person.
    lone_chat = {"conversation_id": "c-1", "timestamp": "2026-11-16T09:00:00Z", "role": "customer",
                 "customer": {"id": "cust-9"}, "text": "How do I reset my password?"}
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(lone_chat) + "\n")
    _ingest(rt, path, _write(tmp_path, "m.eml", make_email()))
    assert _count(rt, Customer) == 2
    linking = {**lone_chat, "conversation_id": "c-2", "customer": {"id": "cust-9",
               "email": "maria.jensen@example.com"}, "text": "It's me again, Maria."}
    path2 = tmp_path / "b.jsonl"
    path2.write_text(json.dumps(linking) + "\n")
    _ingest(rt, path2)
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        owners = set(session.scalars(select(Ticket.customer_id)))
        assert len(owners) == 1


def test_bad_chat_lines_are_reported_and_good_lines_kept(rt: Triage, tmp_path: Path) -> None:
    good = {"conversation_id": "c-5", "timestamp": "2026-11-16T09:00:00Z", "role": "customer",
            "customer": {"id": "cust-5"}, "text": "My Gale vacuum will not charge"}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "role": "robot", "text": "x"}),
        "",
        json.dumps({**good, "timestamp": "not a time", "text": "y"}),
        json.dumps({k: v for k, v in good.items() if k != "customer"}),
        json.dumps({**good, "timestamp": "2026-11-16T09:01:00Z", "text": "It blinks red"}),
    ]
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report, outcomes = _ingest(rt, path)
    rejected = {str(r).split(": ", 1)[0]: str(r) for r in report.rejected}
    assert sorted(rejected) == [f"{path}:2", f"{path}:3", f"{path}:5", f"{path}:6"]
    assert "invalid JSON" in rejected[f"{path}:2"]
    assert "role" in rejected[f"{path}:3"]
    assert "timestamp" in rejected[f"{path}:5"]
    assert "customer" in rejected[f"{path}:6"]
    assert report.accepted == 2 and all(o.status == "done" for o in outcomes)
    with rt.db.session() as session:
        texts = sorted(session.scalars(select(Message.text)))
    assert texts == ["It blinks red", "My Gale vacuum will not charge"]


def test_failing_row_is_kept_and_replayable(rt: Triage, tmp_path: Path, make_email, monkeypatch) -> None:
    raw = make_email(message_id="<fail@example.com>")
    _write(tmp_path, "x.eml", raw)
    pipeline = rt.pipeline()
    calls = {"n": 0}
    real = pipeline.suite.classify_one

    def flaky(text: str, context=None, embedding=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model server hiccup")
        return real(text, context, embedding=embedding)

    monkeypatch.setattr(pipeline.suite, "classify_one", flaky)
    from triage.flows.processing import Worker

    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="file", payload=raw, dedup_key="mid:fail@example.com")
    worker = Worker(rt.db, pipeline, "w")
    [outcome] = worker.drain()
    assert outcome.status == "failed" and "model server hiccup" in (outcome.error or "")
    with rt.db.session() as session:
        item = session.scalars(select(InboxItem)).one()
        assert item.status == "failed" and item.payload == raw and "hiccup" in (item.error or "")
        # the failed attempt left nothing half-done behind
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
    assert worker.drain() == []  # failed rows wait for an explicit retry
    with rt.db.transaction() as session:
        assert retry_failed(session=session) == 1
    [again] = worker.drain()
    assert again.status == "done"
    with rt.db.session() as session:
        item = session.scalars(select(InboxItem)).one()
        # attempts count from the last requeue: a replayed row starts again (issue 14)
        assert item.status == "done" and item.attempts == 1 and item.error is None
        assert session.scalar(select(func.count()).select_from(Message)) == 1


def test_message_without_any_sender_is_an_orphan_not_a_failure(rt: Triage, tmp_path: Path) -> None:
    raw = b"Subject: no sender at all\r\nMessage-ID: <nosender@x>\r\n\r\nhello\r\n"
    report, outcomes = _ingest(rt, _write(tmp_path, "n.eml", raw))
    assert report.accepted == 1
    assert outcomes[0].status == "orphan" and "sender" in (outcomes[0].error or "")  # issue 14


def test_routing_never_exceeds_capacity(rt: Triage, tmp_path: Path) -> None:
    with rt.db.session() as session:
        tech = [a for a in session.scalars(select(Agent)) if "technical" in a.teams and a.status == "online"]
        capacity = sum(a.capacity for a in tech)
    lines = [json.dumps({"conversation_id": f"c-{i}", "timestamp": f"2026-11-16T09:{i:02d}:00Z", "role": "customer",
                         "customer": {"id": f"cust-{i}"}, "text": "The app crashes with an error every time I open it"})
             for i in range(capacity + 4)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines))
    _ingest(rt, path)
    with rt.db.session() as session:
        tickets = list(session.scalars(select(Ticket).where(Ticket.queue == "technical")))
        assert len(tickets) == capacity + 4
        loads: dict[int, int] = {}
        for t in tickets:
            if t.assignee_id is not None:
                loads[t.assignee_id] = loads.get(t.assignee_id, 0) + 1
        for agent in tech:
            assert loads.get(agent.id, 0) == agent.capacity  # filled evenly up to, never above, capacity
        waiting = [t for t in tickets if t.assignee_id is None]
        assert len(waiting) == 4
        reasons = set(session.scalars(select(Assignment.reason).where(Assignment.action == "queued")))
        assert reasons == {"all agents in queue at capacity"}
        # offline/away agents get nothing
        away = session.scalars(select(Agent).where(Agent.status != "online")).all()
        assert away and all(session.scalar(select(func.count()).select_from(Ticket)
                                           .where(Ticket.assignee_id == a.id)) == 0 for a in away)


def _classified_texts(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the pipeline's classifiers are given, in order (the calls go through unchanged)."""
    seen: list[str] = []
    real = pipeline.suite.classify_one

    def spy(text, context=None, embedding=None):  # type: ignore[no-untyped-def]
        seen.append(text)
        return real(text, context, embedding=embedding)

    monkeypatch.setattr(pipeline.suite, "classify_one", spy)
    return seen


@pytest.mark.slow
def test_bundled_samples_all_process(rt: Triage) -> None:
    samples = Path(str(resources.files("triage.samples")))
    report, outcomes = _ingest(rt, samples / "emails", samples / "chats")
    assert report.rejected == []
    assert report.accepted >= 40 + 15
    assert [o for o in outcomes if o.status != "done"] == []
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.channel == "chat")) >= 15
        assert session.scalar(select(func.count()).select_from(Ticket).where(Ticket.intent.is_(None))) == 0


def test_chat_roles_subject_and_first_response(rt: Triage, tmp_path: Path) -> None:
    base = {"conversation_id": "c-9", "customer": {"id": "cust-9", "name": "Ann"}}
    lines = [
        {**base, "timestamp": "2026-11-16T09:00:00Z", "role": "bot", "text": "Hi! How can I help?"},
        {**base, "timestamp": "2026-11-16T09:00:30Z", "role": "customer", "text": "My Gale vacuum will not charge"},
        {**base, "timestamp": "2026-11-16T09:03:00Z", "role": "agent", "text": "Let's check the dock contacts."},
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines))
    _ingest(rt, path)
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert ticket.subject == "My Gale vacuum will not charge"
        assert [(m.direction, m.author_kind) for m in ticket.messages] == [
            ("out", "bot"), ("in", "customer"), ("out", "agent")]
        assert ticket.first_responded_at is not None and ticket.first_responded_at.minute == 3  # bots don't count
        classified = session.scalars(select(Classification.message_id)).all()
        assert set(classified) == {ticket.messages[1].id}
        assert ticket.first_response_due is not None and ticket.intent and ticket.queue


def test_a_german_email_stores_its_language_on_message_ticket_and_customer(rt: Triage, tmp_path: Path,
                                                                           make_email) -> None:
    german = make_email(subject="Bestellung noch nicht angekommen",
                        body="Hallo, meine Bestellung LH-104233 ist noch nicht angekommen. Können Sie nachsehen?")
    chat = {"conversation_id": "c-ok", "timestamp": "2026-11-16T09:00:00Z", "role": "customer",
            "customer": {"id": "cust-ok"}, "text": "ok"}
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(chat) + "\n")
    _ingest(rt, _write(tmp_path, "de.eml", german), path)
    with rt.db.session() as session:
        email = session.scalars(select(Message).where(Message.author == "maria.jensen@example.com")).one()
        assert (email.language, email.ticket.language, email.ticket.customer.language) == ("de", "de", "de")
        # "ok" says nothing, and nothing was known about this customer
        ok = session.scalars(select(Message).where(Message.author == "cust-ok")).one()
        assert (ok.language, ok.ticket.language, ok.ticket.customer.language) == (None, None, None)


def test_unclear_replies_keep_the_ticket_language_and_a_customers_own_language_stays(rt: Triage, tmp_path: Path,
                                                                                    make_email) -> None:
    with rt.db.transaction() as session:
        customer = Customer(name="Maria Jensen", language="fr")  # set by hand: never overwritten
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value="maria.jensen@example.com"))
    first = make_email(message_id="<l1@example.com>", subject="Bestellung noch nicht angekommen",
                       body="Hallo, meine Bestellung ist noch nicht angekommen. Können Sie bitte nachsehen?")
    thanks = make_email(message_id="<l2@example.com>", subject="Re: LH-104233", in_reply_to="<l1@example.com>",
                        references="<l1@example.com>", body="Merci!", date="Mon, 16 Nov 2026 10:00:00 +0000")
    english = make_email(message_id="<l3@example.com>", subject="Re: LH-104233", in_reply_to="<l2@example.com>",
                         references="<l1@example.com> <l2@example.com>", date="Mon, 16 Nov 2026 11:00:00 +0000",
                         body="Sorry, could you please answer in English? The parcel has still not arrived.")
    _ingest(rt, _write(tmp_path, "1.eml", first), _write(tmp_path, "2.eml", thanks), _write(tmp_path, "3.eml", english))
    with rt.db.session() as session:
        ticket = session.scalars(select(Ticket)).one()
        # the one-word thanks is no evidence: it takes the ticket's language; a clear English mail switches the ticket
        assert [m.language for m in ticket.messages] == ["de", "de", "en"]
        assert ticket.language == "en"
        assert ticket.customer.language == "fr"


def test_a_huge_email_is_classified_on_its_opening_and_stored_whole(rt: Triage, make_email, monkeypatch) -> None:
    from triage.conversations.subjects import MAX_CLASSIFIED_CHARS
    from triage.flows.processing import Worker

    body = "My order LH-104233 never arrived, please help.\n" + "log line 0123456789 abcdefghij\n" * 100_000
    raw = make_email(message_id="<huge@example.com>", body=body)
    pipeline = rt.pipeline()
    seen = _classified_texts(pipeline, monkeypatch)
    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="file", payload=raw, dedup_key="mid:huge@example.com")
    [outcome] = Worker(rt.db, pipeline, "w").drain()
    assert outcome.status == "done"
    [text] = seen
    assert len(text) == MAX_CLASSIFIED_CHARS and text.startswith("Where is my order?\nMy order LH-104233")
    with rt.db.session() as session:
        message = session.get(Message, outcome.message_id)
        assert message is not None and len(message.text) > 3_000_000  # nothing the customer wrote is lost


def test_a_huge_chat_message_is_classified_under_the_same_cap(rt: Triage, monkeypatch) -> None:
    from triage.conversations.subjects import MAX_CLASSIFIED_CHARS
    from triage.flows.intake import accept_chat
    from triage.flows.processing import Worker
    from triage.ingest.chat import ChatRecord

    pipeline = rt.pipeline()
    seen = _classified_texts(pipeline, monkeypatch)
    pasted = "My parcel is lost, here is the log:\n" + "trace 0123456789\n" * 2_000
    record = ChatRecord.model_validate({"conversation_id": "huge", "customer": {"id": "c-huge"}, "role": "customer",
                                        "timestamp": "2026-11-16T09:00:00Z", "text": pasted})
    accept_chat(rt.db, record, source="api")
    [outcome] = Worker(rt.db, pipeline, "w").drain()
    assert outcome.status == "done"
    assert [len(t) for t in seen] == [MAX_CLASSIFIED_CHARS] and seen[0].startswith("My parcel is lost")
