"""The desk over HTTP on a real socket: sign-in, cookies, CSRF, rate limit, queues, visibility and sending."""

from __future__ import annotations

import html

import httpx
from sqlalchemy import select

from api.desk.routes import draft_verdict
from tests.api.desk.conftest import PASSWORD, Seeded, hidden, sign_in
from triage.conversations.tables import Message, Ticket
from triage.knowledge.tables import Suggestion, SuggestionFeedback
from triage.outbox.tables import OutboxItem
from triage.runtime import Triage
from triage.users.auth import MAX_FAILURES


def test_pages_need_a_session_and_login_sets_a_safe_cookie(desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        bounced = client.get(f"/tickets/{seeded.oldest}")
        assert bounced.status_code == 303 and bounced.headers["location"] == f"/login?next=/tickets/{seeded.oldest}"
        assert client.get("/api/v1/tickets").status_code == 401  # the API still wants a key

        wrong = sign_in(client, "nadia", "not her password")
        assert wrong.status_code == 401 and "do not match" in wrong.text
        signed = sign_in(client, "nadia")
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("triage_session="))
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain http here

        queue = client.get("/")
        assert queue.status_code == 200 and queue.headers["cache-control"] == "no-store"
        # Sorted by the SLA clock: the ticket written two hours ago is due before the one written 20 minutes ago.
        assert queue.text.index(f"#{seeded.oldest} ") < queue.text.index(f"#{seeded.newer} ")
        assert f"#{seeded.billing} " not in queue.text
        assert "order_status" in queue.text and "91%" in queue.text and "negative" in queue.text

        team = client.get("/queues/customer-care")
        assert team.status_code == 200 and f"#{seeded.oldest} " in team.text
        assert client.get("/queues/billing").status_code == 404  # not Nadia's team
        assert client.get("/supervisor").status_code == 403 and "/supervisor" not in queue.text

        logout_form = hidden(queue.text, "csrf")
        assert client.post("/logout", data={}).status_code == 403  # no CSRF token, no logout
        assert client.post("/logout", data={"csrf": logout_form}).status_code == 303
        assert client.get("/").status_code == 303


def test_secure_cookie_behind_tls_proxy(desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1, as from a TLS-terminating proxy on the same host.
    with httpx.Client(base_url=base, timeout=60, headers={"X-Forwarded-Proto": "https"}) as client:
        form = client.get("/login")
        assert "Secure" in form.headers["set-cookie"]
        # A Secure cookie is not sent back over plain http, so hand it over as the proxy's client would.
        signed = client.post("/login", data={"name": "nadia", "password": PASSWORD,
                                             "csrf": hidden(form.text, "csrf")},
                             headers={"Cookie": f"triage_login_csrf={form.cookies['triage_login_csrf']}"})
        assert signed.status_code == 303
        cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith("triage_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_login_form_needs_its_csrf_token_and_the_rate_limit_holds(desk_server: tuple[str, Seeded]) -> None:
    base, _ = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/login")
        forged = client.post("/login", data={"name": "nadia", "password": PASSWORD, "csrf": "made-up"})
        assert forged.status_code == 403 and "triage_session" not in forged.headers.get("set-cookie", "")
        for _ in range(MAX_FAILURES):
            assert sign_in(client, "nadia", "a wrong guess").status_code == 401
        locked = sign_in(client, "nadia")  # the right password, too late
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert "triage_session" not in locked.headers.get("set-cookie", "")
        assert sign_in(client, "omar").status_code == 303  # another account from the same address is not locked


def test_other_teams_ticket_is_not_found_and_reply_needs_csrf(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with rt.db.transaction() as session:  # customers write what they like: the page must show it as text
        session.add(Message(ticket_id=seeded.oldest, direction="in", author_kind="customer", author="m@example.com",
                            dedup_key="test:xss", text="<script>alert(1)</script> still waiting",
                            full_text="<script>alert(1)</script> still waiting"))
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        hidden_ticket = client.get(f"/tickets/{seeded.billing}")
        assert hidden_ticket.status_code == 404 and "Charged twice" not in hidden_ticket.text
        page = client.get(f"/tickets/{seeded.oldest}")
        assert page.status_code == 200 and "LH-104233" in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; still waiting" in page.text and "<script>alert" not in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self': no inline script
        suggestion = hidden(page.text, "suggestion_id")
        refused = client.post(f"/tickets/{seeded.oldest}/reply", data={"text": "Hello", "suggestion_id": suggestion})
        assert refused.status_code == 403
        cross = client.post(f"/tickets/{seeded.billing}/reply",
                            data={"text": "Hello", "csrf": hidden(page.text, "csrf")})
        assert cross.status_code == 404
    with rt.db.session() as session:
        assert session.scalars(select(OutboxItem)).all() == []


def test_sending_the_draft_unchanged_records_used(rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        page = client.get(f"/tickets/{seeded.newer}")
        draft = page.text.split('name="text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
        assert draft.strip()
        sent = client.post(f"/tickets/{seeded.newer}/reply", data={
            "csrf": hidden(page.text, "csrf"), "suggestion_id": hidden(page.text, "suggestion_id"),
            "text": html.unescape(draft).replace("\n", "\r\n"), "status": "pending"})
        assert sent.status_code == 303 and "feedback=used" in sent.headers["location"]
        assert "recorded as used" in client.get(sent.headers["location"]).text
    with rt.db.session() as session:
        row = session.scalars(select(SuggestionFeedback)).one()
        assert (row.action, row.actor, row.ticket_id) == ("used", "nadia.brooks@larkspur.example", seeded.newer)
        queued = session.scalars(select(OutboxItem)).one()
        assert queued.recipient == "liam@example.com" and queued.ticket_id == seeded.newer
        stored = session.get(Ticket, seeded.newer)
        assert stored is not None and stored.status == "pending"
        assert stored.messages[-1].text == html.unescape(draft)  # CRLF from the browser stored as LF


def test_reloading_a_ticket_shows_the_same_suggestion_until_the_ticket_changes(
        rt: Triage, desk_server: tuple[str, Seeded]) -> None:
    base, seeded = desk_server
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, "nadia").status_code == 303
        first = hidden(client.get(f"/tickets/{seeded.oldest}").text, "suggestion_id")
        again = client.get(f"/tickets/{seeded.oldest}").text
        assert hidden(again, "suggestion_id") == first  # a reload stores nothing and keeps the draft being read
        with rt.db.transaction() as session:  # the customer writes again: the suggestion is made anew
            session.add(Message(ticket_id=seeded.oldest, direction="in", author_kind="customer",
                                author="maria.jensen@example.com", dedup_key="test:again",
                                text="Any news? It still has not arrived.", full_text="Any news?"))
        after = hidden(client.get(f"/tickets/{seeded.oldest}").text, "suggestion_id")
        assert after != first
    with rt.db.session() as session:
        assert len(session.scalars(select(Suggestion).where(Suggestion.ticket_id == seeded.oldest)).all()) == 2


def test_draft_verdict_reads_what_was_sent() -> None:
    draft = "Hello Maria, your order LH-104233 left our warehouse today and should arrive on Friday."
    assert draft_verdict(draft, draft.replace(" ", "\n ", 2)) == "used"  # only line breaks differ
    assert draft_verdict(draft, draft.replace("Friday", "Thursday")) == "edited"
    assert draft_verdict(draft, "Sorry, we are looking into it and will write again tomorrow.") == "rejected"
