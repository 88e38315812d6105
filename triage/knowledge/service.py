"""Knowledge-base import and search, suggestions with a draft reply, and agents' feedback on them.

Plain functions: they take a keyword-only session and flush; the caller commits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.retrieval import AlphaTuning, Hit, Mode
from models.vocabulary import OUT_OF_SCOPE
from triage.config import TriageConfig
from triage.conversations.subjects import MAX_CLASSIFIED_CHARS, classification_text, normalise_subject
from triage.conversations.tables import Message, Ticket
from triage.errors import BadRequest, Conflict, NotFound, UserError
from triage.knowledge.drafts import DraftInput, compose, draft_language, is_bulk
from triage.knowledge.index import ChunkRecord, KnowledgeIndex, embed_text, text_hash
from triage.knowledge.prose import reply_sentences, to_sentences
from triage.knowledge.schemas import (
    FeedbackIn,
    FeedbackOut,
    ImportReport,
    IntentEditStats,
    SearchResult,
    SnippetOut,
    SuggestionOut,
)
from triage.knowledge.sources import SUFFIXES, ArticleIn, chunk_markdown, read_path
from triage.knowledge.tables import KbArticle, KbChunk, Suggestion, SuggestionFeedback

MAX_K = 50


class NotFoundError(NotFound):
    """A ticket, suggestion or article that does not exist."""


# ---------------------------------------------------------------------------- import


def import_articles(articles: list[ArticleIn], *, session: Session, index: KnowledgeIndex, source: str,
                    keep: set[str] | None = None, prune: bool = True) -> ImportReport:
    """Add new articles, replace changed ones (by content hash), and delete this source's articles not seen.

    `keep` names ids that failed to parse this time: they are left alone rather than deleted.
    """
    report = ImportReport()
    existing = {a.external_id: a for a in session.scalars(select(KbArticle))}
    seen = set(keep or ())
    for item in articles:
        seen.add(item.external_id)
        digest = item.content_hash()
        article = existing.get(item.external_id)
        if article is not None and article.content_hash == digest:
            article.source = source
            report.unchanged += 1
            continue
        if article is None:
            article = KbArticle(external_id=item.external_id)
            session.add(article)
            report.added += 1
        else:
            session.execute(delete(KbChunk).where(KbChunk.article_id == article.id))
            session.expire(article, ["chunks"])
            report.updated += 1
        article.source, article.title, article.body = source, item.title, item.body
        article.tags, article.intents, article.product = item.tags, item.intents, item.product
        article.language, article.content_hash = item.language, digest
        session.flush()
        for chunk in chunk_markdown(item.body):
            session.add(KbChunk(article_id=article.id, position=chunk.position, heading=chunk.heading,
                                text=chunk.text, content_hash=text_hash(embed_text(item.title, chunk.heading,
                                                                                   chunk.text))))
    if prune:
        for external_id, article in existing.items():
            if article.source == source and external_id not in seen:
                session.delete(article)
                report.deleted += 1
    session.flush()
    report.chunks_embedded = index.sync(session)
    report.chunks = len(index.records)
    return report


def import_path(path: Path, *, session: Session, index: KnowledgeIndex, prune: bool = True) -> ImportReport:
    """Import a Markdown/CSV/JSON file or a folder of them; articles deleted from it are deleted here too."""
    result = read_path(path)
    if result.files == 0:
        raise UserError(f"{path}: no Markdown, CSV or JSON files found")
    report = import_articles(result.articles, session=session, index=index, source=str(path.resolve()),
                             keep=result.failed_ids, prune=prune)
    report.files, report.rejected = result.files, result.rejected
    return report


def delete_article(external_id: str, *, session: Session, index: KnowledgeIndex) -> None:
    """Remove one article and its chunks from the database and the index."""
    article = session.scalar(select(KbArticle).where(KbArticle.external_id == external_id))
    if article is None:
        raise NotFoundError(f"no knowledge-base article {external_id!r}")
    session.delete(article)
    session.flush()
    index.sync(session)


API_SOURCE = "api"  # articles created one by one over the API


class ConflictError(Conflict):
    """An article id that is already taken."""


def import_files(files: list[tuple[str, bytes]], *, session: Session, index: KnowledgeIndex, source: str,
                 prune: bool = False) -> ImportReport:
    """Import uploaded files (Markdown, CSV, JSON: what `triage kb import` reads) under one source name.

    With `prune`, articles imported earlier under the same source and missing from these files are deleted.
    Rejections name the uploaded file, not the temporary copy.
    """
    import tempfile

    if not files:
        raise BadRequest("no files to import")
    with tempfile.TemporaryDirectory(prefix="kb-upload-") as tmp:
        folder = Path(tmp)
        names: set[str] = set()
        for raw_name, data in files:
            name = Path(raw_name or "").name
            if not name or Path(name).suffix.lower() not in SUFFIXES:
                raise BadRequest(f"{raw_name or 'a file'}: unsupported file type; use Markdown (.md), .csv or .json")
            # The stem becomes the article's id (200 characters), and the file system takes 255 bytes a name.
            if len(Path(name).stem) > 200 or len(name.encode()) > 255:
                raise BadRequest(f"{name[:60]}...: the file name is longer than 200 characters; rename the file")
            if name in names:
                raise BadRequest(f"{name}: sent twice")
            names.add(name)
            (folder / name).write_bytes(data)
        result = read_path(folder)
    prefix = f"{folder}/"
    report = import_articles(result.articles, session=session, index=index, source=source,
                             keep=result.failed_ids, prune=prune)
    report.files = result.files
    report.rejected = [r.replace(prefix, "").replace(str(folder), "upload") for r in result.rejected]
    return report


def list_articles(*, session: Session, limit: int = 50, after_id: int | None = None, language: str | None = None,
                  product: str | None = None, source: str | None = None) -> list[KbArticle]:
    """Articles in creation order, filtered; `after_id` continues a page."""
    stmt = select(KbArticle).order_by(KbArticle.id).limit(limit)
    if after_id is not None:
        stmt = stmt.where(KbArticle.id > after_id)
    if language is not None:
        stmt = stmt.where(KbArticle.language == language)
    if product is not None:
        stmt = stmt.where(KbArticle.product == product)
    if source is not None:
        stmt = stmt.where(KbArticle.source == source)
    return list(session.scalars(stmt))


def chunk_counts(article_ids: list[int], *, session: Session) -> dict[int, int]:
    """How many searchable chunks each article has, in one query."""
    if not article_ids:
        return {}
    rows = session.execute(select(KbChunk.article_id, func.count()).where(KbChunk.article_id.in_(article_ids))
                           .group_by(KbChunk.article_id))
    return {int(article_id): int(n) for article_id, n in rows}


def get_article(external_id: str, *, session: Session) -> KbArticle:
    article = session.scalar(select(KbArticle).where(KbArticle.external_id == external_id))
    if article is None:
        raise NotFoundError(f"no knowledge-base article {external_id!r}")
    return article


def create_article(item: ArticleIn, *, session: Session, index: KnowledgeIndex,
                   source: str = API_SOURCE) -> KbArticle:
    """Add one article, chunked and embedded at once so it is searchable when the call returns."""
    if session.scalar(select(KbArticle.id).where(KbArticle.external_id == item.external_id)) is not None:
        raise ConflictError(f"article {item.external_id!r} exists already; update it instead")
    import_articles([item], session=session, index=index, source=source, prune=False)
    return get_article(item.external_id, session=session)


def update_article(external_id: str, changes: dict[str, object], *, session: Session,
                   index: KnowledgeIndex) -> KbArticle:
    """Change some fields of an article; changed chunks are embedded again, unchanged ones are kept."""
    article = get_article(external_id, session=session)
    current = {"external_id": article.external_id, "title": article.title, "body": article.body,
               "tags": article.tags, "intents": article.intents, "product": article.product,
               "language": article.language}
    item = ArticleIn.model_validate(current | changes)  # ValidationError: the caller says what is wrong
    import_articles([item], session=session, index=index, source=article.source, prune=False)
    session.refresh(article)
    return article


# ---------------------------------------------------------------------------- search


def _why(hit: Hit, record: ChunkRecord, *, language: str | None, product: str | None,
         intent: str | None) -> list[str]:
    why = []
    if hit.bm25_rank is not None:
        terms = f" ({', '.join(hit.terms)})" if hit.terms else ""
        why.append(f"keywords{terms}: BM25 rank {hit.bm25_rank}")
    if hit.dense_rank is not None:
        why.append(f"meaning: cosine {hit.cosine:.2f}, dense rank {hit.dense_rank}")
    if hit.intent_boosted and intent:
        why.append(f"answers intent {intent}")
    if language:
        why.append(f"in {record.language}")
    if product and record.product == product:
        why.append(f"about {product}")
    return why


def search(query: str, *, session: Session, index: KnowledgeIndex, k: int = 5, mode: Mode = "hybrid",
           language: str | None = None, product: str | None = None, intent: str | None = None) -> list[SearchResult]:
    """Ranked knowledge-base chunks for a query, with the reasons each matched."""
    if not query.strip():
        raise BadRequest("the search query is empty")
    if not 1 <= k <= MAX_K:
        raise BadRequest(f"k must be between 1 and {MAX_K}")
    if mode not in ("hybrid", "bm25", "dense"):
        raise BadRequest(f"unknown mode {mode!r}: use hybrid, bm25 or dense")
    hits = index.search(query, session=session, k=k, mode=mode, language=language, product=product, intent=intent)
    return [SearchResult(id=f"kb:{r.chunk_id}", article=r.external_id, title=r.title, heading=r.heading,
                         text=r.text, score=round(h.score, 6), language=r.language, product=r.product,
                         why=_why(h, r, language=language, product=product, intent=intent)) for h, r in hits]


def tune_search(labelled: list[tuple[str, list[str]]], *, session: Session, index: KnowledgeIndex) -> AlphaTuning:
    """Tune hybrid search's dense share on labelled queries (query, ids of the articles that answer it) and store
    it with the index; every process serving this home searches with it from then on."""
    labelled = [(q, ids) for q, ids in labelled if q.strip()]
    if not labelled:
        raise BadRequest("tuning needs at least one labelled query")
    if any(not ids for _, ids in labelled):
        raise BadRequest("every labelled query needs the id of at least one article that answers it")
    known = set(session.scalars(select(KbArticle.external_id)))
    unknown = sorted({i for _, ids in labelled for i in ids} - known)
    if unknown:
        raise BadRequest(f"unknown article ids in the labelled queries: {', '.join(unknown[:10])}")
    return index.tune_alpha(labelled, session=session)


# ---------------------------------------------------------------------------- suggestions


def _product_in(text: str, products: list[str]) -> tuple[str, str] | None:
    """(product slug, the words the customer used for it) for the first product named in the text."""
    firsts = [p.split("-")[0] for p in products]
    found: list[tuple[int, str, str]] = []
    for slug, first in zip(products, firsts, strict=True):
        words = slug.replace("-", " ")
        # A first word shared by several products (the brand) is not enough on its own.
        patterns = [words] + ([first] if firsts.count(first) == 1 else [])
        for pattern in patterns:
            m = re.search(rf"\b{re.escape(pattern)}\b", text, flags=re.I)
            if m:
                found.append((m.start(), slug, m.group(0)))
                break
    if not found:
        return None
    _, slug, said = min(found)
    if said.islower():
        said = slug.replace("-", " ").capitalize()
    return slug, said


def _customer_message(ticket: Ticket) -> Message | None:
    inbound = [m for m in ticket.messages if m.direction == "in" and m.author_kind == "customer" and not m.auto_kind]
    return inbound[-1] if inbound else None


def _safety_instruction(language: str, *, session: Session) -> tuple[KbArticle | None, list[str]]:
    """The knowledge base's safety instruction (an article tagged `hazard`) and its opening's sentences: in the
    customer's language, else the English article (for the agent to see), else nothing."""
    articles = [a for a in session.scalars(select(KbArticle).where(KbArticle.language.in_({language, "en"}))
                                           .order_by(KbArticle.id)) if "hazard" in (a.tags or [])]
    for wanted in (language, "en"):
        for article in articles:
            if article.language == wanted:
                opening = article.body.split("\n## ", 1)[0]
                return article, reply_sentences(opening, article.language)
    return None, []


