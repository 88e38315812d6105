"""PNG charts of the reports, drawn on matplotlib's Agg canvas (no display, no pyplot state).

An empty report still gives a chart: a figure that says there is no data for the period, so a
scheduled `triage report ... --png` never fails for a quiet week. `draw` returns the matplotlib figure
(tests read its axes, bars and texts); `render_png` is the PNG of it.

What a supervisor tripped over, and how the charts answer it (issue 16): an empty panel says so in words
instead of drawing a meaningless axis; legends sit outside the plot area; agents are named; every stacked
bar carries its count; out-of-scope messages are their own category; a partial day or week is marked.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from models.vocabulary import OUT_OF_SCOPE
from triage.reports.schemas import (
    BacklogReport,
    DurationStats,
    MixPoint,
    MixReport,
    MixSeries,
    PeriodOut,
    ResponseTimesReport,
    ResponseTimesRow,
    SlaReport,
    VolumeReport,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 11.0, 6.5, 100  # 1100 x 650 pixels
TOP_LABELS = 8  # more intents than this are drawn as one grouped remainder (the JSON keeps them all)
# The intent the classifier serves for "not a support request" (models.signals.OUT_OF_SCOPE_INTENTS): it is
# literally called "other", which read as the grouped remainder; it is drawn as a category of its own.
OUT_OF_SCOPE_LABELS = frozenset({OUT_OF_SCOPE, "oos"})
OUT_OF_SCOPE_NAME = "out of scope"
REMAINDER_COLOUR, OUT_OF_SCOPE_COLOUR = "#bbbbbb", "#555555"
SMALL_GROUP = 20  # bars with at most this many tickets also show the count of each segment
PARTIAL_ALPHA, PARTIAL_HATCH = 0.45, "//"
# tab10 without its grey, which the grouped remainder and out of scope use.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
BACKLOG_COLOURS = ("#4c72b0", "#dd8452", "#9a9a9a")  # new, open, pending (waiting on the customer: grey)
AGE_COLOURS = ("#fde725", "#90d743", "#35b779", "#21918c", "#31688e", "#443983", "#440154")  # young to old


def _figure(width: float = WIDTH, height: float = HEIGHT) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _span(period: PeriodOut) -> str:
    return f"{period.since:%Y-%m-%d %H:%M} - {period.until:%Y-%m-%d %H:%M} UTC"


def _no_data(title: str, period: PeriodOut) -> Figure:
    fig = _figure()
    fig.suptitle(title)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, f"no data\n{_span(period)}", ha="center", va="center", fontsize=16, color="#555555",
            transform=ax.transAxes)
    return fig


def _empty_panel(ax: Axes, text: str) -> None:
    """Say that a panel has nothing to show: bars of zero drew an axis from -0.04 to 0.04 around nothing."""
    ax.set_xticks([])
    ax.set_xlim(0, 1)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=12, color="#555555", transform=ax.transAxes)


def _legend_below(fig: Figure, handles: list[Any], labels: list[str]) -> None:
    """A legend under the plots, where it covers no bar (constrained layout makes room for it)."""
    # One row while it fits: a wrapped legend fills column by column and reads out of order.
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 10), fontsize=9, frameon=False)


def _hours(seconds: float | None) -> float:
    return (seconds or 0.0) / 3600.0


def _row_label(row: ResponseTimesRow, names: list[str]) -> str:
    """An agent's name (people know each other by name); with the email too when two share a name."""
    if row.name is None:
        return row.key
    return f"{row.name} ({row.key})" if names.count(row.name) > 1 else row.name


