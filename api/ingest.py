"""Intake over HTTP: the live-chat webhook and raw emails. Accept fast, process after (STYLE.md).

Both routes only store the message in the inbox, committed before they answer, exactly as the SMTP
server and `triage ingest` do; the worker parses, classifies and routes it later. Offering the same
message again is safe: the inbox deduplicates by Message-ID or content hash.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, RuntimeDep, allow
from triage.db import utcnow
from triage.flows.intake import API, Accepted, Envelope, accept_chat, accept_email
from triage.ingest.chat import ChatRecord
from triage.users.service import Role

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ingest"])

Ingestor = Annotated[Principal, allow(Role.integration, Role.supervisor)]

RFC822 = "message/rfc822"


class IntakeOut(BaseModel):
    intake_id: int = Field(description="the inbox row holding the message (`triage inbox list`)")
    duplicate: bool = Field(description="true when this message had been accepted before; nothing new is stored")
    status: str = Field(description="pending until the worker has processed it, then done or failed")


_ACCEPTED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Already accepted earlier (a retry); nothing new is stored", "model": IntakeOut},
    202: {"description": "Stored durably; the worker will turn it into a ticket", "model": IntakeOut},
}


def _origin(request: Request, user: Principal) -> tuple[str, Envelope]:
    """The inbox row's source_ref and envelope for a call by this user."""
    peer = request.client.host if request.client else ""
    return f"api:{user.name}"[:300], Envelope(peer=peer, extra={"api_user": user.name,
                                                                  "received_at": utcnow().isoformat()})


def _answer(accepted: Accepted, response: Response) -> IntakeOut:
    if accepted.duplicate:
        response.status_code = 200
    return IntakeOut(intake_id=accepted.inbox_id, duplicate=accepted.duplicate, status=accepted.status)


@router.post("/messages", status_code=202, response_model=IntakeOut, responses=_ACCEPTED)
def ingest_chat_message(record: ChatRecord, request: Request, response: Response, rt: RuntimeDep,
                        user: Ingestor) -> IntakeOut:
    """The live-chat webhook: one chat message with the fields of the chat JSONL format.

    Answers 202 once the message is stored (200 when it was stored before); the ticket appears when the
    worker has processed it. A customer's first message in a conversation gets the bot's answer with
    the queue position and expected wait.
    """
    ref, origin = _origin(request, user)
    accepted = accept_chat(rt.db, record, source=API, ref=ref, envelope=origin)
    log.info("api: chat message %s inbox %d for %s", "already in" if accepted.duplicate else "queued as",
             accepted.inbox_id, user.name)
    return _answer(accepted, response)


@router.post("/emails", status_code=202, response_model=IntakeOut,
             responses={**_ACCEPTED, 415: {"description": "Content-Type is not message/rfc822"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 RFC822: {"schema": {"type": "string", "format": "binary"}}}}})
async def ingest_email(request: Request, response: Response, rt: RuntimeDep, user: Ingestor) -> IntakeOut:
    """A raw email (`Content-Type: message/rfc822`), e.g. from a mail relay or an MTA pipe.

    Answers 202 once the bytes are stored (200 when the same Message-ID was stored before); the size
    limit is `TRIAGE_API_MAX_BODY`. An empty body, one that is not a message, or a message without a From
    address is refused with 422 and the reason. Automatic mail and acknowledgements follow the same rules
    as SMTP.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != RFC822:
        raise HTTPException(415, f"send the raw message with Content-Type: {RFC822} (got {content_type or 'none'})")
    raw = await request.body()
    ref, origin = _origin(request, user)
    accepted = await run_in_threadpool(accept_email, rt.db, raw, source=API, ref=ref, envelope=origin,
                                       max_bytes=rt.settings.api_max_body)
    log.info("api: email %s inbox %d (%d bytes) for %s", "already in" if accepted.duplicate else "queued as",
             accepted.inbox_id, len(raw), user.name)
    return _answer(accepted, response)