def _is_confident(ticket: Ticket, config: TriageConfig) -> bool:
    """The intent is one the model is sure of, or an agent set it (a correction has confidence 1.0)."""
    return bool(ticket.intent) and (ticket.intent_confidence or 0.0) >= config.review.intent_confidence


def _article_agrees(ticket: Ticket, config: TriageConfig, query: str, vector: np.ndarray, language: str, *,
                    index: KnowledgeIndex, session: Session) -> ChunkRecord | None:
    """The best-matching article, searched without the intent's boost, when it answers the unsure intent.

    Two independent readings of the message (the classifier's and the search's) agreeing is better evidence
    than either alone: such a ticket gets a full draft down to `[review] agreement_confidence`.
    """
    if (not ticket.intent or ticket.intent == OUT_OF_SCOPE
            or (ticket.intent_confidence or 0.0) < config.review.agreement_confidence):
        return None
    hits = _relevant(index.search(query, session=session, k=1, language=language, vector=vector))
    return hits[0][1] if hits and ticket.intent in hits[0][1].intents else None


def suggest(ticket_id: int, *, session: Session, index: KnowledgeIndex, config: TriageConfig,
            k: int = 3) -> SuggestionOut:
    """Top snippets (knowledge base and similar past replies) and one draft reply; stored for feedback.

    The draft is in the ticket's language (else the customer's); articles are searched in that language and,
    when none matches, in English for the agent to translate, with a note: an English sentence is never
    pasted into a German draft.
    """
    from models.entities import EntityExtractor
    from models.signals import explicit_requests

    if not 1 <= k <= MAX_K:
        raise UserError(f"k must be between 1 and {MAX_K}")
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError(f"no ticket #{ticket_id}")
    message = _customer_message(ticket)
    query = _query(ticket, message)
    customer = ticket.customer
    language = draft_language(ticket.reply_language)
    confident = _is_confident(ticket, config)

    index.ensure_loaded(session)
    # An order number is often in the subject; only these two labels are wanted, which spares the spaCy pass
    # when the rules found neither (issue 18).
    entities = EntityExtractor().extract(query, ("ORDER_NUMBER", "PHONE")) if query else []
    order = next((e.text.lstrip("#").strip() for e in entities if e.label == "ORDER_NUMBER"), None)
    phone = next((e.text.strip() for e in entities if e.label == "PHONE"), None)
    product = _product_in(query, index.products())
    requests = explicit_requests(query)

    vector = _stored_vector(message, query, index, session=session) if query else None
    if vector is None and query:
        vector = index.encode([query])[0]
    notes: list[str] = []
    agreed = None
    if not confident and vector is not None and index.records:
        agreed = _article_agrees(ticket, config, query, vector, language, index=index, session=session)
    if agreed is not None:
        confident = True
        notes.append(f"The intent is unsure ({ticket.intent}, confidence {ticket.intent_confidence or 0.0:.2f}) "
                     f"but the best-matching article, \"{agreed.title}\", answers it too: the draft is built on "
                     "it; relabel the ticket if it is wrong.")
    elif not confident:
        notes.append(f"The intent is uncertain ({ticket.intent or 'none'}, confidence "
                     f"{ticket.intent_confidence or 0.0:.2f} < {config.review.intent_confidence:.2f}): the draft is "
                     "a holding reply; relabel the ticket for a full draft.")
    elif ticket.intent == OUT_OF_SCOPE:
        notes.append("Not a support request (out of scope): the draft says it reached us by mistake.")
    snippets: list[SnippetOut] = []
    safety_sentences: list[str] = []
    if requests.hazard:
        article, opening = _safety_instruction(language, session=session)
        safety_sentences = opening[:3]
        said = ", ".join(f'"{w}"' for w in dict.fromkeys(h.lower() for h in requests.hazard))
        if article is None:
            notes.append(f"Safety hazard reported ({said}): no article tagged 'hazard' in the knowledge base, so "
                         "the draft opens with the built-in safety instruction; add one to word it your way.")
        else:
            if article.language != language:
                safety_sentences = []  # the built-in instruction in the customer's language instead
            notes.append(f"Safety hazard reported ({said}): the draft opens with the safety instruction from "
                         f"\"{article.title}\" and leaves out other article content.")
            snippets.append(SnippetOut(id=f"kb-article:{article.external_id}", title=article.title,
                                       text=" ".join(opening),
                                       score=1.0, source="knowledge_base", why=[f"safety hazard: {said}"],
                                       article=article.external_id, language=article.language))
    if is_bulk(requests):
        notes.append(f"Bulk request ({requests.quantities[0]}): the draft promises a quote; consumer prices and "
                     "delivery terms are left out.")
    if requests.callback and not phone:
        notes.append("The customer asked for a call but gave no number: the draft asks for one.")

    chosen: list[tuple[str, str]] = []
    focus = 0
    if not index.records:
        notes.append("The knowledge base is empty: import articles with `triage kb import PATH`; "
                     "the draft has no article content.")
    elif vector is not None:
        named = product[0] if product else None
        hits = _relevant(index.search(query, session=session, k=max(k, 10), language=language, product=named,
                                      intent=ticket.intent, vector=vector))
        # English is searched when nothing in the customer's language matched, or when the product they named has
        # its own article only in English: the agent needs that guide more than a general one in their language.
        about_product = named is not None and any(r.product == named for _, r in hits)
        if language != "en" and (not hits or (named and not about_product)):
            english = _relevant(index.search(query, session=session, k=max(k, 5), language="en", product=named,
                                             intent=ticket.intent, vector=vector))
            if english and (not hits or any(r.product == named for _, r in english)):
                hits = english
                notes.append(f"No {language} article matched; the closest article, \"{hits[0][1].title}\", exists "
                             f"only in English: translate what applies (the draft leaves its content out).")
            elif not hits:
                notes.append(f"No knowledge-base article matched this ticket in {language} or English; the draft "
                             "has no article content.")
        elif not hits:
            notes.append(f"No knowledge-base article in {language} matched this ticket; the draft has no article "
                         "content.")
        for h, r in hits[:k]:
            snippets.append(SnippetOut(
                id=f"kb:{r.chunk_id}", title=r.title if not r.heading else f"{r.title}: {r.heading}",
                text=" ".join(to_sentences(r.text, r.language)), score=round(h.score, 6), source="knowledge_base",
                why=_why(h, r, language=language, product=product[0] if product else None, intent=ticket.intent),
                article=r.external_id, language=r.language))
        # The draft quotes an article only when it answers the ticket's intent: a lamp's pairing guide is no
        # answer to a lamp delivered in the wrong colour, however many words they share.
        answering = [r for _, r in hits if r.language == language and (not ticket.intent
                                                                        or ticket.intent in r.intents)]
        if hits and hits[0][1].language == language and not answering and confident and ticket.intent != OUT_OF_SCOPE:
            notes.append(f"No article found answers {ticket.intent}; the draft has no article content.")
        if answering:
            # The whole article, in order, with the section the search ranked first as the focus: another
            # section usually completes the answer (the timeline beside the steps, a condition, the next step).
            best = answering[0]
            sections = sorted((r for r in index.records if r.article_id == best.article_id), key=lambda r: r.chunk_id)
            chosen = [(r.title, r.text) for r in sections]
            focus = next(i for i, r in enumerate(sections) if r.chunk_id == best.chunk_id)
    if vector is not None:
        index.refresh_replies(session)
        for sim, reply in index.search_replies(vector, k=2, intent=ticket.intent, exclude_ticket=ticket.id):
            why = [f"how a colleague answered ticket #{reply.ticket_id}", f"meaning: cosine {sim:.2f}"]
            if reply.intent and reply.intent == ticket.intent:
                why.append(f"same intent {reply.intent}")
            snippets.append(SnippetOut(id=f"reply:{reply.message_id}", title=f"Reply on solved ticket "
                                       f"#{reply.ticket_id}", text=reply.text, score=round(sim, 6),
                                       source="past_reply", why=why))

    draft = compose(DraftInput(
        language=language, customer_name=customer.name, intent=ticket.intent, sentiment=ticket.sentiment,
        urgency=ticket.urgency, order_number=order, product=product[1] if product else None, query=query,
        snippets=chosen, agent_name=ticket.assignee.name if ticket.assignee else None, company=config.company,
        channel=ticket.channel, confident=confident, requests=requests, phone=phone, safety=safety_sentences,
        focus=focus), max_sentences=6)
    row = Suggestion(ticket_id=ticket.id, intent=ticket.intent, language=language, draft=draft,
                     snippets=[s.model_dump() for s in snippets], notes=notes)
    session.add(row)
    session.flush()
    return SuggestionOut(suggestion_id=row.id, ticket_id=ticket.id, intent=ticket.intent, language=language,
                         snippets=snippets, draft=draft, notes=notes)


