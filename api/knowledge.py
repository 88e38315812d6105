"""Routes for suggestions and their feedback, and knowledge-base search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import RuntimeDep, SessionDep
from triage.errors import UserError
from triage.knowledge.index import KnowledgeIndex, knowledge_index
from triage.knowledge.schemas import FeedbackIn, FeedbackOut, SearchResult, SuggestionOut
from triage.knowledge.service import NotFoundError, record_feedback, search, suggest

router = APIRouter(prefix="/api/v1", tags=["knowledge"])


def get_knowledge(rt: RuntimeDep) -> KnowledgeIndex:
    return knowledge_index(rt.settings)


KnowledgeDep = Annotated[KnowledgeIndex, Depends(get_knowledge)]


class SuggestionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    k: int = Field(default=3, ge=1, le=20, description="how many knowledge-base snippets")


@router.post("/tickets/{ticket_id}/suggestions", response_model=SuggestionOut)
def create_suggestion(ticket_id: int, rt: RuntimeDep, session: SessionDep, index: KnowledgeDep,
                      request: Annotated[SuggestionRequest | None, Body()] = None) -> SuggestionOut:
    """Knowledge-base snippets, similar past replies (masked) and a draft reply in the customer's language."""
    try:
        return suggest(ticket_id, session=session, index=index, config=rt.config,
                       k=(request or SuggestionRequest()).k)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/tickets/{ticket_id}/suggestions/{suggestion_id}/feedback", response_model=FeedbackOut,
             status_code=201)
def suggestion_feedback(ticket_id: int, suggestion_id: int, feedback: FeedbackIn, session: SessionDep) -> FeedbackOut:
    """Record that the agent used, edited (with the text sent) or rejected a suggestion."""
    try:
        return record_feedback(ticket_id, suggestion_id, feedback, session=session)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/kb/search", response_model=list[SearchResult])
def kb_search(session: SessionDep, index: KnowledgeDep,
              q: Annotated[str, Query(min_length=1, max_length=2000, description="the query")],
              k: Annotated[int, Query(ge=1, le=50)] = 5,
              language: Annotated[str | None, Query(max_length=16)] = None,
              product: Annotated[str | None, Query(max_length=100)] = None,
              intent: Annotated[str | None, Query(max_length=100)] = None) -> list[SearchResult]:
    """Hybrid (BM25 + dense) search of the knowledge base, filtered by language and product."""
    try:
        return search(q, session=session, index=index, k=k, language=language, product=product, intent=intent)
    except UserError as exc:
        raise HTTPException(400, str(exc)) from exc
