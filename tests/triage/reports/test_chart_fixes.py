"""What a supervisor tripped over in the report PNGs (issue 16 item 3), read from the drawn matplotlib figure.

Each chart is rendered to PNG first (so the layout has run), then its axes, bars, texts and legends are read
through matplotlib's objects rather than pixels.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from pydantic import BaseModel

from tests.triage.test_reports import Builder
from triage.config import Settings
from triage.db import Database
from triage.reports.charts import OUT_OF_SCOPE_NAME, draw
from triage.reports.periods import make_period
from triage.reports.schemas import (
    BacklogDay,
    BacklogQueue,
    BacklogReport,
    DurationStats,
    MixPoint,
    MixReport,
    MixSeries,
    PeriodOut,
    ResponseTimesReport,
    ResponseTimesRow,
)
from triage.reports.service import mix, response_times

PERIOD = PeriodOut(since=datetime(2026, 11, 4, tzinfo=UTC), until=datetime(2026, 11, 18, tzinfo=UTC),
                   timezone="UTC")


def rendered(report: BaseModel) -> Figure:
    """The report's figure after it was saved as PNG (layout done, every artist placed)."""
    fig = draw(report)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")
    return fig


def texts(ax: object) -> list[str]:
    return [t.get_text() for t in ax.texts]  # type: ignore[attr-defined]


def bars(ax: object) -> list[Rectangle]:
    return [p for p in ax.patches if isinstance(p, Rectangle)]  # type: ignore[attr-defined]


def stats(*seconds: float) -> DurationStats:
    if not seconds:
        return DurationStats(count=0)
    return DurationStats(count=len(seconds), mean=sum(seconds) / len(seconds), median=seconds[0], p90=seconds[-1])


def times(rows: list[ResponseTimesRow], by: str = "agent") -> ResponseTimesReport:
    return ResponseTimesReport(period=PERIOD, by=by, exclude_pending=True, rows=rows, total=rows[0])  # type: ignore[arg-type]


def row(key: str, *, name: str | None = None, first: tuple[float, ...] = (600.0, 3600.0),
        resolved: tuple[float, ...] = ()) -> ResponseTimesRow:
    return ResponseTimesRow(key=key, name=name, created=len(first), unanswered=0, first_response=stats(*first),
                            resolution=stats(*resolved))


def point(start: date, counts: dict[str, int], *, partial: bool = False) -> MixPoint:
    total = sum(counts.values())
    return MixPoint(start=start, partial=partial, total=total, counts=counts,
                    shares={k: round(v / total, 4) for k, v in counts.items()})


def mix_report(points: list[MixPoint], interval: str = "week") -> MixReport:
    labels = sorted({k for p in points for k in p.counts}, key=lambda k: -sum(p.counts.get(k, 0) for p in points))
    series = MixSeries(labels=labels, points=points)
    return MixReport(period=PERIOD, interval=interval, total=sum(p.total for p in points),  # type: ignore[arg-type]
                     intent=series, sentiment=series)


# -- an empty panel ---------------------------------------------------------------------------------------

def test_an_empty_resolution_panel_says_so_instead_of_an_axis_around_nothing() -> None:
    fig = rendered(times([row("billing"), row("technical")], by="queue"))
    first, resolution = fig.axes[:2]
    assert "no resolved tickets in this period" in texts(resolution)
    assert bars(resolution) == []  # before: bars of zero width
    assert resolution.get_xticks().size == 0
    assert resolution.get_xlim()[0] >= 0  # before: about -0.05 to 0.05 "hours"
    assert len(bars(first)) == 4 and first.get_xlim()[1] >= 1.0  # the other panel still draws its hours


def test_an_empty_first_response_panel_keeps_the_row_names() -> None:
    waiting = row("(unassigned)", first=(), resolved=(7200.0,)).model_copy(update={"created": 3, "unanswered": 3})
    fig = rendered(times([waiting], by="agent"))
    first, resolution = fig.axes[:2]
    assert texts(first) == ["no answered tickets in this period\n(3 waiting for a first reply)"]
    assert [t.get_text() for t in first.get_yticklabels()] == ["(unassigned)"]
    assert len(bars(resolution)) == 2


