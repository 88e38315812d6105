"""`triage report NAME` through the console script, and the PNG charts drawn for every report."""

from __future__ import annotations

import io
import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import run_triage
from triage.cli.reports import duration
from triage.config import Settings
from triage.conversations.tables import Customer, Message, Ticket
from triage.db import Database
from triage.reports.charts import render_png
from triage.reports.schemas import (
    Attainment,
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
    SlaReport,
    SlaRow,
    VolumeReport,
)

PERIOD = PeriodOut(since=datetime(2026, 11, 2, tzinfo=UTC), until=datetime(2026, 11, 9, tzinfo=UTC), timezone="UTC")
WEEK = [date(2026, 11, 2) + timedelta(days=i) for i in range(7)]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_triage(home, *args, timeout=300)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A SQLite home with three email tickets on Monday 2 November 2026, answered after 10m, 30m and never."""
    home = tmp_path / "home"
    db = Database(Settings(home=home, environment="test"))
    created = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with db.transaction() as session:
        for i, reply in enumerate([600, 1800, None]):
            customer = Customer(name=f"c{i}")
            session.add(customer)
            session.flush()
            ticket = Ticket(channel="email", queue="billing", customer_id=customer.id, created_at=created,
                            intent="refund", sentiment="negative")
            session.add(ticket)
            session.flush()
            session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key=f"i{i}",
                                sent_at=created))
            if reply is not None:
                session.add(Message(ticket_id=ticket.id, direction="out", author_kind="agent", dedup_key=f"o{i}",
                                    sent_at=created + timedelta(seconds=reply)))
    db.dispose()
    return home


def _png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    image.verify()  # a complete, uncorrupted PNG
    assert image.format == "PNG"
    return image.size


@pytest.mark.slow
def test_report_table_json_and_png(home: Path, tmp_path: Path) -> None:
    period = ("--since", "2026-11-02", "--until", "2026-11-03")
    table = _run(home, "report", "response-times", *period)
    assert table.returncode == 0, table.stderr
    assert "billing" in table.stdout and "20m 00s" in table.stdout  # mean of 10 and 30 minutes

    as_json = _run(home, "report", "response-times", *period, "--json", "--by", "channel")
    report = json.loads(as_json.stdout)
    assert report["rows"][0]["key"] == "email" and report["rows"][0]["first_response"]["median"] == 1200.0
    assert report["total"]["unanswered"] == 1

    chart = tmp_path / "volume.png"
    drawn = _run(home, "report", "volume", *period, "--tz", "Europe/Berlin", "--png", str(chart))
    assert drawn.returncode == 0, drawn.stderr
    assert f"chart written to {chart}" in drawn.stderr
    width, height = _png_size(chart.read_bytes())
    assert 600 <= width <= 2000 and 300 <= height <= 2000
    assert "Mon" in drawn.stdout and "total 3" in drawn.stdout

    for name in ("sla", "backlog", "mix"):
        proc = _run(home, "report", name, *period, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["period"]["since"] == "2026-11-02T00:00:00Z"
    empty = _run(home, "report", "mix", "--since", "2025-01-01", "--until", "2025-01-08", "--interval", "week")
    assert empty.returncode == 0 and "2024-12-30" in empty.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("report", "speed"), "report: 'speed' is not one of response-times, sla, volume, backlog, mix"),
    (("report", "sla", "--since", "last week"), "--since: 'last week' is not an ISO 8601"),
    (("report", "response-times", "--by", "planet"), "--by: 'planet' is not one of channel, queue, agent"),
    (("report", "volume", "--tz", "Mars/Base"), "unknown time zone 'Mars/Base'"),
    (("report", "volume", "--since", "2026-11-03", "--until", "2026-11-02"), "must be before until"),
])
def test_bad_input_is_one_line_and_exit_2(home: Path, args: tuple[str, ...], message: str) -> None:
    proc = _run(home, *args)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def _stats(*values: float) -> DurationStats:
    return DurationStats(count=len(values), mean=sum(values) / len(values), median=values[0], p90=values[-1])


def _reports(agents: int = 3) -> list:
    att = Attainment(met=3, missed=1, share=0.75)
    rows = [ResponseTimesRow(key=f"agent{i}@example.com", created=4, unanswered=1, first_response=_stats(60, 600),
                             resolution=_stats(3600, 7200)) for i in range(agents)]
    matrix = [[(d * 24 + h) % 5 for h in range(24)] for d in range(7)]
    series = MixSeries(labels=[f"intent{i}" for i in range(10)],
                       points=[MixPoint(start=day, total=10, counts={f"intent{i}": 1 for i in range(10)},
                                        shares={f"intent{i}": 0.1 for i in range(10)}) for day in WEEK])
    return [
        ResponseTimesReport(period=PERIOD, by="agent", exclude_pending=True, rows=rows, total=rows[0]),
        SlaReport(period=PERIOD, as_of=PERIOD.until, total=SlaRow(queue="(all)", priority="(all)", tickets=4,
                                                                  first_response=att, resolution=att),
                  rows=[SlaRow(queue="billing", priority="normal", tickets=4, first_response=att,
                               resolution=Attainment(no_target=4))]),
        VolumeReport(period=PERIOD, unit="tickets", matrix=matrix, total=sum(map(sum, matrix))),
        BacklogReport(period=PERIOD, as_of=PERIOD.until, age_buckets=["<1h", ">7d"], current_total=5,
                      daily=[BacklogDay(day=d, at=PERIOD.until, new=1, open=2, pending=1, total=4) for d in WEEK],
                      current=[BacklogQueue(queue="billing", ages={"<1h": 2, ">7d": 3}, total=5)]),
        MixReport(period=PERIOD, interval="day", total=70, intent=series, sentiment=series),
    ]


def _empty_reports() -> list:
    nothing = ResponseTimesRow(key="(all)", created=0, unanswered=0, first_response=DurationStats(count=0),
                               resolution=DurationStats(count=0))
    empty_series = MixSeries(labels=[], points=[MixPoint(start=d, total=0, counts={}, shares={}) for d in WEEK])
    return [
        ResponseTimesReport(period=PERIOD, by="queue", exclude_pending=True, rows=[], total=nothing),
        SlaReport(period=PERIOD, as_of=PERIOD.until, rows=[],
                  total=SlaRow(queue="(all)", priority="(all)", tickets=0, first_response=Attainment(),
                               resolution=Attainment())),
        VolumeReport(period=PERIOD, unit="messages", matrix=[[0] * 24 for _ in range(7)], total=0),
        BacklogReport(period=PERIOD, as_of=PERIOD.until, age_buckets=["<1h"], current=[], current_total=0,
                      daily=[BacklogDay(day=d, at=PERIOD.until, new=0, open=0, pending=0, total=0) for d in WEEK]),
        MixReport(period=PERIOD, interval="day", total=0, intent=empty_series, sentiment=empty_series),
    ]


@pytest.mark.parametrize("index", range(5))
def test_every_chart_is_a_png_with_data_and_without(index: int) -> None:
    full = render_png(_reports()[index])
    width, height = _png_size(full)
    assert 1000 <= width <= 1200 and 400 <= height <= 900
    colours = Image.open(io.BytesIO(full)).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # something was drawn, not a blank canvas
    empty = render_png(_empty_reports()[index])
    assert _png_size(empty) == (1100, 650)
    assert empty != full


def test_charts_grow_with_the_number_of_rows() -> None:
    _, few = _png_size(render_png(_reports(3)[0]))
    _, many = _png_size(render_png(_reports(40)[0]))
    assert few == 650 and many > few


@pytest.mark.parametrize(("seconds", "text"), [(None, "-"), (42.4, "42s"), (600, "10m 00s"), (3700, "1h 01m"),
                                                (90000, "1d 1h")])
def test_duration_cells(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text
