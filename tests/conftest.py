"""Shared fixtures: databases (SQLite and a throw-away PostgreSQL database), trained models, runtimes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner, Result

from triage.config import Settings, default_config_text
from triage.runtime import Triage

PG_SERVER = os.environ.get("TRIAGE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLES = Path(__file__).resolve().parent.parent / "triage" / "samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_triage(home: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The installed `triage` console script with TRIAGE_HOME=home and no other TRIAGE_ settings."""
    exe = Path(sys.executable).parent / "triage"
    cmd = [str(exe)] if exe.exists() else [shutil.which("triage") or "triage"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIAGE_")}
    env["TRIAGE_HOME"] = str(home)
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=env, timeout=timeout)


def main_in_process(home: Path, monkeypatch: pytest.MonkeyPatch, *args: str,
                    env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """What run_triage returns, without a new interpreter: `triage.cli.main` (errors translated to one stderr line
    and an exit code, as in the shell) in this process, with TRIAGE_HOME=home and no other TRIAGE_ settings.

    A subprocess pays the imports (and the sentence encoder) again on every call; use run_triage only where the
    process boundary itself is under test.
    """
    from triage.cli import main

    for key in [k for k in os.environ if k.startswith("TRIAGE_")]:
        monkeypatch.delenv(key)
    for key, value in {"TRIAGE_HOME": str(home), **(env or {})}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(sys, "argv", ["triage", *args])
    with CliRunner().isolation() as (stdout, stderr, _):
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        out, err = stdout.getvalue().decode(), stderr.getvalue().decode()
    return subprocess.CompletedProcess(["triage", *args], code, out, err)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database created for this test session on the local PostgreSQL, dropped afterwards."""
    name = f"triage_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the storage tests must run on PostgreSQL: say why they cannot
        pytest.fail(f"PostgreSQL at {PG_SERVER} is not reachable ({exc}); set TRIAGE_TEST_PG")
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_pg(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on a fresh SQLite file and on an emptied PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'triage.db'}"
    url = request.getfixturevalue("pg_database")
    _reset_pg(url)
    return url


@pytest.fixture(scope="session")
def models_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Baseline models trained once per test session from the bundled samples."""
    from training.registry import Registry
    from training.train import train_baselines

    path = tmp_path_factory.mktemp("models")
    train_baselines(Registry(path))
    return path


@pytest.fixture
def settings(tmp_path: Path, database_url: str, models_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url, models_path=models_path,
                    environment="test")


def on_shift_config() -> str:
    """The bundled triage.toml with every agent on shift around the clock.

    Working hours gate routing (issue 14), and most tests route at the wall clock: they are about other
    things, so their agents never go off shift. tests/triage/test_sla_traps.py tests the hours, clock given.
    """
    return re.sub(r'(?m)^working_hours = ".*"$', 'working_hours = "24x7"', default_config_text())


@pytest.fixture
def rt(settings: Settings) -> Iterator[Triage]:
    if not settings.config_path.exists():
        settings.config_path.parent.mkdir(parents=True, exist_ok=True)
        settings.config_path.write_text(on_shift_config(), encoding="utf-8")
    runtime = Triage(settings)
    runtime.db.ensure_schema()
    runtime.sync_agents()
    yield runtime
    runtime.db.dispose()


def build_email(
    *, sender: str = "Maria Jensen <maria.jensen@example.com>", to: str = "support@larkspur.example",
    subject: str = "Where is my order?", body: str = "Hello, my order LH-104233 has not arrived yet.",
    message_id: str | None = "<m1@mail.example.com>", in_reply_to: str | None = None,
    references: str | None = None, date: str = "Mon, 16 Nov 2026 09:00:00 +0000", cc: str | None = None,
) -> bytes:
    """A small real RFC 5322 message, built with the standard library."""
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = date
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def make_email():  # type: ignore[no-untyped-def]
    return build_email


class HashingEncoder:
    """A stand-in for the sentence encoder: hashed bag of words, normalised; counts the texts it embeds."""

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.calls: list[int] = []

    @property
    def texts_encoded(self) -> int:
        return sum(self.calls)

    def encode(self, texts):  # type: ignore[no-untyped-def]
        import zlib

        import numpy as np

        from models.retrieval import tokenize

        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, item in enumerate(texts):
            for token in tokenize(item):
                out[i, zlib.crc32(token.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


@pytest.fixture
def hashing_encoder() -> HashingEncoder:
    return HashingEncoder()


def cli_in_process(rt: Triage, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """Run a `triage` command in-process on this runtime's settings; its own runtime is disposed after."""
    from triage.cli import _common, app

    made: list[Triage] = []

    def runtime() -> Triage:
        made.append(Triage(rt.settings))
        return made[-1]

    monkeypatch.setattr(_common, "runtime", runtime)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        for each in made:
            each.db.dispose()
