"""Search, notes, relabel, status, the customer's history and the `wrote` live notice, over HTTP on a real socket."""

from __future__ import annotations

import html
import uuid

import httpx
from sqlalchemy import func, select

from api.deps import Principal
from api.desk.live import customer_wrote_since, last_assignment_id, last_message_id, parse_event_id
from api.desk.ticket_actions import customer_history, search_tickets
from tests.api.desk.conftest import NADIA, OMAR, PASSWORD, Seeded, hidden, sign_in
from triage.agents.tables import Agent
from triage.conversations.service import NOTE, chat_transcript
from triage.conversations.tables import Classification, Message, Ticket
from triage.feedback.tables import LabelFeedback
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.users.service import Role, create_user


def _customer_of(rt: Triage, ticket_id: int) -> int:
    with rt.db.session() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.customer_id


def _add_ticket(rt: Triage, *, customer_id: int, subject: str, queue: str, channel: str = "email",
                status: str = "open", assignee: str | None = None, text: str = "Hello",
                external_ref: str | None = None) -> int:
    with rt.db.transaction() as session:
        agent_id = session.scalar(select(Agent.id).where(Agent.email == assignee)) if assignee else None
        ticket = Ticket(channel=channel, subject=subject, customer_id=customer_id, status=status, queue=queue,
                        assignee_id=agent_id, priority="normal", external_ref=external_ref)
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="someone",
                            dedup_key=f"test:{uuid.uuid4()}", text=text, full_text=text))
        return ticket.id


def _add_message(rt: Triage, ticket_id: int, text: str, *, auto_kind: str | None = None) -> int:
    with rt.db.transaction() as session:
        message = Message(ticket_id=ticket_id, direction="in", author_kind="system" if auto_kind else "customer",
                          author="someone", dedup_key=f"test:{uuid.uuid4()}", text=text, full_text=text,
                          auto_kind=auto_kind)
        session.add(message)
        session.flush()
        return message.id


def test_search_finds_what_the_user_may_see(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        queue = client.get("/")
        assert 'action="/search"' in queue.text and 'href="/search"' in queue.text

        def found(q: str) -> list[str]:
            answer = client.get("/search", params={"q": q})
            assert answer.status_code == 200
            return [f"#{t}" for t in (seeded.oldest, seeded.newer, seeded.billing) if f">#{t} " in answer.text]

        assert found("LH-104233") == [f"#{seeded.oldest}"]  # an order number, in the message text
        assert found("maria JENSEN") == [f"#{seeded.oldest}"]  # the customer's name, any case
        assert found("liam@example") == [f"#{seeded.newer}"]  # part of an email address
        assert found("return a LAMP") == [f"#{seeded.newer}"]  # the subject
        assert found(f"#{seeded.oldest}") == [f"#{seeded.oldest}"]
        assert found("Hello") == [f"#{seeded.oldest}", f"#{seeded.newer}"]  # the text of both of hers
        # Omar's billing ticket is outside Nadia's queues: no search reveals it, by words or by id.
        assert found("charged twice") == [] and found(f"#{seeded.billing}") == [] and found("ola@example.com") == []
        assert found("%") == [] and found("_") == []  # LIKE wildcards are literal characters
        page = client.get("/search", params={"q": "Hello"}).text
        # The queue's columns: intent with confidence, sentiment, language, status; newest first.
        assert "order_status" in page and "91%" in page and "negative" in page and "Assignee" in page
        later, earlier = max(seeded.oldest, seeded.newer), min(seeded.oldest, seeded.newer)
        assert page.index(f">#{later} ") < page.index(f">#{earlier} ")  # the higher ticket number first
        assert "No ticket you can open matches" in client.get("/search", params={"q": "nothing like it"}).text
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "boss").status_code == 303
        assert f">#{seeded.billing} " in client.get("/search", params={"q": "ola@example.com"}).text


