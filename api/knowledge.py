"""Routes for suggestions and their feedback, knowledge-base search, import and article CRUD."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Depends, File, Form, HTTPException, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.deps import Principal, RowId, RuntimeDep, SessionDep, allow
from triage.conversations.tables import Ticket
from triage.knowledge.index import KnowledgeIndex, knowledge_index
from triage.knowledge.schemas import (
    ArticleCreate,
    ArticleOut,
    ArticleSummary,
    ArticleUpdate,
    FeedbackIn,
    FeedbackOut,
    ImportOut,
    SearchResult,
    SuggestionOut,
)
from triage.knowledge.service import (
    chunk_counts,
    create_article,
    delete_article,
    get_article,
    import_files,
    list_articles,
    record_feedback,
    search,
    suggest,
    update_article,
)
from triage.knowledge.sources import ArticleIn
from triage.knowledge.tables import KbArticle
from triage.users.service import Role

router = APIRouter(prefix="/api/v1", tags=["knowledge"])


def get_knowledge(rt: RuntimeDep) -> KnowledgeIndex:
    return knowledge_index(rt.settings)


KnowledgeDep = Annotated[KnowledgeIndex, Depends(get_knowledge)]
AgentDep = Annotated[Principal, allow(Role.agent, Role.supervisor)]


def _visible(ticket_id: int, user: Principal, session: SessionDep) -> None:
    """Agents only reach tickets of their queues; others' tickets do not exist for them (404)."""
    if user.queues is None:
        return
    ticket = session.get(Ticket, ticket_id)
    if ticket is not None and not user.sees_ticket(ticket.queue, ticket.assignee_id):
        raise HTTPException(404, f"no ticket #{ticket_id}")


# Suggesting embeds the query (CPU) and stores the suggestion (one SQLite writer at a time): letting 40
# threadpool threads at it at once only adds lock waits with back-off sleeps and long tails. Held across
# the commit, because this dependency is set up before the session's and torn down after it.
_SUGGEST_SLOTS = threading.BoundedSemaphore(2)


def _suggest_slot() -> Iterator[None]:
    with _SUGGEST_SLOTS:
        yield


SuggestSlot = Annotated[None, Depends(_suggest_slot)]


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(default=3, ge=1, le=20, description="how many knowledge-base snippets")


@router.post("/tickets/{ticket_id}/suggestions", response_model=SuggestionOut)
def create_suggestion(ticket_id: RowId, _slot: SuggestSlot, rt: RuntimeDep, session: SessionDep,
                      index: KnowledgeDep, user: AgentDep,
                      request: Annotated[SuggestionRequest | None, Body()] = None) -> SuggestionOut:
    """Knowledge-base snippets, similar past replies (masked) and a draft reply in the customer's language."""
    _visible(ticket_id, user, session)
    return suggest(ticket_id, session=session, index=index, config=rt.config,
                   k=(request or SuggestionRequest()).k)


@router.post("/tickets/{ticket_id}/suggestions/{suggestion_id}/feedback", response_model=FeedbackOut,
             status_code=201)
def suggestion_feedback(ticket_id: RowId, suggestion_id: RowId, feedback: FeedbackIn, session: SessionDep,
                        user: AgentDep) -> FeedbackOut:
    """Record that the agent used, edited (with the text sent) or rejected a suggestion, as the caller (a body's
    `actor` is ignored); the same verdict sent twice is stored once."""
    _visible(ticket_id, user, session)
    return record_feedback(ticket_id, suggestion_id, feedback, session=session, actor=user.actor)


@router.get("/kb/search", response_model=list[SearchResult],
            dependencies=[allow(Role.agent, Role.qa, Role.supervisor, Role.data_scientist)])
def kb_search(session: SessionDep, index: KnowledgeDep,
              q: Annotated[str, Query(min_length=1, max_length=2000, description="the query")],
              k: Annotated[int, Query(ge=1, le=50)] = 5,
              language: Annotated[str | None, Query(max_length=16)] = None,
              product: Annotated[str | None, Query(max_length=100)] = None,
              intent: Annotated[str | None, Query(max_length=100)] = None) -> list[SearchResult]:
    """Hybrid (BM25 + dense) search of the knowledge base, filtered by language and product."""
    return search(q, session=session, index=index, k=k, language=language, product=product, intent=intent)


# ---------------------------------------------------------------------------- knowledge-base articles

EditorDep = Annotated[Principal, allow(Role.supervisor, Role.data_scientist)]


class ArticlePage(BaseModel):
    items: list[ArticleSummary]
    next_cursor: str | None


