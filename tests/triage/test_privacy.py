"""A customer's data exported, erased everywhere, and raw bytes purged after the retention period (issue 14)."""

from __future__ import annotations

import base64
import csv
import json
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mail.parse import email_dedup_key
from tests.conftest import HashingEncoder, cli_in_process, main_in_process
from triage.agents.tables import Agent, Assignment
from triage.config import Settings
from triage.conversations.tables import AttachmentBlob, Customer, Message, Ticket
from triage.customers.privacy import address_hash, erase_customer, export_customer, purge_expired
from triage.db import Base, Database, utcnow
from triage.errors import NotFound
from triage.events.tables import Event
from triage.feedback.service import record_correction
from triage.flows.tickets import change_status, reply
from triage.inbox.service import enqueue
from triage.inbox.tables import DONE, FAILED, InboxItem
from triage.knowledge.index import KnowledgeIndex, knowledge_index
from triage.outbox.tables import QUEUED, SENT, OutboxItem
from triage.qa.tables import QaReview, QaRun, QaSample
from triage.runtime import Triage
from triage.users.service import create_user

OTTILIE = "ottilie.zanetti@example.com"
BRUNO = "bruno.keller@example.org"
SHARED = b"sku,qty\nAURORA-2,1\n"  # the same price list, sent by both customers
PASSPORT = b"PASSPORT OTTILIE ZANETTI X1234567\n"  # only hers
BRUNO_FILE = b"bruno's receipt 2026\n"
# What must not survive her erasure anywhere: name parts, address, phone, street, her attachment.
HERS = ("ottilie", "zanetti", "example.com", "1234567", "Via Roma", "passport")


def _mail(sender: str, mid: str, subject: str, body: str, files: list[tuple[str, bytes]],
          in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = "support@larkspur.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 16 Nov 2026 09:00:00 +0000"
    msg["Message-ID"] = mid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body)
    for name, data in files:
        msg.add_attachment(data, maintype="text", subtype="plain", filename=name)
    return msg.as_bytes()


def _deliver(rt: Triage, raw: bytes) -> None:
    with rt.db.transaction() as session:
        enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key=email_dedup_key(raw))
    outcomes = rt.worker("t").drain()
    assert all(o.status == "done" for o in outcomes), outcomes


@dataclass
class World:
    rt: Triage
    index: KnowledgeIndex
    her_ticket: int
    his_ticket: int
    her_reply: int
    his_reply: int


