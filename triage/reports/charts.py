"""PNG charts of the reports, drawn on matplotlib's Agg canvas (no display, no pyplot state).

An empty report still gives a chart: a figure that says there is no data for the period, so a
scheduled `triage report ... --png` never fails for a quiet week.
"""

from __future__ import annotations

import io
from typing import Any

from pydantic import BaseModel

from triage.reports.schemas import (
    BacklogReport,
    DurationStats,
    MixReport,
    MixSeries,
    PeriodOut,
    ResponseTimesReport,
    SlaReport,
    VolumeReport,
)

WIDTH, HEIGHT, DPI = 11.0, 6.5, 100  # 1100 x 650 pixels
TOP_LABELS = 8  # more intents than this are drawn as "other" (the JSON keeps them all)


def _figure(width: float = WIDTH, height: float = HEIGHT):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _span(period: PeriodOut) -> str:
    return f"{period.since:%Y-%m-%d %H:%M} - {period.until:%Y-%m-%d %H:%M} UTC"


def _no_data(title: str, period: PeriodOut) -> bytes:
    fig = _figure()
    fig.suptitle(title)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"no data\n{_span(period)}", ha="center", va="center", fontsize=16, color="#555555",
            transform=ax.transAxes)
    return _png(fig)


def _hours(seconds: float | None) -> float:
    return (seconds or 0.0) / 3600.0


def response_times_png(report: ResponseTimesReport) -> bytes:
    """Median and p90 first-response and resolution hours per group, as horizontal bars."""
    title = f"Response times by {report.by}"
    rows = [r for r in report.rows if r.first_response.count or r.resolution.count]
    if not rows:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, max(HEIGHT, 1.5 + 0.45 * len(rows)))
    fig.suptitle(f"{title} (wall clock, hours)\n{_span(report.period)}")
    axes = fig.subplots(1, 2, sharey=True)
    keys = [r.key for r in rows]
    positions = list(range(len(rows)))
    for ax, name in zip(axes, ("first_response", "resolution"), strict=True):
        stats: list[DurationStats] = [getattr(r, name) for r in rows]
        ax.barh([p - 0.2 for p in positions], [_hours(s.median) for s in stats], height=0.4, label="median")
        ax.barh([p + 0.2 for p in positions], [_hours(s.p90) for s in stats], height=0.4, label="p90")
        for p, s in zip(positions, stats, strict=True):
            ax.annotate(f"n={s.count}", (max(_hours(s.median), _hours(s.p90)), p + 0.2), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("hours")
        ax.legend(loc="lower right")
    axes[0].set_yticks(positions, keys)
    axes[0].invert_yaxis()
    return _png(fig)


def sla_png(report: SlaReport) -> bytes:
    """Share of tickets meeting first-response and resolution targets per queue and priority."""
    title = "SLA attainment"
    rows = [r for r in report.rows if r.first_response.share is not None or r.resolution.share is not None]
    if not rows:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, max(HEIGHT, 1.5 + 0.4 * len(rows)))
    fig.suptitle(f"{title} (met / decided)\n{_span(report.period)}")
    axes = fig.subplots(1, 2, sharey=True)
    positions = list(range(len(rows)))
    for ax, name in zip(axes, ("first_response", "resolution"), strict=True):
        shares = [getattr(r, name).share for r in rows]
        bars = ax.barh(positions, [100 * (s or 0.0) for s in shares], color="#4c72b0")
        for bar, share, row in zip(bars, shares, rows, strict=True):
            att = getattr(row, name)
            text = "n/a" if share is None else f"{100 * share:.0f}% ({att.met}/{att.met + att.missed})"
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_xlim(0, 115)
        ax.set_title(name.replace("_", " "))
        ax.set_xlabel("% met")
    axes[0].set_yticks(positions, [f"{r.queue} / {r.priority}" for r in rows])
    axes[0].invert_yaxis()
    return _png(fig)


def volume_png(report: VolumeReport) -> bytes:
    """Heatmap: weekday x local hour."""
    title = f"Volume by hour of week ({report.unit}, {report.period.timezone})"
    if report.total == 0:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, 4.5)
    fig.suptitle(f"{title}\n{_span(report.period)}")
    ax = fig.add_subplot()
    image = ax.imshow(report.matrix, aspect="auto", cmap="viridis", interpolation="nearest")
    ax.set_yticks(range(7), report.weekdays)
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_xlabel("hour")
    peak = max(max(row) for row in report.matrix)
    for d, row in enumerate(report.matrix):
        for h, n in enumerate(row):
            if n:
                ax.text(h, d, str(n), ha="center", va="center", fontsize=7,
                        color="black" if n > peak * 0.6 else "white")
    fig.colorbar(image, ax=ax, label=report.unit)
    return _png(fig)


def backlog_png(report: BacklogReport) -> bytes:
    """Stacked areas of the daily backlog, and the current backlog by queue split by age."""
    title = "Backlog"
    if not any(d.total for d in report.daily) and report.current_total == 0:
        return _no_data(title, report.period)
    fig = _figure()
    fig.suptitle(f"{title} ({report.period.timezone})\n{_span(report.period)}")
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    days = [d.day for d in report.daily]
    if days:
        left.stackplot(days, [d.new for d in report.daily], [d.open for d in report.daily],
                       [d.pending for d in report.daily], labels=["new", "open", "pending"], alpha=0.85)
        left.legend(loc="upper left")
    left.set_title("unsolved at the end of each day")
    left.set_ylabel("tickets")
    left.tick_params(axis="x", labelrotation=45)
    queues = [b.queue for b in report.current]
    base = [0] * len(queues)
    for bucket in report.age_buckets:
        values = [b.ages.get(bucket, 0) for b in report.current]
        right.barh(queues, values, left=base, label=bucket)
        base = [a + b for a, b in zip(base, values, strict=True)]
    right.set_title(f"open now by age ({report.current_total})")
    right.set_xlabel("tickets")
    if queues:
        right.legend(fontsize=8)
    return _png(fig)


def _stack(ax: Any, series: MixSeries, name: str) -> None:
    shown = series.labels[:TOP_LABELS]
    starts = [p.start for p in series.points]
    x = list(range(len(starts)))
    bottom = [0.0] * len(starts)
    for label in [*shown, "other"]:
        if label == "other":
            values = [sum(v for k, v in p.shares.items() if k not in shown) for p in series.points]
            if not any(values):
                continue
        else:
            values = [p.shares.get(label, 0.0) for p in series.points]
        ax.bar(x, [100 * v for v in values], bottom=[100 * b for b in bottom], width=0.9, label=label)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    step = max(1, len(starts) // 12)
    ax.set_xticks(x[::step], [f"{s:%m-%d}" for s in starts[::step]])
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of tickets")
    ax.set_title(name)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)


def mix_png(report: MixReport) -> bytes:
    """Stacked bars of intent and sentiment shares per day or week."""
    title = f"Intent and sentiment mix per {report.interval}"
    if report.total == 0:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, 8.0)
    fig.suptitle(f"{title} ({report.total} tickets, {report.period.timezone})\n{_span(report.period)}")
    top, bottom = fig.subplots(2, 1, sharex=True)
    _stack(top, report.intent, "intent")
    _stack(bottom, report.sentiment, "sentiment")
    return _png(fig)


CHARTS: dict[type[BaseModel], Any] = {ResponseTimesReport: response_times_png, SlaReport: sla_png,
                                      VolumeReport: volume_png, BacklogReport: backlog_png, MixReport: mix_png}


def render_png(report: BaseModel) -> bytes:
    """The PNG chart for any report."""
    return CHARTS[type(report)](report)
