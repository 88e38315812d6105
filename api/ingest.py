"""Intake over HTTP: the live-chat webhook and raw emails. Accept fast, process after (STYLE.md).

Both routes only store the message in the inbox, committed before they answer, exactly as the SMTP
server and `triage ingest` do; the worker parses, classifies and routes it later. Offering the same
message again is safe: the inbox deduplicates by Message-ID or content hash.
"""

from __future__ import annotations

import hashlib
import logging
import re
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.deps import Principal, RuntimeDep, allow
from mail.parse import email_dedup_key
from triage.db import utcnow
from triage.inbox.service import enqueue
from triage.ingest.chat import ChatRecord
from triage.runtime import Triage
from triage.users.service import Role

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["ingest"])

Ingestor = Annotated[Principal, allow(Role.integration, Role.supervisor)]

RFC822 = "message/rfc822"
_FIELD = re.compile(rb"^[!-9;-~]+:")  # RFC 5322 §2.2: a header field name, then a colon


class IntakeOut(BaseModel):
    intake_id: int = Field(description="the inbox row holding the message (`triage inbox list`)")
    duplicate: bool = Field(description="true when this message had been accepted before; nothing new is stored")
    status: str = Field(description="pending until the worker has processed it, then done or failed")


_ACCEPTED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Already accepted earlier (a retry); nothing new is stored", "model": IntakeOut},
    202: {"description": "Stored durably; the worker will turn it into a ticket", "model": IntakeOut},
}


def _store(rt: Triage, *, kind: str, payload: bytes, dedup_key: str, user: Principal,
           peer: str | None) -> IntakeOut:
    """Blocking: one transaction, committed before the route answers."""
    with rt.db.transaction() as session:
        item, created = enqueue(session=session, kind=kind, source="api", payload=payload, dedup_key=dedup_key,
                                source_ref=f"api:{user.name}"[:300])
        if created:
            item.envelope = {"api_user": user.name, "peer": peer or "", "received_at": utcnow().isoformat()}
            session.flush()
        return IntakeOut(intake_id=item.id, duplicate=not created, status=item.status)


def _answer(out: IntakeOut, response: Response) -> IntakeOut:
    if out.duplicate:
        response.status_code = 200
    return out


@router.post("/messages", status_code=202, response_model=IntakeOut, responses=_ACCEPTED)
def ingest_chat_message(record: ChatRecord, request: Request, response: Response, rt: RuntimeDep,
                        user: Ingestor) -> IntakeOut:
    """The live-chat webhook: one chat message with the fields of the chat JSONL format.

    Answers 202 once the message is stored (200 when it was stored before); the ticket appears when the
    worker has processed it. A customer's first message in a conversation gets the bot's answer with
    the queue position and expected wait.
    """
    out = _store(rt, kind="chat", payload=record.model_dump_json().encode("utf-8"), dedup_key=record.dedup_key(),
                 user=user, peer=request.client.host if request.client else None)
    log.info("api: chat message %s inbox %d for %s", "already in" if out.duplicate else "queued as",
             out.intake_id, user.name)
    return _answer(out, response)


def email_problem(raw: bytes) -> str | None:
    """Why these bytes are not an email we can make a ticket from, or None (headers only: cheap)."""
    if not raw.strip():
        return "the body is empty: send the raw RFC 5322 message"
    if not _FIELD.match(raw.lstrip(b"\r\n")):
        return "the body does not start with a header field (e.g. 'From: ...'): send the raw RFC 5322 message"
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    sender = next((str(v) for k, v in headers.raw_items() if k.lower() == "from"), "")
    if "@" not in sender:
        return "the message has no From header with an address, so there is nobody to answer"
    return None


@router.post("/emails", status_code=202, response_model=IntakeOut,
             responses={**_ACCEPTED, 415: {"description": "Content-Type is not message/rfc822"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 RFC822: {"schema": {"type": "string", "format": "binary"}}}}})
async def ingest_email(request: Request, response: Response, rt: RuntimeDep, user: Ingestor) -> IntakeOut:
    """A raw email (`Content-Type: message/rfc822`), e.g. from a mail relay or an MTA pipe.

    Answers 202 once the bytes are stored (200 when the same Message-ID was stored before); the size
    limit is `TRIAGE_API_MAX_BODY`. Automatic mail and acknowledgements follow the same rules as SMTP.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != RFC822:
        raise HTTPException(415, f"send the raw message with Content-Type: {RFC822} (got {content_type or 'none'})")
    raw = await request.body()
    problem = email_problem(raw)
    if problem is not None:
        raise HTTPException(422, problem)
    try:
        key = email_dedup_key(raw)
    except Exception:  # never refuse a message because its headers defeat the parser
        log.warning("api: could not read the Message-ID; deduplicating by content", exc_info=True)
        key = "sha256:" + hashlib.sha256(raw).hexdigest()
    out = await run_in_threadpool(_store, rt, kind="email", payload=raw, dedup_key=key, user=user,
                                  peer=request.client.host if request.client else None)
    log.info("api: email %s inbox %d (%d bytes) for %s", "already in" if out.duplicate else "queued as",
             out.intake_id, len(raw), user.name)
    return _answer(out, response)
