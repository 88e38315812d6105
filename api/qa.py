"""QA e-monitoring routes: sampling runs, samples with pre-checks, scorecards, calibration and agent reports."""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import MAX_ID, Principal, RowId, RuntimeDep, SessionDep, allow
from triage.errors import UserError
from triage.qa import service
from triage.qa.periods import HELP as PERIOD_HELP
from triage.qa.periods import parse_period
from triage.qa.schemas import (
    AgentReport,
    CalibrationReport,
    ReviewOut,
    RubricItemOut,
    RunOut,
    SampleDetail,
    SamplePage,
    ScorecardAmend,
    ScorecardIn,
)
from triage.qa.tables import QaReview, QaSample
from triage.runtime import Triage
from triage.users.service import Role

log = logging.getLogger(__name__)

def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


router = APIRouter(prefix="/api/v1/qa", tags=["qa"], responses={
    401: _problem("no API key, or an unknown or revoked one"),
    403: _problem("the caller's role may not use this route (or, scoring, the sample is not assigned to him)")})
# FastAPI's `responses=` type: the key may be a status code or a range such as "4XX".
Responses = dict[int | str, dict[str, Any]]
BAD: Responses = {400: _problem("bad input; the problem's detail says what to fix")}
MISSING: Responses = {404: _problem("no such run, sample, agent or reviewer (or not one an agent may see)")}
CONFLICT: Responses = {409: _problem("already scored (amend with PUT), or nothing to amend yet")}
SCORING = MISSING | CONFLICT


StaffDep = Annotated[Principal, allow(Role.qa, Role.supervisor)]
# Agents read their own scored samples and report; everything else is for QA staff and supervisors.
ReaderDep = Annotated[Principal, allow(Role.qa, Role.supervisor, Role.agent)]


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not re.fullmatch(r"[0-9]{1,18}", cursor):
        raise HTTPException(400, "cursor is not one this API issued")
    return int(cursor)


def _sentiment(rt: Triage) -> service.Sentiment | None:
    """The sentiment model for the tone check, when configured and trained; sampling works without it."""
    if not rt.config.qa.tone_model or not rt.registry.has_all():
        return None
    try:
        return service.suite_sentiment(rt.suite)
    except UserError as exc:
        log.warning("QA tone check without the sentiment model: %s", exc)
        return None


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, max_length=40,
                               description=f"default: the last complete configured period; {PERIOD_HELP}")
    seed: int | None = Field(default=None, ge=0, lt=2**31, description="give the seed of an earlier run to "
                                                                       "draw the same replies; default: random")
    sample_size: int | None = Field(default=None, ge=0, le=1000,
                                    description="random replies per agent (default: [qa] sample_size)")
    reviewers: list[str] | None = Field(default=None, max_length=100,
                                        description="only these QA users (names); default: every active one")


@router.post("/runs", response_model=RunOut, status_code=201, responses=BAD)
def create_sampling_run(rt: RuntimeDep, session: SessionDep, user: StaffDep,
                        request: Annotated[RunRequest | None, Body()] = None) -> RunOut:
    """Sample a period's agent replies and assign them to QA reviewers.

    Per agent: the configured number of random replies (the same for every agent who wrote that many) plus
    every reply on a ticket that breached its SLA or ended with negative sentiment; a few calibration
    replies go to a panel of reviewers. The summary reports per agent what was available and drawn.
    """
    request = request or RunRequest()
    period = parse_period(request.period, kind=rt.config.qa.period)
    run = service.create_run(period, session=session, config=rt.config, seed=request.seed,
                             sample_size=request.sample_size, reviewers=request.reviewers,
                             created_by=user.name, sentiment=_sentiment(rt))
    return service.run_out(run, session=session)


