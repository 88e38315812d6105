"""The QA desk: a reviewer's samples, a sample with its pre-checks and the rubric as a form, calibration and
an agent's trend (issue 16, item 4).

Every page calls `triage.qa.service` as `api/qa.py` does, with the same roles (QA staff, supervisors and
admins; agents read their scores through the API) and the same rules: only a sample's reviewer scores it, a
second scorecard is an amendment with a reason, and a calibration panel stays blind until it is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from api.deps import MAX_ID, RowId, RuntimeDep, SessionDep
from api.desk.auth import CheckedDesk, Desk, DeskDenied, DeskUser
from api.desk.queues import visible_teams
from api.desk.routes import page
from triage.errors import UserError
from triage.qa import service
from triage.qa.schemas import ReviewOut, RubricItemOut, SampleDetail, SampleSummary, ScorecardIn
from triage.qa.tables import QaSample
from triage.users.service import Role

router = APIRouter(include_in_schema=False)

# As api/qa.py's StaffDep (admin is always allowed there too).
QA_STAFF = frozenset({Role.qa, Role.supervisor, Role.admin})
MAX_COMMENT = 10_000  # ScorecardIn.comment
MAX_REASON = 1_000  # ScorecardAmend.reason
CHECK_LABELS = {"spelling": "Spelling", "personalisation": "Personalisation", "response_time": "Response time",
                "tone": "Tone", "draft": "Suggested draft"}


def _staff(desk: Desk) -> None:
    if desk.principal.role not in QA_STAFF:
        raise DeskDenied(403, "the QA desk is for QA reviewers and supervisors")


def _nav(desk: Desk, rt: RuntimeDep) -> dict[str, Any]:
    return {"desk": desk, "teams": visible_teams(desk.principal, [t.name for t in rt.config.teams])}


def _blind(items: list[SampleSummary], desk: Desk) -> list[SampleSummary]:
    """Calibration is blind for QA reviewers: no panel total before the panel is done (as GET /samples)."""
    if desk.principal.role == Role.qa:
        for item in items:
            if item.purpose == "calibration" and item.status != "scored":
                item.total = None
    return items


@dataclass
class Row:
    """A sample in a list, and where the signed-in reviewer stands with it."""

    sample: SampleSummary
    mine: str | None  # "scored" or "unscored" when the viewer is one of its reviewers, else None


def _rows(samples: list[QaSample], desk: Desk, *, session: SessionDep) -> list[Row]:
    summaries = _blind(service.summaries(samples, session=session), desk)
    out = []
    for found, summary in zip(samples, summaries, strict=True):
        review = next((r for r in found.reviews if r.reviewer_id == desk.principal.user_id), None)
        mine = None if review is None else "scored" if review.submitted_at is not None else "unscored"
        out.append(Row(summary, mine))
    return out


@router.get("/qa", response_class=HTMLResponse)
def qa_home(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    """My samples (unscored first), what is still open in the latest run, the runs and the agents sampled."""
    _staff(desk)
    mine = _rows(service.list_samples(session=session, reviewer_id=desk.principal.user_id, limit=200), desk,
                 session=session)
    mine.sort(key=lambda row: (row.mine == "scored", -row.sample.id))
    runs = [service.run_out(run, session=session) for run in service.list_runs(session=session, limit=20)]
    latest = runs[0] if runs else None
    open_rows: list[Row] = []
    if latest is not None:
        open_rows = [row for row in _rows(service.list_samples(session=session, run_id=latest.id, limit=500), desk,
                                          session=session) if row.sample.status != "scored"]
    agents = latest.summary.get("agents", []) if latest is not None else []
    return page(request, "qa_home.html", {**_nav(desk, rt), "mine": mine, "open_rows": open_rows, "runs": runs,
                                          "latest": latest, "agents": agents})


# ------------------------------------------------------------------------------------------------ a sample


@dataclass
class ScoreField:
    """One rubric item as a form field: the value shown and, after a refused submission, what to fix."""

    item: RubricItemOut
    value: str
    error: str | None = None


def _checks(prechecks: dict[str, Any]) -> list[dict[str, Any]]:
    """Each pre-check's verdict with the service's own explanations, in the order the service wrote them."""
    return [{"name": name, "label": CHECK_LABELS.get(name, name.replace("_", " ").capitalize()),
             "verdict": str(check.get("verdict", "-")).replace("_", " "), "reasons": check.get("reasons", []),
             "errors": check.get("errors", []) if name == "spelling" else []}
            for name, check in prechecks.items() if isinstance(check, dict)]


def _sample_page(request: Request, desk: Desk, sample_id: int, *, session: SessionDep, rt: RuntimeDep,
                 entered: FormData | None = None, errors: dict[str, str] | None = None,
                 problem: str | None = None, notice: str | None = None) -> HTMLResponse:
    try:
        found = service.get_sample(sample_id, session=session)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    principal = desk.principal
    detail: SampleDetail = service.sample_detail(found, session=session, viewer_role=principal.role.value,
                                                 viewer_id=principal.user_id)
    mine: ReviewOut | None = next((r for r in detail.reviews if r.reviewer_id == principal.user_id), None)
    amending = mine is not None and mine.status == "submitted"
    errors = errors or {}
    fields = []
    for item in detail.rubric:
        if entered is not None:
            value = str(entered.get(f"score_{item.name}") or "")
        elif amending and mine is not None and mine.scores:
            value = str(mine.scores.get(item.name, ""))
        else:
            value = ""
        fields.append(ScoreField(item, value, errors.get(item.name)))
    comment = str(entered.get("comment") or "") if entered is not None else (mine.comment if amending and mine
                                                                            else "")
    reason = str(entered.get("reason") or "") if entered is not None else ""
    return page(request, "qa_sample.html", {
        **_nav(desk, rt), "s": detail, "checks": _checks(detail.prechecks), "mine": mine, "amending": amending,
        "fields": fields, "comment": comment, "reason": reason, "reason_error": errors.get("reason"),
        "comment_error": errors.get("comment"), "problem": problem, "notice": notice,
        "max_comment": MAX_COMMENT, "max_reason": MAX_REASON,
        "language": detail.prechecks.get("language")}, 422 if errors or problem else 200)


@router.get("/qa/samples/{sample_id}", response_class=HTMLResponse)
def qa_sample(sample_id: RowId, request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
              saved: Annotated[str | None, Query(pattern="^(scored|amended)$")] = None) -> HTMLResponse:
    """The sampled reply in its conversation, the pre-checks with their reasons, and the scorecard form."""
    _staff(desk)
    notice = {"scored": "Scorecard saved.", "amended": "Scorecard amended; the reason is in the audit log."}
    return _sample_page(request, desk, sample_id, session=session, rt=rt,
                        notice=notice[saved] if saved else None)


async def form_data(request: Request) -> FormData:
    """The posted form (rubric items are configured, so their fields are not known to the route's signature).

    Starlette keeps the parsed form on the request, so this is the same form the CSRF check read.
    """
    return await request.form()


def read_scorecard(rubric: list[RubricItemOut], form: FormData, *, amending: bool) -> tuple[dict[str, int],
                                                                                         dict[str, str]]:
    """Scores from the form, and per field what is wrong: every item a whole number on its own scale."""
    scores: dict[str, int] = {}
    errors: dict[str, str] = {}
    for item in rubric:
        raw = str(form.get(f"score_{item.name}") or "").strip()
        scale = f"a whole number from {item.scale_min} to {item.scale_max}"
        if not raw:
            errors[item.name] = f"Give a score: {scale}."
        elif not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 6:
            errors[item.name] = f"{raw!r} is not {scale}."
        elif not item.scale_min <= int(raw) <= item.scale_max:
            errors[item.name] = f"{raw} is outside the scale: {scale}."
        else:
            scores[item.name] = int(raw)
    if len(str(form.get("comment") or "")) > MAX_COMMENT:
        errors["comment"] = f"The comment is longer than {MAX_COMMENT} characters."
    reason = str(form.get("reason") or "").strip()
    if amending and not reason:
        errors["reason"] = "Say why you change a submitted scorecard; the reason is kept with the old scores."
    elif len(reason) > MAX_REASON:
        errors["reason"] = f"The reason is longer than {MAX_REASON} characters."
    return scores, errors


@router.post("/qa/samples/{sample_id}/scorecard", response_model=None)
def qa_score(sample_id: RowId, request: Request, desk: CheckedDesk, session: SessionDep, rt: RuntimeDep,
             form: Annotated[FormData, Depends(form_data)]) -> HTMLResponse | RedirectResponse:
    """Submit (POST /api/v1/qa/samples/{id}/scorecard) or, once submitted, amend with a reason (PUT)."""
    _staff(desk)
    try:
        found = service.get_sample(sample_id, session=session)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    principal = desk.principal
    review = next((r for r in found.reviews if r.reviewer_id == principal.user_id), None)
    if review is None:
        raise DeskDenied(403, f"QA sample #{sample_id} is not assigned to you; only its reviewers can score it")
    # What the page showed decides the intent: a stale "score" form must not amend without a reason.
    amending = form.get("mode") == "amend"
    rubric = service.rubric_out(service.rubric_of(found.run))
    scores, errors = read_scorecard(rubric, form, amending=amending)
    if errors:
        return _sample_page(request, desk, sample_id, session=session, rt=rt, entered=form, errors=errors)
    card = ScorecardIn(scores=scores, item_comments=dict(review.item_comments or {}),
                       comment=str(form.get("comment") or "").replace("\r\n", "\n"))
    try:
        service.submit_scorecard(sample_id, card, reviewer_id=principal.user_id, session=session,
                                 amend_reason=str(form.get("reason")).strip() if amending else None,
                                 actor=principal.name)
    except UserError as exc:
        # Already scored (in another tab), or nothing to amend: the service refuses before it writes anything.
        return _sample_page(request, desk, sample_id, session=session, rt=rt, entered=form, problem=str(exc))
    return RedirectResponse(f"/qa/samples/{sample_id}?saved={'amended' if amending else 'scored'}",
                            status_code=303)


# ------------------------------------------------------------------------------------------------ reports


@router.get("/qa/calibration", response_class=HTMLResponse)
def qa_calibration(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
                   run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    """Reviewer agreement per rubric item on calibration samples, as GET /api/v1/qa/calibration."""
    _staff(desk)
    try:
        report = service.calibration_report(session=session, run_id=run)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    runs = service.list_runs(session=session, limit=50)
    return page(request, "qa_calibration.html", {**_nav(desk, rt), "report": report, "runs": runs, "run": run})


CHART_HEIGHT = 120  # SVG units for 100 %
BAR = 56
GAP = 12


def trend_bars(periods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bar geometry for the inline SVG chart: one bar per period, its height the mean score (0-100 %)."""
    bars = []
    for i, p in enumerate(periods):
        mean_total = p["mean_total"]
        height = 0.0 if mean_total is None else round(CHART_HEIGHT * max(0.0, min(100.0, mean_total)) / 100, 1)
        bars.append({"x": GAP + i * (BAR + GAP), "y": 10 + CHART_HEIGHT - height, "height": height,
                     "label": p["period"], "mean": mean_total})
    return bars


@router.get("/qa/agents/{agent}", response_class=HTMLResponse)
def qa_agent(request: Request, desk: DeskUser, session: SessionDep, rt: RuntimeDep,
             agent: Annotated[str, Path(max_length=320)]) -> HTMLResponse:
    """An agent's QA scores per period as a table and a bar chart, from the same report as the API."""
    _staff(desk)
    try:
        report = service.agent_report(agent, session=session)
    except UserError as exc:
        raise DeskDenied(exc.http_status, str(exc)) from exc
    periods = [p.model_dump() for p in report.periods]
    bars = trend_bars(periods)
    width = GAP + len(bars) * (BAR + GAP)
    items = sorted({name for p in report.periods for name in p.items})
    return page(request, "qa_agent.html", {**_nav(desk, rt), "report": report, "bars": bars,
                                           "chart_width": max(width, 200), "chart_height": CHART_HEIGHT + 40,
                                           "base_y": 10 + CHART_HEIGHT,
                                           "bar": BAR, "items": items})
