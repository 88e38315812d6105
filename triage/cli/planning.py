"""`triage forecast`, `triage staffing` and `triage alerts`: workforce planning and emerging issues (issue 17).

Tables by default, `--json` for the whole report, `--png PATH` for a chart. They need the database and
triage.toml but no models, so they start in a second.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.markup import escape
from rich.table import Table

from triage.cli import _common
from triage.cli._common import err, out
from triage.errors import UserError

HOUR = timedelta(hours=1)
Queue = Annotated[str | None, typer.Option("--queue", help="Only this queue.")]
ChannelOpt = Annotated[str | None, typer.Option("--channel", help="Only this channel (email, chat).")]
Weeks = Annotated[int, typer.Option("--weeks", help="How many weeks ahead (1-4).")]
Json = Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of tables.")]
Png = Annotated[Path | None, typer.Option("--png", help="Also draw the chart into this PNG file.")]
Now = Annotated[str | None, typer.Option("--now", help="Plan as if it were this time (ISO 8601; default: now).")]
Tz = Annotated[str, typer.Option("--tz", help="Time zone for the tables' days and hours.")]


def _now(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"--now: {value!r} is not an ISO 8601 time (e.g. 2026-11-20T17:00:00+01:00)") from exc
    if moment.tzinfo is None:
        raise UserError(f"--now: {value!r} has no UTC offset (e.g. 2026-11-20T17:00:00+01:00)")
    return moment


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UserError(f"--tz: unknown time zone {name!r} (e.g. Europe/Berlin)") from exc


def _channel(value: str | None) -> str | None:
    if value is not None and value not in ("email", "chat"):
        raise UserError(f"--channel: {value!r} is not one of email, chat")
    return value


def _with_db(work: Any) -> Any:
    from triage.config import load_config
    from triage.db import Database

    settings = _common.settings()
    config = load_config(settings=settings)
    db = Database(settings)
    try:
        with db.transaction() as session:
            return work(session, config)
    finally:
        db.dispose()


def _write_png(png: Path | None, data: bytes) -> None:
    if png is None:
        return
    try:
        png.write_bytes(data)
    except OSError as exc:
        raise UserError(f"--png: cannot write {png}: {exc.strerror or exc}") from exc
    err.print(f"chart written to {png}", highlight=False)


def _write_json(report: Any) -> None:
    sys.stdout.write(report.model_dump_json(indent=2) + "\n")
    sys.stdout.flush()  # a short report would otherwise stay in the buffer of a replaced stdout (tests, pipes)


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def forecast_cmd(queue: Queue = None, channel: ChannelOpt = None, weeks: Weeks = 1, as_json: Json = False,
                 png: Png = None, now: Now = None) -> None:
    """Forecast new tickets per queue and channel by hour for 1-4 weeks, with its backtest against baselines."""
    from triage.planning.charts import forecast_png
    from triage.planning.forecast import forecast_history, load_history

    moment, channel = _now(now), _channel(channel)
    if not 1 <= weeks <= 4:
        raise UserError(f"--weeks: {weeks} is not between 1 and 4")
    # Read, then fit outside the transaction: SQLite's write lock is not held for seconds of fitting.
    history, config = _with_db(lambda session, config: (
        load_history(session=session, queue=queue, channel=channel, now=moment,
                     history_weeks=config.planning.history_weeks), config))
    report = forecast_history(history, config=config, weeks=weeks)
    if png is not None:
        _write_png(png, forecast_png(report))
    if as_json:
        _write_json(report)
        return
    days = sorted({d.day for s in report.series for d in s.daily})
    table = Table(title=f"Forecast new tickets per day from {report.start:%Y-%m-%d %H:%M} UTC "
                        f"({report.weeks} week(s); {report.model})")
    table.add_column("queue")
    table.add_column("channel")
    for day in days:
        table.add_column(f"{day:%a %d}", justify="right")
    table.add_column("total", justify="right")
    table.add_column("holidays")
    for s in report.series:
        per_day = {d.day: d.tickets for d in s.daily}
        table.add_row(escape(s.queue), s.channel, *[f"{per_day[d]:.0f}" if d in per_day else "-" for d in days],
                      f"{s.total:,.0f}", ", ".join(d.isoformat() for d in s.holidays) or "-")
    out.print(table)
    back = Table(title="Backtest (rolling origins, 1-week horizon): WAPE / MAPE")
    for col in ("queue", "channel", "origins", "model", "seasonal naive", "last week"):
        back.add_column(col, justify="left" if col in ("queue", "channel") else "right")
    rows = [(s.queue, s.channel, str(s.backtest_origins), s.backtest) for s in report.series]
    rows.append(("all", "", "", report.backtest))
    for q, ch, origins, scores in rows:
        back.add_row(escape(q), ch, origins, *[f"{_share(m.wape)} / {_share(m.mape)}" for m in scores])
    out.print(back)
    if not report.series:
        err.print("no tickets in the history: nothing to forecast")
    short = [f"{s.queue}/{s.channel}" for s in report.series if s.history_hours < 2 * 168]
    if short:
        err.print(f"[yellow]note:[/yellow] less than two weeks of history for {escape(', '.join(short))}: the weekly "
                  "shape is barely learned and there is no backtest", highlight=False)


def _ranges(intervals: list[Any], zone: ZoneInfo) -> list[tuple[str, Any]]:
    """Consecutive hours with the same figures as one row: 'Mon 09:00-12:00'."""
    out_rows: list[tuple[str, Any]] = []
    start = 0
    for i in range(1, len(intervals) + 1):
        if i == len(intervals) or (round(intervals[i].required, 1), round(intervals[i].scheduled, 1)) != \
                (round(intervals[start].required, 1), round(intervals[start].scheduled, 1)):
            first = intervals[start].start.astimezone(zone)
            end = (intervals[i - 1].start + HOUR).astimezone(zone)
            until = f"{end:%H:%M}" if end.date() == first.date() else f"{end:%a %d %H:%M}"
            out_rows.append((f"{first:%a %d %H:%M}-{until}", intervals[start:i]))
            start = i
    return out_rows


def staffing_cmd(queue: Queue = None, channel: ChannelOpt = None, weeks: Weeks = 1, as_json: Json = False,
                 png: Png = None, now: Now = None, tz: Tz = "UTC",
                 all_hours: Annotated[bool, typer.Option("--all", help="List every interval, not only those "
                                                                       "under- or over-staffed.")] = False) -> None:
    """Agents needed per hour to meet the SLA for the forecast volume, against agents on shift: under/over."""
    from triage.planning.charts import staffing_png
    from triage.planning.forecast import forecast_history, load_history
    from triage.planning.staffing import load_inputs, plan_staffing

    moment, channel, zone = _now(now), _channel(channel), _zone(tz)
    if not 1 <= weeks <= 4:
        raise UserError(f"--weeks: {weeks} is not between 1 and 4")

    def read(session: Any, config: Any) -> tuple[Any, Any, Any]:
        history = load_history(session=session, queue=queue, channel=channel, now=moment,
                               history_weeks=config.planning.history_weeks)
        return history, load_inputs(session=session, config=config, start=history.start), config

    history, inputs, config = _with_db(read)  # then plan outside the transaction, as the forecast
    report = plan_staffing(forecast_history(history, config=config, weeks=weeks, backtest_origins=0), inputs,
                           config=config)
    if png is not None:
        _write_png(png, staffing_png(report))
    if as_json:
        _write_json(report)
        return
    handle = Table(title="Handling times (learned per intent and channel; * = the channel as a whole)")
    for col in ("channel", "intent", "minutes", "tickets", "source"):
        handle.add_column(col, justify="right" if col in ("minutes", "tickets") else "left")
    for h in report.handle_times:
        handle.add_row(h.channel, escape(h.intent), f"{h.seconds / 60:.1f}", str(h.samples), h.source)
    out.print(handle)
    out.print(f"Chat: {100 * report.service_level:.0f}% answered within {report.chat_answer_seconds / 60:g} min "
              f"(Erlang C); email: work spread over {report.email_window_hours:g} h; shrinkage "
              f"{100 * report.shrinkage:.0f}%, occupancy at most {100 * report.max_occupancy:.0f}%.", highlight=False)
    for s in report.series:
        table = Table(title=f"{escape(s.queue)} / {s.channel} ({s.method}, {s.handle_seconds / 60:.1f} min per "
                            f"ticket): under-staffed {s.under_hours} h ({s.under_agent_hours} agent-hours), "
                            f"over {s.over_hours} h ({s.over_agent_hours}) [{tz}]")
        for col in ("hours", "tickets", "required", "on shift", "under/over"):
            table.add_column(col, justify="left" if col == "hours" else "right")
        for label, group in _ranges(s.intervals, zone):
            gap = group[0].gap
            if not all_hours and abs(gap) < 0.05:
                continue
            style = "red" if gap < 0 else "green" if gap > 0 else ""
            table.add_row(label, f"{sum(i.volume for i in group):.1f}", f"{group[0].required:.1f}",
                          f"{group[0].scheduled:.1f}", f"[{style}]{gap:+.1f}[/{style}]" if style else "0")
        out.print(table)
    if not report.series:
        err.print("no tickets in the history: nothing to staff")


def alerts_cmd(as_json: Json = False, now: Now = None,
               topics: Annotated[bool, typer.Option("--topics/--no-topics",
                                                    help="Also group unsure messages into new topics (loads the "
                                                         "sentence encoder).")] = True,
               send: Annotated[bool, typer.Option("--notify/--no-notify",
                                                  help="Notify new episodes (mail and webhook via the outbox).")]
               = True,
               listing: Annotated[bool, typer.Option("--list", help="Only list the open episodes; detect "
                                                                    "nothing.")] = False) -> None:
    """Detect emerging issues: intents and queues above their seasonal baseline, and new topics; each episode
    is notified once."""
    from triage.flows.alerts import run_alerts
    from triage.planning.alerts import list_alerts
    from triage.planning.schemas import AlertsReport

    moment = _now(now)
    encode = None
    if topics and not listing:
        from models.encoder import Encoder

        encoder = Encoder()
        encode = encoder.encode

    def work(session: Any, config: Any) -> AlertsReport:
        if listing:
            from triage.db import utcnow

            return AlertsReport(at=moment or utcnow(), window=config.planning.alert_window, tested=0,
                                topics_checked=False, alerts=list_alerts(session=session))
        try:
            return run_alerts(session=session, config=config, now=moment, encode=encode, send=send)
        except FileNotFoundError as exc:  # no encoder on disk: the counts still work
            err.print(f"[yellow]new topics skipped:[/yellow] {escape(str(exc))}")
            return run_alerts(session=session, config=config, now=moment, encode=None, send=send)

    report = _with_db(work)
    if as_json:
        _write_json(report)
        return
    checked = ", topics checked" if report.topics_checked else ""
    table = Table(title=f"Emerging issues at {report.at:%Y-%m-%d %H:%M} UTC (window {report.window}; "
                        f"{report.tested} intents and queues tested{checked})")
    for col in ("episode", "kind", "what", "count", "expected", "p", "since", "examples"):
        table.add_column(col, overflow="fold", justify="right" if col in ("count", "expected", "p") else "left")
    for a in report.alerts:
        table.add_row(f"#{a.id}{' [bold]new[/bold]' if a.new else ''}", a.kind, escape(a.key), str(a.observed),
                      f"{a.expected:g}" if a.kind != "topic" else "-",
                      f"{a.p_value:.1e}" if a.p_value is not None else "-", f"{a.opened_at:%m-%d %H:%M}",
                      escape(" | ".join(a.examples[:2])) or "-")
    out.print(table)
    if not report.alerts:
        err.print("no emerging issues")


surveys_app = typer.Typer(help="Customer satisfaction surveys: invite after solve, CSAT reports.",
                          no_args_is_help=True)


@surveys_app.command("send")
def surveys_send(as_json: Json = False, now: Now = None) -> None:
    """Invite the customers of recently solved tickets to rate them (once per ticket; never automatic senders)."""
    from triage.flows.surveys import send_invitations

    moment = _now(now)
    secret = _common.settings().secret_key

    def work(session: Any, config: Any) -> dict[str, int]:
        if not config.surveys.enabled:
            raise UserError("surveys are off: set enabled = true in the [surveys] section of triage.toml")
        return send_invitations(session=session, config=config, secret=secret, now=moment)

    outcomes = _with_db(work)
    if as_json:
        _common.emit_json_line(outcomes)
        return
    out.print(", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "no solved ticket to invite for")


@surveys_app.command("report")
def surveys_report(as_json: Json = False,
                   by: Annotated[str, typer.Option(help="agent, queue, intent, channel, day, week or month.")]
                   = "queue",
                   since: Annotated[str | None, typer.Option(help="Invitations sent from (ISO 8601 with offset; "
                                                                  "default 30 days ago).")] = None,
                   until: Annotated[str | None, typer.Option(help="Until, exclusive (default: now).")] = None,
                   queue: Queue = None, channel: ChannelOpt = None,
                   intent: Annotated[str | None, typer.Option(help="Only this intent.")] = None) -> None:
    """CSAT (share of ratings 4-5), mean rating and response rate per group, with QA scores beside it."""
    from triage.db import utcnow
    from triage.surveys.service import csat_report

    if by not in ("agent", "queue", "intent", "channel", "day", "week", "month"):
        raise UserError(f"--by: {by!r} is not one of agent, queue, intent, channel, day, week, month")
    end = _now(until) or utcnow()
    start = _now(since) or end - timedelta(days=30)
    report = _with_db(lambda session, config: csat_report(session=session, since=start, until=end, by=by,  # type: ignore[arg-type]
                                                          queue=queue, channel=_channel(channel), intent=intent))
    if as_json:
        _write_json(report)
        return
    table = Table(title=f"CSAT by {report.by}, invitations sent {start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} UTC")
    for col in (report.by, "invited", "answered", "response rate", "CSAT (4-5)", "mean", "QA score"):
        table.add_column(col, justify="left" if col == report.by else "right")
    for r in [*report.rows, report.total]:
        table.add_row(escape(r.key), str(r.invited), str(r.responses), _share(r.response_rate), _share(r.csat),
                      f"{r.mean_rating:.2f}" if r.mean_rating is not None else "-",
                      f"{r.qa_mean:.1f}" if r.qa_mean is not None else "-",
                      end_section=bool(report.rows) and r is report.rows[-1])
    out.print(table)
    if report.qa_correlation is not None:
        out.print(f"Rating against QA score over {report.qa_pairs} tickets with both: r = {report.qa_correlation:+.2f}")