@pytest.fixture
def world(rt: Triage, hashing_encoder: HashingEncoder) -> World:
    """Two customers through the worker, each with a reply on a solved ticket, indexed; hers has it all."""
    _deliver(rt, _mail(f"Ottilie Zanetti <{OTTILIE}>", "<oz-1@example.com>", "Broken Aurora lamp",
                       "Hello, my Aurora lamp arrived broken. Call me on +49 30 1234567, I live at Via Roma 12.",
                       [("prices.csv", SHARED), ("passport.txt", PASSPORT)]))
    _deliver(rt, _mail(f"Ottilie Zanetti <{OTTILIE}>", "<oz-2@example.com>", "Re: Broken Aurora lamp",
                       "Any news? Ottilie", [], in_reply_to="<oz-1@example.com>"))
    _deliver(rt, _mail(f"Bruno Keller <{BRUNO}>", "<bk-1@example.org>", "Invoice question",
                       "Hello, my invoice shows the lamp twice.", [("prices.csv", SHARED),
                                                                   ("receipt.txt", BRUNO_FILE)]))
    config = rt.config
    with rt.db.transaction() as session:
        tickets = {t.customer_id: t.id for t in session.scalars(select(Ticket))}
        her = session.execute(select(Customer.id).where(Customer.name == "Ottilie Zanetti")).scalar_one()
        his = session.execute(select(Customer.id).where(Customer.name == "Bruno Keller")).scalar_one()
        her_ticket, his_ticket = tickets[her], tickets[his]
        her_reply = reply(her_ticket, "Hi Ottilie, a new lamp goes to Via Roma 12 today.", config=config,
                          session=session, actor="nadia.brooks@larkspur.example").message.id
        his_reply = reply(his_ticket, "Hi Bruno, the second line is refunded.", config=config,
                          session=session, actor="nadia.brooks@larkspur.example").message.id
        for ticket_id in (her_ticket, his_ticket):
            change_status(ticket_id, "solved", config=config, session=session, actor="nadia")
        first = session.scalar(select(Message.id).where(Message.message_id == "oz-1@example.com"))
        assert first is not None
        record_correction(session=session, message_id=first, task="sentiment", label="negative", actor="nadia")
        run = QaRun(period="2026-W47", period_start=utcnow(), period_end=utcnow(), seed=1, sample_size=1, rubric=[])
        session.add(run)
        session.flush()
        agent_id = session.scalar(select(Agent.id).where(Agent.email == "nadia.brooks@larkspur.example"))
        sample = QaSample(run_id=run.id, message_id=her_reply, ticket_id=her_ticket, agent_id=agent_id,
                          purpose="review", reasons=["random"], sent_at=utcnow(),
                          prechecks={"personalisation": {"uses_name": True, "name": "Ottilie", "verdict": "ok",
                                                         "shared_terms": ["aurora", "roma"], "reasons": ["ok"]},
                                     "spelling": {"count": 0, "errors": [], "verdict": "ok"}})
        session.add(sample)
        session.flush()
        session.add(Assignment(ticket_id=her_ticket, action="reassigned", actor="sup",
                               reason="Ottilie Zanetti asked for Nadia"))
        reviewer, _key = create_user("qa-reviewer", "qa", session=session)
        session.add(QaReview(sample_id=sample.id, reviewer_id=reviewer.id, scores={"tone": 5}, total=100.0,
                             comment="Kind to Ottilie; repeating +49 30 1234567 was not needed."))
        # A second mail of hers that failed processing: only its raw bytes know her.
        raw = _mail(f"Ottilie Zanetti <{OTTILIE}>", "<oz-3@example.com>", "Hello?", "Still waiting", [])
        item, _ = enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key="mid:oz-3@example.com")
        item.status, item.error = FAILED, f"could not parse mail from {OTTILIE}"
    index = knowledge_index(rt.settings, hashing_encoder)
    with rt.db.session() as session:
        assert index.refresh_replies(session) == 2
    return World(rt, index, her_ticket, his_ticket, her_reply, his_reply)


def _everything(session: Session) -> str:
    """Every value in every table as one lower-cased string (bytes decoded leniently)."""
    parts = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)):
            for value in row:
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
                parts.append(f"{table.name}: {text}")
    return "\n".join(parts).lower()


def test_export_gives_a_copy_of_everything_about_her_and_nothing_of_his(world: World) -> None:
    with world.rt.db.session() as session:
        doc = export_customer(f"  {OTTILIE.upper()} ", session=session)
    assert doc["format"] == "triage.customer-export/1" and doc["customer"]["name"] == "Ottilie Zanetti"
    assert [i["value"] for i in doc["identities"]] == [OTTILIE]
    [ticket] = doc["tickets"]
    texts = [m["text"] for m in ticket["messages"]]
    assert any("+49 30 1234567" in t for t in texts) and any("Via Roma 12 today" in t for t in texts)
    first = next(m for m in ticket["messages"] if m["message_id"] == "oz-1@example.com")
    assert b"Message-ID: <oz-1@example.com>" in base64.b64decode(first["raw_base64"])
    contents = {a["filename"]: base64.b64decode(a["content_base64"]) for a in first["attachments"]}
    assert contents == {"prices.csv": SHARED, "passport.txt": PASSPORT}
    assert {c["task"] for c in first["classifications"]} == {"intent", "sentiment", "urgency"}
    assert {o["kind"] for o in doc["outbox"]} == {"auto_reply", "agent_reply"}
    assert all(o["recipient"] == OTTILIE for o in doc["outbox"])
    assert [c["label"] for c in doc["label_corrections"]] == ["negative"]
    assert [s["message_id"] for s in doc["qa_samples"]] == [world.her_reply]
    assert [i["status"] for i in doc["intake"]].count("failed") == 1
    assert {"customer.created", "ticket.created", "ticket.replied"} <= {e["kind"] for e in doc["events"]}
    dumped = json.dumps(doc).lower()
    assert "bruno" not in dumped and "keller" not in dumped and "second line is refunded" not in dumped
    with world.rt.db.session() as session, pytest.raises(NotFound, match=r"no customer writes from nobody@x\.example"):
        export_customer("nobody@x.example", session=session)


