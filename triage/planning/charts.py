"""PNG charts of the forecast and the staffing plan (matplotlib's Agg canvas, as triage.reports.charts)."""

from __future__ import annotations

from triage.planning.schemas import ForecastReport, StaffingReport, StaffingSeries
from triage.reports.charts import _figure, _png

MAX_PANELS = 8  # more series than this: the first ones are drawn (the JSON has them all)


def forecast_png(report: ForecastReport) -> bytes:
    """One line per queue and channel: expected new tickets per hour over the horizon."""
    fig = _figure()
    ax = fig.add_subplot()
    hours = list(range(report.hours))
    for s in report.series[:MAX_PANELS]:
        ax.plot(hours, s.hourly, linewidth=1.0, label=f"{s.queue} / {s.channel} ({s.total:,.0f})")
    ax.set_title(f"Forecast new tickets per hour from {report.start:%Y-%m-%d %H:%M} UTC ({report.weeks} week(s))")
    ax.set_xlabel("hours from the start")
    ax.set_ylabel("tickets per hour")
    for day in range(0, report.hours + 1, 24):
        ax.axvline(day, color="#dddddd", linewidth=0.5, zorder=0)
    if report.series:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no tickets in the history", ha="center", va="center", transform=ax.transAxes)
    return _png(fig)


def staffing_png(report: StaffingReport) -> bytes:
    """Per queue and channel: agents required against agents on shift, hour by hour."""
    panels: list[StaffingSeries | None] = [*report.series[:MAX_PANELS]] or [None]
    fig = _figure(height=max(3.0, 2.2 * len(panels)))
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, s in zip(axes, panels, strict=True):
        if s is None:
            ax.text(0.5, 0.5, "no tickets in the history", ha="center", va="center", transform=ax.transAxes)
            continue
        hours = list(range(len(s.intervals)))
        ax.step(hours, [i.required for i in s.intervals], where="post", label="required", color="#c0392b")
        ax.step(hours, [i.scheduled for i in s.intervals], where="post", label="on shift", color="#2471a3")
        ax.set_title(f"{s.queue} / {s.channel} ({s.method}): under {s.under_hours} h, over {s.over_hours} h",
                     fontsize="medium")
        ax.set_ylabel("agents")
        ax.legend(fontsize="small", loc="upper right")
    axes[-1].set_xlabel(f"hours from {report.start:%Y-%m-%d %H:%M} UTC")
    return _png(fig)
