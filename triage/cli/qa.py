"""`triage qa ...`: sample agents' replies for review, list samples, agreement between reviewers, agent reports."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from triage.cli import _common
from triage.cli._common import out, print_json

qa_app = typer.Typer(help="QA e-monitoring: sample agents' replies, list samples, calibration, agent reports.",
                     no_args_is_help=True)


def _runtime() -> Any:
    rt = _common.runtime()
    rt.db.ensure_schema()
    return rt


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


@qa_app.command("sample")
def sample_cmd(
    period: Annotated[str | None, typer.Option(help="2026-W47, 2026-11, 2026-11-16, 2026-11-01..2026-11-15, "
                                                    "current or previous (default: the last complete period).")]
    = None,
    seed: Annotated[int | None, typer.Option(min=0, max=2**31 - 1, help="Draw the same replies as an earlier run "
                                                                        "with this seed (default: random).")] = None,
    size: Annotated[int | None, typer.Option(min=0, max=1000, help="Random replies per agent (default: [qa] "
                                                                   "sample_size).")] = None,
    reviewer: Annotated[list[str] | None, typer.Option(help="Only these QA users (repeat the option).")] = None,
    model: Annotated[bool, typer.Option(help="Show the sentiment model's reading in the tone check.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
) -> None:
    """Sample a period's replies per agent (random + every SLA-breached or negative one) and assign reviewers."""
    from triage.qa.periods import parse_period
    from triage.qa.service import create_run, run_out, suite_sentiment

    rt = _runtime()
    window = parse_period(period, kind=rt.config.qa.period)
    sentiment = suite_sentiment(rt.suite) if model and rt.config.qa.tone_model and rt.registry.has_all() else None
    with rt.db.transaction() as session:
        run = run_out(create_run(window, session=session, config=rt.config, seed=seed, sample_size=size,
                                 reviewers=reviewer, created_by="cli", sentiment=sentiment), session=session)
    if as_json:
        print_json(run.model_dump_json())
        return
    table = Table(title=f"QA run #{run.id}: {run.period} ({run.period_start:%Y-%m-%d} to "
                        f"{run.period_end:%Y-%m-%d}, exclusive), seed {run.seed}, {run.sample_size} random per agent")
    for column in ("agent", "replies", "random", "SLA breach", "negative", "short by", "review samples"):
        table.add_column(column, overflow="fold")
    for a in run.summary["agents"]:
        table.add_row(a["agent"], str(a["replies"]), str(a["random"]), str(a["reasons"].get("sla_breach", 0)),
                      str(a["reasons"].get("negative_sentiment", 0)), str(a["shortfall"] or ""), str(a["samples"]))
    out.print(table)
    shares = ", ".join(f"{r['name']} {r['assigned']}" for r in run.summary["reviewers"])
    out.print(f"{run.samples} review sample(s) and {run.calibration_samples} calibration sample(s) from "
              f"{run.summary['replies']} replies; assigned: {shares}.", highlight=False)
    for note in run.summary["notes"]:
        out.print(f"[yellow]{escape(note)}[/yellow]")


