"""Small deterministic labelled data and a `triage` command runner for the retraining-loop tests."""

from __future__ import annotations

import csv
import itertools
import json
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import main_in_process

# Three intents and out-of-scope examples, 10 of each, written for these tests.
_TEMPLATES = {
    "refund_request": ["I would like my money back for the {x}", "please refund the {x} I sent back",
                       "can I get a refund on the {x}", "the {x} broke after a day, refund me please",
                       "how long does the refund for my {x} take"],
    "order_status": ["where is my {x} order", "has the {x} I ordered shipped yet", "when will the {x} arrive",
                     "tracking for my {x} has not moved in days", "my {x} order still says processing"],
    "account_access": ["I cannot log in to my account on the {x}", "the password reset link on the {x} is broken",
                       "my account is locked when I sign in on the {x}",
                       "two-factor code never arrives on the {x}", "login keeps failing on the {x}"],
    "oos": ["what will the weather be like {x}", "tell me a joke {x}", "who won the football match {x}",
            "recommend a good film to watch {x}", "what is the capital of Peru, asking {x}"],
}
_FILLERS = {
    "refund_request": ["lamp", "kettle"], "order_status": ["speaker", "grinder"],
    "account_access": ["app", "website"], "oos": ["tomorrow", "tonight"],
}


def _intent_rows() -> list[tuple[str, str]]:
    rows = []
    for label, templates in _TEMPLATES.items():
        for template, filler in itertools.product(templates, _FILLERS[label]):
            rows.append((template.format(x=filler), label))
    return rows


def _write_rows(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("text", "label")) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def intent_rows() -> list[tuple[str, str]]:
    return _intent_rows()


@pytest.fixture
def write_rows() -> Callable[..., Path]:
    """write_rows(path, rows, header=("text", "label")) -> path: a small UTF-8 CSV."""
    return _write_rows


@pytest.fixture
def intent_csv(tmp_path: Path) -> Path:
    return _write_rows(tmp_path / "intents.csv", _intent_rows())


_EMBEDDINGS: dict[str, np.ndarray] = {}


@pytest.fixture
def cached_embeddings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Embed each distinct text once per test session (the real encoder, remembered): keeps retraining fast."""
    from models.encoder import Encoder

    real = Encoder.encode

    def encode(self: Encoder, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        missing = sorted({t for t in texts if t not in _EMBEDDINGS})
        if missing:
            _EMBEDDINGS.update(zip(missing, real(self, missing), strict=True))
        if progress is not None:
            progress(len(texts))
        return np.stack([_EMBEDDINGS[t] for t in texts]) if texts else real(self, texts)

    monkeypatch.setattr(Encoder, "encode", encode)


@pytest.fixture
def run_triage(monkeypatch: pytest.MonkeyPatch) -> Callable[..., subprocess.CompletedProcess[str]]:
    """run_triage(home, *args, code=0, env=None): `triage ARGS` in TRIAGE_HOME=home, exit code checked.

    In this process, through the console entry point (the same error translation and exit codes): the imports are
    paid once and `cached_embeddings` reaches the commands. `python -m triage.cli` itself is exercised by
    tests/triage/test_workers.py.
    """

    def run(home: Path, *args: str, code: int = 0,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        home.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(home.parent)
        proc = main_in_process(home, monkeypatch, *args, env=env)
        assert proc.returncode == code, f"exit {proc.returncode}\nstdout:\n{proc.stdout[-3000:]}\nstderr:\n" \
                                        f"{proc.stderr[-3000:]}"
        return proc

    return run


@pytest.fixture
def last_json() -> Callable[[subprocess.CompletedProcess[str]], Any]:
    """The JSON object on the last line of a command's stdout (the --json contract)."""
    return lambda proc: json.loads(proc.stdout.strip().splitlines()[-1])