def _query(ticket: Ticket, message: Message | None) -> str:
    """What the suggestion searches with: an email's subject and latest message, as the classifiers read it; a
    chat's customer turns together (a chat's last turn is often "ok thanks", its question turns earlier), the
    latest kept when they run long."""
    if ticket.channel == "chat":
        turns = [m.text for m in ticket.messages
                 if m.direction == "in" and m.author_kind == "customer" and not m.auto_kind and m.text]
        return classification_text(None, "\n".join(turns)[-MAX_CLASSIFIED_CHARS:]).strip()
    if message is None:
        return normalise_subject(ticket.subject or "")
    return classification_text(message.subject or ticket.subject, message.text or "").strip()


def _stored_vector(message: Message | None, query: str, index: KnowledgeIndex, *,
                   session: Session) -> np.ndarray | None:
    """The vector the worker stored when it classified the customer's message, when it embedded exactly the
    query's words with the index's encoder: a suggestion then runs no model (issue 18). A chat of several turns
    searches with more words than its last turn's vector holds, and embeds them itself."""
    from triage.conversations.tables import MessageEmbedding

    name = getattr(index.encoder, "name", None)
    row = session.get(MessageEmbedding, message.id) if message is not None and name else None
    return row.values() if row is not None and row.encoder == name and row.embeds(query) else None


