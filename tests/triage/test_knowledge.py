"""Knowledge base on SQLite and PostgreSQL: import, incremental re-embedding, deletion, filters, suggestions,
masked past replies, drafts and feedback. The encoder is a hashing stand-in except where marked."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import SAMPLES, HashingEncoder
from triage.conversations.tables import Customer, Message, Ticket
from triage.errors import UserError
from triage.knowledge import service
from triage.knowledge.index import KnowledgeIndex
from triage.knowledge.prose import to_sentences
from triage.knowledge.schemas import FeedbackIn
from triage.knowledge.service import NotFoundError, word_edit_distance
from triage.knowledge.tables import KbArticle, KbChunk, SuggestionFeedback
from triage.runtime import Triage

KB = SAMPLES / "kb"


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(KB, target)
    return target


@pytest.fixture
def index(rt: Triage, hashing_encoder: HashingEncoder) -> KnowledgeIndex:
    return KnowledgeIndex(rt.settings, encoder=hashing_encoder)


def _import(rt: Triage, index: KnowledgeIndex, path: Path) -> service.ImportReport:
    with rt.db.transaction() as session:
        return service.import_path(path, session=session, index=index)


def _ticket(rt: Triage, text: str, *, name: str | None = "Maria Jensen", intent: str | None = "order_status",
            sentiment: str = "neutral", urgency: str = "normal", status: str = "open",
            subject: str = "Where is my order?", reply: str | None = None, confidence: float = 0.9,
            language: str | None = None) -> int:
    with rt.db.transaction() as session:
        customer = Customer(name=name, language=language)
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="email", subject=subject, status=status, customer_id=customer.id, intent=intent,
                        intent_confidence=confidence, sentiment=sentiment, urgency=urgency, language=language)
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="c@example.com",
                            dedup_key=f"test:{uuid.uuid4()}", subject=subject, text=text, full_text=text))
        if reply is not None:
            session.add(Message(ticket_id=ticket.id, direction="out", author_kind="agent",
                                author="agent@larkspur.example", dedup_key=f"test:{uuid.uuid4()}",
                                subject=f"Re: {subject}", text=reply, full_text=reply))
        return ticket.id


def test_import_is_idempotent_and_incremental(rt: Triage, index: KnowledgeIndex, kb_copy: Path,
                                              hashing_encoder: HashingEncoder) -> None:
    first = _import(rt, index, kb_copy)
    articles = len([p for p in kb_copy.glob("*.md") if p.name != "README.md"])
    assert (first.files, first.added, first.rejected) == (articles, articles, [])
    with rt.db.session() as session:
        chunks = session.scalar(select(func.count()).select_from(KbChunk))
    assert first.chunks == first.chunks_embedded == chunks == hashing_encoder.texts_encoded
    assert (rt.settings.home / "kb" / "vectors.npz").exists()

    again = _import(rt, index, kb_copy)
    assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, articles, 0)
    assert hashing_encoder.texts_encoded == chunks  # nothing re-embedded

    # Change one paragraph of one article: only the chunk holding it is embedded again.
    article = kb_copy / "refund-timeline.md"
    article.write_text(article.read_text(encoding="utf-8").replace("within 3 business days", "within 2 business days"),
                       encoding="utf-8")
    before = hashing_encoder.texts_encoded
    changed = _import(rt, index, kb_copy)
    assert (changed.updated, changed.unchanged, changed.chunks_embedded) == (1, articles - 1, 1)
    assert hashing_encoder.texts_encoded == before + 1
    with rt.db.session() as session:
        hits = service.search("returns refund within 2 business days", session=session, index=index, k=3)
    assert any("within 2 business days" in hit.text for hit in hits)
    with rt.db.session() as session:
        texts = session.scalars(select(KbChunk.text)).all()
    assert not any("refund within 3 business days" in t for t in texts)  # the old version is gone

    # A fresh process loads the vectors from TRIAGE_HOME instead of embedding again.
    fresh_encoder = HashingEncoder()
    fresh = KnowledgeIndex(rt.settings, encoder=fresh_encoder)
    with rt.db.session() as session:
        assert service.search("refund", session=session, index=fresh, k=3)
    assert fresh_encoder.texts_encoded == 1  # the query only


def test_deleted_articles_disappear_from_results(rt: Triage, index: KnowledgeIndex, kb_copy: Path) -> None:
    _import(rt, index, kb_copy)
    with rt.db.session() as session:
        assert service.search("gale vacuum will not charge", session=session, index=index, k=3)[0].article == \
            "gale-vacuum-wont-charge"
    (kb_copy / "gale-vacuum-wont-charge.md").unlink()
    report = _import(rt, index, kb_copy)
    assert report.deleted == 1
    with rt.db.session() as session:
        results = service.search("gale vacuum will not charge", session=session, index=index, k=10)
        assert "gale-vacuum-wont-charge" not in {r.article for r in results}
        assert session.scalar(select(KbArticle).where(KbArticle.external_id == "gale-vacuum-wont-charge")) is None
    with rt.db.transaction() as session:
        service.delete_article("track-your-order", session=session, index=index)
        with pytest.raises(NotFoundError, match="no knowledge-base article 'nope'"):
            service.delete_article("nope", session=session, index=index)
    with rt.db.session() as session:
        assert "track-your-order" not in {r.article for r in service.search(
            "track my order", session=session, index=index, k=10)}


def test_filters_by_language_and_product(rt: Triage) -> None:
    # 1,024 hash buckets: in the fixture's 256 "pair" shares one with a refund chunk's word, and the stand-in's
    # meaning (80% of the hybrid by default) then prefers the refund article.
    index = KnowledgeIndex(rt.settings, encoder=HashingEncoder(dim=1024))
    _import(rt, index, KB)
    with rt.db.session() as session:
        german = service.search("Rückgabe Bestellung", session=session, index=index, k=5, language="de")
        assert german and {r.language for r in german} == {"de"}
        lamp = service.search("does not pair or connect", session=session, index=index, k=10, product="aurora-lamp")
        assert {r.product for r in lamp} <= {"aurora-lamp", None}
        assert lamp[0].article == "aurora-lamp-wont-pair"
        assert any("keywords" in w for w in lamp[0].why)
        with pytest.raises(UserError, match="k must be between 1 and 50"):
            service.search("x", session=session, index=index, k=0)
        with pytest.raises(UserError, match="query is empty"):
            service.search("  ", session=session, index=index)


def test_csv_and_json_import_with_rejections(rt: Triage, index: KnowledgeIndex, tmp_path: Path) -> None:
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "articles.csv").write_text(
        "id,title,body,tags,intents,product,language\n"
        "gift-wrap,Gift wrapping,We wrap any order for free.,gifts;orders,product_question,,en\n"
        ",No id,Body,,,,en\n", encoding="utf-8")
    (folder / "articles.json").write_text(json.dumps({"articles": [
        {"id": "de-geschenk", "title": "Geschenkverpackung", "body": "Wir verpacken jede Bestellung.",
         "language": "de", "intents": ["product_question"]},
        {"id": "bad-lang", "title": "Bad", "body": "x", "language": "english!"},
    ]}), encoding="utf-8")
    report = _import(rt, index, folder)
    assert report.added == 2
    assert len(report.rejected) == 2
    assert any("articles.csv:3" in r and "external_id" in r for r in report.rejected)
    assert any("articles.json:[1]" in r and "language" in r for r in report.rejected)
    with rt.db.session() as session:
        wrap = session.scalar(select(KbArticle).where(KbArticle.external_id == "gift-wrap"))
        assert wrap is not None and wrap.tags == ["gifts", "orders"] and wrap.product is None
    with pytest.raises(UserError, match="does not exist"):
        _import(rt, index, tmp_path / "missing")


def test_suggestion_draft_has_name_order_and_snippet(rt: Triage, index: KnowledgeIndex) -> None:
    _import(rt, index, KB)
    ticket_id = _ticket(rt, "Hi, my order LH-104233 still hasn't arrived and the tracking page has not updated "
                            "for days. This is really annoying.", sentiment="negative")
    with rt.db.transaction() as session:
        result = service.suggest(ticket_id, session=session, index=index, config=rt.config)
    draft = result.draft
    assert draft.startswith("Hello Maria,")
    assert "LH-104233" in draft
    assert "I am sorry" in draft  # negative sentiment
    kb = [s for s in result.snippets if s.source == "knowledge_base"]
    assert kb and kb[0].article == "track-your-order" and kb[0].why
    # The substance is the best snippet rewritten as sentences, without Markdown.
    with rt.db.session() as session:
        chunk = session.get(KbChunk, int(kb[0].id.split(":")[1]))
        assert chunk is not None
        assert any(sentence in draft for sentence in to_sentences(chunk.text))
    assert "**" not in draft and "\n- " not in draft and "##" not in draft
    assert "reply to this email quoting order LH-104233" in draft
    assert draft.rstrip().endswith("Triage support") or rt.config.company in draft.splitlines()[-1]
    assert result.notes == []


def test_german_customer_gets_german_draft(rt: Triage, index: KnowledgeIndex) -> None:
    _import(rt, index, KB)
    ticket_id = _ticket(rt, "Hallo, ich möchte meine Bestellung LH-220011 zurückgeben. Wie geht die Rücksendung?",
                        name="Jonas Weber", intent="return_exchange", urgency="high", subject="Rücksendung",
                        language="de")
    with rt.db.transaction() as session:
        result = service.suggest(ticket_id, session=session, index=index, config=rt.config)
    assert result.language == "de"
    assert result.draft.startswith("Guten Tag Jonas Weber,\n\nvielen Dank")
    assert "LH-220011" in result.draft and "Mir ist klar, dass es eilt" in result.draft
    assert {s.language for s in result.snippets if s.source == "knowledge_base"} == {"de"}
    assert "Mit freundlichen Grüßen" in result.draft


def test_empty_knowledge_base_says_so_and_unknown_ticket(rt: Triage, index: KnowledgeIndex) -> None:
    ticket_id = _ticket(rt, "Where is order LH-555001?", name=None)
    with rt.db.transaction() as session:
        result = service.suggest(ticket_id, session=session, index=index, config=rt.config)
        assert result.snippets == []
        assert result.notes and "knowledge base is empty" in result.notes[0]
        assert result.draft.startswith("Hello,\n\n") and "LH-555001" in result.draft
        with pytest.raises(NotFoundError, match="no ticket #999999"):
            service.suggest(999999, session=session, index=index, config=rt.config)


def test_past_replies_are_suggested_with_personal_data_masked(rt: Triage, index: KnowledgeIndex) -> None:
    reply = ("Hi Ingrid,\n\nI have reissued the refund for order LH-778812 to your card; it will reach "
             "ingrid.holm@example.com's bank account within 5 days. Call us on +47 912 34 567 if it does not, "
             "or quote account ACC-55012. Ingrid, sorry again for the wait on this refund.")
    _ticket(rt, "My refund for LH-778812 never arrived", name="Ingrid Holm", intent="refund_request",
            status="solved", subject="Refund missing", reply=reply)
    _ticket(rt, "Still waiting on an open ticket", name="Open Case", intent="refund_request",
            subject="Refund", reply="Hi Open, this unsolved reply must not be suggested about the refund.")
    ticket_id = _ticket(rt, "I returned my lamp weeks ago and the refund has not reached my card yet.",
                        name="Ola Nordmann", intent="refund_request", subject="Refund not received")
    index.reply_min_cosine = 0.1  # bag-of-words stand-in: lower similarities than the sentence encoder
    with rt.db.transaction() as session:
        result = service.suggest(ticket_id, session=session, index=index, config=rt.config)
    past = [s for s in result.snippets if s.source == "past_reply"]
    assert len(past) == 1
    text = past[0].text
    for secret in ("Ingrid", "Holm", "LH-778812", "ingrid.holm@example.com", "912 34 567", "ACC-55012"):
        assert secret not in text
    assert "[NAME]" in text and "[ORDER_NUMBER]" in text and "[EMAIL]" in text and "[PHONE]" in text
    assert "reissued the refund" in text
    assert any("same intent refund_request" in w for w in past[0].why)


def test_feedback_and_edit_report(rt: Triage, index: KnowledgeIndex) -> None:
    _import(rt, index, KB)
    ticket_id = _ticket(rt, "Where is my order LH-104233?")
    with rt.db.transaction() as session:
        first = service.suggest(ticket_id, session=session, index=index, config=rt.config)
        second = service.suggest(ticket_id, session=session, index=index, config=rt.config)
    edited = first.draft.replace("Hello Maria,", "Dear Ms Jensen,") + "\n\nP.S. Thanks for your patience."
    with rt.db.transaction() as session:
        out = service.record_feedback(ticket_id, first.suggestion_id, FeedbackIn(action="edited", final_text=edited),
                                      session=session, actor="ana@larkspur.example")
        assert out.edit_distance == word_edit_distance(first.draft, edited) == 3 + 5
        used = service.record_feedback(ticket_id, second.suggestion_id, FeedbackIn(action="used", actor="mallory"),
                                       session=session, actor="ana")
        assert (used.edit_distance, used.edit_ratio) == (0, 0.0)
        # Sent twice (a retry, a double click): the row already stored, not a second one.
        again = service.record_feedback(ticket_id, second.suggestion_id, FeedbackIn(action="used"),
                                        session=session, actor="ana")
        assert again.id == used.id
        service.record_feedback(ticket_id, second.suggestion_id, FeedbackIn(action="rejected"),
                                session=session, actor="bo")
        with pytest.raises(NotFoundError):
            service.record_feedback(ticket_id + 1, second.suggestion_id, FeedbackIn(action="used"),
                                    session=session, actor="x")
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(SuggestionFeedback)) == 3
        # Who is recorded is the caller, never the body's claim.
        assert set(session.scalars(select(SuggestionFeedback.actor))) == {"ana@larkspur.example", "ana", "bo"}
        [row] = service.edit_report(session=session)
    assert (row.intent, row.feedback, row.used, row.edited, row.rejected) == ("order_status", 3, 1, 1, 1)
    assert row.mean_edit_distance == pytest.approx(4.0)
    with pytest.raises(ValueError, match="needs final_text"):
        FeedbackIn(action="edited", actor="x")


def test_word_edit_distance() -> None:
    assert word_edit_distance("a b c", "a b c") == 0
    assert word_edit_distance("a b c", "a x c d") == 2
    assert word_edit_distance("", "one two") == 2
