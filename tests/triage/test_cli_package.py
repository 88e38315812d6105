"""The `triage.cli` package: `python -m triage.cli` honours --home, and errors map to exit codes in one place."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.cli import _common, main
from triage.errors import Conflict, NotFound, TriageError, Unavailable, UserError


def _python_m(cwd: Path, env_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_HOME"] = str(env_home)
    return subprocess.run([sys.executable, "-m", "triage.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


def test_python_m_honours_home_over_the_environment(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    added = _python_m(tmp_path, elsewhere, "--home", str(home), "users", "add", "probe", "--role", "admin")
    assert added.returncode == 0, added.stderr
    assert (home / "triage.toml").is_file() and not elsewhere.exists()

    listed = _python_m(tmp_path, elsewhere, "--home", str(home), "users", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [u["name"] for u in json.loads(listed.stdout)] == ["probe"]

    other = _python_m(tmp_path, elsewhere, "users", "list", "--json")  # TRIAGE_HOME without --home
    assert other.returncode == 0, other.stderr
    assert json.loads(other.stdout) == []
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(("error", "code"), [(UserError, 2), (NotFound, 4), (Conflict, 5), (Unavailable, 3),
                                             (TriageError, 1)])
def test_a_triage_error_is_one_line_and_its_exit_code(error: type[TriageError], code: int,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    def runtime() -> None:
        raise error("the thing #7 [here]")

    monkeypatch.setattr(_common, "runtime", runtime)
    monkeypatch.setattr(sys, "argv", ["triage", "tickets", "list"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == code
    captured = capsys.readouterr()
    assert captured.err == "error: the thing #7 [here]\n" and captured.out == ""


def test_an_unreachable_database_is_unavailable_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRIAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'triage.db'}")
    monkeypatch.setattr(sys, "argv", ["triage", "--home", str(tmp_path / "home"), "tickets", "list"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == Unavailable.exit_code == 3
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the database: ")
