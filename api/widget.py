"""The live chat widget (issue 16 item 6): public routes a customer's browser uses, with no desk sign-in.

One script tag on a customer's site (`/widget.js`) adds a chat button and an iframe with `/widget/chat`; the
iframe's page starts a conversation (a per-conversation token, kept in its localStorage), sends messages and
hears the bot's and the agents' answers over server-sent events. A message goes through the same door as the
chat webhook (`accept_chat`, source `api`), so the worker classifies, routes and acknowledges it exactly as a
webhook message; agents answer on the desk's ticket page (`flows.tickets.reply`).

The browser never holds an integration key: the token opens one conversation and nothing else. The sites
that may embed the widget are `[chat] allowed_origins` (CSP frame-ancestors for the page; a JSON call that
carries any other Origin than those or our own is refused). With none configured the widget is off (404).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Literal, cast
from urllib.parse import urlsplit

import anyio
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from api.deps import RuntimeDep, SessionDep, client_ip
from api.sse import event_stream, polled_events
from triage.chat.service import conversation_for, start_conversation
from triage.chat.tables import WidgetConversation
from triage.config import ChatConfig
from triage.conversations.service import chat_transcript
from triage.db import utcnow
from triage.errors import NotFound
from triage.flows.intake import API, Envelope, accept_chat
from triage.ingest.chat import MAX_TEXT, ChatCustomer, ChatRecord

router = APIRouter(include_in_schema=False)  # for the widget's own page, not an integration API
DESK = Path(__file__).resolve().parent / "desk"
templates = Jinja2Templates(directory=str(DESK / "templates"))

POLL_SECONDS = 1.5  # how often an open stream reads the conversation (by message id, like the desk's notices)
STREAM_SECONDS = 240.0  # then the stream ends and the page reconnects with Last-Event-ID
KEEPALIVE_SECONDS = 20.0
TRANSCRIPT_LIMIT = 500
HOUR, MINUTE = 3600.0, 60.0

ChatRole = Literal["customer", "agent", "bot"]


class RateLimits:
    """Sliding windows of recent hits per key, in this process's memory.

    `triage serve` is one process, so one count covers every request; a restart forgets the counts, which
    costs at most one extra window of messages. Stale keys are dropped as the table grows.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, max_keys: int = 10_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, *rules: tuple[tuple[str, str], int, float]) -> tuple[int, int] | None:
        """Count one hit against every (key, limit, window seconds) rule, or against none of them.

        None when each rule still allows it (then it is counted everywhere); else (index of the first rule
        that refuses, seconds to wait). A refused hit counts nowhere, so one limit running out does not
        use up another.
        """
        now = self._clock()
        with self._lock:
            queues = []
            for number, (key, limit, window) in enumerate(rules):
                hits = self._hits.setdefault(key, deque())
                while hits and hits[0] <= now - window:
                    hits.popleft()
                if len(hits) >= limit:
                    return number, max(1, math.ceil(hits[0] + window - now))
                queues.append(hits)
            for hits in queues:
                hits.append(now)
            if len(self._hits) > self._max_keys:
                for stale in [k for k, v in self._hits.items() if not v or v[-1] <= now - HOUR]:
                    del self._hits[stale]
        return None


def _limits(request: Request) -> RateLimits:
    return cast(RateLimits, request.app.state.widget_limits)


def _too_many(retry_after: int, what: str) -> HTTPException:
    return HTTPException(429, f"{what}; try again in {retry_after} s", headers={"Retry-After": str(retry_after)})


def widget_config(rt: RuntimeDep) -> ChatConfig:
    """The [chat] section; the widget is off (404) until a site is allowed to embed it."""
    conf = rt.config.chat
    if not conf.allowed_origins:
        raise HTTPException(404, "the chat widget is off: list the sites that embed it in [chat] allowed_origins")
    return conf


WidgetConf = Annotated[ChatConfig, Depends(widget_config)]


def _ours(request: Request, origin: str) -> bool:
    """Whether a browser call came from our own page (the iframe), also behind a TLS-terminating proxy.

    Browsers mark it `Sec-Fetch-Site: same-origin`, a header no page's script can set; comparing the Origin's
    host with Host covers browsers that send no fetch metadata.
    """
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "").lower()


