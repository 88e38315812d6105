"""`triage kb` and `triage suggest` through the console entry point (in this process, so the real bundled sentence
encoder loads once rather than once per command)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, main_in_process


@pytest.mark.slow
def test_import_search_and_unknown_ticket_with_real_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return main_in_process(home, monkeypatch, *args)

    # every Markdown file but the README is an article (the sample set grows with its translations, issue 15)
    articles = sum(1 for p in (SAMPLES / "kb").glob("*.md") if p.name.lower() != "readme.md")
    assert articles >= 45
    first = _run("kb", "import", str(SAMPLES / "kb"), "--json")
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads(first.stdout)
    assert report["added"] == articles and report["chunks_embedded"] == report["chunks"] > articles
    again = json.loads(_run("kb", "import", str(SAMPLES / "kb"), "--json").stdout)
    assert again["unchanged"] == articles and again["chunks_embedded"] == 0

    # No shared keyword with the article: only the sentence encoder can find it.
    found = _run("kb", "search", "my parcel never showed up", "--k", "3", "--json")
    assert found.returncode == 0, found.stderr[-2000:]
    results = json.loads(found.stdout)
    assert len(results) == 3 and results[0]["score"] >= results[-1]["score"]
    assert "missing-or-damaged-delivery" in {r["article"] for r in results}
    table = _run("kb", "search", "Rücksendung starten", "--language", "de")
    assert table.returncode == 0 and "de-rueckgabe-und-umtausch" not in table.stdout  # titles, not ids, shown
    assert "Rückgabe" in table.stdout or "Rücksendung" in table.stdout

    missing = _run("suggest", "4242")
    assert missing.returncode == 4  # NotFound
    assert missing.stderr.strip() == "error: no ticket #4242" and "Traceback" not in missing.stderr
    bad = _run("kb", "import", str(tmp_path / "nowhere"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    report_out = _run("kb", "report", "--json")
    assert report_out.returncode == 0 and json.loads(report_out.stdout) == []
