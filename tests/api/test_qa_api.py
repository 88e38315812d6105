"""QA e-monitoring over HTTP through the app: the reviewer's workflow, agents' own view, and the role policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.triage.qa_data import CHLOE, NADIA, OMAR, WEEK_47, conversation, reviewer_keys
from triage.runtime import Triage

GOOD = {"accuracy": 5, "spelling": 4, "grammar": 4, "personalisation": 3, "tone": 5, "resolution": 2}
Auth = Callable[[str], dict[str, str]]


def _problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.fixture
def world(rt: Triage) -> dict[str, tuple[int, str]]:
    with rt.db.transaction() as session:
        staff = reviewer_keys(session, "ana", "ben", "cy")
        for i in range(6):
            conversation(session, agent=NADIA, at=WEEK_47 + timedelta(hours=i))
            conversation(session, agent=CHLOE, at=WEEK_47 + timedelta(hours=i), by_assignment=True)
        conversation(session, agent=OMAR, at=WEEK_47 + timedelta(days=1), breached=True,
                     answer="Dear customer, we recieved your message. As I already said, it is NOT our problem.")
    return staff


def test_reviewer_workflow(rt: Triage, world: dict[str, tuple[int, str]], api_key: Callable[..., str],
                           auth: Auth) -> None:
    client = TestClient(create_app(rt))
    lead = auth(api_key(rt, "supervisor"))
    ana_id, ana_key = world["ana"]
    ana, ben = auth(ana_key), auth(world["ben"][1])

    created = client.post("/api/v1/qa/runs", json={"period": "2026-W47", "seed": 4, "sample_size": 2}, headers=lead)
    assert created.status_code == 201, created.text
    run = created.json()
    assert run["period"] == "2026-W47" and run["seed"] == 4 and run["created_by"].startswith("supervisor")
    assert run["samples"] == 2 + 2 + 1 and run["calibration_samples"] == 2
    assert [item["name"] for item in run["rubric"]][:2] == ["accuracy", "spelling"]
    per_agent = {a["email"]: a for a in run["summary"]["agents"]}
    # Omar's only reply is breached: it is sampled once, as the mandatory sample and as his random one.
    assert per_agent[OMAR]["reasons"] == {"sla_breach": 1, "random": 1} and per_agent[NADIA]["random"] == 2
    assert client.get(f"/api/v1/qa/runs/{run['id']}", headers=ana).json()["seed"] == 4
    assert _problem(client.post("/api/v1/qa/runs", json={"period": "last week"}, headers=lead), 400)["detail"]\
        .startswith("period 'last week' not understood")

    # Ana pages through her samples two at a time.
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"reviewer": "me", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/qa/samples", params=params, headers=ana).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    everything = client.get("/api/v1/qa/samples", params={"limit": 500}, headers=lead).json()["items"]
    mine = [s for s in everything if "ana" in s["reviewers"]]
    assert [s["id"] for s in seen] == [s["id"] for s in mine] and len({s["id"] for s in seen}) == len(seen)
    assert _problem(client.get("/api/v1/qa/samples", params={"cursor": "x"}, headers=ana), 400)

    # The breached, rude reply: its pre-checks say why.
    omar = client.get("/api/v1/qa/samples", params={"agent": OMAR, "purpose": "review"}, headers=lead).json()
    [rude] = omar["items"]
    assert rude["reasons"] == ["sla_breach", "random"] and rude["checks"]["tone"] == "concern"
    assert rude["checks"]["spelling_errors"] == 1 and rude["checks"]["personalisation"] == "generic"
    detail = client.get(f"/api/v1/qa/samples/{rude['id']}", headers=lead).json()
    assert detail["reply"]["text"].startswith("Dear customer") and detail["customer_message"]["direction"] == "in"
    assert detail["prechecks"]["spelling"]["errors"][0]["suggestion"] == "received"
    assert detail["prechecks"]["tone"]["model"]["label"] in ("negative", "neutral", "positive")  # the real model
    assert detail["prechecks"]["response_time"]["ticket_breaches"] == ["resolution"]
    assert [m["direction"] for m in detail["thread"]] == ["in", "out"] and len(detail["rubric"]) == 6

    # Scoring: only the assigned reviewer, every item in range, once unless amended with a reason.
    sample_id = next(s["id"] for s in seen if s["purpose"] == "review")
    url = f"/api/v1/qa/samples/{sample_id}/scorecard"
    assert "not assigned to you" in _problem(client.post(url, json={"scores": GOOD}, headers=ben), 403)["detail"]
    assert "missing scores for tone" in _problem(client.post(url, json={"scores": {
        k: v for k, v in GOOD.items() if k != "tone"}}, headers=ana), 422)["detail"]
    assert "resolution: 0 is outside 1-5" in _problem(client.post(url, json={"scores": {**GOOD, "resolution": 0}},
                                                                  headers=ana), 422)["detail"]
    _problem(client.post(url, json={"scores": {**GOOD, "tone": "5"}}, headers=ana), 422)  # whole numbers only
    _problem(client.post(url, json={"scores": {**GOOD, "tone": 4.5}}, headers=ana), 422)
    _problem(client.post(url, json={"scores": GOOD, "extra": 1}, headers=ana), 422)
    submitted = client.post(url, json={"scores": GOOD, "comment": "Good facts, no next step.",
                                       "item_comments": {"resolution": "say when the refund lands"}}, headers=ana)
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["total"] == 68.75 and submitted.json()["status"] == "submitted"
    assert "amend it (PUT)" in _problem(client.post(url, json={"scores": GOOD}, headers=ana), 409)["detail"]
    _problem(client.put(url, json={"scores": GOOD}, headers=ana), 422)  # an amendment needs a reason
    amended = client.put(url, json={"scores": {**GOOD, "resolution": 4}, "reason": "misread"}, headers=ana)
    assert amended.status_code == 200 and amended.json()["amendments"] == 1 and amended.json()["total"] == 81.25
    assert client.get("/api/v1/qa/samples", params={"reviewer": "me", "status": "scored"},
                      headers=ana).json()["items"][0]["id"] == sample_id

    # Calibration: the panel scores the same replies; the report compares them.
    calibration = [s for s in everything if s["purpose"] == "calibration"]
    for s in calibration:
        for name, tone in (("ana", 4), ("ben", 4), ("cy", 2)):
            response = client.post(f"/api/v1/qa/samples/{s['id']}/scorecard",
                                   json={"scores": {**GOOD, "tone": tone}}, headers=auth(world[name][1]))
            assert response.status_code == 201, response.text
    report = client.get("/api/v1/qa/calibration", params={"run_id": run["id"]}, headers=ana).json()
    tone_item = next(i for i in report["items"] if i["item"] == "tone")
    assert report["complete_samples"] == 2 and tone_item["samples"] == 2 and tone_item["exact_agreement"] == 0.3333
    assert {(p["reviewer_a"], p["reviewer_b"]) for p in tone_item["pairs"]} == {("ana", "ben"), ("ana", "cy"),
                                                                                ("ben", "cy")}
    assert client.get("/api/v1/qa/calibration", params={"period": "2026-11"}, headers=lead).json()["runs"] == [
        run["id"]]
    _problem(client.get("/api/v1/qa/calibration", params={"run_id": 999}, headers=lead), 404)
    # Odd input is the caller's fault, never a server error.
    _problem(client.get(f"/api/v1/qa/samples/{2**40}", headers=lead), 422)
    _problem(client.get("/api/v1/qa/samples", params={"cursor": str(10**30)}, headers=lead), 400)
    _problem(client.get("/api/v1/qa/samples", params={"agent": "99999999999999999999"}, headers=lead), 404)
    _problem(client.get("/api/v1/qa/samples", params={"reviewer": "²"}, headers=lead), 404)
    _problem(client.get("/api/v1/qa/calibration", params={"period": "9999-W52"}, headers=lead), 400)
    _ = ana_id


def test_agents_see_only_their_own_scored_samples_and_report(rt: Triage, world: dict[str, tuple[int, str]],
                                                             api_key: Callable[..., str], auth: Auth) -> None:
    client = TestClient(create_app(rt))
    lead = auth(api_key(rt, "supervisor"))
    nadia = auth(api_key(rt, "agent", agent_email=NADIA))
    run = client.post("/api/v1/qa/runs", json={"period": "2026-W47", "seed": 1, "sample_size": 2}, headers=lead).json()
    samples = client.get("/api/v1/qa/samples", params={"run_id": run["id"], "purpose": "review"},
                         headers=lead).json()["items"]
    own = next(s for s in samples if s["agent_email"] == NADIA)
    other = next(s for s in samples if s["agent_email"] == CHLOE)
    assert client.get("/api/v1/qa/samples", headers=nadia).json()["items"] == []  # nothing scored yet
    _problem(client.get(f"/api/v1/qa/samples/{own['id']}", headers=nadia), 404)
    reviewer = next(k for name, (uid, k) in world.items() if name in own["reviewers"])
    assert client.post(f"/api/v1/qa/samples/{own['id']}/scorecard", json={"scores": GOOD},
                       headers=auth(reviewer)).status_code == 201

    listed = client.get("/api/v1/qa/samples", headers=nadia).json()["items"]
    assert [s["id"] for s in listed] == [own["id"]]
    assert client.get("/api/v1/qa/samples", params={"status": "assigned"}, headers=nadia).json()["items"] == []
    assert "own QA samples" in _problem(client.get("/api/v1/qa/samples", params={"agent": CHLOE},
                                                   headers=nadia), 403)["detail"]
    detail = client.get(f"/api/v1/qa/samples/{own['id']}", headers=nadia)
    assert detail.status_code == 200 and detail.json()["reviews"][0]["scores"] == GOOD
    _problem(client.get(f"/api/v1/qa/samples/{other['id']}", headers=nadia), 404)

    mine = client.get("/api/v1/qa/agents/me/report", headers=nadia)
    assert mine.status_code == 200 and mine.json()["agent_email"] == NADIA
    assert mine.json()["periods"][0]["period"] == "2026-W47" and mine.json()["scored"] == 1
    assert client.get(f"/api/v1/qa/agents/{NADIA}/report", headers=nadia).status_code == 200
    assert "only their own" in _problem(client.get(f"/api/v1/qa/agents/{CHLOE}/report", headers=nadia),
                                        403)["detail"]
    assert client.get(f"/api/v1/qa/agents/{CHLOE}/report", headers=lead).json()["scored"] == 0
    _problem(client.get("/api/v1/qa/agents/me/report", headers=lead), 404)
    _problem(client.get("/api/v1/qa/agents/nobody@x.example/report", headers=lead), 404)
    _problem(client.post(f"/api/v1/qa/samples/{own['id']}/scorecard", json={"scores": GOOD}, headers=nadia), 403)


ROUTES = [  # method, path, roles allowed besides admin
    ("POST", "/api/v1/qa/runs", {"qa", "supervisor"}),
    ("GET", "/api/v1/qa/runs", {"qa", "supervisor"}),
    ("GET", "/api/v1/qa/runs/1", {"qa", "supervisor"}),
    ("GET", "/api/v1/qa/rubric", {"qa", "supervisor", "agent"}),
    ("GET", "/api/v1/qa/samples", {"qa", "supervisor", "agent"}),
    ("GET", "/api/v1/qa/samples/1", {"qa", "supervisor", "agent"}),
    ("POST", "/api/v1/qa/samples/1/scorecard", {"qa", "supervisor"}),
    ("PUT", "/api/v1/qa/samples/1/scorecard", {"qa", "supervisor"}),
    ("GET", "/api/v1/qa/calibration", {"qa", "supervisor"}),
    ("GET", "/api/v1/qa/agents/1/report", {"qa", "supervisor", "agent"}),
]


def test_role_policy_on_every_qa_route(rt: Triage, api_key: Callable[..., str], auth: Auth) -> None:
    client = TestClient(create_app(rt))
    keys = {role: api_key(rt, role, agent_email=NADIA if role == "agent" else None)
            for role in ("agent", "qa", "supervisor", "data_scientist", "admin", "integration")}
    documented = {(method.upper(), path) for path, ops in client.app.openapi()["paths"].items()  # type: ignore
                  if path.startswith("/api/v1/qa") for method in ops}
    templated = {(method, path.replace("/runs/1", "/runs/{run_id}").replace("/samples/1", "/samples/{sample_id}")
                  .replace("/agents/1", "/agents/{agent}")) for method, path, _ in ROUTES}
    assert documented == templated  # no QA route escapes this test
    body = {"scores": GOOD, "reason": "x"}
    for method, path, allowed in ROUTES:
        assert client.request(method, path, json=body).status_code == 401, (method, path)
        assert client.request(method, path, json=body, headers={"Authorization": "Bearer trg_no_pe"}).status_code \
            == 401
        for role, key in keys.items():
            status = client.request(method, path, json=body if method != "POST" or "runs" not in path else {},
                                    headers=auth(key)).status_code
            if role in allowed or role == "admin":
                assert status not in (401, 403), (method, path, role, status)  # agent 1 is Nadia herself
            else:
                assert status == 403, (method, path, role, status)