def checked_origin(request: Request, conf: WidgetConf) -> ChatConfig:
    """Refuse a call that a page on a site not allowed made (browsers send Origin; the iframe's is ours)."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower().rstrip("/") not in conf.allowed_origins and not _ours(
            request, origin.lower()):
        raise HTTPException(403, f"the origin {origin[:100]!r} may not use the chat widget; "
                                 "its site must be listed in [chat] allowed_origins")
    return conf


OriginChecked = Annotated[ChatConfig, Depends(checked_origin)]
_bearer = HTTPBearer(auto_error=False)


def widget_conversation(conf: OriginChecked, session: SessionDep,
                        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                        ) -> WidgetConversation:
    """The conversation whose token the browser sent as `Authorization: Bearer TOKEN`."""
    found = conversation_for(credentials.credentials, session=session) if credentials is not None else None
    if found is None:
        raise HTTPException(401, "send the conversation's token as 'Authorization: Bearer TOKEN' "
                                 "(start a conversation for one)", headers={"WWW-Authenticate": "Bearer"})
    return found


Conversation = Annotated[WidgetConversation, Depends(widget_conversation)]


# ------------------------------------------------------------------------------------------------ pages


@cache
def _script(name: str) -> str:
    return (DESK / "static" / name).read_text(encoding="utf-8")


@router.get("/widget.js")
def widget_script(conf: WidgetConf) -> Response:
    """The loader a customer's site includes with one script tag: a chat button and the iframe."""
    return Response(_script("widget.js"), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})


@router.get("/widget/chat", response_class=HTMLResponse)
def widget_page(request: Request, conf: WidgetConf, rt: RuntimeDep) -> HTMLResponse:
    """The iframe's page: the message list and a small form. Only the allowed sites may frame it."""
    response = templates.TemplateResponse(request, "widget_chat.html", {
        "company": rt.config.company, "max_chars": conf.max_message_chars})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; frame-ancestors " + " ".join(conf.allowed_origins) +
        "; form-action 'self'; base-uri 'none'; object-src 'none'")
    return response


# ------------------------------------------------------------------------------------------------ JSON


