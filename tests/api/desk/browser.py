"""What the desk's browser tests share: Debian's /usr/bin/chromium driven by Playwright, screenshots, signing in.

A browser test module sets ``pytestmark = BROWSER_MARKS`` and imports the fixtures it needs; pytest registers
them under their ``name=``, so ``chromium_browser`` is the ``browser`` fixture and ``sqlite_database_url``
overrides ``database_url`` in that module only (the HTTP tests beside keep both databases).
Screenshots go to var/test-artifacts/desk/ (git-ignored) for people to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.desk.conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "desk"

BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(.ci/run installs it with apt-get)"),
]


@pytest.fixture(scope="module", name="browser")
def chromium_browser() -> Iterator[object]:
    """Headless Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(name="database_url")
def sqlite_database_url(tmp_path: Path) -> str:
    # One database is enough in a browser: the pages' storage paths run on SQLite and PostgreSQL over HTTP
    # (test_desk_pages.py, test_ticket_actions.py, test_qa_desk.py, test_supervisor_charts.py, test_widget.py).
    return f"sqlite:///{tmp_path / 'triage.db'}"


def shot(page: object, name: str) -> None:
    """A full-page screenshot, ARTIFACTS/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_in_page(page: object, base: str, name: str, password: str = PASSWORD, at: str = "/") -> None:
    """Open base + at (a page that asks to sign in) and sign in there as name."""
    page.goto(f"{base}{at}")  # type: ignore[attr-defined]
    page.get_by_label("Name").fill(name)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
