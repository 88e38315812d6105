"""What the knowledge-base commands and routes return, and what agents send back as feedback."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["knowledge_base", "past_reply"]


class SearchResult(BaseModel):
    id: str  # "kb:<chunk id>"
    article: str  # the article's external id
    title: str
    heading: str
    text: str
    score: float
    language: str
    product: str | None
    why: list[str]


class SnippetOut(BaseModel):
    id: str  # "kb:<chunk id>" or "reply:<message id>"
    title: str
    text: str
    score: float
    source: Source
    why: list[str]
    article: str | None = None
    language: str | None = None


class SuggestionOut(BaseModel):
    suggestion_id: int
    ticket_id: int
    intent: str | None
    language: str
    snippets: list[SnippetOut]
    draft: str
    notes: list[str] = Field(default_factory=list)


class FeedbackIn(BaseModel):
    """An agent's verdict: `edited` needs the text that was finally sent."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["used", "edited", "rejected"]
    # Ignored, kept so existing clients still validate: the feedback is recorded for the authenticated caller.
    actor: str | None = Field(default=None, min_length=1, max_length=200, deprecated=True)
    final_text: str | None = Field(default=None, max_length=100_000)
    snippet_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _final_text(self) -> FeedbackIn:
        if self.action == "edited" and not (self.final_text or "").strip():
            raise ValueError("action 'edited' needs final_text: the reply as it was sent")
        return self


class FeedbackOut(BaseModel):
    id: int
    suggestion_id: int
    action: str
    edit_distance: int | None
    edit_ratio: float | None


class IntentEditStats(BaseModel):
    intent: str
    feedback: int
    used: int
    edited: int
    rejected: int
    mean_edit_distance: float | None  # words, over used and edited drafts
    mean_edit_ratio: float | None  # 0 = sent as drafted, 1 = rewritten entirely


@dataclass
class ImportReport:
    files: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks_embedded: int = 0
    chunks: int = 0
    rejected: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"files": self.files, "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "deleted": self.deleted, "chunks": self.chunks, "chunks_embedded": self.chunks_embedded,
                "rejected": self.rejected}


class ArticleSummary(BaseModel):
    id: str  # the article's external id (file stem or record id)
    title: str
    tags: list[str]
    intents: list[str]
    product: str | None
    language: str
    source: str  # what it was imported from; "api" for articles created over the API
    chunks: int
    updated_at: datetime


class ArticleOut(ArticleSummary):
    body: str  # Markdown
    created_at: datetime


class ArticleCreate(BaseModel):
    """A new article; the body is Markdown and is split into searchable chunks by its headings."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=200, pattern=r"^[\w.-]+$",
                    description="a stable id: letters, digits, '.', '_', '-'")
    title: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=1_000_000)
    tags: list[str] = Field(default_factory=list, max_length=100)
    intents: list[str] = Field(default_factory=list, max_length=100, description="intents this article answers")
    product: str | None = Field(default=None, max_length=100)
    language: str = Field(default="en", max_length=16)


class ArticleUpdate(BaseModel):
    """Fields to change; the ones left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=500)
    body: str | None = Field(default=None, min_length=1, max_length=1_000_000)
    tags: list[str] | None = Field(default=None, max_length=100)
    intents: list[str] | None = Field(default=None, max_length=100)
    product: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=16)


class ImportOut(BaseModel):
    files: int
    added: int
    updated: int
    unchanged: int
    deleted: int
    chunks: int = Field(description="chunks in the knowledge base after the import")
    chunks_embedded: int = Field(description="chunks that were new or changed and had to be embedded")
    rejected: list[str] = Field(description="records that could not be read, with the reason")