def response_times_figure(report: ResponseTimesReport) -> Figure:
    """Median and p90 first-response and resolution hours per group, as horizontal bars."""
    title = f"Response times by {report.by}"
    rows = [r for r in report.rows if r.first_response.count or r.resolution.count or r.unanswered]
    if not rows:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, max(HEIGHT, 1.5 + 0.45 * len(rows)))
    fig.suptitle(f"{title} (wall clock, hours)\n{_span(report.period)}")
    axes = fig.subplots(1, 2, sharey=True)
    names = [r.name for r in rows if r.name is not None]
    positions = list(range(len(rows)))
    handles: list[Any] = []
    panels = (("first_response", "no answered tickets in this period"),
              ("resolution", "no resolved tickets in this period"))
    for ax, (name, nothing) in zip(axes, panels, strict=True):
        ax.set_title(name.replace("_", " "))
        stats: list[DurationStats] = [getattr(r, name) for r in rows]
        if not any(s.count for s in stats):
            waiting = sum(r.unanswered for r in rows) if name == "first_response" else 0
            _empty_panel(ax, nothing + (f"\n({waiting} waiting for a first reply)" if waiting else ""))
            continue
        handles = [ax.barh([p - 0.2 for p in positions], [_hours(s.median) for s in stats], height=0.4),
                   ax.barh([p + 0.2 for p in positions], [_hours(s.p90) for s in stats], height=0.4)]
        for p, s, row in zip(positions, stats, rows, strict=True):
            note = f"n={s.count}" + (f", {row.unanswered} unanswered" if name == "first_response"
                                     and row.unanswered else "")
            ax.annotate(note, (max(_hours(s.median), _hours(s.p90)), p + 0.2), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_xlabel("hours")
    if handles:
        _legend_below(fig, handles, ["median", "p90"])
    axes[0].set_yticks(positions, [_row_label(r, names) for r in rows])
    axes[0].set_ylim(len(rows) - 0.5, -0.5)  # first row on top
    return fig


def sla_figure(report: SlaReport) -> Figure:
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
        ax.set_title(name.replace("_", " "))
        shares = [getattr(r, name).share for r in rows]
        if all(s is None for s in shares):
            _empty_panel(ax, "no target met or missed yet in this period")
            continue
        bars = ax.barh(positions, [100 * (s or 0.0) for s in shares], color="#4c72b0")
        for bar, share, row in zip(bars, shares, rows, strict=True):
            att = getattr(row, name)
            text = "n/a" if share is None else f"{100 * share:.0f}% ({att.met}/{att.met + att.missed})"
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=8)
        ax.set_xlim(0, 115)
        ax.set_xlabel("% met")
    axes[0].set_yticks(positions, [f"{r.queue} / {r.priority}" for r in rows])
    axes[0].set_ylim(len(rows) - 0.5, -0.5)
    return fig


def volume_figure(report: VolumeReport) -> Figure:
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
    return fig


def backlog_figure(report: BacklogReport) -> Figure:
    """Stacked areas of the daily backlog, and the current backlog by queue split by age."""
    title = "Backlog"
    if not any(d.total for d in report.daily) and report.current_total == 0:
        return _no_data(title, report.period)
    fig = _figure()
    fig.suptitle(f"{title} ({report.period.timezone})\n{_span(report.period)}")
    left, right = fig.subplots(1, 2, width_ratios=[2, 1])
    days = [d.day for d in report.daily]
    handles: list[Any] = []
    labels: list[str] = []
    if days:
        handles += left.stackplot(days, [d.new for d in report.daily], [d.open for d in report.daily],
                                  [d.pending for d in report.daily], colors=BACKLOG_COLOURS, alpha=0.85)
        labels += ["new", "open", "pending"]
    left.set_title("unsolved at the end of each day")
    left.set_ylabel("tickets")
    left.tick_params(axis="x", labelrotation=45)
    queues = [b.queue for b in report.current]
    base = [0] * len(queues)
    for i, bucket in enumerate(report.age_buckets):
        values = [b.ages.get(bucket, 0) for b in report.current]
        bars = right.barh(queues, values, left=base, color=AGE_COLOURS[i % len(AGE_COLOURS)])
        base = [a + b for a, b in zip(base, values, strict=True)]
        if queues:
            handles.append(bars)
            labels.append(f"open {bucket}")
    right.set_title(f"open now by age ({report.current_total})")
    right.set_xlabel("tickets")
    if handles:
        _legend_below(fig, handles, labels)
    return fig