# -- legends ----------------------------------------------------------------------------------------------

def _legend_reports() -> list[BaseModel]:
    week = [date(2026, 11, 4) + timedelta(days=i) for i in range(7)]
    return [
        times([row(f"agent{i}@example.com", resolved=(3600.0, 7200.0)) for i in range(3)]),
        BacklogReport(period=PERIOD, as_of=PERIOD.until, age_buckets=["<1h", "1-4h", ">7d"], current_total=9,
                      daily=[BacklogDay(day=d, at=PERIOD.until, new=1, open=5, pending=1, total=7) for d in week],
                      current=[BacklogQueue(queue="billing", ages={"<1h": 2, "1-4h": 1, ">7d": 6}, total=9)]),
        mix_report([point(d, {"a": 5, "b": 3}) for d in week], interval="day"),
    ]


@pytest.mark.parametrize("index", range(3), ids=["response-times", "backlog", "mix"])
def test_legends_sit_outside_the_plot_areas(index: int) -> None:
    fig = rendered(_legend_reports()[index])
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    legends = [*fig.legends, *(legend for ax in fig.axes if (legend := ax.get_legend()) is not None)]
    assert legends, "the chart has a legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), f"legend over the plot {ax.get_title()!r}"


# -- agents by name ---------------------------------------------------------------------------------------

def test_agents_are_shown_by_name_and_by_email_only_when_two_share_a_name() -> None:
    fig = rendered(times([row("nadia@example.com", name="Nadia Brooks"), row("ana@example.com", name="Ana Lima"),
                          row("ana.l@example.com", name="Ana Lima"), row("(unassigned)")]))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Nadia Brooks", "Ana Lima (ana@example.com)", "Ana Lima (ana.l@example.com)", "(unassigned)"]


@pytest.fixture
def db(tmp_path: Path, database_url: str) -> Iterator[Database]:
    settings = Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "models",
                        environment="test")
    database = Database(settings)
    database.ensure_schema()
    yield database
    database.dispose()


def test_response_times_by_agent_carry_the_agents_names(db: Database) -> None:
    created = datetime(2026, 11, 5, 9, tzinfo=UTC)
    with db.transaction() as session:
        b = Builder(session)
        agent = b.agent("nadia@example.com")
        agent.name = "Nadia Brooks"
        b.ticket(channel="email", queue="billing", created=created, agent=agent, reply=timedelta(minutes=30))
        b.ticket(channel="email", queue="billing", created=created)
        period = make_period(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 9, tzinfo=UTC))
        by_agent = response_times(session=session, period=period, by="agent")
        by_queue = response_times(session=session, period=period, by="queue")
    assert [(r.key, r.name) for r in by_agent.rows] == [("(unassigned)", None), ("nadia@example.com", "Nadia Brooks")]
    assert [r.name for r in by_queue.rows] == [None]


# -- counts on 100%-stacked bars --------------------------------------------------------------------------

def test_every_stacked_bar_carries_its_count_and_small_bars_their_segments() -> None:
    start = date(2026, 11, 2)
    fig = rendered(mix_report([point(start, {"refund": 1, "billing": 2}),
                               point(start + timedelta(days=7), {"refund": 150, "billing": 250})]))
    intent = fig.axes[0]
    shown = texts(intent)
    assert "n=3" in shown and "n=400" in shown  # before: both bars filled 100% with no count
    # The bar of 3 tickets says 1 and 2 on its segments; the bar of 400 keeps to shares.
    small = [t for t in intent.texts if abs(t.get_position()[0]) < 0.5 and not t.get_text().startswith("n=")]
    assert sorted(t.get_text() for t in small) == ["1", "2"]
    assert not [t for t in intent.texts if abs(t.get_position()[0] - 1) < 0.5 and t.get_text() in ("150", "250")]


