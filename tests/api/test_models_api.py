"""Models API: versions (list, show, compare, promote, roll back), training jobs, roles.

Each test works on its own copy of the session's baseline models, so promotions stay local.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from triage.config import Settings
from triage.db import utcnow
from triage.errors import UserError
from triage.feedback.tables import LabelFeedback
from triage.jobs import service as jobs
from triage.jobs.runner import JobRunner
from triage.jobs.tables import TrainingJob
from triage.runtime import Triage

KeyMaker = Callable[..., str]
Auth = Callable[[str], dict[str, str]]
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


BODY_LIMIT = 256 * 1024  # small, so the too-large upload is cheap to send


@pytest.fixture
def settings(tmp_path: Path, database_url: str, models_path: Path) -> Settings:
    own = tmp_path / "models"
    shutil.copytree(models_path, own)
    return Settings(home=tmp_path / "home", database_url=database_url, models_path=own, environment="test",
                    api_max_body=BODY_LIMIT)


@pytest.fixture
def client(rt: Triage) -> Iterator[TestClient]:
    with TestClient(create_app(rt), raise_server_exceptions=False) as c:
        yield c


def _copy_version(rt: Triage, kind: str, macro_f1_change: float) -> str:
    """A second stored version of `kind` (the current artifact, other metrics), without training."""
    model, info = rt.registry.load(kind)
    new = dataclasses.replace(info, version=rt.registry.new_version(kind, info.data_sha256),
                              created_at=datetime.now(UTC).isoformat(), extra={},
                              metrics=info.metrics | {"macro_f1": round(info.metrics["macro_f1"] + macro_f1_change, 4)})
    rt.registry.save(kind, model, new)
    return new.version


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


# Three intents the baseline model has never seen, so a model trained on them beats it for sure.
_NEW_INTENTS = {
    "gift_wrapping": ["can you gift wrap the {x} for me", "please add gift wrapping to the {x}",
                      "I want the {x} wrapped as a present", "is gift wrap available for the {x}"],
    "store_hours": ["when does your {x} store open", "what are the opening hours of the {x} shop",
                    "is the {x} branch open on Sunday", "until what time is the {x} store open"],
    "job_application": ["I want to apply for a job at your {x} office", "are you hiring in {x}",
                        "how do I send my CV to the {x} team", "is there an open position in {x}"],
}
# Enough rows that the validation split holds the 20 a fair comparison needs.
_FILLERS = ["Berlin", "Leeds", "Porto", "Lyon", "Graz", "Turin", "Ghent", "Cork", "Bergen"]


def _new_intent_rows(text: str = "text", label: str = "label") -> list[dict[str, str]]:
    return [{text: t.format(x=x), label: intent} for intent, templates in _NEW_INTENTS.items()
            for t in templates for x in _FILLERS]


def _jsonl(rows: list[dict[str, str]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def _poll(get: Callable[[], httpx.Response], *, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = get().json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    pytest.fail(f"the training job did not finish in {timeout} s: {job}")


# ---------------------------------------------------------------------------- versions


@SQLITE_ONLY
def test_list_show_compare_promote_and_roll_back(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                 auth: Auth) -> None:
    scientist, supervisor = auth(api_key(rt, "data_scientist")), auth(api_key(rt, "supervisor"))
    base = rt.registry.current("sentiment")
    worse = _copy_version(rt, "sentiment", -0.05)
    pipeline = rt.pipeline()  # the server holds loaded models, as `triage serve` does

    tasks = {t["task"]: t for t in client.get("/api/v1/models", headers=supervisor).json()["tasks"]}
    assert set(tasks) == {"intent", "sentiment", "urgency"}
    assert tasks["sentiment"]["active"] == base
    assert [(v["version"], v["active"]) for v in tasks["sentiment"]["versions"]] == [(worse, False), (base, True)]
    only = client.get("/api/v1/models", params={"task": "urgency"}, headers=supervisor).json()["tasks"]
    assert [t["task"] for t in only] == ["urgency"]

    detail = client.get(f"/api/v1/models/{base}", headers=supervisor).json()
    stored = rt.registry.info("sentiment", base)
    assert detail["active"] and detail["task"] == "sentiment"
    assert detail["data_sha256"] == stored.data_sha256 and detail["code_version"] == stored.code_version
    assert detail["metrics"] == stored.metrics and detail["labels"] == ["negative", "neutral", "positive"]
    assert detail["reports"], "the validation reports stored with the model are listed"

    compared = client.get("/api/v1/models/compare", params={"a": base, "b": worse}, headers=supervisor).json()
    deltas = {m["metric"]: m for m in compared["metrics"]}
    assert deltas["macro_f1"]["delta"] == pytest.approx(-0.05) and deltas["accuracy"]["delta"] == 0
    assert compared["same_data"] is True and compared["labels_only_in_a"] == compared["labels_only_in_b"] == []
    across = client.get("/api/v1/models/compare", params={"a": base, "b": rt.registry.current("intent")},
                        headers=supervisor)
    assert "same task" in _problem(across, 400)["detail"]

    _problem(client.post(f"/api/v1/models/{worse}/promote", headers=supervisor), 403)
    switched = client.post(f"/api/v1/models/{worse}/promote", headers=scientist)
    assert switched.json() == {"task": "sentiment", "active": worse, "previous": base}
    # This server classifies with the promoted model at once, the inbox worker's pipeline included.
    assert rt.registry.current("sentiment") == worse
    assert rt.suite.versions()["sentiment"] == worse and pipeline.suite.versions()["sentiment"] == worse

    back = client.post("/api/v1/models/sentiment/rollback", headers=scientist)
    assert back.json() == {"task": "sentiment", "active": base, "previous": worse}
    assert rt.suite.versions()["sentiment"] == base and pipeline.suite.versions()["sentiment"] == base
    assert "no earlier" in _problem(client.post("/api/v1/models/sentiment/rollback", headers=scientist),
                                    409)["detail"]
    history = client.get("/api/v1/models", params={"task": "sentiment"}, headers=scientist).json()["tasks"][0]
    assert [(h["action"], h["version"]) for h in history["history"]][-2:] == [("promote", worse), ("rollback", base)]

    for missing in ("sentiment-20000101-000000-abcdef", "not a version!"):
        _problem(client.get(f"/api/v1/models/{missing}", headers=supervisor), 404)
        _problem(client.post(f"/api/v1/models/{missing}/promote", headers=scientist), 404)
    _problem(client.post("/api/v1/models/feelings/rollback", headers=scientist), 422)


@SQLITE_ONLY
def test_report_files_can_be_downloaded_and_nothing_else(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                         auth: Auth) -> None:
    headers = auth(api_key(rt, "supervisor"))
    version = rt.registry.current("intent")
    listed = client.get(f"/api/v1/models/{version}", headers=headers).json()["reports"]
    assert set(listed) == {"confusion.png", "reliability.png", "per_class.csv", "per_class.md"}
    folder = rt.registry.path("intent", version)
    for name, media in (("confusion.png", "image/png"), ("reliability.png", "image/png"),
                        ("per_class.csv", "text/csv"), ("per_class.md", "text/markdown")):
        got = client.get(f"/api/v1/models/{version}/reports/{name}", headers=headers)
        assert got.status_code == 200 and got.headers["content-type"].split(";")[0] == media, (name, got.text[:200])
        assert got.content == (folder / name).read_bytes()
    assert client.get(f"/api/v1/models/{version}/reports/confusion.png", headers=headers).content[:8] \
        == b"\x89PNG\r\n\x1a\n"
    # the artifact, the metadata, the fingerprint and anything outside the folder are not reports
    for name in ("model.joblib", "meta.json", "trained_texts.sha1", "nope.png", "%2E%2E%2Fmeta.json",
                 "..%2F..%2FCURRENT", "..%5Cmeta.json", "%2Fetc%2Fpasswd"):
        response = client.get(f"/api/v1/models/{version}/reports/{name}", headers=headers)
        assert response.status_code == 404, (name, response.status_code, response.text[:200])
    for tail in ("../meta.json", "../../HISTORY.json"):
        assert client.get(f"/api/v1/models/{version}/reports/{tail}", headers=headers).status_code == 404, tail
    _problem(client.get("/api/v1/models/intent-20000101-000000-abcdef/reports/confusion.png", headers=headers), 404)
    _problem(client.get(f"/api/v1/models/{version}/reports/meta.json", headers=auth(api_key(rt, "qa"))), 403)


def test_uploads_map_their_own_column_names(tmp_path: Path) -> None:
    data = b"id,message,intent\n" + b"".join(b"%d,message number %d,%s\n" % (i, i, b"ab"[i % 2:i % 2 + 1])
                                             for i in range(12))
    staged = jobs.stage_upload(data, filename="mine.csv", content_type="text/csv", task="intent", home=tmp_path,
                               text_column="message", label_column="intent")
    assert staged.rows == 12
    assert staged.path.read_text().splitlines()[:2] == ["text,label", "message number 0,a"]
    with pytest.raises(UserError, match="no column 'body'"):
        jobs.stage_upload(data, filename="mine.csv", content_type="text/csv", task="intent", home=tmp_path,
                          text_column="body", label_column="intent")


@SQLITE_ONLY
def test_classifications_in_flight_survive_promotions(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                      auth: Auth) -> None:
    scientist = auth(api_key(rt, "data_scientist"))
    base = rt.registry.current("sentiment")
    other = _copy_version(rt, "sentiment", 0.0)
    _ = rt.suite
    seen: set[str] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def classify() -> None:
        while not stop.is_set():
            try:
                seen.add(rt.suite.classify_one("The kettle arrived broken and nobody answers")["sentiment"][1])
            except BaseException as exc:  # any failure while models are swapped is a bug
                errors.append(exc)
                return

    thread = threading.Thread(target=classify)
    thread.start()
    try:
        for _ in range(3):
            assert client.post(f"/api/v1/models/{other}/promote", headers=scientist).status_code == 200
            time.sleep(0.1)
            assert client.post("/api/v1/models/sentiment/rollback", headers=scientist).status_code == 200
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors and seen <= {base, other} and seen


@SQLITE_ONLY
def test_model_routes_check_roles(rt: Triage, client: TestClient, api_key: KeyMaker, auth: Auth) -> None:
    version = rt.registry.current("urgency")
    reads = [("GET", "/api/v1/models"), ("GET", f"/api/v1/models/{version}"),
             ("GET", f"/api/v1/models/compare?a={version}&b={version}")]
    writes = [("POST", f"/api/v1/models/{version}/promote"), ("GET", "/api/v1/models/jobs"),
              ("GET", "/api/v1/models/jobs/1"), ("POST", "/api/v1/models/jobs")]
    keys = {role: auth(api_key(rt, role)) for role in ("qa", "integration", "supervisor", "data_scientist", "admin")}
    keys["agent"] = auth(api_key(rt, "agent", "nadia.brooks@larkspur.example"))
    for method, url in reads + writes:
        assert client.request(method, url).status_code == 401, url
        for role in ("agent", "qa", "integration"):
            assert client.request(method, url, headers=keys[role]).status_code == 403, (role, url)
    for method, url in reads:
        for role in ("supervisor", "data_scientist", "admin"):
            assert client.request(method, url, headers=keys[role]).status_code == 200, (role, url)
    for method, url in writes:
        assert client.request(method, url, headers=keys["supervisor"]).status_code == 403, url
    assert client.post("/api/v1/models/urgency/rollback", headers=keys["supervisor"]).status_code == 403
    assert client.post(f"/api/v1/models/{version}/promote", headers=keys["admin"]).status_code == 200
    assert client.get("/api/v1/models/jobs", headers=keys["data_scientist"]).json() == {"items": [],
                                                                                       "next_cursor": None}


# ---------------------------------------------------------------------------- training jobs


def test_upload_and_export_jobs_train_real_models(rt: Triage, api_key: KeyMaker, auth: Auth,
                                                  live_server: Callable[..., Iterator[str]]) -> None:
    key = api_key(rt, "data_scientist")
    served_before = rt.suite.versions()
    with rt.db.transaction() as session:  # an agent's correction, which export jobs train on
        session.add(LabelFeedback(task="urgency", label="critical", actor="ana@larkspur.example",
                                  text="The charger is smoking and smells of burning plastic"))
    # The data scientist's own field names, mapped with text_column and label_column.
    rows = _new_intent_rows("utterance", "intent")
    upload = {"file": ("new-intents.jsonl", _jsonl(rows), "application/jsonl")}
    mapping = {"task": "intent", "promote": "true", "text_column": "utterance", "label_column": "intent"}
    with contextlib.contextmanager(live_server)(create_app(rt)) as url, \
            httpx.Client(base_url=url, headers=auth(key), timeout=60) as http:
        created = http.post("/api/v1/models/jobs", data=mapping, files=upload)
        assert created.status_code == 202, created.text
        queued = created.json()
        assert created.headers["location"] == f"/api/v1/models/jobs/{queued['id']}"
        assert queued["source"] == "upload" and queued["status"] == "queued" and queued["rows"] == len(rows)
        assert queued["data_name"] == "new-intents.jsonl" and queued["promoted"] is None
        assert queued["promote"] is True and queued["force"] is False
        job = _poll(lambda: http.get(created.headers["location"]))
        assert job["status"] == "succeeded", job["error"]
        refused = job["model_version"]
        # The trainer's progress callbacks reached the row: its last phase is complete.
        assert job["progress"] == {"phase": "reports", "done": 1, "total": 1}
        assert job["metrics"]["n_train"] + job["metrics"]["n_validation"] == len(rows)
        assert job["metrics"]["macro_f1"] > 0.5 and job["created_by"].startswith("data_scientist")
        # It beats the baseline (which knows none of these intents) but would route nothing: not promoted.
        assert job["promoted"] is False and rt.registry.current("intent") == served_before["intent"]
        assert "lacks" in job["result"]["reason"] and "force=true" in job["result"]["reason"]
        assert job["result"]["label_problem"].startswith("it lacks")

        forced = http.post("/api/v1/models/jobs", data=mapping | {"force": "true"}, files=upload)
        assert forced.status_code == 202 and forced.json()["force"] is True, forced.text
        job = _poll(lambda: http.get(f"/api/v1/models/jobs/{forced.json()['id']}"))
        assert job["status"] == "succeeded", job["error"]
        version = job["model_version"]
        # Forced, and better on validation rows the baseline never saw: it serves at once.
        assert job["promoted"] is True and rt.registry.current("intent") == version, job["result"]["reason"]
        assert job["result"]["compared_with"]["n"] >= 20 and "forced although" in job["result"]["reason"]
        assert rt.suite.versions()["intent"] == version
        shown = http.get(f"/api/v1/models/{version}").json()
        assert "new-intents.jsonl" in shown["data_source"] and shown["data_sha256"] == job["data_sha256"]
        assert set(shown["labels"]) == set(_NEW_INTENTS)

        # Promoting by hand checks the same: the routing in triage.toml still lacks these intents.
        problem = _problem(http.post(f"/api/v1/models/{refused}/promote"), 409)
        assert problem["detail"].startswith(f"not promoting {refused}: it lacks") and "force=true" in problem["detail"]
        assert rt.registry.current("intent") == version
        switched = http.post(f"/api/v1/models/{refused}/promote", params={"force": "true"})
        assert switched.json() == {"task": "intent", "active": refused, "previous": version}
        assert rt.suite.versions()["intent"] == refused

        export = http.post("/api/v1/models/jobs", data={"task": "urgency", "source": "export"})
        assert export.status_code == 202, export.text
        job2 = _poll(lambda: http.get(f"/api/v1/models/jobs/{export.json()['id']}"))
        assert job2["status"] == "succeeded", job2["error"]
        assert job2["result"]["feedback"]["corrections"] == 1 and job2["result"]["n_examples"] > 200
        # promote was not asked for: the urgency model in service stays.
        assert job2["promoted"] is False and rt.registry.current("urgency") == served_before["urgency"]
        assert rt.suite.versions()["urgency"] == served_before["urgency"]

        listed = http.get("/api/v1/models/jobs", params={"limit": 1}).json()
        assert [j["id"] for j in listed["items"]] == [job2["id"]] and listed["next_cursor"]
        rest = http.get("/api/v1/models/jobs", params={"limit": 2, "cursor": listed["next_cursor"]}).json()
        assert [j["id"] for j in rest["items"]] == [job["id"], queued["id"]] and rest["next_cursor"] is None
        assert [j["id"] for j in http.get("/api/v1/models/jobs", params={"task": "urgency"}).json()["items"]] \
            == [job2["id"]]
        _problem(http.get("/api/v1/models/jobs/999999"), 404)


_BAD_UPLOADS = [
    ("notes.txt", b"text,label\nhello,a\n", "text/plain", 415, "unsupported format"),
    ("data.csv", b"message,intent\nhello,a\n", "text/csv", 400, "no column 'text'"),
    ("data.csv", "text,label\nstraße,a\n".encode("latin-1"), "text/csv", 400, "not UTF-8"),
    ("data.jsonl", b'{"text": "hi", "label": "a"}\n{not json\n', "application/jsonl", 400, "data.jsonl:2"),
    ("data.csv", b"text,label\n" + b"".join(b"message %d,same\n" % i for i in range(30)), "text/csv", 422,
     "at least two labels"),
    ("data.csv", b"text,label\n" + b"".join(b"message %d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(6)),
     "text/csv", 422, "at least 10"),
    ("data.csv", b"text,label\n" + b"".join(b"message %d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1]) for i in range(11))
     + b"lonely message,c\n", "text/csv", 422, "fewer than 2 examples"),
]


def test_bad_uploads_are_refused_and_leave_no_job(rt: Triage, client: TestClient, api_key: KeyMaker,
                                                  auth: Auth) -> None:
    headers = auth(api_key(rt, "data_scientist"))
    for name, data, media, status, message in _BAD_UPLOADS:
        response = client.post("/api/v1/models/jobs", data={"task": "intent"}, files={"file": (name, data, media)},
                               headers=headers)
        assert message in _problem(response, status)["detail"], (name, response.text)
    urgency = b"text,label\n" + b"".join(b"message %d,%s\n" % (i, (b"soon", b"later")[i % 2]) for i in range(20))
    wrong = client.post("/api/v1/models/jobs", data={"task": "urgency"}, headers=headers,
                        files={"file": ("u.csv", urgency, "text/csv")})
    assert "unknown urgency label(s) later, soon" in _problem(wrong, 422)["detail"]
    too_big = b"text,label\n" + b"".join(b"message %06d,%s\n" % (i, b"ab"[i % 2:i % 2 + 1])
                                          for i in range(BODY_LIMIT // 16))
    assert len(too_big) > BODY_LIMIT
    assert "TRIAGE_API_MAX_BODY" in _problem(client.post("/api/v1/models/jobs", data={"task": "intent"},
                                                         headers=headers,
                                                         files={"file": ("big.csv", too_big, "text/csv")}),
                                             413)["detail"]
    mapped = client.post("/api/v1/models/jobs", data={"task": "intent", "text_column": "body"}, headers=headers,
                         files={"file": ("data.csv", b"message,label\nhello,a\n", "text/csv")})
    assert "no column 'body' (columns are: message, label)" in _problem(mapped, 400)["detail"]
    assert "needs a file" in _problem(client.post("/api/v1/models/jobs", data={"task": "intent", "source": "upload"},
                                                  headers=headers), 400)["detail"]
    both = client.post("/api/v1/models/jobs", data={"task": "intent", "source": "export"}, headers=headers,
                       files={"file": ("data.csv", b"text,label\n", "text/csv")})
    assert "leave out the file" in _problem(both, 400)["detail"]
    _problem(client.post("/api/v1/models/jobs", data={"task": "weather"}, headers=headers), 422)

    with rt.db.session() as session:
        assert session.scalars(select(TrainingJob)).all() == []
    staging = rt.settings.home / "training-data"
    assert not staging.exists() or list(staging.iterdir()) == [], "refused uploads leave no files behind"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_jobs_of_a_dead_server_are_requeued_not_lost(rt: Triage) -> None:
    now = utcnow()
    here = jobs.worker_name().rsplit(":", 1)[0]
    with rt.db.transaction() as session:
        def running(worker: str, beat: datetime, attempts: int = 1) -> int:
            job = jobs.create_job(session=session, task="sentiment", source="export", created_by="test")
            job.status, job.worker, job.heartbeat_at, job.attempts = "running", worker, beat, attempts
            session.flush()
            return job.id

        silent = running("elsewhere:1", now - timedelta(minutes=5))
        alive = running("elsewhere:2", now)
        crashed_here = running(f"{here}:{_dead_pid()}", now)
        given_up = running("elsewhere:3", now - timedelta(minutes=5), attempts=jobs.MAX_ATTEMPTS)
        requeued = jobs.recover(session=session, stale_before=now - timedelta(seconds=60))
    assert sorted(requeued) == sorted([silent, crashed_here])
    with rt.db.session() as session:
        status = {j.id: (j.status, j.error) for j in session.scalars(select(TrainingJob))}
    assert status[alive] == ("running", None) and status[silent][0] == status[crashed_here][0] == "queued"
    assert status[given_up][0] == "failed" and "3 times" in status[given_up][1]


def test_runner_finishes_requeued_jobs_and_records_failures(rt: Triage) -> None:
    with rt.db.transaction() as session:
        left = jobs.create_job(session=session, task="sentiment", source="export", created_by="test")
        left.status, left.worker, left.attempts = "running", "elsewhere:1", 1
        left.heartbeat_at = utcnow() - timedelta(minutes=10)
        lost = jobs.create_job(session=session, task="sentiment", source="upload", created_by="test",
                               staged=jobs.StagedData(path=rt.settings.home / "gone.csv", name="gone.csv",
                                                      sha256="0" * 64, rows=40))
        left_id, lost_id = left.id, lost.id
    served = rt.registry.current("sentiment")
    assert JobRunner(rt).run_pending() == [left_id, lost_id]
    with rt.db.session() as session:
        finished, failed = session.get(TrainingJob, left_id), session.get(TrainingJob, lost_id)
        assert finished is not None and failed is not None
        assert finished.status == "succeeded" and finished.attempts == 2 and finished.model_version
        assert finished.model_version in {i.version for i in rt.registry.versions("sentiment")}
        assert failed.status == "failed" and "upload it again" in (failed.error or "")
        assert failed.finished_at is not None
    assert rt.registry.current("sentiment") == served  # neither job asked for promotion


@SQLITE_ONLY
def test_jobs_cli_runs_queued_jobs_and_lists_them(rt: Triage, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    with rt.db.transaction() as session:
        job_id = jobs.create_job(session=session, task="sentiment", source="export", created_by="cli-test").id
    for name, value in (("TRIAGE_HOME", rt.settings.home), ("TRIAGE_DATABASE_URL", rt.settings.database_url),
                        ("TRIAGE_MODELS_PATH", rt.settings.models_dir)):
        monkeypatch.setenv(name, str(value))
    runner = CliRunner()
    ran = runner.invoke(app, ["models", "jobs", "run"])
    assert ran.exit_code == 0, ran.output
    assert f"job #{job_id}: succeeded" in ran.output
    listed = runner.invoke(app, ["models", "jobs", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["id"] == job_id and row["status"] == "succeeded" and row["model_version"]
