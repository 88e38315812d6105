"""Helpers shared by the benchmarks: free ports, timing, temporary runtimes, result rows."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from triage.config import Settings
from triage.runtime import Triage


@dataclass
class Row:
    benchmark: str
    case: str
    value: float
    unit: str
    baseline: float | None = None  # same unit, measured in the same run
    note: str = ""

    @property
    def ratio(self) -> str:
        return f"{self.value / self.baseline:.2f}x" if self.baseline else "-"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def temp_runtime(database_url: str | None = None, models_path: Path | None = None) -> Triage:
    """A runtime in a fresh temporary home (SQLite unless a URL is given), schema migrated, agents synced."""
    home = Path(tempfile.mkdtemp(prefix="triage-bench-"))
    rt = Triage(Settings(home=home, database_url=database_url, models_path=models_path))
    rt.db.ensure_schema()
    rt.sync_agents()
    return rt


def postgres_url() -> str | None:
    """A fresh database on the local PostgreSQL, or None when it is not reachable."""
    import uuid

    from sqlalchemy import create_engine, text

    server = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    name = f"triage_bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(server, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
    except Exception:
        return None
    return server.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    """Remove a database made by postgres_url (benchmarks leave nothing behind)."""
    from sqlalchemy import create_engine, text

    server, name = url.rsplit("/", 1)
    engine = create_engine(f"{server}/test", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _triage_command(home: Path, env: dict[str, str] | None) -> tuple[list[str], dict[str, str]]:
    """The `triage` of this interpreter's environment, with a clean TRIAGE_* environment naming `home`."""
    exe = Path(sys.executable).parent / "triage"
    cmd = [str(exe)] if exe.exists() else [shutil.which("triage") or "triage"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    return cmd, clean | {"TRIAGE_HOME": str(home)} | (env or {})


def run_triage(home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """Run one `triage` command to completion as a user would; its stdout, or RuntimeError with its stderr."""
    cmd, full_env = _triage_command(home, env)
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"triage {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def start_triage(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a long-running `triage` command (serve, worker) in the background, output discarded."""
    cmd, full_env = _triage_command(home, env)
    return subprocess.Popen([*cmd, *args], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_triage(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    """Ask a background `triage` to stop as a service manager would; kill it if it does not within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Until `GET /ready` answers 200 (models loaded); RuntimeError if the server exits or takes too long."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("triage serve exited during start-up")
        try:
            if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("triage serve was not ready in time")