def _relevant(hits: list[tuple[Hit, ChunkRecord]]) -> list[tuple[Hit, ChunkRecord]]:
    """A chunk that shares no keyword and is barely related in meaning is noise, not a suggestion."""
    return [(h, r) for h, r in hits if h.bm25_rank is not None or (h.cosine or 0.0) >= 0.3]


# ---------------------------------------------------------------------------- feedback


def word_edit_distance(a: str, b: str) -> int:
    """Levenshtein distance over words: how many words an agent inserted, deleted or replaced."""
    x, y = a.split(), b.split()
    if len(x) < len(y):
        x, y = y, x
    previous = list(range(len(y) + 1))
    for i, word in enumerate(x, start=1):
        current = [i]
        for j, other in enumerate(y, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other)))
        previous = current
    return previous[-1]


def record_feedback(ticket_id: int, suggestion_id: int, feedback: FeedbackIn, *, session: Session,
                    actor: str) -> FeedbackOut:
    """Store that a suggestion was used, edited (with the sent text) or rejected; edits are measured in words.

    `actor` is who is authenticated, never what the body claims. The same verdict sent again (a retried request,
    a double click) is the row already stored, so the edit report counts it once.
    """
    suggestion = session.get(Suggestion, suggestion_id)
    if suggestion is None or suggestion.ticket_id != ticket_id:
        raise NotFoundError(f"no suggestion #{suggestion_id} on ticket #{ticket_id}")
    actor = actor.strip()[:200]
    same = session.scalars(select(SuggestionFeedback).where(
        SuggestionFeedback.suggestion_id == suggestion.id, SuggestionFeedback.actor == actor,
        SuggestionFeedback.action == feedback.action).order_by(SuggestionFeedback.id)).all()
    for row in same:
        if row.snippet_id == feedback.snippet_id and row.final_text == feedback.final_text:
            return FeedbackOut(id=row.id, suggestion_id=suggestion.id, action=row.action,
                               edit_distance=row.edit_distance, edit_ratio=row.edit_ratio)
    distance: int | None = None
    ratio: float | None = None
    if feedback.action == "used":
        distance, ratio = 0, 0.0
    elif feedback.action == "edited":
        final = feedback.final_text or ""
        distance = word_edit_distance(suggestion.draft, final)
        ratio = round(distance / max(1, len(suggestion.draft.split()), len(final.split())), 4)
    row = SuggestionFeedback(suggestion_id=suggestion.id, ticket_id=ticket_id, intent=suggestion.intent,
                             action=feedback.action, snippet_id=feedback.snippet_id, final_text=feedback.final_text,
                             edit_distance=distance, edit_ratio=ratio, actor=actor)
    session.add(row)
    session.flush()
    return FeedbackOut(id=row.id, suggestion_id=suggestion.id, action=row.action, edit_distance=distance,
                       edit_ratio=ratio)


def edit_report(*, session: Session) -> list[IntentEditStats]:
    """Per intent: how drafts were received, and how far sent replies were from them (word edit distance)."""
    groups: dict[str, list[SuggestionFeedback]] = defaultdict(list)
    for row in session.scalars(select(SuggestionFeedback).order_by(SuggestionFeedback.id)):
        groups[row.intent or "(none)"].append(row)
    out = []
    for intent in sorted(groups):
        rows = groups[intent]
        measured = [r for r in rows if r.edit_distance is not None]
        out.append(IntentEditStats(
            intent=intent, feedback=len(rows), used=sum(r.action == "used" for r in rows),
            edited=sum(r.action == "edited" for r in rows), rejected=sum(r.action == "rejected" for r in rows),
            mean_edit_distance=round(sum(r.edit_distance or 0 for r in measured) / len(measured), 2)
            if measured else None,
            mean_edit_ratio=round(sum(r.edit_ratio or 0.0 for r in measured) / len(measured), 4) if measured else None,
        ))
    return out