def test_search_pages_newest_first(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    _, seeded = desk_server
    agent = Principal(user_id=1, name="nadia", role=Role.agent, agent_id=None, queues=frozenset({"customer-care"}))
    with rt.db.session() as session:
        later, earlier = max(seeded.oldest, seeded.newer), min(seeded.oldest, seeded.newer)
        first, cursor = search_tickets("hello", agent, session=session, limit=1)
        assert [r.id for r in first] == [later] and cursor == later
        second, cursor = search_tickets("hello", agent, session=session, before=cursor, limit=1)
        assert [r.id for r in second] == [earlier] and cursor is None
        nobody = Principal(user_id=2, name="x", role=Role.agent, queues=frozenset())
        assert search_tickets("hello", nobody, session=session) == ([], None)
    base = desk_server[0]
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        first_page = client.get("/search", params={"q": "hello"})
        assert "Older results" not in first_page.text  # both fit on one page of 50
        older = client.get("/search", params={"q": "hello", "before": later})
        assert f">#{earlier} " in older.text and f">#{later} " not in older.text and "older results" in older.text


def test_note_is_for_staff_only(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    chat = _add_ticket(rt, customer_id=_customer_of(rt, seeded.oldest), subject="Chat: my order",
                       queue="customer-care", channel="chat", assignee=NADIA, text="Are you there?",
                       external_ref="chat:web-7")
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        page = client.get(f"/tickets/{chat}")
        csrf = hidden(page.text, "csrf")
        assert client.post(f"/tickets/{chat}/notes", data={"note": "no token"}).status_code == 403
        assert client.post(f"/tickets/{seeded.billing}/notes", data={"note": "x", "csrf": csrf}).status_code == 404
        assert client.post(f"/tickets/{chat}/notes", data={"note": "   ", "csrf": csrf}).status_code == 422
        added = client.post(f"/tickets/{chat}/notes", data={"note": "Customer is <b>VIP</b>\r\nbe kind",
                                                            "csrf": csrf})
        assert added.status_code == 303 and added.headers["location"] == f"/tickets/{chat}?done=note"
        shown = client.get(added.headers["location"]).text
        assert "Note added." in shown and "internal note, never sent to the customer" in shown
        assert "Customer is &lt;b&gt;VIP&lt;/b&gt;\nbe kind" in shown
    with rt.db.session() as session:
        note = session.scalars(select(Message).where(Message.ticket_id == chat, Message.author_kind == NOTE)).one()
        assert note.author == NADIA and note.direction == NOTE
        # The chat widget's transcript, the outbox and the SLA clocks never see it.
        assert [m.text for m in chat_transcript("web-7", session=session).messages] == ["Are you there?"]
        assert session.scalars(select(OutboxItem)).all() == []
        ticket = session.get(Ticket, chat)
        assert ticket is not None and ticket.first_responded_at is None


def test_relabel_uses_the_api_flow_and_reroutes(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with rt.db.transaction() as session:  # waiting in Nadia's queue, nobody holds it yet
        ticket = session.get(Ticket, seeded.newer)
        assert ticket is not None
        ticket.assignee_id = None
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        page = client.get(f"/tickets/{seeded.oldest}")
        assert '<option value="order_status" selected>' in page.text and '<option value="billing_issue">' in page.text
        csrf = hidden(page.text, "csrf")
        unknown = client.post(f"/tickets/{seeded.oldest}/relabel", data={"intent": "made_up", "csrf": csrf})
        assert unknown.status_code == 422 and "unknown intent" in html.unescape(unknown.text)
        kept = client.post(f"/tickets/{seeded.oldest}/relabel", data={"intent": "delivery_problem", "csrf": csrf})
        assert kept.status_code == 303 and kept.headers["location"] == f"/tickets/{seeded.oldest}?done=relabelled"
        assert "Intent relabelled." in client.get(kept.headers["location"]).text
        # Unassigned, it follows its new intent to the billing queue, which Nadia does not work.
        moved = client.post(f"/tickets/{seeded.newer}/relabel", data={"intent": "billing_issue", "csrf": csrf})
        assert moved.status_code == 303 and moved.headers["location"].startswith("/search?q=%23")
        assert client.get(f"/tickets/{seeded.newer}").status_code == 404
    with rt.db.session() as session:
        rows = session.scalars(select(LabelFeedback).order_by(LabelFeedback.id)).all()
        assert [(r.label, r.old_label, r.actor) for r in rows] == [
            ("delivery_problem", None, NADIA), ("billing_issue", None, NADIA)]
        stayed = session.get(Ticket, seeded.oldest)
        assert stayed is not None and stayed.intent == "delivery_problem" and stayed.queue == "customer-care"
        assert stayed.assignee is not None and stayed.assignee.email == NADIA  # an agent's ticket stays hers
        requeued = session.get(Ticket, seeded.newer)
        assert requeued is not None and requeued.queue == "billing" and requeued.intent == "billing_issue"


def test_status_changes_and_who_may_act(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with rt.db.transaction() as session:
        create_user("quinn", "qa", session=session, password=PASSWORD)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        csrf = hidden(client.get(f"/tickets/{seeded.oldest}").text, "csrf")
        assert client.post(f"/tickets/{seeded.oldest}/status", data={"status": "new", "csrf": csrf}).status_code == 422
        pending = client.post(f"/tickets/{seeded.oldest}/status", data={"status": "pending", "csrf": csrf})
        assert pending.status_code == 303 and pending.headers["location"] == f"/tickets/{seeded.oldest}?done=status"
        page = client.get(pending.headers["location"]).text
        assert "Status changed." in page and "Paused since" in page and "Status (now pending)" in page
        with rt.db.session() as session:
            ticket = session.get(Ticket, seeded.oldest)
            assert ticket is not None and ticket.status == "pending" and ticket.sla_paused_at is not None
        closed = client.post(f"/tickets/{seeded.oldest}/status", data={"status": "closed", "csrf": csrf})
        assert closed.status_code == 303
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "quinn").status_code == 303
        page = client.get(f"/tickets/{seeded.newer}")
        assert page.status_code == 200 and "LH-" not in page.text  # QA reads the ticket; no forms to act
        for action in ("status", "notes", "relabel", "reply"):
            assert f'action="/tickets/{seeded.newer}/{action}"' not in page.text
        refused = client.post(f"/tickets/{seeded.newer}/status", data={"status": "solved",
                                                                       "csrf": hidden(page.text, "csrf")})
        assert refused.status_code == 403
    with rt.db.session() as session:
        closed_ticket, open_ticket = session.get(Ticket, seeded.oldest), session.get(Ticket, seeded.newer)
        assert closed_ticket is not None and closed_ticket.status == "closed"
        assert open_ticket is not None and open_ticket.status == "open"


def test_customer_history_and_classification_reasons(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    maria = _customer_of(rt, seeded.oldest)
    old_chat = _add_ticket(rt, customer_id=maria, subject="Chat about a voucher", queue="customer-care",
                           channel="chat", status="solved")
    _add_ticket(rt, customer_id=maria, subject="Secret billing matter", queue="billing", assignee=OMAR)
    with rt.db.transaction() as session:
        message_id = session.scalar(select(func.min(Message.id)).where(Message.ticket_id == seeded.oldest))
        assert message_id is not None
        session.add(Classification(message_id=message_id, task="intent", label="order_status", confidence=0.62,
                                   model_version="test", details={"top": [["order_status", 0.62],
                                                                          ["delivery_problem", 0.21],
                                                                          ["shipping_info", 0.09]],
                                                                  "reasons": ["mentions an order number"]}))
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        page = client.get(f"/tickets/{seeded.oldest}").text
        history = page.split('class="history"', 1)[1].split("</section>", 1)[0]
        assert f'href="/tickets/{old_chat}"' in history and "chat · solved" in history
        # Another team's ticket: listed so she knows, without its id, subject or a link.
        assert "another team's ticket (billing)" in history and "Secret billing" not in history
        assert history.index("another team") < history.index("Chat about a voucher")  # open ones first
        assert "maria.jensen@example.com" in page
        assert "delivery_problem 0.21, shipping_info 0.09" in page and "mentions an order number" in page
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "boss").status_code == 303
        assert "Secret billing matter" in client.get(f"/tickets/{seeded.oldest}").text
    supervisor = Principal(user_id=1, name="boss", role=Role.supervisor)
    with rt.db.session() as session:
        ticket = session.get(Ticket, seeded.oldest)
        assert ticket is not None
        rows, total = customer_history(ticket, supervisor, session=session, limit=1)
        assert total == 2 and [r.subject for r in rows] == ["Secret billing matter"]  # the open one wins the slot


def test_customer_wrote_feed(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with rt.db.session() as session:
        start = last_message_id(session=session)
        nadia = session.scalar(select(Agent.id).where(Agent.email == NADIA))
        assert nadia is not None
    new_ticket = _add_ticket(rt, customer_id=_customer_of(rt, seeded.oldest), subject="Brand new",
                             queue="customer-care", assignee=NADIA)  # its first message: an `assigned` matter
    wrote = _add_message(rt, seeded.oldest, "Any news on my order?")
    _add_message(rt, seeded.oldest, "I am out of office", auto_kind="auto_reply")
    _add_message(rt, seeded.billing, "Still charged twice")  # Omar's
    with rt.db.session() as session:
        found = customer_wrote_since(nadia, start, session=session)
        assert [(n.id, n.ticket_id, n.subject) for n in found] == [(wrote, seeded.oldest, "Where is my order?")]
        assert customer_wrote_since(nadia, wrote, session=session) == []
        assigned_cursor = last_assignment_id(session=session)
    assert new_ticket not in [n.ticket_id for n in found]
    assert parse_event_id("12.34") == (12, 34) and parse_event_id("12") == (12, None)
    assert parse_event_id("x.1") is None and parse_event_id("1.x") is None and parse_event_id(None) is None

    # The stream resumes from Last-Event-ID: the message written "while disconnected" comes at once.
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        headers = {"Last-Event-ID": f"{assigned_cursor}.{start}"}
        with client.stream("GET", "/events", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = []
            for line in stream.iter_lines():
                lines.append(line)
                if line.startswith("data:"):
                    break
    assert f"id: {assigned_cursor}.{wrote}" in lines and "event: wrote" in lines
    assert f'"ticket_id": {seeded.oldest}' in lines[-1] and '"channel": "email"' in lines[-1]


def test_customer_wrote_feed_follows_todays_assignee(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    """A message written before a ticket moved to me is announced once it is mine (the feed reads the assignee)."""
    _, seeded = desk_server
    with rt.db.session() as session:
        start = last_message_id(session=session)
        nadia = session.scalar(select(Agent.id).where(Agent.email == NADIA))
        assert nadia is not None
    wrote = _add_message(rt, seeded.billing, "Hello again")
    with rt.db.session() as session:
        assert customer_wrote_since(nadia, start, session=session) == []  # Omar's
    with rt.db.transaction() as session:
        ticket = session.get(Ticket, seeded.billing)
        assert ticket is not None
        ticket.assignee_id = nadia
    with rt.db.session() as session:
        assert [n.id for n in customer_wrote_since(nadia, start, session=session)] == [wrote]
