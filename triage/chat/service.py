"""Widget conversations: start one (a random token for the browser) and find one by its token.

The token is the only credential a customer's browser holds: 256 random bits, never an integration key, and
only its SHA-256 is stored. It names one conversation and nothing else, so a leaked token exposes one chat.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from triage.chat.tables import WidgetConversation
from triage.db import utcnow

# A browser that asks every second or two should not write the row each time: last_seen_at is coarse.
SEEN_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class Started:
    conversation: WidgetConversation
    token: str  # shown to the browser once; only its hash is kept


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_conversation(*, session: Session, ip: str, name: str | None = None, email: str | None = None,
                       origin: str | None = None) -> Started:
    """A new widget conversation with its token; the ticket appears when its first message is processed."""
    token = secrets.token_urlsafe(32)
    key = secrets.token_hex(12)
    row = WidgetConversation(token_hash=token_hash(token), conversation_id=f"widget-{key}",
                             customer_ref=f"widget:{key}", name=name, email=email, origin=origin, ip=ip[:64])
    session.add(row)
    session.flush()
    return Started(row, token)


def conversation_for(token: str, *, session: Session) -> WidgetConversation | None:
    """The conversation a browser's token opens, or None; marks it seen (at most once a minute)."""
    if not token or len(token) > 200:
        return None
    # Looked up by the hash, so the timing of the index search tells a guesser nothing about real tokens.
    row = session.scalar(select(WidgetConversation).where(WidgetConversation.token_hash == token_hash(token)))
    if row is None:
        return None
    now = utcnow()
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        session.flush()
    return row
