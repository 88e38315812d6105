"""The desk's models pages over HTTP: who sees them, compare, promote with the API's checks, roll back, jobs.

The registry is each test's own copy of the session's baseline models; extra versions are copies of a
stored artifact with other metadata (no training), except in the one test that runs a training job.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from api.app import create_app
from tests.api.desk.conftest import NADIA, PASSWORD, hidden, sign_in
from triage.config import Settings
from triage.events.tables import Event
from triage.jobs.tables import TrainingJob
from triage.runtime import Triage
from triage.users.service import create_user


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # The pages keep little in the database (jobs, audit events); the API's tests run those on PostgreSQL too.
    return f"sqlite:///{tmp_path / 'triage.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, models_path: Path) -> Settings:
    own = tmp_path / "models"  # promotions here must not reach other tests' registry
    shutil.copytree(models_path, own)
    return Settings(home=tmp_path / "home", database_url=database_url, models_path=own, environment="test")


@dataclasses.dataclass
class Versions:
    base: str  # the sentiment model served at the start
    worse: str  # same labels, macro-F1 0.05 lower: promotable
    relabelled: str  # "neutral" dropped from its labels: the label check refuses it unless forced


def copy_version(rt: Triage, kind: str, *, macro_f1_change: float = 0.0, labels: list[str] | None = None) -> str:
    """Another stored version of `kind`: the served artifact under new metadata, without training."""
    model, info = rt.registry.load(kind)
    new = dataclasses.replace(info, version=rt.registry.new_version(kind, info.data_sha256),
                              created_at=datetime.now(UTC).isoformat(), labels=labels or info.labels,
                              extra={}, metrics=info.metrics | {"macro_f1": round(info.metrics["macro_f1"]
                                                                                    + macro_f1_change, 4)})
    folder = rt.registry.save(kind, model, new)
    for name in ("confusion.png", "reliability.png", "per_class.csv", "per_class.md"):  # its reports too
        shutil.copy(rt.registry.path(kind, info.version) / name, folder / name)
    return new.version


def seed_models(rt: Triage) -> Versions:
    """People who sign in with PASSWORD (dana the data scientist, boss, nadia, root) and two extra versions."""
    with rt.db.transaction() as session:
        create_user("dana", "data_scientist", session=session, password=PASSWORD)
        create_user("boss", "supervisor", session=session, password=PASSWORD)
        create_user("root", "admin", session=session, password=PASSWORD)
        create_user("nadia", "agent", session=session, agent_email=NADIA, password=PASSWORD)
    base = rt.registry.current("sentiment")
    assert base is not None
    worse = copy_version(rt, "sentiment", macro_f1_change=-0.05)
    relabelled = copy_version(rt, "sentiment", labels=["negative", "positive"])
    return Versions(base=base, worse=worse, relabelled=relabelled)


@pytest.fixture
def models_server(rt: Triage, live_server: Callable[[FastAPI], Iterator[str]]) -> Iterator[tuple[str, Versions]]:
    versions = seed_models(rt)
    for base in live_server(create_app(rt)):
        yield base, versions


@contextlib.contextmanager
def signed_in(base: str, name: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=60) as client:
        assert sign_in(client, name).status_code == 303
        yield client


def test_data_scientists_land_on_models_and_see_no_tickets(rt: Triage,
                                                           models_server: tuple[str, Versions]) -> None:
    base, v = models_server
    with signed_in(base, "dana") as dana:
        home = dana.get("/")
        assert home.status_code == 303 and home.headers["location"] == "/models"
        listing = dana.get("/models")
        assert listing.status_code == 200
        assert 'href="/models">Models</a>' in listing.text and "My queue" not in listing.text
        assert "customer-care" not in listing.text  # no team queues in the nav
        served = listing.text.split('id="task-sentiment"', 1)[1].split("</section>", 1)[0]
        assert f'class="served-version">{v.base}</a>' in served and v.worse in served
        assert "Start training" in listing.text and "No training jobs yet." in listing.text
        for path in ("/queues/customer-care", "/tickets/1", "/search", "/supervisor", "/qa"):
            refused = dana.get(path)
            assert refused.status_code == 403, (path, refused.status_code)
            assert "does not work tickets" in refused.text

        page = dana.get(f"/models/{v.base}")
        assert page.status_code == 200 and "Per class" in page.text and "neutral" in page.text
        assert f'<img src="/models/{v.base}/reports/confusion.png"' in page.text
        assert f'<img src="/models/{v.base}/reports/reliability.png"' in page.text
        image = dana.get(f"/models/{v.base}/reports/confusion.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content == (rt.registry.path("sentiment", v.base) / "confusion.png").read_bytes()
        assert dana.get(f"/models/{v.base}/reports/meta.json").status_code == 404
        assert dana.get(f"/models/{v.base}/reports/model.joblib").status_code == 404
        assert dana.get("/models/sentiment-20000101-000000-abcdef").status_code == 404
        out = dana.post("/logout", data={"csrf": hidden(page.text, "csrf")})  # their own pages include sign-out
        assert out.status_code == 303 and out.headers["location"] == "/login"
        assert dana.get("/models").headers["location"] == "/login?next=/models"

    with httpx.Client(base_url=base, timeout=60) as anonymous:
        to_login = anonymous.get(f"/models/{v.base}/reports/confusion.png")
        assert to_login.status_code == 303 and to_login.headers["location"].startswith("/login?next=/models/")

    with signed_in(base, "nadia") as nadia:  # agents: neither the API's models routes nor these pages
        assert 'href="/models"' not in nadia.get("/").text
        assert nadia.get("/models").status_code == 403
        assert nadia.get(f"/models/{v.base}/reports/confusion.png").status_code == 403

    with signed_in(base, "boss") as boss:  # supervisors read models (as in the API) but change nothing
        listing = boss.get("/models")
        assert listing.status_code == 200 and 'href="/models">Models</a>' in listing.text
        assert "Start training" not in listing.text and "Roll back" not in listing.text
        page = boss.get(f"/models/{v.worse}")
        assert page.status_code == 200 and "Promote" not in page.text
        refused = boss.post(f"/models/{v.worse}/promote", data={"csrf": hidden(page.text, "csrf")})
        assert refused.status_code == 403
        assert boss.get("/models/jobs/1").status_code == 403
    assert rt.registry.current("sentiment") == v.base


def test_compare_shows_the_apis_differences_marked(rt: Triage, models_server: tuple[str, Versions]) -> None:
    base, v = models_server
    with signed_in(base, "dana") as dana:
        page = dana.get("/models/compare", params={"a": v.base, "b": v.worse})
        assert page.status_code == 200
        row = page.text.split("<th scope=\"row\">macro_f1</th>", 1)
        assert len(row) == 2, "the comparison lists macro-F1"
        assert 'class="delta-worse"' in row[0].rsplit("<tr", 1)[1] and "-0.0500" in row[1].split("</tr>", 1)[0]
        accuracy = page.text.split("<th scope=\"row\">accuracy</th>", 1)[1].split("</tr>", 1)[0]
        assert "+0.0000" in accuracy and "(" not in accuracy  # unchanged: no verdict
        assert "Trained on the same data" in page.text
        assert f"Promote {v.worse}" in page.text and f"Promote {v.base}" not in page.text  # base is served

        labels = dana.get("/models/compare", params={"a": v.base, "b": v.relabelled})
        assert "Only in A: neutral" in labels.text and "Only in B: none" in labels.text

        across = dana.get("/models/compare", params={"a": v.base, "b": rt.registry.current("intent")})
        assert across.status_code == 400 and "same task" in across.text


def test_a_refused_promotion_shows_its_reasons_and_force_needs_a_reason(
        rt: Triage, models_server: tuple[str, Versions]) -> None:
    base, v = models_server
    with signed_in(base, "dana") as dana:
        page = dana.get(f"/models/{v.relabelled}")
        assert 'name="force"' not in page.text  # force is offered only once the checks refused
        csrf = hidden(page.text, "csrf")
        assert dana.post(f"/models/{v.relabelled}/promote", data={}).status_code == 403  # no CSRF token

        refused = dana.post(f"/models/{v.relabelled}/promote", data={"csrf": csrf})
        assert refused.status_code == 409
        assert f"not promoting {v.relabelled}: its labels differ from {v.base} in service: drops neutral" \
            in refused.text
        assert 'name="force"' in refused.text and 'name="reason"' in refused.text
        assert rt.registry.current("sentiment") == v.base

        no_reason = dana.post(f"/models/{v.relabelled}/promote", data={"csrf": csrf, "force": "true", "reason": " "})
        assert no_reason.status_code == 422 and "Say why" in no_reason.text
        assert rt.registry.current("sentiment") == v.base

        forced = dana.post(f"/models/{v.relabelled}/promote",
                           data={"csrf": csrf, "force": "true", "reason": "neutral merged into positive, ticket 812"})
        assert forced.status_code == 303 and forced.headers["location"] == f"/models?promoted={v.relabelled}"
    assert rt.registry.current("sentiment") == v.relabelled
    assert rt.suite.versions()["sentiment"] == v.relabelled  # this server serves it at once
    assert rt.registry.history("sentiment")[-1]["action"] == "force"
    with rt.db.session() as session:
        event = session.scalars(select(Event).where(Event.kind == "model.promoted")).one()
        assert event.actor == "dana" and event.data["forced"] is True
        assert event.data["reason"] == "neutral merged into positive, ticket 812"


def test_promote_then_roll_back(rt: Triage, models_server: tuple[str, Versions]) -> None:
    base, v = models_server
    with signed_in(base, "dana") as dana:
        page = dana.get(f"/models/{v.worse}")
        promoted = dana.post(f"/models/{v.worse}/promote", data={"csrf": hidden(page.text, "csrf")})
        assert promoted.status_code == 303
        listing = dana.get(promoted.headers["location"])
        assert f"{v.worse} is served from now on." in listing.text
        sentiment = listing.text.split('id="task-sentiment"', 1)[1].split("</section>", 1)[0]
        assert f'class="served-version">{v.worse}</a>' in sentiment
        assert f"Roll back sentiment to {v.base}" in sentiment
        assert rt.registry.current("sentiment") == v.worse and rt.suite.versions()["sentiment"] == v.worse

        back = dana.post("/models/sentiment/rollback", data={"csrf": hidden(listing.text, "csrf")})
        assert back.status_code == 303
        listing = dana.get(back.headers["location"])
        assert f"The sentiment model was rolled back to {v.base}." in listing.text
        assert rt.registry.current("sentiment") == v.base and rt.suite.versions()["sentiment"] == v.base
        assert "served from now on" not in dana.get(f"/models?promoted={v.worse}").text  # no longer true
        # Nothing earlier to go back to: the button is gone, and a forged POST is refused by the registry.
        sentiment = listing.text.split('id="task-sentiment"', 1)[1].split("</section>", 1)[0]
        assert "Roll back sentiment" not in sentiment
        again = dana.post("/models/sentiment/rollback", data={"csrf": hidden(listing.text, "csrf")})
        assert again.status_code == 409 and "no earlier" in again.text
        assert dana.post("/models/feelings/rollback", data={"csrf": hidden(listing.text, "csrf")}).status_code == 404
    with rt.db.session() as session:
        kinds = [e.kind for e in session.scalars(select(Event).where(Event.kind.like("model.%")).order_by(Event.id))]
        assert kinds == ["model.promoted", "model.rolled_back"]


def mood_rows() -> list[dict[str, str]]:
    """36 labelled rows of two moods: a sentiment model trains on them in seconds."""
    return [{"text": f"{phrase} {place}", "label": label}
            for label, phrases in {"happy": ["I love the", "thank you so much for the", "great job with the"],
                                   "angry": ["I am furious about the", "this is unacceptable, the",
                                             "worst service ever with the"]}.items()
            for phrase in phrases for place in ("kettle", "lamp", "sofa", "order", "refund", "courier")]


def test_a_training_job_started_from_the_desk_reports_its_progress(rt: Triage,
                                                                  models_server: tuple[str, Versions]) -> None:
    base, v = models_server
    data = "".join(json.dumps(r) + "\n" for r in mood_rows()).encode()
    with signed_in(base, "dana") as dana:
        csrf = hidden(dana.get("/models").text, "csrf")
        one_label = b"text,label\n" + b"".join(b"row %d,same\n" % i for i in range(12))
        bad = dana.post("/models/jobs", data={"csrf": csrf, "task": "sentiment", "source": "upload"},
                        files={"file": ("one.csv", one_label, "text/csv")})
        assert bad.status_code == 422 and "one.csv" in bad.text
        with rt.db.session() as session:
            assert session.scalars(select(TrainingJob)).all() == []  # refused before any job existed

        started = dana.post("/models/jobs", data={"csrf": csrf, "task": "sentiment", "source": "upload"},
                            files={"file": ("moods.jsonl", data, "application/jsonl")})
        assert started.status_code == 303 and started.headers["location"].startswith("/models/jobs/")
        page = dana.get(started.headers["location"])
        assert page.status_code == 200 and "moods.jsonl" in page.text
        assert '<script src="/static/desk/models.js"' in page.text
        progress_url = page.text.split('data-job-progress="', 1)[1].split('"', 1)[0]
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen.append(dana.get(progress_url).json())
            if seen[-1]["finished"]:
                break
            time.sleep(0.2)
        job = seen[-1]
        assert job["status"] == "succeeded", job
        assert job["percent"] == 100 and job["model_version"] and job["promoted"] is False
        assert all(0 <= s["percent"] <= 100 for s in seen)
        finished = dana.get(started.headers["location"]).text
        assert f'href="/models/{job["model_version"]}"' in finished and "not promoted" in finished
        listing = dana.get("/models").text
        assert f'href="/models/jobs/{job["id"]}"' in listing and "succeeded" in listing
    assert rt.registry.current("sentiment") == v.base  # promote was not asked for