def test_erase_leaves_nothing_of_her_and_everything_of_his(world: World) -> None:
    rt = world.rt
    with rt.db.session() as session:
        before = _everything(session)
        tickets_before = session.scalar(select(func.count()).select_from(Ticket))
        messages_before = session.scalar(select(func.count()).select_from(Message))
    assert all(h.lower() in before for h in HERS)
    with rt.db.transaction() as session:
        result = erase_customer(OTTILIE, session=session, actor="dpo", index=world.index)
    counts = result["counts"]
    assert result["already_erased"] is False and result["address_sha256"] == address_hash(OTTILIE)
    assert counts["tickets"] == 1 and counts["messages"] == 4  # two of hers, the acknowledgement, the reply
    assert counts["attachments"] == 1 and counts["reply_index"] == 1 and counts["label_corrections"] == 1
    assert counts["intake"] == 3 and counts["outbox"] == 2 and counts["identities"] == 1
    with rt.db.session() as session:
        after = _everything(session)
        left = [line for line in after.splitlines() if any(h.lower() in line for h in HERS)]
        assert left == [], f"still stored: {left}"
        assert "a new lamp goes to" not in after and "arrived broken" not in after and "oz-1@" not in after
        # Reports keep their counts: the rows stay, anonymous.
        assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
        assert session.scalar(select(func.count()).select_from(Message)) == messages_before
        ticket = session.get(Ticket, world.her_ticket)
        assert ticket is not None and ticket.status == "solved" and ticket.intent and ticket.subject == ""
        # His data is untouched: texts, raw bytes, the attachment both sent, his own, his mail and index entry.
        his = session.scalars(select(Message).where(Message.ticket_id == world.his_ticket)).all()
        assert any("invoice shows the lamp twice" in m.text for m in his)
        assert any(m.raw and b"bk-1@example.org" in m.raw for m in his)
        assert {b.data for b in session.scalars(select(AttachmentBlob))} == {SHARED, BRUNO_FILE}
        assert {o.recipient for o in session.scalars(select(OutboxItem))} == {BRUNO}
        assert "bruno keller" in after and BRUNO in after
        sample = session.scalars(select(QaSample)).one()
        kept = sample.prechecks["personalisation"]
        assert kept["verdict"] == "ok" and kept["uses_name"] is True and kept["name"] is None
        review = session.scalars(select(QaReview)).one()
        assert review.total == 100.0 and "[NAME]" in review.comment and "[PHONE]" in review.comment
        [audit] = session.scalars(select(Event).where(Event.kind == "customer.erased")).all()
        assert audit.actor == "dpo" and audit.data["address_sha256"] == address_hash(OTTILIE)
    assert [r.message_id for r in world.index.replies] == [world.his_reply]
    fresh = KnowledgeIndex(rt.settings, HashingEncoder())
    assert fresh.forget_replies([]) == 0 and [r.message_id for r in fresh.replies] == [world.his_reply]

    # Idempotent: again finds nothing and records nothing; an address never seen is NotFound.
    with rt.db.transaction() as session:
        again = erase_customer(f" {OTTILIE.upper()}", session=session, index=world.index)
    assert again["already_erased"] is True and not any(again["counts"].values())
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "customer.erased")) == 1
    with rt.db.transaction() as session, pytest.raises(NotFound):
        erase_customer("never@example.net", session=session)
    # Her first mail offered again (an IMAP folder read anew) is a duplicate, not her data back.
    _deliver(rt, _mail(f"Ottilie Zanetti <{OTTILIE}>", "<oz-1@example.com>", "Broken Aurora lamp", "again", []))
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
        assert "ottilie" not in _everything(session)


