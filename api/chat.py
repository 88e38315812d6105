"""Chat routes for the chat integration: what the customer of a conversation sees, agents' replies included.

Chat comes in through `POST /api/v1/messages` (api/ingest.py) and an agent answers on the ticket
(`POST /api/v1/tickets/{id}/replies`); the widget's integration reads the answers back here, by the
conversation id it sent, without seeing anything else of the ticket.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from api.deps import MAX_ID, Principal, SessionDep, allow
from triage.conversations.service import chat_transcript
from triage.users.service import Role

router = APIRouter(prefix="/api/v1", tags=["chat"])

Integration = Annotated[Principal, allow(Role.integration)]
ChatRole = Literal["customer", "agent", "bot"]  # conversations.service.CUSTOMER_VISIBLE


class ChatMessageOut(BaseModel):
    id: int = Field(description="pass the last one you have as `after` to get only newer messages")
    role: ChatRole = Field(description="who wrote it, as in the chat webhook's records")
    text: str
    sent_at: datetime
    agent_name: str | None = Field(description="the answering agent's name, when an agent of ours wrote it")


class ChatMessagesOut(BaseModel):
    conversation_id: str
    ticket_id: int
    ticket_status: str = Field(description="new, open, pending, solved or closed")
    messages: list[ChatMessageOut]
    next_after: int | None = Field(description="the `after` for the next call: the last message's id (or the "
                                               "`after` given when nothing is new)")
    has_more: bool = Field(description="true when `limit` cut the page: call again at once with `next_after`")


@router.get("/chat/{conversation_id:path}/messages", response_model=ChatMessagesOut)
def chat_messages(
    conversation_id: Annotated[str, Path(min_length=1, max_length=250, description="the `conversation_id` "
                                         "the chat webhook sent")],
    session: SessionDep,
    user: Integration,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="a message id: only later messages")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChatMessagesOut:
    """The messages the customer of a chat conversation sees (theirs, the bot's and the agents' replies), in
    the order stored, after message `after`; never internal notes or system messages. 404 for a conversation
    never received. Poll with `after=next_after` to deliver agents' replies to the chat widget."""
    found = chat_transcript(conversation_id, session=session, after_id=after, limit=limit + 1)
    page = found.messages[:limit]
    return ChatMessagesOut(
        conversation_id=conversation_id, ticket_id=found.ticket.id, ticket_status=found.ticket.status,
        messages=[ChatMessageOut(id=m.id, role=cast(ChatRole, m.author_kind),
                                 text=m.text, sent_at=m.sent_at,
                                 agent_name=found.agent_names.get(m.author) if m.author_kind == "agent" else None)
                  for m in page],
        next_after=page[-1].id if page else after, has_more=len(found.messages) > limit)
