"""The ticket page's actions in real headless Chromium: search, a note, relabel, pending, and the live notice
that the customer wrote, from an email the worker really ingests (Debian's /usr/bin/chromium via Playwright).

Screenshots go to var/test-artifacts/desk/ beside test_desk_browser.py's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from mail.parse import email_dedup_key
from tests.api.desk.conftest import NADIA, PASSWORD, Seeded
from tests.conftest import build_email
from triage.conversations.service import NOTE
from triage.conversations.tables import Message, Ticket
from triage.feedback.tables import LabelFeedback
from triage.inbox.service import enqueue
from triage.runtime import Triage

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "test-artifacts" / "desk"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(.ci/run installs it with apt-get)"),
]


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # One database: test_ticket_actions.py runs these paths on SQLite and PostgreSQL over HTTP.
    return f"sqlite:///{tmp_path / 'triage.db'}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_agent_searches_notes_relabels_parks_and_hears_the_customer(rt: Triage, browser: object,
                                                                     desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    ticket_url = f"{base}/tickets/{seeded.oldest}"
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(f"{base}/")
        page.get_by_label("Name").fill("nadia")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")

        # The order number the customer wrote finds her ticket; the other team's ticket never shows.
        page.get_by_label("Search all the tickets you can open").fill("LH-104233")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/search?q=LH-104233")
        results = page.locator("table.queue tbody tr")
        assert results.count() == 1 and "Maria Jensen" in results.inner_text()
        _shot(page, "search")
        results.get_by_role("link").click()
        page.wait_for_url(ticket_url)

        page.get_by_label("Internal note", exact=False).fill("Carrier says the parcel is held at the depot.")
        page.get_by_role("button", name="Add note").click()
        page.wait_for_url(f"{ticket_url}?done=note")
        note = page.locator("article.message.note")
        assert "held at the depot" in note.inner_text() and "never sent to the customer" in note.inner_text()

        page.get_by_label("Relabel the intent", exact=False).select_option("delivery_problem")
        page.get_by_role("button", name="Relabel").click()
        page.wait_for_url(f"{ticket_url}?done=relabelled")
        assert "delivery_problem" in page.locator("section[aria-label=Classification] dd").first.inner_text()

        page.get_by_label("Status (now open)").select_option("pending")
        with page.expect_response(f"{base}/events"):  # the reloaded page's event stream is open
            page.get_by_role("button", name="Set status").click()
        page.wait_for_url(f"{ticket_url}?done=status")
        assert "Paused since" in page.locator("section[aria-label=SLA]").inner_text()
        assert page.locator(".live-notice").count() == 0
        _shot(page, "ticket-actions")

        # The customer answers by mail; the worker ingests it onto her ticket (threaded by the [#id] token).
        raw = build_email(subject=f"Re: Where is my order? [#{seeded.oldest}]", message_id="<again@mail.example.com>",
                          body="Hello again, the tracking still shows nothing. Can you check?")
        with rt.db.transaction() as session:
            enqueue(session=session, kind="email", source="smtp", payload=raw, dedup_key=email_dedup_key(raw))
        outcomes = rt.worker("desk-test").drain()
        assert [o.status for o in outcomes] == ["done"]
        notice = page.locator(".live-notice.wrote")
        notice.wait_for(timeout=30_000)
        assert f"Customer wrote on #{seeded.oldest} Where is my order?" in notice.inner_text()
        _shot(page, "live-customer-wrote")
        notice.get_by_role("link").click()
        page.wait_for_url(ticket_url)
        assert "the tracking still shows nothing" in page.locator(".conversation").inner_text()
    finally:
        context.close()
    with rt.db.session() as session:
        ticket = session.get(Ticket, seeded.oldest)
        assert ticket is not None and ticket.intent == "delivery_problem"
        assert ticket.status == "open"  # the customer's message reopened the pending ticket, as intake does
        notes = session.scalars(select(Message).where(Message.ticket_id == ticket.id, Message.author_kind == NOTE))
        assert [n.author for n in notes] == [NADIA]
        assert session.scalars(select(LabelFeedback.label)).all() == ["delivery_problem"]
