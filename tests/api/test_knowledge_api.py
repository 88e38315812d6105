"""Suggestions, feedback, knowledge-base search, import and article CRUD over HTTP (uvicorn on a loopback
socket), with the roles each route admits."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from tests.conftest import SAMPLES, HashingEncoder
from triage.conversations.tables import Customer, Message, Ticket
from triage.knowledge.index import knowledge_index
from triage.knowledge.service import import_path
from triage.knowledge.tables import KbArticle, SuggestionFeedback
from triage.runtime import Triage


@pytest.fixture
def hashing_encoder() -> HashingEncoder:
    # Wide enough that a made-up word's bucket is its own: the stand-in's "meaning" of a rare term then agrees
    # with BM25, as a real encoder's would, instead of colliding with some other article's words (the hybrid
    # weighs dense search at 0.8 by default).
    return HashingEncoder(dim=4096)


@pytest.fixture
def server(rt: Triage, hashing_encoder: HashingEncoder,
           live_server: Callable[[FastAPI], Iterator[str]]) -> Iterator[str]:
    index = knowledge_index(rt.settings, encoder=hashing_encoder)  # the app picks up this process-wide index
    with rt.db.transaction() as session:
        import_path(SAMPLES / "kb", session=session, index=index)
    yield from live_server(create_app(rt))


def _ticket(rt: Triage) -> int:
    text = "Hello, my order LH-104233 has not arrived and the tracking has not updated."
    with rt.db.transaction() as session:
        customer = Customer(name="Maria Jensen")
        session.add(customer)
        session.flush()
        ticket = Ticket(channel="email", subject="Where is my order?", customer_id=customer.id,
                        intent="order_status", sentiment="neutral", urgency="normal")
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", author="m@example.com",
                            dedup_key=f"test:{uuid.uuid4()}", subject=ticket.subject, text=text, full_text=text))
        return ticket.id


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


def test_suggestions_and_feedback_over_http(rt: Triage, server: str, api_key: Callable[..., str],
                                            auth: Callable[[str], dict[str, str]]) -> None:
    ticket_id = _ticket(rt)
    with httpx.Client(base_url=server, timeout=30, headers=auth(api_key(rt, "supervisor"))) as client:
        response = client.post(f"/api/v1/tickets/{ticket_id}/suggestions", json={"k": 2})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ticket_id"] == ticket_id and body["language"] == "en"
        assert "Maria" in body["draft"] and "LH-104233" in body["draft"]
        kb = [s for s in body["snippets"] if s["source"] == "knowledge_base"]
        assert len(kb) == 2 and all(s["id"].startswith("kb:") and s["why"] and s["title"] for s in kb)
        assert client.post(f"/api/v1/tickets/{ticket_id}/suggestions").status_code == 200  # body is optional

        url = f"/api/v1/tickets/{ticket_id}/suggestions/{body['suggestion_id']}/feedback"
        final = body["draft"].replace("Hello Maria,", "Hi Maria,")
        created = client.post(url, json={"action": "edited", "actor": "ana@larkspur.example", "final_text": final,
                                         "snippet_id": kb[0]["id"]})
        assert created.status_code == 201, created.text
        assert created.json()["edit_distance"] == 1 and created.json()["action"] == "edited"

        assert "no ticket #999999" in _problem(client.post("/api/v1/tickets/999999/suggestions"), 404)["detail"]
        _problem(client.post(f"/api/v1/tickets/{ticket_id}/suggestions/999999/feedback",
                             json={"action": "used", "actor": "ana"}), 404)
        for payload in ({"k": 0}, {"k": "many"}, {"unknown": 1}):
            _problem(client.post(f"/api/v1/tickets/{ticket_id}/suggestions", json=payload), 422)
        for payload in ({"action": "edited", "actor": "ana"}, {"action": "liked", "actor": "ana"},
                        {"action": "used", "actor": ""}):
            problem = _problem(client.post(url, json=payload), 422)
            assert problem["errors"] and problem["title"] == "Invalid request"
        _problem(client.post("/api/v1/tickets/abc/suggestions"), 422)

        results = client.get("/api/v1/kb/search", params={"q": "Rücksendung", "language": "de", "k": 3}).json()
        assert results and {r["language"] for r in results} == {"de"}
        _problem(client.get("/api/v1/kb/search", params={"q": ""}), 422)


# ---------------------------------------------------------------------------- roles


def _queued_ticket(rt: Triage, queue: str) -> int:
    ticket_id = _ticket(rt)
    with rt.db.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.queue = queue
    return ticket_id


def test_knowledge_routes_check_roles_and_queues(rt: Triage, server: str, api_key: Callable[..., str],
                                                 auth: Callable[[str], dict[str, str]]) -> None:
    mine, billing = _queued_ticket(rt, "customer-care"), _queued_ticket(rt, "billing")
    keys = {role: auth(api_key(rt, role)) for role in ("qa", "supervisor", "data_scientist", "integration")}
    keys["agent"] = auth(api_key(rt, "agent", "nadia.brooks@larkspur.example"))  # customer-care only
    with httpx.Client(base_url=server, timeout=30) as client:
        suggested = client.post(f"/api/v1/tickets/{mine}/suggestions", headers=keys["agent"])
        assert suggested.status_code == 200, suggested.text
        feedback = f"/api/v1/tickets/{mine}/suggestions/{suggested.json()['suggestion_id']}/feedback"
        for _ in range(2):  # a retried request stores one verdict
            assert client.post(feedback, json={"action": "used", "actor": "somebody-else"},
                               headers=keys["agent"]).status_code == 201
        with rt.db.session() as session:  # recorded for the key's agent, not the body's claim
            assert list(session.scalars(select(SuggestionFeedback.actor))) == ["nadia.brooks@larkspur.example"]
        # Another queue's ticket does not exist for this agent, whatever the route.
        assert _problem(client.post(f"/api/v1/tickets/{billing}/suggestions", headers=keys["agent"]),
                        404)["detail"] == f"no ticket #{billing}"
        _problem(client.post(f"/api/v1/tickets/{billing}/suggestions/1/feedback", headers=keys["agent"],
                             json={"action": "used", "actor": "nadia"}), 404)
        assert client.post(f"/api/v1/tickets/{billing}/suggestions", headers=keys["supervisor"]).status_code == 200
        for role in ("qa", "data_scientist", "integration"):
            _problem(client.post(f"/api/v1/tickets/{mine}/suggestions", headers=keys[role]), 403)
        _problem(client.post(f"/api/v1/tickets/{mine}/suggestions"), 401)

        for role in ("agent", "qa", "supervisor", "data_scientist"):
            assert client.get("/api/v1/kb/search", params={"q": "refund"}, headers=keys[role]).status_code == 200
        _problem(client.get("/api/v1/kb/search", params={"q": "refund"}, headers=keys["integration"]), 403)
        _problem(client.get("/api/v1/kb/search", params={"q": "refund"}), 401)

        for role in ("agent", "qa", "integration"):
            _problem(client.get("/api/v1/kb/articles", headers=keys[role]), 403)
            _problem(client.post("/api/v1/kb/import", headers=keys[role],
                                 files={"files": ("a.md", b"# A\n\nText.\n", "text/markdown")}), 403)
            _problem(client.delete("/api/v1/kb/articles/cancel-an-order", headers=keys[role]), 403)
        for role in ("supervisor", "data_scientist"):
            assert client.get("/api/v1/kb/articles", headers=keys[role]).status_code == 200


# ---------------------------------------------------------------------------- import and articles

_EXTRA_MD = b"""---
title: Gift vouchers
tags: [vouchers]
intents: [payment_issue]
language: en
---
## Redeeming a voucher

