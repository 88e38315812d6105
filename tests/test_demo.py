"""`triage demo` end to end on an empty TRIAGE_HOME, through the installed console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _triage() -> list[str]:
    exe = Path(sys.executable).parent / "triage"
    return [str(exe)] if exe.exists() else [shutil.which("triage") or "triage"]


@pytest.mark.slow
def test_demo_on_an_empty_home(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_HOME"] = str(tmp_path / "home")
    first = subprocess.run([*_triage(), "demo"], capture_output=True, text=True, env=env, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    for column in ("ticket", "channel", "customer", "intent (conf.)", "sentiment", "urgency", "queue", "assignee",
                   "SLA due"):
        assert column in first.stdout
    rows = re.findall(r"^│ #(\d+) ", first.stdout, flags=re.MULTILINE)
    assert len(rows) >= 55
    assert re.search(r"processed \d+, failed 0", first.stdout)
    # Each sample customer's draft is in the language they wrote in (issue 15): German, French, Spanish, English.
    assert "Each customer answered in their language" in first.stdout
    for language in ("de", "fr", "es", "en"):
        assert re.search(rf"#\d+\s*│\s*{language}\s*│\s*{language}\s*│", first.stdout), language
    assert "Desk sign-ins for this demo" in first.stdout and "demo-supervisor" in first.stdout
    assert "demo-qa" in first.stdout and "demo-data-scientist" in first.stdout
    # The demo QA reviewer has replies to score on the desk (issue 16): a sampling run over the demo's replies.
    sampled = re.search(r"QA: (\d+) agent replies sampled for review", first.stdout)
    assert sampled is not None and int(sampled.group(1)) > 0
    assert "Training baseline models" in first.stderr  # models were missing and got trained
    assert (tmp_path / "home" / "triage.toml").exists() and (tmp_path / "home" / "triage.db").exists()
    assert sorted(p.name for p in (tmp_path / "home" / "models").iterdir()) == ["intent", "sentiment", "urgency"]

    again = subprocess.run([*_triage(), "demo", "--json"], capture_output=True, text=True, env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    tickets = json.loads(again.stdout)
    assert len(tickets) == len(rows)  # idempotent: the second run creates nothing new
    assert "Training baseline models" not in again.stderr
    assert all(t["intent"] and t["sentiment"] and t["urgency"] and t["queue"] for t in tickets)
    assert {t["channel"] for t in tickets} == {"email", "chat"}
