"""The public rating page (no sign-in, single use, forged links refused, opt-out by POST only) and the CSAT report
route (issue 17 item 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from triage.config import Settings
from triage.conversations.tables import Customer, CustomerIdentity, Message, Ticket
from triage.db import utcnow
from triage.flows.surveys import send_invitations
from triage.runtime import Triage
from triage.surveys.service import make_token
from triage.surveys.tables import SurveyInvitation, SurveyOptOut

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def survey_rt(tmp_path: Path, database_url: str) -> Iterator[Triage]:
    runtime = Triage(Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "models",
                              environment="test", secret_key="s3cret"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    now = utcnow()
    with runtime.db.transaction() as session:
        customer = Customer(name="Maria")
        session.add(customer)
        session.flush()
        session.add(CustomerIdentity(customer_id=customer.id, kind="email", value="maria@example.com"))
        ticket = Ticket(channel="email", queue="billing", status="solved", customer_id=customer.id,
                        created_at=now - timedelta(hours=3), solved_at=now - timedelta(hours=1))
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, direction="in", author_kind="customer", dedup_key="m1",
                            sent_at=ticket.created_at))
        session.flush()
        assert send_invitations(session=session, config=runtime.config, secret="s3cret") == {"invited": 1}
    yield runtime
    runtime.db.dispose()


def token(rt: Triage) -> str:
    with rt.db.session() as session:
        return make_token(session.scalars(select(SurveyInvitation)).one(), rt.settings.secret_key)


def test_rating_page_single_use_and_forgery(survey_rt: Triage) -> None:
    client = TestClient(create_app(survey_rt), raise_server_exceptions=False)
    link = f"/survey/{token(survey_rt)}"
    page = client.get(link)
    assert page.status_code == 200 and 'name="rating"' in page.text and "text/html" in page.headers["content-type"]
    forged = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    assert client.get(forged).status_code == 404
    assert client.post(forged, data={"rating": "5"}).status_code == 404
    assert client.post(link, data={"rating": "9"}).status_code == 400
    done = client.post(link, data={"rating": "5", "comment": "Great <b>help</b>"})
    assert done.status_code == 200 and "Thank you" in done.text
    assert client.post(link, data={"rating": "1"}).status_code == 409
    assert "already answered" in client.get(link).text
    with survey_rt.db.session() as session:
        invitation = session.scalars(select(SurveyInvitation)).one()
        assert (invitation.rating, invitation.comment) == (5, "Great <b>help</b>")


def test_opt_out_needs_the_post(survey_rt: Triage) -> None:
    client = TestClient(create_app(survey_rt), raise_server_exceptions=False)
    link = f"/survey/{token(survey_rt)}/opt-out"
    assert client.get(link).status_code == 200
    with survey_rt.db.session() as session:
        assert session.scalars(select(SurveyOptOut)).all() == []  # opening the link changes nothing
    assert client.post(link).status_code == 200
    with survey_rt.db.session() as session:
        assert len(session.scalars(select(SurveyOptOut)).all()) == 1


def test_csat_report_route(survey_rt: Triage, api_key: KeyMaker, auth: Auth) -> None:
    client = TestClient(create_app(survey_rt), raise_server_exceptions=False)
    client.post(f"/survey/{token(survey_rt)}", data={"rating": "4"})
    assert client.get("/api/v1/surveys/report").status_code == 401
    agent = auth(api_key(survey_rt, "agent", "nadia.brooks@larkspur.example"))
    assert client.get("/api/v1/surveys/report", headers=agent).status_code == 403
    report = client.get("/api/v1/surveys/report", params={"by": "queue"},
                        headers=auth(api_key(survey_rt, "qa"))).json()
    assert [(r["key"], r["invited"], r["responses"], r["csat"]) for r in report["rows"]] == [("billing", 1, 1, 1.0)]
