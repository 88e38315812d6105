"""A supervisor reads the report charts in the page, in real headless Chromium (Debian's /usr/bin/chromium)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page, sqlite_database_url  # noqa: F401
from tests.api.desk.conftest import Seeded

LOADED = "n => { const i = document.querySelectorAll('.chart img');" \
         " return i.length === n && Array.from(i).every(x => x.complete && x.naturalWidth > 0); }"

pytestmark = BROWSER_MARKS


@pytest.fixture
def page(browser: object, desk_server: tuple[str, Seeded]) -> Iterator[object]:
    page = browser.new_page(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    yield page
    page.close()  # and the context new_page opened for it


def test_supervisor_reads_the_report_charts_and_changes_the_period(desk_server: tuple[str, Seeded],
                                                                   page: object) -> None:
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    base, _ = desk_server
    sign_in_page(page, base, "boss", at="/supervisor")
    page.wait_for_url(f"{base}/supervisor")
    page.wait_for_function(LOADED, arg=5)  # every chart arrived as a decodable PNG
    page.get_by_text("Response times by agent: the numbers").click()
    expect(page.locator("#chart-response-times table")).to_contain_text("Nadia Brooks")

    page.get_by_label("Period").select_option("30")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/supervisor?days=30*")
    page.wait_for_function(LOADED, arg=5)
    assert page.locator("#chart-mix img").get_attribute("src") == "/supervisor/charts/mix.png?days=30&tz=UTC"
    shot(page, "supervisor-reports")
