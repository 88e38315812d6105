"""The chat widget in real headless Chromium: a customer on a shop's page chats, an agent answers on the desk.

The shop's page is served by its own server on another loopback port (another origin), holding only the one
script tag; Triage runs with its inbox worker, so the bot's acknowledgement comes from the real intake.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator

from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from tests.api.conftest import free_port
from tests.api.desk.browser import BROWSER_MARKS, chromium_browser, shot, sign_in_page, sqlite_database_url  # noqa: F401
from tests.api.desk.conftest import NADIA, seed
from tests.conftest import SAMPLES, HashingEncoder
from triage.config import ChatConfig
from triage.conversations.tables import Ticket
from triage.flows.tickets import reassign
from triage.knowledge.index import knowledge_index
from triage.knowledge.service import import_path
from triage.runtime import Triage

LIVE = 30_000  # ms: the worker loads its models on the first message

pytestmark = BROWSER_MARKS


@contextlib.contextmanager
def shop_site(triage_base: str) -> Iterator[str]:
    """A customer's web shop on its own loopback port: one page that embeds the widget with one script tag."""
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Larkspur Home shop</title>'
            f'<script src="{triage_base}/widget.js" async></script></head>'
            f'<body><h1>Larkspur Home</h1><p>Lamps, rugs and more.</p></body></html>').encode()

    class Shop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_a_customer_chats_in_the_widget_and_hears_the_agents_reply_live(
        rt: Triage, browser: object, live_server: Callable[[FastAPI], Iterator[str]]) -> None:
    from playwright.sync_api import expect

    index = knowledge_index(rt.settings, encoder=HashingEncoder(dim=4096))
    with rt.db.transaction() as session:
        import_path(SAMPLES / "kb", session=session, index=index)
    seed(rt)
    with contextlib.contextmanager(live_server)(create_app(rt, run_worker=True)) as base:
        with shop_site(base) as shop:
            rt.config.chat = ChatConfig(allowed_origins=[shop])
            customer = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
            desk = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
            try:
                page = customer.new_page()
                page.goto(shop)
                page.get_by_role("button", name="Chat with us").click()
                chat = page.frame_locator("#triage-chat-frame")
                expect(chat.get_by_role("button", name="Send")).to_be_enabled()  # its script listens
                chat.get_by_label("Your name").fill("Maria Jensen")
                chat.get_by_label("Your message").fill("Hello, my order LH-104233 has not arrived. Where is it?")
                chat.get_by_label("Your message").press("Enter")
                mine = chat.locator("li.customer:not(.pending)")
                expect(mine).to_contain_text("LH-104233", timeout=LIVE)  # stored by the worker, streamed back
                bot = chat.locator("li.bot")
                expect(bot).to_have_count(1, timeout=LIVE)  # the bot's acknowledgement, from the intake
                expect(bot).to_contain_text("Automatic answer")
                expect(chat.locator("#about-you")).to_be_hidden()
                shot(page, "widget-acknowledged")

                with rt.db.transaction() as session:
                    ticket_id = session.scalars(select(Ticket.id).where(Ticket.channel == "chat")).one()
                    ticket = session.get(Ticket, ticket_id)
                    assert ticket is not None and ticket.assignee is not None  # routed like any chat
                    if ticket.assignee.email != NADIA:  # the agent who signs in below
                        reassign(ticket_id, NADIA, session=session, reason="she answers this chat", actor="test",
                                 force=True)

                # The agent answers from the desk's ticket page, in another browser.
                agent = desk.new_page()
                sign_in_page(agent, base, "nadia", at=f"/login?next=/tickets/{ticket_id}")
                agent.wait_for_url(f"{base}/tickets/{ticket_id}")
                assert "LH-104233" in agent.locator(".conversation").inner_text()
                reply = "Hello Maria, your parcel LH-104233 is with the courier and arrives tomorrow."
                agent.get_by_label("Reply", exact=False).fill(reply)
                agent.get_by_role("button", name="Send reply").click()
                agent.wait_for_url(f"{base}/tickets/{ticket_id}?sent=*")
                shot(agent, "widget-desk-reply")

                # It reaches the open widget without a reload.
                answer = chat.locator("li.agent")
                expect(answer).to_contain_text("arrives tomorrow", timeout=LIVE)
                expect(answer).to_contain_text("Nadia")
                shot(page, "widget-agent-reply")

                # A reload keeps the conversation: the chat reopens with the whole transcript.
                page.reload()
                chat = page.frame_locator("#triage-chat-frame")
                expect(chat.locator("li.agent")).to_contain_text("arrives tomorrow", timeout=LIVE)
                roles = chat.locator("#messages li").evaluate_all("items => items.map(li => li.className)")
                assert roles == ["customer", "bot", "agent"]
                expect(chat.locator("#about-you")).to_be_hidden()
            finally:
                customer.close()
                desk.close()
