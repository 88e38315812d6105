"""`triage qa ...` through the console entry point, in this process: sample, list, show, report, calibration;
bad input exits 2."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import main_in_process
from tests.triage.qa_data import CHLOE, NADIA, WEEK_47, conversation, reviewers
from triage.config import Settings
from triage.qa.schemas import ScorecardIn
from triage.qa.service import submit_scorecard
from triage.qa.tables import QaSample
from triage.runtime import Triage

GOOD = {"accuracy": 5, "spelling": 4, "grammar": 4, "personalisation": 3, "tone": 5, "resolution": 2}


def test_qa_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return main_in_process(home, monkeypatch, *args)

    rt = Triage(Settings(home=home, environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    with rt.db.transaction() as session:
        staff = reviewers(session, "ana", "ben")
        for i in range(4):
            conversation(session, agent=NADIA, at=WEEK_47 + timedelta(hours=i))
            conversation(session, agent=CHLOE, at=WEEK_47 + timedelta(hours=i),
                         sentiment="negative" if i else "neutral")

    sampled = _run("qa", "sample", "--period", "2026-W47", "--seed", "3", "--size", "2", "--no-model", "--json")
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    run = json.loads(sampled.stdout)
    assert run["seed"] == 3 and run["samples"] == 2 + 4  # Nadia 2 random; Chloe 3 negative + 1 random
    table = _run("qa", "sample", "--period", "2026-W47", "--size", "1", "--no-model")
    assert table.returncode == 0 and "QA run #2: 2026-W47" in table.stdout and "Nadia Brooks" in table.stdout

    listed = json.loads(_run("qa", "list", "--agent", NADIA, "--purpose", "review", "--json").stdout)
    assert len(listed) == 3 and {s["agent_email"] for s in listed} == {NADIA}
    assert all(s["checks"]["personalisation"] == "personal" for s in listed)
    shown = _run("qa", "show", str(listed[0]["id"]))
    assert shown.returncode == 0 and "Pre-checks" in shown.stdout and "LH-104233" in shown.stdout

    with rt.db.transaction() as session:
        for sample in session.scalars(select(QaSample)):
            for review in sample.reviews:
                submit_scorecard(sample.id, ScorecardIn(scores=GOOD), reviewer_id=review.reviewer_id, session=session)
    report = json.loads(_run("qa", "report", NADIA, "--json").stdout)
    assert report["periods"][0]["period"] == "2026-W47" and report["periods"][0]["mean_total"] == 68.75
    assert "mean 68.8%" in _run("qa", "report", NADIA).stdout
    calibration = json.loads(_run("qa", "calibration", "--json").stdout)
    assert calibration["samples"] == 4 and calibration["complete_samples"] == 4
    assert "Calibration: 4 of 4" in _run("qa", "calibration", "--period", "2026-11").stdout
    rt.db.dispose()
    _ = staff

    bad = _run("qa", "sample", "--period", "2026-W99", "--no-model")
    assert bad.returncode == 2 and bad.stderr.startswith("error: period '2026-W99' is not a real date")
    missing = _run("qa", "report", "nobody@larkspur.example")
    assert missing.returncode == 4 and "no agent 'nobody@larkspur.example'" in missing.stderr
    unknown = _run("qa", "list", "--status", "done")
    assert unknown.returncode == 2 and "unknown status 'done'" in unknown.stderr
