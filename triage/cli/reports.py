"""`triage report NAME`: a report as a table (default), JSON (`--json`) and a PNG chart (`--png PATH`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import err, out
from triage.errors import UserError
from triage.reports.schemas import (
    REPORT_NAMES,
    BacklogReport,
    DurationStats,
    MixReport,
    MixSeries,
    ResponseTimesReport,
    SlaReport,
    VolumeReport,
)

MIX_COLUMNS = 6


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise UserError(f"{option}: {value!r} is not an ISO 8601 date or time (e.g. 2026-11-01 or "
                        "2026-11-01T09:00+01:00)") from exc


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    value = value.strip().lower()
    if value not in allowed:
        raise UserError(f"{option}: {value!r} is not one of {', '.join(allowed)}")
    return value


def build_report(name: str, *, session: Any, since: datetime | None = None, until: datetime | None = None,
                 tz: str = "UTC", channel: str | None = None, queue: str | None = None, by: str = "queue",
                 interval: str = "day", unit: str = "tickets", include_pending: bool = False) -> Any:
    """Compute the report NAME (one of REPORT_NAMES) with checked options; bad input raises UserError."""
    from triage.reports import service
    from triage.reports.periods import make_period

    name = _choice(name, REPORT_NAMES, "report")
    period = make_period(since, until, tz=tz)
    if name == "response-times":
        return service.response_times(session=session, period=period, channel=channel, queue=queue,
                                      by=_choice(by, ("channel", "queue", "agent"), "--by"),  # type: ignore[arg-type]
                                      exclude_pending=not include_pending)
    if name == "sla":
        return service.sla_attainment(session=session, period=period, channel=channel, queue=queue)
    if name == "volume":
        return service.volume(session=session, period=period, channel=channel, queue=queue,
                              unit=_choice(unit, ("tickets", "messages"), "--unit"))  # type: ignore[arg-type]
    if name == "backlog":
        return service.backlog(session=session, period=period, channel=channel, queue=queue)
    return service.mix(session=session, period=period, channel=channel, queue=queue,
                       interval=_choice(interval, ("day", "week"), "--interval"))  # type: ignore[arg-type]


def report_cmd(
    name: Annotated[str, typer.Argument(help=f"Which report: {', '.join(REPORT_NAMES)}.")],
    png: Annotated[Path | None, typer.Option("--png", help="Also draw the chart into this PNG file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON instead of a table.")] = False,
    since: Annotated[str | None, typer.Option(help="Start (ISO 8601; default: 30 days before --until).")] = None,
    until: Annotated[str | None, typer.Option(help="End, exclusive (ISO 8601; default: now).")] = None,
    tz: Annotated[str, typer.Option("--tz", help="Time zone for days and hours, and for times without "
                                                 "an offset.")] = "UTC",
    by: Annotated[str, typer.Option(help="response-times: group by channel, queue or agent.")] = "queue",
    channel: Annotated[str | None, typer.Option(help="Only tickets of this channel (email, chat).")] = None,
    queue: Annotated[str | None, typer.Option(help="Only tickets of this queue.")] = None,
    interval: Annotated[str, typer.Option(help="mix: points per day or week.")] = "day",
    unit: Annotated[str, typer.Option(help="volume: count new tickets or customer messages.")] = "tickets",
    include_pending: Annotated[bool, typer.Option("--include-pending",
                                                  help="response-times: count time pending on the customer "
                                                       "in resolution times.")] = False,
) -> None:
    """Support reports: response-times, sla, volume, backlog, mix (intent and sentiment)."""
    from triage.db import Database
    from triage.reports.charts import render_png

    start, end = _parse_time(since, "--since"), _parse_time(until, "--until")
    db = Database(_common.settings())  # not the whole runtime: reports need no models, and start in a second
    try:
        with db.session() as session:
            report = build_report(name, session=session, since=start, until=end, tz=tz, channel=channel,
                                  queue=queue, by=by, interval=interval, unit=unit, include_pending=include_pending)
    finally:
        db.dispose()
    if png is not None:
        try:
            png.write_bytes(render_png(report))
        except OSError as exc:
            raise UserError(f"--png: cannot write {png}: {exc.strerror or exc}") from exc
        err.print(f"chart written to {png}", highlight=False)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    for table in tables(report):
        out.print(table)


# -- tables ------------------------------------------------------------------------------------------------

def duration(seconds: float | None) -> str:
    """1h 05m, 3d 4h, 42s: short enough for a table cell."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _period(report: Any) -> str:
    p = report.period
    return f"{p.since:%Y-%m-%d %H:%M} - {p.until:%Y-%m-%d %H:%M} UTC"


