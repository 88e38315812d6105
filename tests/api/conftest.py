"""API test helpers: keys per role and a real uvicorn server on a loopback socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from triage.config import Settings
from triage.runtime import Triage
from triage.users.service import create_user


def make_key(rt: Triage, role: str, agent_email: str | None = None) -> str:
    """A fresh user with this role; returns the key to send as a Bearer token."""
    with rt.db.transaction() as session:
        count = session.connection().exec_driver_sql("SELECT count(*) FROM users").scalar()
        _user, key = create_user(f"{role}-{count}", role, session=session, agent_email=agent_email)
    return key


def sqlite_runtime(home: Path, models_path: Path) -> Triage:
    """A migrated SQLite runtime with the sample agents, for module-scoped API fixtures."""
    rt = Triage(Settings(home=home, database_url=f"sqlite:///{home / 'triage.db'}", models_path=models_path,
                         environment="test"))
    rt.db.ensure_schema()
    rt.sync_agents()
    return rt


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api_key() -> Callable[..., str]:
    """`api_key(rt, role, agent_email=None) -> key`."""
    return make_key


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """`auth(key) -> headers`."""
    return bearer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(app: FastAPI) -> Iterator[str]:
    """Run the app under uvicorn on 127.0.0.1:<free port> until the generator is closed."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live_server() -> Callable[[FastAPI], Iterator[str]]:
    """`live_server(app)` is a generator yielding the base URL; use with `contextlib.contextmanager`."""
    return serve
