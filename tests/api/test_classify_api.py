"""POST /api/v1/classify: the served models' answer with confidences and reasons, nothing stored."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.classify import MAX_TEXT
from triage.config import Settings
from triage.conversations.tables import Ticket
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]


@pytest.fixture
def sqlite_only(tmp_path: Path, models_path: Path) -> Iterator[Triage]:
    """Classification stores nothing, so one database (for the keys) is enough."""
    runtime = Triage(Settings(home=tmp_path / "home", models_path=models_path, environment="test"))
    runtime.db.ensure_schema()
    runtime.sync_agents()
    yield runtime
    runtime.db.dispose()


def test_classify_gives_labels_confidences_and_reasons(sqlite_only: Triage, api_key: KeyMaker, auth: Auth) -> None:
    rt = sqlite_only
    client = TestClient(create_app(rt))
    headers = auth(api_key(rt, "agent", "nadia.brooks@larkspur.example"))
    text = "URGENT: the heater you sold me smells of burning and sparks came out. I want a refund NOW!!!"
    response = client.post("/api/v1/classify", json={"text": text}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    expected = rt.suite.classify_one(text, {"email": None, "previous_contacts": 0})
    for task in ("intent", "sentiment", "urgency"):
        pred, version = expected[task]
        got = body[task]
        assert got["label"] == pred.label and got["model_version"] == version
        assert got["confidence"] == pytest.approx(pred.confidence, abs=1e-4)
        assert got["top"][0]["label"] and 0 <= got["top"][0]["confidence"] <= 1
    assert body["urgency"]["label"] == "critical" and body["priority"] == "urgent"
    assert any("safety" in reason for reason in body["urgency"]["reasons"])
    assert body["sentiment"]["label"] == "negative" and body["sentiment"]["signals"]["angry"] is True
    assert body["out_of_scope"] is (body["intent"]["label"] == "other")
    assert body["queue"] == rt.config.team_for_intent(body["intent"]["label"])

    chit_chat = client.post("/api/v1/classify", json={"text": "What is the capital of Peru?"}, headers=headers)
    assert chit_chat.json()["out_of_scope"] is True and chit_chat.json()["intent"]["label"] == "other"
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_classify_input_and_roles(sqlite_only: Triage, api_key: KeyMaker, auth: Auth) -> None:
    rt = sqlite_only
    client = TestClient(create_app(rt))
    key = auth(api_key(rt, "integration"))
    for body in ({"text": ""}, {"text": "x" * (MAX_TEXT + 1)}, {}, {"text": "hi", "lang": "en"},
                 {"text": "hi", "previous_contacts": -1}):
        response = client.post("/api/v1/classify", json=body, headers=key)
        assert response.status_code == 422 and response.headers["content-type"].startswith("application/problem")
    for role in ("qa", "supervisor", "data_scientist", "integration", "admin"):
        ok = client.post("/api/v1/classify", json={"text": "Where is my parcel?"}, headers=auth(api_key(rt, role)))
        assert ok.status_code == 200, role
    assert client.post("/api/v1/classify", json={"text": "Where is my parcel?"}).status_code == 401


def test_classify_answers_each_texts_language_also_in_a_shared_batch(sqlite_only: Triage, api_key: KeyMaker,
                                                                     auth: Auth) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rt = sqlite_only
    headers = auth(api_key(rt, "integration"))
    texts = {"de": "Meine Bestellung ist noch nicht angekommen, können Sie bitte nachsehen?",
             "fr": "Ma commande n'est toujours pas arrivée, pouvez-vous vérifier s'il vous plaît ?",
             "es": "Mi pedido todavía no ha llegado, ¿pueden revisarlo por favor?",
             "en": "My order still has not arrived, could you please check?"}
    with TestClient(create_app(rt)) as client:
        def ask(text: str) -> dict:  # type: ignore[type-arg]
            response = client.post("/api/v1/classify", json={"text": text}, headers=headers)
            assert response.status_code == 200, response.text
            return response.json()["language"]

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(ask, [t for t in texts.values() for _ in range(2)]))
        assert [a["code"] for a in answers] == [code for code in texts for _ in range(2)]
        assert all(a["confident"] and 0.7 <= a["confidence"] <= 1 for a in answers)
        assert ask("ok") is None  # too little to tell
        hint = ask("Merci!")
        assert hint is None or hint["confident"] is False
