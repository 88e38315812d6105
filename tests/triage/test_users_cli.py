"""`triage users` through the console script: the key is printed once and works; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import run_triage
from triage.config import Settings
from triage.runtime import Triage
from triage.users.service import authenticate


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_triage(home, *args, timeout=300)


def test_add_list_revoke(tmp_path: Path) -> None:
    home = tmp_path / "home"
    added = _run(home, "users", "add", "nadia", "--role", "agent", "--agent", "nadia.brooks@larkspur.example")
    assert added.returncode == 0, added.stderr[-2000:]
    key = added.stdout.strip()
    assert key.startswith("trg_") and "shown only now" in added.stderr

    rt = Triage(Settings(home=home, environment="test"))
    with rt.db.transaction() as session:
        user = authenticate(key, session=session)
        assert user is not None and user.role == "agent" and user.agent_id is not None
    listed = json.loads(_run(home, "users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["active"]) for u in listed] == [("nadia", "agent", True)]
    assert key not in _run(home, "users", "list").stdout

    assert _run(home, "users", "revoke", "nadia").returncode == 0
    with rt.db.transaction() as session:
        assert authenticate(key, session=session) is None
    rt.db.dispose()

    bad = _run(home, "users", "add", "x", "--role", "wizard")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown role 'wizard'")
    missing = _run(home, "users", "revoke", "nobody")
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr
