"""Tickets whose intent was unsure or out of scope are flagged for review until an agent relabels them (issue 12).

The suite is a stand-in with fixed answers, so the flag is tested against known confidences; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from models.classifiers import Prediction
from tests.api.conftest import bearer, make_key
from triage.config import ReviewConfig, Settings
from triage.conversations.service import TicketFilter, list_tickets
from triage.conversations.tables import Message, Ticket
from triage.feedback.service import record_correction
from triage.flows.processing import Pipeline, Worker
from triage.ingest.files import ingest_paths
from triage.runtime import Triage

# text marker -> (intent, confidence) the stand-in model serves
ANSWERS = {"tracking": ("order_status", 0.93), "maybe": ("refund_request", 0.31), "weather": ("other", 0.88)}


class _Suite:
    """Serves fixed predictions by a word in the text; enough of ClassifierSuite for the pipeline."""

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.zeros((len(texts), 4))

    def classify_one(self, text: str, context: Any = None,
                     embedding: Any = None) -> dict[str, tuple[Prediction, str]]:
        label, confidence = next(v for k, v in ANSWERS.items() if k in text)
        return {"intent": (Prediction(label, confidence), "intent-test"),
                "sentiment": (Prediction("neutral", 0.9), "sentiment-test"),
                "urgency": (Prediction("normal", 0.9), "urgency-test")}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # No trained models: the stand-in suite answers.
    return Settings(home=tmp_path / "home", database_url=database_url, models_path=tmp_path / "no-models",
                    environment="test")


def _process(rt: Triage, tmp_path: Path, make_email: Any, review: ReviewConfig | None = None) -> dict[str, int]:
    """One email per answer; returns marker -> ticket id."""
    paths = []
    for i, marker in enumerate(ANSWERS):
        raw = make_email(message_id=f"<r{i}@example.com>", subject=f"Question {i}", sender=f"c{i}@example.com",
                         body=f"Hello, a question about {marker} for you.")
        paths.append(tmp_path / f"{i}.eml")
        paths[-1].write_bytes(raw)
    with rt.db.session() as session:
        ingest_paths(paths, session=session, commit=session.commit)
    config = rt.config if review is None else rt.config.model_copy(update={"review": review})
    Worker(rt.db, Pipeline(config, _Suite()), "test").drain()  # type: ignore[arg-type]
    with rt.db.session() as session:
        tickets = {t.subject: t.id for t in session.scalars(select(Ticket))}
    return {marker: tickets[f"Question {i}"] for i, marker in enumerate(ANSWERS)}


def _flags(rt: Triage) -> dict[int, bool]:
    with rt.db.session() as session:
        return {t.id: t.needs_review for t in session.scalars(select(Ticket))}


def test_unsure_and_out_of_scope_intents_are_flagged_until_an_agent_relabels(rt: Triage, tmp_path: Path,
                                                                           make_email: Any) -> None:
    ids = _process(rt, tmp_path, make_email)
    assert _flags(rt) == {ids["tracking"]: False, ids["maybe"]: True, ids["weather"]: True}
    with rt.db.session() as session:
        listed = list_tickets(session=session, where=TicketFilter(needs_review=True))
        assert sorted(t.id for t in listed) == sorted([ids["maybe"], ids["weather"]])
        assert [t.id for t in list_tickets(session=session, where=TicketFilter(needs_review=False))] \
            == [ids["tracking"]]

    with rt.db.transaction() as session:
        message = session.scalars(select(Message).where(Message.ticket_id == ids["maybe"])).one()
        record_correction(session=session, message_id=message.id, task="intent", label="refund_request",
                          actor="nadia.brooks@larkspur.example")
    assert _flags(rt)[ids["maybe"]] is False
    with rt.db.transaction() as session:  # other corrections leave the flag alone
        message = session.scalars(select(Message).where(Message.ticket_id == ids["weather"])).one()
        record_correction(session=session, message_id=message.id, task="urgency", label="high", actor="nadia")
    assert _flags(rt)[ids["weather"]] is True


def test_the_threshold_comes_from_triage_toml(rt: Triage, tmp_path: Path, make_email: Any) -> None:
    assert rt.config.review.intent_confidence == 0.5  # the bundled default
    ids = _process(rt, tmp_path, make_email, ReviewConfig(intent_confidence=0.2))
    # 0.31 is sure enough at 0.2; out of scope is flagged whatever the confidence
    assert _flags(rt) == {ids["tracking"]: False, ids["maybe"]: False, ids["weather"]: True}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_flag_is_shown_and_listed_by_the_api_and_the_cli(rt: Triage, tmp_path: Path, make_email: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    ids = _process(rt, tmp_path, make_email)
    headers = bearer(make_key(rt, "supervisor"))
    client = TestClient(create_app(rt))
    flagged = client.get("/api/v1/tickets", params={"needs_review": "true"}, headers=headers).json()["items"]
    assert sorted(t["id"] for t in flagged) == sorted([ids["maybe"], ids["weather"]])
    assert all(t["needs_review"] for t in flagged)
    detail = client.get(f"/api/v1/tickets/{ids['tracking']}", headers=headers).json()
    assert detail["needs_review"] is False
    everything = client.get("/api/v1/tickets", headers=headers).json()["items"]
    assert len(everything) == 3

    for name, value in (("TRIAGE_HOME", rt.settings.home), ("TRIAGE_DATABASE_URL", rt.settings.database_url),
                        ("TRIAGE_MODELS_PATH", rt.settings.models_dir)):
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    listed = runner.invoke(app, ["tickets", "list", "--needs-review", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert sorted(r["id"] for r in rows) == sorted([ids["maybe"], ids["weather"]])
    table = runner.invoke(app, ["tickets", "list"])
    assert table.exit_code == 0 and table.output.count("review") == 2, table.output