def _stats_cells(s: DurationStats) -> list[str]:
    return [str(s.count), duration(s.mean), duration(s.median), duration(s.p90)]


def _response_times(report: ResponseTimesReport) -> list[Table]:
    pending = "without" if report.exclude_pending else "with"
    table = Table(title=f"Response times by {report.by}, {_period(report)} (wall clock; resolution {pending} "
                        "pending time)")
    for col in (report.by, "created", "unanswered", "FR n", "FR mean", "FR median", "FR p90",
                "solved", "res. mean", "res. median", "res. p90"):
        table.add_column(col, justify="left" if col == report.by else "right")
    for row in [*report.rows, report.total]:
        table.add_row(row.key, str(row.created), str(row.unanswered), *_stats_cells(row.first_response),
                      *_stats_cells(row.resolution), end_section=row is report.rows[-1] if report.rows else False)
    return [table]


def _sla(report: SlaReport) -> list[Table]:
    table = Table(title=f"SLA attainment, tickets created {_period(report)}")
    for col in ("queue", "priority", "tickets", "FR met", "FR missed", "FR open", "FR share",
                "res. met", "res. missed", "res. open", "res. share", "no target"):
        table.add_column(col, justify="left" if col in ("queue", "priority") else "right")
    for row in [*report.rows, report.total]:
        fr, res = row.first_response, row.resolution
        table.add_row(row.queue, row.priority, str(row.tickets), str(fr.met), str(fr.missed), str(fr.open),
                      _share(fr.share), str(res.met), str(res.missed), str(res.open), _share(res.share),
                      str(fr.no_target), end_section=row is report.rows[-1] if report.rows else False)
    return [table]


def _volume(report: VolumeReport) -> list[Table]:
    table = Table(title=f"{report.unit.capitalize()} by hour of week ({report.period.timezone}), {_period(report)}; "
                        f"total {report.total}", padding=(0, 0))
    table.add_column("")
    for hour in range(24):
        table.add_column(f"{hour:02d}", justify="right", min_width=3)
    for day, row in zip(report.weekdays, report.matrix, strict=True):
        table.add_row(day, *[str(n) if n else "." for n in row])
    return [table]


def _backlog(report: BacklogReport) -> list[Table]:
    daily = Table(title=f"Unsolved tickets at the end of each day ({report.period.timezone})")
    for col in ("day", "new", "open", "pending", "total"):
        daily.add_column(col, justify="left" if col == "day" else "right")
    for d in report.daily:
        daily.add_row(d.day.isoformat(), str(d.new), str(d.open), str(d.pending), str(d.total))
    current = Table(title=f"Open now by age ({report.as_of:%Y-%m-%d %H:%M} UTC)")
    current.add_column("queue")
    for bucket in [*report.age_buckets, "total"]:
        current.add_column(bucket, justify="right")
    for b in report.current:
        current.add_row(b.queue, *[str(b.ages.get(k, 0)) for k in report.age_buckets], str(b.total))
    return [daily, current]


def _mix_table(series: MixSeries, title: str) -> Table:
    shown = series.labels[:MIX_COLUMNS]
    table = Table(title=title)
    table.add_column("start")
    table.add_column("total", justify="right")
    for label in shown:
        table.add_column(label, justify="right")
    if len(series.labels) > len(shown):
        table.add_column("other", justify="right")
    for p in series.points:
        cells = [f"{p.counts.get(k, 0)} ({_share(p.shares.get(k, 0.0))})" if p.total else "-" for k in shown]
        if len(series.labels) > len(shown):
            rest = sum(v for k, v in p.counts.items() if k not in shown)
            cells.append(f"{rest} ({_share(rest / p.total)})" if p.total else "-")
        table.add_row(p.start.isoformat(), str(p.total), *cells)
    return table


def _mix(report: MixReport) -> list[Table]:
    return [_mix_table(report.intent, f"Intent per {report.interval}, {_period(report)}"),
            _mix_table(report.sentiment, f"Sentiment per {report.interval}")]


def tables(report: Any) -> list[Table]:
    """Rich tables for any report."""
    renderers: tuple[tuple[type, Callable[[Any], list[Table]]], ...]
    renderers = ((ResponseTimesReport, _response_times), (SlaReport, _sla), (VolumeReport, _volume),
                 (BacklogReport, _backlog), (MixReport, _mix))
    for kind, render in renderers:
        if isinstance(report, kind):
            return render(report)
    raise TypeError(f"no table for {type(report).__name__}")
