"""What the QA API and `triage qa ... --json` show, and what reviewers send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class RubricItemOut(BaseModel):
    name: str
    label: str | None
    description: str
    weight: float
    scale_min: int
    scale_max: int


class ScorecardIn(BaseModel):
    """A reviewer's scores: every rubric item, a whole number on its scale; comments are optional."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, StrictInt] = Field(description="rubric item -> score, e.g. {\"accuracy\": 4, ...}")
    item_comments: dict[str, str] = Field(default_factory=dict, description="rubric item -> comment")
    comment: str = Field(default="", max_length=10_000, description="overall feedback for the agent")


class ScorecardAmend(ScorecardIn):
    """A correction to a submitted scorecard; the reason is kept with the previous scores in the audit log."""

    reason: str = Field(min_length=1, max_length=1000, description="why the scorecard is changed")


class ReviewOut(BaseModel):
    reviewer_id: int
    reviewer: str
    status: str  # assigned | submitted | hidden (a calibration panel member's scores, until the panel is done)
    scores: dict[str, int] | None
    item_comments: dict[str, str]
    comment: str
    total: float | None
    amendments: int
    assigned_at: datetime
    submitted_at: datetime | None
    amended_at: datetime | None


class MessageBrief(BaseModel):
    id: int
    direction: str
    author_kind: str
    author: str
    sent_at: datetime
    subject: str
    text: str


class SampleSummary(BaseModel):
    id: int
    run_id: int
    period: str
    purpose: str
    status: str
    reasons: list[str]
    agent_id: int
    agent: str
    agent_email: str
    ticket_id: int
    message_id: int
    channel: str
    sent_at: datetime
    reviewers: list[str]
    total: float | None = Field(description="mean weighted score (%) of the submitted scorecards")
    checks: dict[str, Any] = Field(description="one verdict per pre-check, details in the sample")


class SampleDetail(SampleSummary):
    reply: MessageBrief
    customer_message: MessageBrief | None
    thread: list[MessageBrief] = Field(description="the conversation up to and including the reply")
    prechecks: dict[str, Any]
    rubric: list[RubricItemOut]
    reviews: list[ReviewOut]


class SamplePage(BaseModel):
    items: list[SampleSummary]
    next_cursor: str | None


class RunOut(BaseModel):
    id: int
    period: str
    period_start: datetime
    period_end: datetime
    seed: int
    sample_size: int
    samples: int
    calibration_samples: int
    created_by: str
    created_at: datetime
    rubric: list[RubricItemOut]
    summary: dict[str, Any]


class PairAgreement(BaseModel):
    reviewer_a: str
    reviewer_b: str
    samples: int
    cohen_kappa: float | None
    cohen_kappa_quadratic: float | None


class ItemAgreement(BaseModel):
    item: str
    scale: list[int]
    samples: int = Field(description="calibration samples with at least two scores for this item")
    ratings: int
    fleiss_kappa: float | None
    cohen_kappa: float | None = Field(description="two reviewers: their kappa; more: the mean over pairs "
                                                  "(Light's kappa)")
    cohen_kappa_quadratic: float | None
    exact_agreement: float | None = Field(description="share of reviewer pairs giving the same score")
    within_one: float | None = Field(description="share of reviewer pairs at most one point apart")
    interpretation: str = Field(description="Landis and Koch's words for the Fleiss kappa")
    pairs: list[PairAgreement]


class ReviewerBias(BaseModel):
    reviewer: str
    samples: int
    mean_total: float | None
    bias: float | None = Field(description="mean of (this reviewer's total - the panel's mean total), points")


class CalibrationReport(BaseModel):
    runs: list[int]
    samples: int
    complete_samples: int
    reviewers: list[ReviewerBias]
    items: list[ItemAgreement]
    notes: list[str]


class PeriodReport(BaseModel):
    period: str
    start: datetime
    end: datetime
    sampled: int
    scored: int
    mean_total: float | None
    min_total: float | None
    max_total: float | None
    change: float | None = Field(description="mean_total minus the previous period's, points")
    items: dict[str, float | None]
    reasons: dict[str, int]
    checks: dict[str, float | int | None]


class AgentReport(BaseModel):
    agent_id: int
    agent: str
    agent_email: str
    periods: list[PeriodReport]
    scored: int
    mean_total: float | None
    items: dict[str, float | None]
    trend: dict[str, Any]