def test_a_process_holding_the_old_reply_index_drops_her_reply_on_its_next_refresh(world: World) -> None:
    rt = world.rt
    other = KnowledgeIndex(rt.settings, HashingEncoder())  # `triage serve`, loaded before the erasure
    with rt.db.session() as session:
        other.refresh_replies(session)
    assert len(other.replies) == 2
    with rt.db.transaction() as session:
        erase_customer(OTTILIE, session=session)  # no index passed: another process did it
    with rt.db.session() as session:
        other.refresh_replies(session)
    assert [r.message_id for r in other.replies] == [world.his_reply]


def test_retention_purges_old_raw_bytes_but_never_what_a_retry_needs(world: World) -> None:
    rt = world.rt
    now = utcnow() + timedelta(days=100)
    recent = now - timedelta(days=1)
    with rt.db.transaction() as session:  # his rows are recent, hers stay old
        session.execute(update(Message).where(Message.ticket_id == world.his_ticket).values(created_at=recent))
        his_rows = select(Message.inbox_id).where(Message.ticket_id == world.his_ticket).scalar_subquery()
        session.execute(update(InboxItem).where(InboxItem.id.in_(his_rows)).values(received_at=recent))
        session.execute(update(OutboxItem).where(OutboxItem.recipient == BRUNO).values(status=SENT, sent_at=recent))
        ack, _answer = session.scalars(select(OutboxItem).where(OutboxItem.recipient == OTTILIE)
                                      .order_by(OutboxItem.id)).all()
        ack.status, ack.sent_at = SENT, utcnow()  # sent long before `now`; her answer is old but still queued
    with rt.db.transaction() as session:
        preview = purge_expired(session=session, retention_days=30, now=now, dry_run=True)
    assert preview == {"message_raw": 4, "intake_payloads": 2, "outbox_raw": 1, "attachments": 1}
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.raw.is_not(None))) == 7
    with rt.db.transaction() as session:
        assert purge_expired(session=session, retention_days=30, now=now) == preview
    with rt.db.session() as session:
        hers = session.scalars(select(Message).where(Message.ticket_id == world.her_ticket)).all()
        assert all(m.raw is None for m in hers) and any("arrived broken" in m.text for m in hers)
        first = next(m for m in hers if m.message_id == "oz-1@example.com")
        meta = {a["filename"]: a for a in first.attachments}
        assert meta["passport.txt"]["purged"] is True and meta["passport.txt"]["stored"] is False
        assert meta["prices.csv"]["stored"] is True  # he sent it recently: the contents stay
        assert {b.data for b in session.scalars(select(AttachmentBlob))} == {SHARED, BRUNO_FILE}
        rows = {i.status: i for i in session.scalars(select(InboxItem))}
        assert rows[FAILED].payload  # failed rows keep their bytes for `triage inbox retry`
        done = session.scalars(select(InboxItem).where(InboxItem.status == DONE)).all()
        assert sorted(bool(i.payload) for i in done) == [False, False, True]
        assert session.scalars(select(OutboxItem).where(OutboxItem.status == QUEUED)).one().raw
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "privacy.purged")) == 1
    with rt.db.transaction() as session:  # nothing left to purge: a no-op, not another audit event
        assert not any(purge_expired(session=session, retention_days=30, now=now).values())