def _categories(series: MixSeries, noun: str) -> list[tuple[str, list[str], str]]:
    """(legend label, labels counted, colour): the top labels, the grouped remainder, out of scope apart."""
    apart = [label for label in series.labels if noun == "intent" and label in OUT_OF_SCOPE_LABELS]
    rest = [label for label in series.labels if label not in apart]
    out = [(label, [label], PALETTE[i % len(PALETTE)]) for i, label in enumerate(rest[:TOP_LABELS])]
    grouped = rest[TOP_LABELS:]
    if grouped:
        out.append((f"{len(grouped)} other {noun}s", grouped, REMAINDER_COLOUR))
    if apart:
        out.append((OUT_OF_SCOPE_NAME, apart, OUT_OF_SCOPE_COLOUR))
    return out


def _point_label(point: MixPoint) -> str:
    return f"{point.start:%m-%d}" + ("\npartial" if point.partial else "")


def _stack(ax: Axes, series: MixSeries, noun: str, interval: str) -> None:
    """100%-stacked bars, each with its ticket count (a share of 1 ticket looks like a share of 400)."""
    from matplotlib.patches import Patch

    points = series.points
    x = list(range(len(points)))
    bottom = [0.0] * len(points)
    legend: list[Any] = []
    for label, members, colour in _categories(series, noun):
        legend.append(Patch(facecolor=colour, label=label))
        counts = [sum(p.counts.get(m, 0) for m in members) for p in points]
        values = [100 * c / p.total if p.total else 0.0 for c, p in zip(counts, points, strict=True)]
        bars = ax.bar(x, values, bottom=bottom, width=0.9, label=label, color=colour)
        for bar, point, count in zip(bars, points, counts, strict=True):
            if point.partial:
                bar.set_alpha(PARTIAL_ALPHA)
                bar.set_hatch(PARTIAL_HATCH)
            if count and point.total <= SMALL_GROUP:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(count),
                        ha="center", va="center", fontsize=7,
                        color="white" if colour == OUT_OF_SCOPE_COLOUR else "black")
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    crowded = len(points) > 14
    for i, point in enumerate(points):
        if point.total:  # an empty column needs no label saying so
            ax.text(i, 101, f"n={point.total}", ha="center", va="bottom", fontsize=7, rotation=90 if crowded else 0)
    step = max(1, len(points) // 12)
    ticks = sorted(set(x[::step]) | {i for i, p in enumerate(points) if p.partial})
    ax.set_xticks(ticks, [_point_label(points[i]) for i in ticks])
    ax.set_ylim(0, 125 if crowded else 112)
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel("% of tickets")
    ax.set_title(f"{noun} (n = tickets per {interval}; hatched: partial {interval})")
    if any(p.partial for p in points):
        legend.append(Patch(facecolor="white", edgecolor="black", hatch=PARTIAL_HATCH, label=f"partial {interval}"))
    ax.legend(handles=legend, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)


def mix_figure(report: MixReport) -> Figure:
    """Stacked bars of intent and sentiment shares per day or week."""
    title = f"Intent and sentiment mix per {report.interval}"
    if report.total == 0:
        return _no_data(title, report.period)
    fig = _figure(WIDTH, 8.0)
    fig.suptitle(f"{title} ({report.total} tickets, {report.period.timezone})\n{_span(report.period)}")
    top, bottom = fig.subplots(2, 1, sharex=True)
    _stack(top, report.intent, "intent", report.interval)
    _stack(bottom, report.sentiment, "sentiment", report.interval)
    return fig


CHARTS: dict[type[BaseModel], Any] = {ResponseTimesReport: response_times_figure, SlaReport: sla_figure,
                                      VolumeReport: volume_figure, BacklogReport: backlog_figure,
                                      MixReport: mix_figure}


def draw(report: BaseModel) -> Figure:
    """The matplotlib figure of any report (what `render_png` saves)."""
    return CHARTS[type(report)](report)


def render_png(report: BaseModel) -> bytes:
    """The PNG chart for any report."""
    return _png(draw(report))