Enter the voucher code at checkout in the field marked "Gift voucher". Vouchers are valid for two years.

## Lost vouchers

Write to us with the order number the voucher was bought with and we will send the code again.
"""
_EXTRA_CSV = (b"id,title,body,language,product\n"
              b"warranty-claims,Warranty claims,Send a photo of the fault and your order number.,en,\n"
              b"garantie,Garantie,Schicken Sie uns ein Foto des Fehlers und Ihre Bestellnummer.,de,\n"
              b"broken-row,Broken,This record has a bad language.,english,\n")


def test_kb_import_upload_and_article_crud(rt: Triage, server: str, hashing_encoder: HashingEncoder,
                                           api_key: Callable[..., str],
                                           auth: Callable[[str], dict[str, str]]) -> None:
    index = knowledge_index(rt.settings, encoder=hashing_encoder)
    editor, scientist = auth(api_key(rt, "supervisor")), auth(api_key(rt, "data_scientist"))
    uploads = [("files", ("vouchers.md", _EXTRA_MD, "text/markdown")),
               ("files", ("more.csv", _EXTRA_CSV, "text/csv"))]
    with httpx.Client(base_url=server, timeout=30, headers=editor) as client:
        first = client.post("/api/v1/kb/import", files=uploads, data={"source": "extra"})
        assert first.status_code == 200, first.text
        report = first.json()
        assert (report["files"], report["added"], report["updated"]) == (2, 3, 0)
        [rejected] = report["rejected"]
        assert rejected.startswith("more.csv:4: language") and "kb-upload" not in rejected
        again = client.post("/api/v1/kb/import", files=uploads, data={"source": "extra"}).json()
        assert (again["unchanged"], again["chunks_embedded"]) == (3, 0), "unchanged articles are not embedded again"
        pruned = client.post("/api/v1/kb/import", data={"source": "extra", "prune": "true"},
                             files=[("files", ("vouchers.md", _EXTRA_MD, "text/markdown"))]).json()
        assert (pruned["unchanged"], pruned["deleted"]) == (1, 2)
        _problem(client.post("/api/v1/kb/import", files={"files": ("notes.txt", b"hello", "text/plain")}), 400)
        long_name = _problem(client.post("/api/v1/kb/import", files={"files": ("a" * 300 + ".md", _EXTRA_MD,
                                                                             "text/markdown")}), 400)
        assert "file name is longer than 200 characters" in long_name["detail"]
        latin = client.post("/api/v1/kb/import", files={"files": ("latin.csv", "id,title,body\nx,Straße,Öl\n"
                                                                 .encode("latin-1"), "text/csv")}).json()
        assert latin["added"] == 0 and latin["rejected"][0].startswith("latin.csv: unreadable")

        seen, cursor = [], None
        while True:
            page = client.get("/api/v1/kb/articles", params={"limit": 4} | ({"cursor": cursor} if cursor else {}))
            seen += [a["id"] for a in page.json()["items"]]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                break
        with rt.db.session() as session:
            assert sorted(seen) == sorted(session.scalars(select(KbArticle.external_id)))
        assert "vouchers" in seen and "warranty-claims" not in seen and len(seen) == len(set(seen))
        german = client.get("/api/v1/kb/articles", params={"language": "de"}).json()["items"]
        assert german and {a["language"] for a in german} == {"de"}
        uploaded = client.get("/api/v1/kb/articles", params={"source": "upload:extra"}).json()["items"]
        assert [a["id"] for a in uploaded] == ["vouchers"] and uploaded[0]["chunks"] == 2
        vouchers = client.get("/api/v1/kb/articles/vouchers").json()
        assert vouchers["title"] == "Gift vouchers" and "two years" in vouchers["body"]
        assert vouchers["intents"] == ["payment_issue"] and vouchers["chunks"] == 2
        _problem(client.get("/api/v1/kb/articles/no-such-article"), 404)

        article = {"id": "loyalty-points", "title": "Loyalty points",
                   "body": "## Earning points\n\nEvery purchase earns zanzibarite points.\n\n"
                           "## Spending points\n\nPoints can pay for delivery.",
                   "tags": ["loyalty"], "product": None, "language": "en"}
        created = client.post("/api/v1/kb/articles", json=article, headers=scientist)
        assert created.status_code == 201, created.text
        assert created.headers["location"] == "/api/v1/kb/articles/loyalty-points"
        assert created.json()["chunks"] == 2 and created.json()["source"] == "api"
        hits = client.get("/api/v1/kb/search", params={"q": "zanzibarite", "k": 1}).json()
        assert hits[0]["article"] == "loyalty-points", "a created article is searchable at once"
        assert "exists already" in _problem(client.post("/api/v1/kb/articles", json=article), 409)["detail"]
        for bad in (article | {"id": "x", "language": "english"}, article | {"id": "y", "colour": "red"},
                    article | {"id": "no spaces"}, article | {"id": "z", "title": "   "}):
            _problem(client.post("/api/v1/kb/articles", json=bad), 422)

        before = index.encoder_calls
        changed = client.patch("/api/v1/kb/articles/loyalty-points",
                               json={"body": article["body"].replace("zanzibarite", "quetzalcoatlite")})
        assert changed.status_code == 200, changed.text
        assert index.encoder_calls - before == 1, "only the changed chunk is embedded again"
        assert changed.json()["tags"] == ["loyalty"] and "quetzalcoatlite" in changed.json()["body"]
        assert client.get("/api/v1/kb/search", params={"q": "quetzalcoatlite", "k": 1}).json()[0]["article"] \
            == "loyalty-points"
        assert all("zanzibarite" not in h["text"] for h in
                   client.get("/api/v1/kb/search", params={"q": "zanzibarite"}).json())
        _problem(client.patch("/api/v1/kb/articles/loyalty-points", json={"title": None}), 422)
        _problem(client.patch("/api/v1/kb/articles/no-such-article", json={"title": "X"}), 404)

        assert client.delete("/api/v1/kb/articles/loyalty-points").status_code == 204
        _problem(client.get("/api/v1/kb/articles/loyalty-points"), 404)
        _problem(client.delete("/api/v1/kb/articles/loyalty-points"), 404)
        assert all(h["article"] != "loyalty-points" for h in
                   client.get("/api/v1/kb/search", params={"q": "quetzalcoatlite"}).json())