@router.get("/runs", response_model=list[RunOut])
def sampling_runs(session: SessionDep, _user: StaffDep,
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[RunOut]:
    """Sampling runs, newest first, with their per-agent summaries."""
    return [service.run_out(run, session=session) for run in service.list_runs(session=session, limit=limit)]


@router.get("/runs/{run_id}", response_model=RunOut, responses=MISSING)
def sampling_run(run_id: RowId, session: SessionDep, _user: StaffDep) -> RunOut:
    """One sampling run: period, seed, rubric and what was drawn per agent and assigned per reviewer."""
    return service.run_out(service.get_run(run_id, session=session), session=session)


@router.get("/rubric", response_model=list[RubricItemOut])
def rubric(rt: RuntimeDep, _user: ReaderDep) -> list[RubricItemOut]:
    """The scorecard new runs use: items, weights and scales (a run keeps the rubric it was created with)."""
    return service.rubric_out(rt.config.qa.rubric)


@router.get("/samples", response_model=SamplePage, responses=BAD | MISSING)
def samples(
    session: SessionDep,
    user: ReaderDep,
    reviewer: Annotated[str | None, Query(max_length=200, description="user id, name, or 'me'")] = None,
    agent: Annotated[str | None, Query(max_length=320, description="agent id or email")] = None,
    status: Annotated[str | None, Query(description="assigned, partly_scored or scored")] = None,
    purpose: Annotated[str | None, Query(description="review or calibration")] = None,
    run_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor from the previous page")] = None,
) -> SamplePage:
    """Samples newest first, filtered, paged with an opaque cursor; each with its pre-check verdicts.

    Agents see only their own scored review samples.
    """
    after = _cursor(cursor)
    reviewer_id = None
    if reviewer is not None:
        reviewer_id = user.user_id if reviewer == "me" else service.resolve_reviewer(reviewer,
                                                                                     session=session).id
    agent_id = service.resolve_agent(agent, session=session).id if agent is not None else None
    if user.role == Role.agent:
        if agent_id is not None and agent_id != user.agent_id:
            raise HTTPException(403, "agents see only their own QA samples")
        if user.agent_id is None:
            return SamplePage(items=[], next_cursor=None)
        agent_id, purpose = user.agent_id, "review"
        if status not in (None, "scored"):
            return SamplePage(items=[], next_cursor=None)
        status = "scored"
    rows = service.list_samples(session=session, run_id=run_id, reviewer_id=reviewer_id, agent_id=agent_id,
                                status=status, purpose=purpose, limit=limit + 1, after_id=after)
    page = rows[:limit]
    items = service.summaries(page, session=session)
    if user.role == Role.qa:  # calibration is blind: no panel totals before the panel is done
        for item in items:
            if item.purpose == "calibration" and item.status != "scored":
                item.total = None
    return SamplePage(items=items, next_cursor=str(page[-1].id) if len(rows) > limit else None)


def _visible_sample(sample_id: int, user: Principal, *, session: SessionDep) -> QaSample:
    sample = service.get_sample(sample_id, session=session)
    if user.role == Role.agent and (sample.agent_id != user.agent_id or sample.purpose != "review"
                                    or sample.status != "scored"):
        raise HTTPException(404, f"no QA sample #{sample_id}")  # not his: it does not exist for him
    return sample


@router.get("/samples/{sample_id}", response_model=SampleDetail, responses=MISSING)
def sample(sample_id: RowId, session: SessionDep, user: ReaderDep) -> SampleDetail:
    """A sample: the reply, the customer's message, the conversation so far, pre-checks and scorecards.

    On a calibration sample a QA reviewer sees colleagues' scores only once the whole panel has submitted.
    """
    found = _visible_sample(sample_id, user, session=session)
    return service.sample_detail(found, session=session, viewer_role=user.role.value, viewer_id=user.user_id)


def _review(sample_id: int, review: QaReview, user: Principal, *, session: SessionDep) -> ReviewOut:
    detail = service.sample_detail(service.get_sample(sample_id, session=session), session=session,
                                   viewer_role=user.role.value, viewer_id=user.user_id)
    return next(r for r in detail.reviews if r.reviewer_id == review.reviewer_id)


@router.post("/samples/{sample_id}/scorecard", response_model=ReviewOut, status_code=201,
             responses=SCORING)
def submit_scorecard(sample_id: RowId, card: ScorecardIn, session: SessionDep, user: StaffDep) -> ReviewOut:
    """Submit the scorecard for a sample assigned to you: every rubric item, a whole number on its scale.

    The weighted total is returned as a percentage. A second submission is refused (409): amend with PUT.
    """
    review = service.submit_scorecard(sample_id, card, reviewer_id=user.user_id, session=session,
                                      actor=user.name)
    return _review(sample_id, review, user, session=session)


@router.put("/samples/{sample_id}/scorecard", response_model=ReviewOut, responses=SCORING)
def amend_scorecard(sample_id: RowId, card: ScorecardAmend, session: SessionDep, user: StaffDep) -> ReviewOut:
    """Amend your submitted scorecard; the reason and the previous scores are kept in the audit log."""
    review = service.submit_scorecard(sample_id, ScorecardIn(**card.model_dump(exclude={"reason"})),
                                      reviewer_id=user.user_id, session=session, amend_reason=card.reason,
                                      actor=user.name)
    return _review(sample_id, review, user, session=session)


@router.get("/calibration", response_model=CalibrationReport, responses=BAD | MISSING)
def calibration(rt: RuntimeDep, session: SessionDep, _user: StaffDep,
                run_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="one run")] = None,
                period: Annotated[str | None, Query(max_length=40, description="runs overlapping this period; "
                                                                               + PERIOD_HELP)] = None
                ) -> CalibrationReport:
    """Reviewer agreement per rubric item on calibration samples (all runs unless filtered).

    Fleiss' kappa over the panel, Cohen's kappa per pair of reviewers (plain and quadratic-weighted, which
    credits near misses on the 1-5 scale), raw and within-one-point agreement, and each reviewer's bias.
    """
    window = parse_period(period, kind=rt.config.qa.period) if period is not None else None
    return service.calibration_report(session=session, run_id=run_id, period=window)


@router.get("/agents/{agent}/report", response_model=AgentReport, responses=MISSING)
def agent_report(session: SessionDep, user: ReaderDep,
                 agent: Annotated[str, Path(max_length=320, description="agent id, email, or 'me' for agents")],
                 periods: Annotated[int | None, Query(ge=1, le=520, description="only the last N periods")] = None,
                 ) -> AgentReport:
    """An agent's QA scores per period: samples scored, mean weighted score, per-item means, pre-check
    rates and the trend. Agents may read only their own report."""
    if agent == "me":
        if user.agent_id is None:
            raise HTTPException(404, "'me' is for agents' keys; give an agent id or email")
        agent = str(user.agent_id)
    found = service.resolve_agent(agent, session=session)
    if user.role == Role.agent and found.id != user.agent_id:
        raise HTTPException(403, "agents may read only their own QA report")
    return service.agent_report(found.id, session=session, periods=periods)
