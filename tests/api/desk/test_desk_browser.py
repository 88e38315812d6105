"""The desk in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), over a real socket.

Screenshots of each page go to var/test-artifacts/desk/ (git-ignored) for people to look at.
"""

from __future__ import annotations

from sqlalchemy import select

from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page, sqlite_database_url  # noqa: F401
from tests.api.desk.conftest import Seeded
from triage.conversations.tables import Ticket
from triage.flows.tickets import reassign
from triage.knowledge.tables import SuggestionFeedback
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.users.auth import MAX_FAILURES

pytestmark = BROWSER_MARKS


def test_agent_edits_the_draft_of_the_oldest_ticket_and_sends_it(rt: Triage, browser: object,
                                                                 desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(f"{base}/login")
        shot(page, "login")
        sign_in_page(page, base, "nadia")
        page.wait_for_url(f"{base}/")
        rows = page.locator("table.queue tbody tr")
        assert rows.count() == 2
        shot(page, "my-queue")
        # The first row is the ticket whose SLA clock runs out first; the keyboard reaches it (j, then Enter).
        page.keyboard.press("j")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/tickets/{seeded.oldest}")
        assert "LH-104233" in page.locator(".conversation").inner_text()
        draft = page.get_by_label("Reply", exact=False).input_value()
        assert "Maria" in draft and "LH-104233" in draft  # the draft names the customer and her order
        shot(page, "ticket")

        edited = draft.replace("Maria", "Maria Jensen", 1) + "\nI will keep an eye on it for you."
        page.get_by_label("Reply", exact=False).fill(edited)
        page.get_by_role("button", name="Send reply").click()
        page.wait_for_url(f"{base}/tickets/{seeded.oldest}?*")
        assert "recorded as edited" in page.locator("p.notice:not(.live-notice)").inner_text()
        assert "I will keep an eye on it for you." in page.locator(".conversation").inner_text()
        shot(page, "ticket-sent")
    finally:
        context.close()
    with rt.db.session() as session:
        queued = session.scalars(select(OutboxItem)).one()
        assert queued.ticket_id == seeded.oldest and queued.recipient == "maria.jensen@example.com"
        assert b"keep an eye on it" in queued.raw
        feedback = session.scalars(select(SuggestionFeedback)).one()
        assert feedback.action == "edited" and feedback.final_text == edited
        assert feedback.actor == "nadia.brooks@larkspur.example" and (feedback.edit_distance or 0) > 0


def test_other_team_csrf_and_rate_limit_in_the_browser(rt: Triage, browser: object,
                                                      desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "nadia")
        page.wait_for_url(f"{base}/")
        response = page.goto(f"{base}/tickets/{seeded.billing}")
        assert response is not None and response.status == 404
        assert "Charged twice" not in page.content()
        shot(page, "other-team-404")

        # A form without its CSRF token (as a forged cross-site post would be) is refused and sends nothing.
        page.goto(f"{base}/tickets/{seeded.oldest}")
        page.evaluate("document.querySelector('form.reply input[name=csrf]').remove()")
        with page.expect_response(f"{base}/tickets/{seeded.oldest}/reply") as posted:
            page.get_by_label("Reply", exact=False).press("Control+Enter")  # the send shortcut
        assert posted.value.status == 403
        assert "security token" in page.get_by_role("alert").inner_text()
        shot(page, "csrf-refused")
    finally:
        context.close()

    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        for _ in range(MAX_FAILURES):
            sign_in_page(page, base, "omar", "not the password")
            assert "do not match" in page.get_by_role("alert").inner_text()
        sign_in_page(page, base, "omar")  # right password, but the account is locked from this address
        assert "Too many failed sign-ins" in page.get_by_role("alert").inner_text()
        assert page.url.startswith(f"{base}/login")
        shot(page, "login-rate-limited")
    finally:
        context.close()
    with rt.db.session() as session:
        assert session.scalars(select(OutboxItem)).all() == []


def test_a_ticket_assigned_to_me_is_announced_live(rt: Triage, browser: object,
                                                   desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "nadia")
        page.wait_for_url(f"{base}/")
        with page.expect_response(f"{base}/events"):
            pass  # the page's event stream is open before the supervisor acts
        assert page.locator(".live-notice").count() == 0
        with rt.db.transaction() as session:
            reassign(seeded.billing, "nadia.brooks@larkspur.example", session=session, reason="covering for Omar",
                     actor="supervisor", force=True)
        notice = page.locator(".live-notice")
        notice.wait_for(timeout=20_000)
        assert f"#{seeded.billing} Charged twice" in notice.inner_text()
        shot(page, "live-notice")
        notice.get_by_role("link").click()
        page.wait_for_url(f"{base}/tickets/{seeded.billing}")
        assert "charged twice" in page.locator(".conversation").inner_text()  # hers now, so she may open it
    finally:
        context.close()


def test_supervisor_sees_live_queues_and_reassigns(rt: Triage, browser: object,
                                                   desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "boss")
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name="Supervisor").click()
        page.wait_for_url(f"{base}/supervisor")
        loads = {row.locator("td").first.inner_text(): row.locator("td").nth(1).inner_text()
                 for row in page.locator("table.loads tbody tr").all()}
        assert loads == {"customer-care": "2", "billing": "1", "technical": "0"}
        assert "Chloe Martin" in page.locator("table.agents").inner_text()  # names, not email addresses
        shot(page, "supervisor")
        page.get_by_label("Ticket", exact=True).select_option(str(seeded.newer))
        page.get_by_label("To", exact=True).select_option("chloe.martin@larkspur.example")
        page.get_by_label("Reason", exact=False).fill("Chloe knows the lamp returns")
        page.get_by_label("Even above capacity", exact=False).check()
        page.get_by_role("button", name="Reassign").click()
        page.wait_for_url(f"{base}/supervisor?moved={seeded.newer}")
        assert f"Ticket #{seeded.newer} reassigned." in page.locator("p.notice:not(.live-notice)").inner_text()
    finally:
        context.close()
    with rt.db.session() as session:
        ticket = session.get(Ticket, seeded.newer)
        assert ticket is not None and ticket.assignee is not None
        assert ticket.assignee.email == "chloe.martin@larkspur.example"
        last = ticket.assignments[-1]
        assert "Chloe knows the lamp returns" in last.reason and last.actor == "boss"


def test_pages_fit_a_phone(rt: Triage, browser: object, desk_server: tuple[str, Seeded]) -> None:
    """Readable on a phone (issue 16): at 390 px wide no desk page scrolls sideways; wide tables scroll inside."""
    base, seeded = desk_server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "nadia")
        page.wait_for_url(f"{base}/")
        for path, name in (("/", "phone-my-queue"), (f"/tickets/{seeded.oldest}", "phone-ticket"),
                           ("/search?q=order", "phone-search")):
            page.goto(f"{base}{path}")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            shot(page, name)
            assert overflow <= 1, f"{path} is {overflow} px wider than the phone"
    finally:
        context.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        sign_in_page(page, base, "boss", at="/supervisor")
        page.wait_for_url(f"{base}/supervisor")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        shot(page, "phone-supervisor")
        assert overflow <= 1, f"/supervisor is {overflow} px wider than the phone"
    finally:
        context.close()
