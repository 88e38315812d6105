"""Helpers shared by the benchmarks: free ports, timing, temporary runtimes, result rows."""

from __future__ import annotations

import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
