"""The reports as charts in the supervisor view, over HTTP: who may see them, the PNGs, the tables and the period."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.desk import supervisor_charts
from tests.api.desk.conftest import Seeded, sign_in
from triage.db import utcnow
from triage.reports.periods import Period

PNG = b"\x89PNG\r\n\x1a\n"
CHARTS = ("response-times", "sla", "volume", "backlog", "mix")


def _images(page: str) -> list[str]:
    return [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', page)]


def test_only_supervisors_get_the_charts(desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        anonymous = client.get("/supervisor/charts/sla.png")
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")
        assert sign_in(client, "nadia").status_code == 303
        for name in CHARTS:
            denied = client.get(f"/supervisor/charts/{name}.png")
            assert denied.status_code == 403 and not denied.content.startswith(PNG)
        assert client.get("/supervisor?days=7").status_code == 403


def test_a_supervisor_sees_every_chart_with_its_numbers(desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "boss").status_code == 303
        page = client.get("/supervisor")
        assert page.status_code == 200
        images = _images(page.text)
        assert images == [f"/supervisor/charts/{name}.png?days=7&tz=UTC" for name in CHARTS]
        for src in images:
            chart = client.get(src)
            assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
            assert chart.content.startswith(PNG) and chart.headers["cache-control"] == "private, max-age=60"
        # The numbers under each chart: one <details> per chart, agents by name, the seeded tickets counted.
        assert page.text.count("<details>") == len(CHARTS)
        tables = page.text[page.text.index('id="sv-charts-title"'):]
        assert "Nadia Brooks" in tables and "nadia.brooks@larkspur.example</th>" not in tables
        assert re.search(r'<th scope="row">customer-care</th><td>(\d+)</td>', tables)
        assert '<label for="period-days">' in page.text and 'name="since"' in page.text
        assert client.get("/supervisor/charts/speed.png").status_code == 422  # no such chart


def test_an_empty_period_renders_and_a_bad_one_says_what_to_fix(desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "boss").status_code == 303
        empty = client.get("/supervisor", params={"since": "2020-01-06", "until": "2020-01-12", "tz": "UTC"})
        assert empty.status_code == 200
        images = _images(empty.text)
        assert images[0] == "/supervisor/charts/response-times.png?since=2020-01-06&until=2020-01-12&tz=UTC"
        assert '<th scope="row">(all)</th><td>0</td><td>0</td>' in empty.text  # response times: none created
        assert 'value="2020-01-06"' in empty.text  # the form keeps what was asked
        for src in images:
            chart = client.get(src)
            assert chart.status_code == 200 and chart.content.startswith(PNG)

        bad = client.get("/supervisor", params={"days": "5"})
        assert bad.status_code == 200 and "days: choose one of 1, 7, 30, 90" in bad.text
        assert _images(bad.text) == [] and "Live queues" in bad.text  # the live part still shows
        reversed_dates = client.get("/supervisor", params={"since": "2026-02-10", "until": "2026-02-01"})
        assert "must be before until" in html.unescape(reversed_dates.text)
        assert client.get("/supervisor", params={"since": "yesterday"}).text.count("is not a date") == 1
        refused = client.get("/supervisor/charts/sla.png", params={"tz": "Mars/Base"})
        assert refused.status_code == 400 and "Mars/Base" in html.unescape(refused.text)


def test_the_page_and_its_images_build_each_report_once_a_minute(desk_server: tuple[str, Seeded],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base, _ = desk_server
    built: list[str] = []
    real = supervisor_charts.build

    def counting(name: str, period: Period, *, session: Session) -> BaseModel:
        built.append(name)
        return real(name, period, session=session)

    moment = utcnow()  # one minute for the whole test: "the last 7 days" ends at the same instant each time
    monkeypatch.setattr(supervisor_charts, "build", counting)
    monkeypatch.setattr(supervisor_charts, "utcnow", lambda: moment)
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "boss").status_code == 303
        page = client.get("/supervisor")
        for src in _images(page.text):
            assert client.get(src).status_code == 200
        assert client.get("/supervisor").status_code == 200  # the 30-second reload
        assert built == list(CHARTS)  # the tables and the five images shared one computation
        assert client.get("/supervisor/charts/sla.png", params={"days": "30"}).status_code == 200
        assert built == [*CHARTS, "sla"]  # another period is another report


def test_the_period_form_reads_dates_inclusively_and_ends_now_at_the_minute() -> None:
    now = datetime(2026, 11, 18, 10, 15, 42, tzinfo=UTC)
    zones = ["UTC", "Europe/Berlin"]
    choose = supervisor_charts.choose_period
    _, last = choose(supervisor_charts.PeriodChoice(days=7), allowed_zones=zones, now=now)
    assert last is not None and (last.since, last.until) == (datetime(2026, 11, 11, 10, 15, tzinfo=UTC),
                                                             datetime(2026, 11, 18, 10, 15, tzinfo=UTC))
    _, dates = choose(supervisor_charts.PeriodChoice(since="2026-11-02", until="2026-11-08", tz="Europe/Berlin"),
                      allowed_zones=zones, now=now)
    assert dates is not None and (dates.since, dates.until) == (datetime(2026, 11, 1, 23, tzinfo=UTC),
                                                                datetime(2026, 11, 8, 23, tzinfo=UTC))
    _, open_ended = choose(supervisor_charts.PeriodChoice(since="2026-11-02"), allowed_zones=zones, now=now)
    assert open_ended is not None and open_ended.until == datetime(2026, 11, 18, 10, 15, tzinfo=UTC)
    for choice, message in [(supervisor_charts.PeriodChoice(tz="Mars/Base"), "time zone 'Mars/Base'"),
                            (supervisor_charts.PeriodChoice(until="2026-11-08"), "give a start date"),
                            (supervisor_charts.PeriodChoice(days=3), "days: choose one of")]:
        checked, period = choose(choice, allowed_zones=zones, now=now)
        assert period is None and checked.error is not None and message in checked.error
