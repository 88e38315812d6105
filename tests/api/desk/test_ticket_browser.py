"""The ticket page's actions in real headless Chromium: search, a note, relabel, pending, and the live notice
that the customer wrote, from an email the worker really ingests (Debian's /usr/bin/chromium via Playwright).

Screenshots go to var/test-artifacts/desk/ beside test_desk_browser.py's.
"""

from __future__ import annotations

from sqlalchemy import select

from mail.parse import email_dedup_key
from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page, sqlite_database_url  # noqa: F401
from tests.api.desk.conftest import NADIA, Seeded
from tests.conftest import build_email
from triage.conversations.service import NOTE
from triage.conversations.tables import Message, Ticket
from triage.feedback.tables import LabelFeedback
from triage.inbox.service import enqueue
from triage.runtime import Triage

pytestmark = BROWSER_MARKS


def test_agent_searches_notes_relabels_parks_and_hears_the_customer(rt: Triage, browser: object,
                                                                     desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    ticket_url = f"{base}/tickets/{seeded.oldest}"
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "nadia")
        page.wait_for_url(f"{base}/")

        # The order number the customer wrote finds her ticket; the other team's ticket never shows.
        page.get_by_label("Search all the tickets you can open").fill("LH-104233")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/search?q=LH-104233")
        results = page.locator("table.queue tbody tr")
        assert results.count() == 1 and "Maria Jensen" in results.inner_text()
        shot(page, "search")
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
        shot(page, "ticket-actions")

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
        shot(page, "live-customer-wrote")
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