class StartIn(BaseModel):
    name: str | None = Field(default=None, max_length=200, description="as the customer typed it (optional)")
    email: str | None = Field(default=None, max_length=320, description="for an answer by email (optional)")
    site: str | None = Field(default=None, max_length=300, description="the page's origin, kept when allowed")

    @field_validator("name", "email", "site")
    @classmethod
    def _blank(cls, v: str | None) -> str | None:
        return v.strip() or None if v is not None else None

    @field_validator("email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and "@" not in v:  # the chat webhook's rule (ChatCustomer)
            raise ValueError(f"{v!r} is not an email address")
        return v.lower() if v is not None else None


class StartOut(BaseModel):
    token: str = Field(description="keep it: every later call sends it as 'Authorization: Bearer TOKEN'")
    conversation_id: str


class MessageIn(BaseModel):
    text: str = Field(max_length=MAX_TEXT)


class MessageOut(BaseModel):
    intake_id: int
    status: str = Field(description="pending until the worker has stored it on the ticket")


class WidgetMessage(BaseModel):
    id: int
    role: ChatRole
    text: str
    sent_at: datetime
    agent_name: str | None = None


class TranscriptOut(BaseModel):
    conversation_id: str
    status: str = Field(description="the ticket's status, or 'waiting' before the first message is processed")
    messages: list[WidgetMessage]


def _first_name(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def _transcript(conversation_id: str, *, session: Session, after: int | None = None,
                limit: int = TRANSCRIPT_LIMIT) -> TranscriptOut:
    try:
        found = chat_transcript(conversation_id, session=session, after_id=after, limit=limit)
    except NotFound:  # the worker has not stored the first message yet
        return TranscriptOut(conversation_id=conversation_id, status="waiting", messages=[])
    # The agent's first name is enough for the customer; their full name and address stay ours.
    return TranscriptOut(conversation_id=conversation_id, status=found.ticket.status, messages=[
        WidgetMessage(id=m.id, role=cast(ChatRole, m.author_kind), text=m.text, sent_at=m.sent_at,
                      agent_name=_first_name(found.agent_names.get(m.author)) if m.author_kind == "agent" else None)
        for m in found.messages])


@router.post("/widget/conversations", status_code=201, response_model=StartOut)
def start(body: StartIn, request: Request, conf: OriginChecked, session: SessionDep) -> StartOut:
    """Start a conversation: its token goes to the browser once; the ticket comes with the first message."""
    ip = client_ip(request)
    refused = _limits(request).hit((("start", ip), conf.conversations_per_ip_per_hour, HOUR))
    if refused is not None:
        raise _too_many(refused[1], f"at most {conf.conversations_per_ip_per_hour} new chats an hour from one address")
    site = body.site.lower().rstrip("/") if body.site else None
    started = start_conversation(session=session, ip=ip, name=body.name, email=body.email,
                                 origin=site if site in conf.allowed_origins else None)
    return StartOut(token=started.token, conversation_id=started.conversation.conversation_id)


@router.post("/widget/conversations/messages", status_code=202, response_model=MessageOut)
def send(body: MessageIn, request: Request, conf: OriginChecked, conversation: Conversation,
         session: SessionDep) -> MessageOut:
    """A customer's message, through the chat webhook's door: classified, routed and acknowledged the same way."""
    text = body.text.strip()
    if not text:
        raise HTTPException(422, "the message is empty")
    if len(text) > conf.max_message_chars:
        raise HTTPException(413, f"the message has {len(text)} characters; at most {conf.max_message_chars} "
                                 "fit in one chat message")
    per_chat, per_ip = conf.messages_per_conversation_per_minute, conf.messages_per_ip_per_minute
    refused = _limits(request).hit((("send", conversation.conversation_id), per_chat, MINUTE),
                                   (("send-ip", client_ip(request)), per_ip, MINUTE))
    if refused is not None:
        rule, wait = refused
        raise _too_many(wait, f"at most {per_chat} messages a minute in one chat" if rule == 0
                        else f"at most {per_ip} messages a minute from one address")
    record = ChatRecord(conversation_id=conversation.conversation_id, timestamp=utcnow(), role="customer",
                        customer=ChatCustomer(id=conversation.customer_ref, name=conversation.name,
                                              email=conversation.email), text=text)
    envelope = Envelope(peer=client_ip(request), extra={"widget": conversation.conversation_id,
                                                         "received_at": utcnow().isoformat()})
    accepted = accept_chat(session, record, source=API, ref=f"widget:{conversation.conversation_id}",
                           envelope=envelope)
    return MessageOut(intake_id=accepted.inbox_id, status=accepted.status)


@router.get("/widget/conversations/messages", response_model=TranscriptOut)
def transcript(conversation: Conversation, session: SessionDep) -> TranscriptOut:
    """What the customer sees of the conversation (theirs, the bot's and the agents' messages): after a reload."""
    return _transcript(conversation.conversation_id, session=session)


@router.get("/widget/conversations/events")
async def events(conversation: Conversation, rt: RuntimeDep,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
                 ) -> StreamingResponse:
    """`message` events (id = message id) for every message the customer may see after Last-Event-ID."""
    conversation_id = conversation.conversation_id

    def read(after: int) -> list[WidgetMessage]:
        with rt.db.session() as session:
            return _transcript(conversation_id, session=session, after=after, limit=100).messages

    cursor = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0

    async def poll() -> list[str]:
        nonlocal cursor
        events = []
        for message in await anyio.to_thread.run_sync(read, cursor):
            cursor = message.id
            events.append(f"id: {message.id}\nevent: message\ndata: {message.model_dump_json()}\n\n")
        return events

    return event_stream(polled_events(poll, retry_ms=2000, seconds=STREAM_SECONDS, every=POLL_SECONDS,
                                      keepalive=KEEPALIVE_SECONDS))


def install(app: FastAPI) -> None:
    """Add the widget's routes and the rate limits' counters (one set per app)."""
    app.state.widget_limits = RateLimits()
    app.include_router(router)

