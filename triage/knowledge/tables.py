"""Knowledge-base articles and their chunks, suggestions shown to agents, and agents' feedback on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from triage.db import Base, JsonType, UtcDateTime, utcnow


class KbArticle(Base):
    """One help article; `content_hash` covers everything that shapes its chunks, so unchanged ones are skipped."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), unique=True)  # file stem or the record's `id`
    source: Mapped[str] = mapped_column(String(500), index=True)  # what it was imported from (pruned per source)
    title: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    intents: Mapped[list[str]] = mapped_column(JsonType, default=list)
    product: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16), default="en")
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    chunks: Mapped[list[KbChunk]] = relationship(back_populates="article", cascade="all, delete-orphan",
                                                 passive_deletes=True, order_by="KbChunk.position")


class KbChunk(Base):
    """A section paragraph of an article: the unit that is embedded, searched and quoted."""

    __tablename__ = "kb_chunks"
    __table_args__ = (UniqueConstraint("article_id", "position", name="uq_kb_chunks_article_id_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    heading: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)  # Markdown as written
    content_hash: Mapped[str] = mapped_column(String(64))  # of the text that is embedded

    article: Mapped[KbArticle] = relationship(back_populates="chunks")


class Suggestion(Base):
    """What an agent was shown for a ticket: the snippets and the draft, kept to measure how it was used."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    intent: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    draft: Mapped[str] = mapped_column(Text)
    snippets: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    notes: Mapped[list[str] | None] = mapped_column(JsonType, default=list)  # what the agent was told about it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class SuggestionFeedback(Base):
    """An agent's verdict on a suggestion: used as is, edited (with the text sent) or rejected."""

    __tablename__ = "suggestion_feedback"
    __table_args__ = (Index("ix_suggestion_feedback_intent_id", "intent", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(ForeignKey("suggestions.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    intent: Mapped[str | None] = mapped_column(String(100))  # snapshot: the report groups by it
    action: Mapped[str] = mapped_column(String(16))  # used | edited | rejected
    snippet_id: Mapped[str | None] = mapped_column(String(64))  # which snippet helped, when the agent says
    final_text: Mapped[str | None] = mapped_column(Text)
    edit_distance: Mapped[int | None] = mapped_column(Integer)  # words inserted, deleted or replaced
    edit_ratio: Mapped[float | None] = mapped_column(Float)  # edit_distance / longer text's word count
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
