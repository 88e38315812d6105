"""What the survey services answer: CSAT reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class CsatRow(BaseModel):
    key: str  # the agent's email, queue, intent, channel or period
    invited: int
    responses: int
    response_rate: float | None
    csat: float | None  # share of responses rating 4 or 5
    mean_rating: float | None
    qa_mean: float | None = None  # by agent: mean QA score (percent) of their reviewed replies in the period


class CsatReport(BaseModel):
    since: datetime
    until: datetime
    by: str
    rows: list[CsatRow]
    total: CsatRow
    qa_pairs: int  # tickets both rated and QA-scored
    qa_correlation: float | None  # Pearson, rating against QA score, over those tickets (3 or more)