@qa_app.command("list")
def list_cmd(
    reviewer: Annotated[str | None, typer.Option(help="QA user (name or id).")] = None,
    agent: Annotated[str | None, typer.Option(help="Agent (email or id).")] = None,
    status: Annotated[str | None, typer.Option(help="assigned, partly_scored or scored.")] = None,
    purpose: Annotated[str | None, typer.Option(help="review or calibration.")] = None,
    run: Annotated[int | None, typer.Option(min=1, max=2**31 - 1, help="Only this run.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """QA samples, newest first, with their pre-check verdicts and scores."""
    from triage.qa.service import list_samples, resolve_agent, resolve_reviewer, summaries

    rt = _runtime()
    with rt.db.session() as session:
        reviewer_id = resolve_reviewer(reviewer, session=session).id if reviewer else None
        agent_id = resolve_agent(agent, session=session).id if agent else None
        rows = summaries(list_samples(session=session, run_id=run, reviewer_id=reviewer_id, agent_id=agent_id,
                                      status=status, purpose=purpose, limit=limit), session=session)
    if as_json:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table(title=f"QA samples ({len(rows)})")
    for column in ("id", "period", "purpose", "agent", "ticket", "why", "reviewers", "status", "score",
                   "spelling", "personal", "SLA", "tone", "draft kept"):
        table.add_column(column, overflow="fold")
    for r in rows:
        c = r.checks
        sla = "-" if c.get("within_sla") is None else "met" if c["within_sla"] else "missed"
        kept = "-" if c.get("draft_kept") is None else f"{c['draft_kept']:.0%}"
        table.add_row(str(r.id), r.period, r.purpose, r.agent, f"#{r.ticket_id}", ", ".join(r.reasons),
                      ", ".join(r.reviewers), r.status, _pct(r.total), str(c.get("spelling_errors", "-")),
                      c.get("personalisation", "-"), sla, c.get("tone", "-"), kept)
    out.print(table)


@qa_app.command("show")
def show_cmd(sample_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)],
             as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One sample: the reply, what the customer wrote, the pre-checks and the scorecards."""
    from triage.qa.service import get_sample, sample_detail

    rt = _runtime()
    with rt.db.session() as session:
        detail = sample_detail(get_sample(sample_id, session=session), session=session)
    if as_json:
        print_json(detail.model_dump_json())
        return
    out.print(f"[bold]QA sample #{detail.id}[/bold] ({detail.purpose}, {detail.status}) - {escape(detail.agent)} on "
              f"ticket #{detail.ticket_id}, {detail.sent_at:%Y-%m-%d %H:%M} UTC; why: {', '.join(detail.reasons)}")
    if detail.customer_message is not None:
        out.print("\n[bold]Customer[/bold]")
        out.print(detail.customer_message.text, markup=False, highlight=False)
    out.print("\n[bold]Reply[/bold]")
    out.print(detail.reply.text, markup=False, highlight=False)
    out.print("\n[bold]Pre-checks[/bold]")
    for name in ("spelling", "personalisation", "response_time", "tone", "draft"):
        check = detail.prechecks.get(name, {})
        reasons = "; ".join(check.get("reasons", [])) or "-"
        out.print(f"  {name}: {check.get('verdict', '-')} - {escape(reasons)}",
                  highlight=False)
    for review in detail.reviews:
        scores = ", ".join(f"{k} {v}" for k, v in (review.scores or {}).items()) or review.status
        out.print(f"\n{escape(review.reviewer)}: {_pct(review.total)} ({scores})"
                  + (f" - {escape(review.comment)}" if review.comment else ""), highlight=False)


@qa_app.command("report")
def report_cmd(
    agent: Annotated[str, typer.Argument(help="Agent email or id.")],
    periods: Annotated[int | None, typer.Option(min=1, help="Only the last N periods.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """An agent's QA scores per period, per rubric item, the pre-check rates and the trend."""
    from triage.qa.service import agent_report

    rt = _runtime()
    with rt.db.session() as session:
        report = agent_report(agent, session=session, periods=periods)
    if as_json:
        print_json(report.model_dump_json())
        return
    items = sorted({name for p in report.periods for name in p.items})
    table = Table(title=f"QA report: {report.agent} <{report.agent_email}>")
    for column in ("period", "sampled", "scored", "mean", "change", *items, "spelling err.", "uses name",
                   "within SLA", "tone concerns"):
        table.add_column(column, overflow="fold")
    for p in report.periods:
        change = "-" if p.change is None else f"{p.change:+.1f}"
        table.add_row(p.period, str(p.sampled), str(p.scored), _pct(p.mean_total), change,
                      *(_num(p.items.get(i)) for i in items), _num(p.checks["spelling_errors_per_reply"]),
                      _pct(None if p.checks["uses_name"] is None else 100 * p.checks["uses_name"]),
                      _pct(None if p.checks["within_sla"] is None else 100 * p.checks["within_sla"]),
                      str(p.checks["tone_concerns"]))
    out.print(table)
    slope = report.trend["slope_per_period"]
    out.print(f"{report.scored} scored sample(s), mean {_pct(report.mean_total)}; trend: {report.trend['direction']}"
              + (f" ({slope:+.1f} points per period)" if slope is not None else ""), highlight=False)


@qa_app.command("calibration")
def calibration_cmd(
    run: Annotated[int | None, typer.Option(min=1, max=2**31 - 1, help="Only this run.")] = None,
    period: Annotated[str | None, typer.Option(help="Runs overlapping this period (e.g. 2026-11).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """How well QA reviewers agree per rubric item: Fleiss' and Cohen's kappa, raw agreement, reviewer bias."""
    from triage.qa.periods import parse_period
    from triage.qa.service import calibration_report

    rt = _runtime()
    window = parse_period(period, kind=rt.config.qa.period) if period else None
    with rt.db.session() as session:
        report = calibration_report(session=session, run_id=run, period=window)
    if as_json:
        print_json(report.model_dump_json())
        return
    table = Table(title=f"Calibration: {report.complete_samples} of {report.samples} sample(s) fully scored")
    for column in ("item", "samples", "Fleiss kappa", "Cohen kappa", "Cohen (quadratic)", "exact", "within 1",
                   "agreement"):
        table.add_column(column)
    for i in report.items:
        exact = None if i.exact_agreement is None else 100 * i.exact_agreement
        near = None if i.within_one is None else 100 * i.within_one
        table.add_row(i.item, str(i.samples), _num(i.fleiss_kappa), _num(i.cohen_kappa),
                      _num(i.cohen_kappa_quadratic), _pct(exact), _pct(near), i.interpretation)
    out.print(table)
    for r in report.reviewers:
        bias = "-" if r.bias is None else f"{r.bias:+.1f} points"
        out.print(f"{escape(r.reviewer)}: {r.samples} sample(s), mean {_pct(r.mean_total)}, against the panel {bias}",
                  highlight=False)
    for note in report.notes:
        out.print(f"[yellow]{escape(note)}[/yellow]")
