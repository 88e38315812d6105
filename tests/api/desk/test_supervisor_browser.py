"""A supervisor reads the report charts in the page, in real headless Chromium (Debian's /usr/bin/chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.desk.conftest import PASSWORD, Seeded

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "desk"
LOADED = "n => { const i = document.querySelectorAll('.chart img');" \
         " return i.length === n && Array.from(i).every(x => x.complete && x.naturalWidth > 0); }"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(.ci/run installs it with apt-get)"),
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'triage.db'}"  # the storage paths run on both databases over HTTP


@pytest.fixture
def page(desk_server: tuple[str, Seeded]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield browser.new_page(viewport={"width": 1280, "height": 800})
        browser.close()


def test_supervisor_reads_the_report_charts_and_changes_the_period(desk_server: tuple[str, Seeded],
                                                                   page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, _ = desk_server
    page.goto(f"{base}/supervisor")
    page.get_by_label("Name").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/supervisor")
    page.wait_for_function(LOADED, arg=5)  # every chart arrived as a decodable PNG
    page.get_by_text("Response times by agent: the numbers").click()
    expect(page.locator("#chart-response-times table")).to_contain_text("Nadia Brooks")

    page.get_by_label("Period").select_option("30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/supervisor?days=30*")
    page.wait_for_function(LOADED, arg=5)
    assert page.locator("#chart-mix img").get_attribute("src") == "/supervisor/charts/mix.png?days=30&tz=UTC"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "supervisor-reports.png"), full_page=True)