def _summary(article: KbArticle, chunks: int) -> ArticleSummary:
    return ArticleSummary(id=article.external_id, title=article.title, tags=list(article.tags or []),
                          intents=list(article.intents or []), product=article.product, language=article.language,
                          source=article.source, chunks=chunks, updated_at=article.updated_at)


def _article(article: KbArticle) -> ArticleOut:
    return ArticleOut(**_summary(article, len(article.chunks)).model_dump(), body=article.body,
                      created_at=article.created_at)


def _invalid(exc: ValidationError) -> HTTPException:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'article'}: {e['msg']}" for e in exc.errors())
    return HTTPException(422, problems.replace("external_id", "id"))


@router.post("/kb/import", response_model=ImportOut,
             responses={413: {"description": "the request is larger than TRIAGE_API_MAX_BODY (10 MiB by default)"}})
def kb_import(
    session: SessionDep,
    index: KnowledgeDep,
    _user: EditorDep,
    files: Annotated[list[UploadFile], File(description="Markdown articles (YAML front matter), .csv or .json, as "
                                                        "`triage kb import` reads them")],
    source: Annotated[str | None, Form(max_length=200, description="a name for this collection (default: the "
                                                                   "file name, or 'upload' for several files)")] = None,
    prune: Annotated[bool, Form(description="delete articles imported earlier under the same source name that "
                                            "these files no longer contain")] = False,
) -> ImportOut:
    """Import articles; only new or changed ones are chunked and embedded again.

    Records that cannot be read are listed in `rejected` and skipped; the rest are imported.
    """
    name = source or (Path(files[0].filename or "upload").name if len(files) == 1 else "upload")
    report = import_files([(f.filename or "", f.file.read()) for f in files], session=session, index=index,
                          source=f"upload:{name}", prune=prune)
    return ImportOut(**report.as_dict())  # type: ignore[arg-type]


@router.get("/kb/articles", response_model=ArticlePage)
def kb_articles(
    session: SessionDep,
    _user: EditorDep,
    language: Annotated[str | None, Query(max_length=16)] = None,
    product: Annotated[str | None, Query(max_length=100)] = None,
    source: Annotated[str | None, Query(max_length=500, description="'api', or 'upload:NAME' for an import")]
    = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
) -> ArticlePage:
    """Articles in the order they were added, filtered by language, product and source, paged with a cursor."""
    after = None
    if cursor is not None:
        if not cursor.isdigit():
            raise HTTPException(400, "cursor is not one this API issued")
        after = int(cursor)
    rows = list_articles(session=session, limit=limit + 1, after_id=after, language=language, product=product,
                         source=source)
    page = rows[:limit]
    counts = chunk_counts([a.id for a in page], session=session)
    return ArticlePage(items=[_summary(a, counts.get(a.id, 0)) for a in page],
                       next_cursor=str(page[-1].id) if len(rows) > limit else None)


@router.get("/kb/articles/{article_id}", response_model=ArticleOut)
def kb_article(article_id: str, session: SessionDep, _user: EditorDep) -> ArticleOut:
    """One article with its Markdown body."""
    return _article(get_article(article_id, session=session))


@router.post("/kb/articles", response_model=ArticleOut, status_code=201)
def kb_create_article(article: ArticleCreate, response: Response, session: SessionDep, index: KnowledgeDep,
                      _user: EditorDep) -> ArticleOut:
    """Add an article; it is chunked and embedded before the call returns, so search finds it at once."""
    data = article.model_dump()
    try:
        item = ArticleIn.model_validate(data | {"external_id": data.pop("id")})
    except ValidationError as exc:
        raise _invalid(exc) from exc
    created = create_article(item, session=session, index=index)
    response.headers["Location"] = f"{router.prefix}/kb/articles/{created.external_id}"
    return _article(created)


@router.patch("/kb/articles/{article_id}", response_model=ArticleOut)
def kb_update_article(article_id: str, changes: ArticleUpdate, session: SessionDep, index: KnowledgeDep,
                      _user: EditorDep) -> ArticleOut:
    """Change some fields of an article; chunks whose text changed are embedded again, the rest are kept."""
    try:
        return _article(update_article(article_id, changes.model_dump(exclude_unset=True), session=session,
                                       index=index))
    except ValidationError as exc:
        raise _invalid(exc) from exc


@router.delete("/kb/articles/{article_id}", status_code=204)
def kb_delete_article(article_id: str, session: SessionDep, index: KnowledgeDep, _user: EditorDep) -> Response:
    """Delete an article; it disappears from search results at once."""
    delete_article(article_id, session=session, index=index)
    return Response(status_code=204)