# -- out of scope is not "other" --------------------------------------------------------------------------

def test_out_of_scope_has_its_own_category_and_other_is_only_the_grouped_remainder() -> None:
    # The classifier's out-of-scope intent is called "other" (models.vocabulary.OUT_OF_SCOPE).
    counts = {f"intent{i}": 20 - i for i in range(10)} | {"other": 3}
    fig = rendered(mix_report([point(date(2026, 11, 2), counts)]))
    intent = fig.axes[0]
    legend = intent.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels == [*(f"intent{i}" for i in range(8)), "2 other intents", OUT_OF_SCOPE_NAME]
    assert "other" not in labels
    total = sum(counts.values())
    heights = {label: round(bar.get_height(), 6)
               for label, bar in zip(labels, bars(intent), strict=True)}  # one bar per category, in legend order
    assert heights[OUT_OF_SCOPE_NAME] == round(100 * 3 / total, 6)
    assert heights["2 other intents"] == round(100 * (12 + 11) / total, 6)  # intent8 and intent9 only


def test_out_of_scope_is_drawn_apart_even_among_the_top_labels() -> None:
    fig = rendered(mix_report([point(date(2026, 11, 2), {"other": 50, "refund": 10})]))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]  # type: ignore[union-attr]
    assert labels == ["refund", OUT_OF_SCOPE_NAME]


# -- a partial week ---------------------------------------------------------------------------------------

def test_partial_weeks_are_hatched_lighter_and_labelled() -> None:
    weeks = [date(2026, 11, 2) + timedelta(weeks=i) for i in range(3)]
    fig = rendered(mix_report([point(weeks[0], {"refund": 4}, partial=True), point(weeks[1], {"refund": 30}),
                               point(weeks[2], {"refund": 9}, partial=True)]))
    intent, sentiment = fig.axes[:2]
    drawn = bars(intent)[:3]
    assert [b.get_hatch() for b in drawn] == ["//", None, "//"]
    alphas = [b.get_alpha() for b in drawn]
    assert alphas[0] is not None and alphas[0] < 1 and alphas[1] is None
    ticks = [t.get_text() for t in sentiment.get_xticklabels()]
    assert ticks == ["11-02\npartial", "11-09", "11-16\npartial"]
    legend = intent.get_legend()
    assert legend is not None and "partial week" in [t.get_text() for t in legend.get_texts()]


def test_the_mix_report_says_which_weeks_and_days_the_period_covers_only_in_part(db: Database) -> None:
    with db.transaction() as session:
        b = Builder(session)
        b.ticket(channel="email", queue="billing", created=datetime(2026, 11, 5, 9, tzinfo=UTC), intent="refund")
        # Wednesday 4 November to Wednesday 18 November: two partial weeks around a whole one.
        wednesday = make_period(datetime(2026, 11, 4), datetime(2026, 11, 18))
        weeks = mix(session=session, period=wednesday, interval="week")
        # Monday to Monday: whole weeks only.
        whole = mix(session=session, period=make_period(datetime(2026, 11, 2), datetime(2026, 11, 16)),
                    interval="week")
        # Days: a period from 13:00 leaves its first and last day partial; in Berlin, midnight is 23:00 UTC.
        days = mix(session=session, period=make_period(datetime(2026, 11, 4, 13), datetime(2026, 11, 6, 13)),
                   interval="day")
        berlin = mix(session=session, period=make_period(datetime(2026, 11, 4), datetime(2026, 11, 6),
                                                         tz="Europe/Berlin"), interval="day")
    assert [(p.start, p.partial) for p in weeks.intent.points] == [
        (date(2026, 11, 2), True), (date(2026, 11, 9), False), (date(2026, 11, 16), True)]
    assert [p.partial for p in weeks.sentiment.points] == [True, False, True]
    assert [p.partial for p in whole.intent.points] == [False, False]
    assert [p.partial for p in days.intent.points] == [True, False, True]
    assert [p.partial for p in berlin.intent.points] == [False, False]