def test_the_cli_exports_asks_before_erasing_and_purges(world: World, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    rt = world.rt
    target = tmp_path / "out" / "ottilie.json"
    exported = cli_in_process(rt, monkeypatch, "customers", "export", OTTILIE, "--out", str(target))
    assert exported.exit_code == 0, exported.output
    assert json.loads(target.read_text(encoding="utf-8"))["customer"]["name"] == "Ottilie Zanetti"

    refused = cli_in_process(rt, monkeypatch, "customers", "erase", OTTILIE)  # no answer on stdin: aborted
    assert refused.exit_code != 0 and "Erase customer #" in refused.output and "cannot be undone" in refused.output
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "customer.erased")) == 0

    erased = cli_in_process(rt, monkeypatch, "customers", "erase", OTTILIE, "--yes", "--json")
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output.strip().splitlines()[-1])["counts"]["messages"] == 4
    again = cli_in_process(rt, monkeypatch, "customers", "erase", OTTILIE, "--yes")
    assert again.exit_code == 0 and "erased before" in again.output
    unknown = cli_in_process(rt, monkeypatch, "customers", "export", OTTILIE)
    assert isinstance(unknown.exception, NotFound)

    no_period = cli_in_process(rt, monkeypatch, "customers", "purge")
    assert "no retention period" in str(no_period.exception)
    dry = cli_in_process(rt, monkeypatch, "customers", "purge", "--days", "1", "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output.strip().splitlines()[-1]) == {
        "retention_days": 1, "dry_run": True, "message_raw": 0, "intake_payloads": 0, "outbox_raw": 0,
        "attachments": 0}


def test_data_export_masks_personal_data_in_corrections_unless_unmasked(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    db = Database(Settings(home=home, environment="test"))
    db.ensure_schema()
    said = "Meine Karte 4111 1111 1111 1111 wurde doppelt belastet, ruft mich an: +49 30 1234567, Hauptstraße 12"
    with db.transaction() as session:
        customer = Customer(name="Ana")
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="chat", customer_id=customer.id)
        session.add(ticket)
        session.flush()
        message = Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key="c1", text=said)
        session.add(message)
        session.flush()
        record_correction(session=session, message_id=message.id, task="sentiment", label="negative", actor="m")
    db.dispose()

    def feedback_row(*extra: str) -> tuple[dict[str, Any], dict[str, str]]:
        out = tmp_path / "sentiment.csv"
        proc = main_in_process(home, monkeypatch, "data", "export", "--kind", "sentiment", "--out", str(out),
                               "--include-feedback", "--json", *extra)
        assert proc.returncode == 0, proc.stderr
        with out.open(newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if r["origin"] == "feedback"]
        return json.loads(proc.stdout.strip().splitlines()[-1]), rows[0]

    summary, row = feedback_row()
    assert summary["masked"] == 1
    assert row["text"] == "Meine Karte [CARD] wurde doppelt belastet, ruft mich an: [PHONE], [ADDRESS]"
    summary, row = feedback_row("--unmasked")
    assert summary["masked"] == 0 and row["text"] == said


def test_serve_purges_on_its_own_once_retention_is_set(rt: Triage) -> None:
    import time

    from triage.background import Background, BackgroundOptions

    _deliver(rt, _mail(f"Bruno Keller <{BRUNO}>", "<bk-9@example.org>", "Old", "An old message.", []))
    with rt.db.transaction() as session:
        session.execute(update(Message).values(created_at=utcnow() - timedelta(days=40)))
    rt.config.privacy.retention_days, rt.config.privacy.purge_interval = 30, "1s"
    services = Background(rt, BackgroundOptions(worker=False, outbox=False, imap=False, sla=False))
    services.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with rt.db.session() as session:
                if session.scalar(select(func.count()).select_from(Message).where(Message.raw.is_not(None))) == 0:
                    break
            time.sleep(0.2)
    finally:
        services.stop()
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.raw.is_not(None))) == 0
        assert session.scalar(select(func.count()).select_from(Event).where(Event.kind == "privacy.purged")) == 1
