"""Schemathesis against our own OpenAPI document: generated requests to every operation, no 5xx,
and every documented response matches its schema.

The app runs in-process (ASGI) on SQLite with the sample emails and chats processed into tickets and the
sample knowledge base imported, so generated ids sometimes hit real rows. Examples per operation are
bounded (`TRIAGE_SCHEMATHESIS_EXAMPLES`, default 25) to keep CI fast; the hypothesis database is off so a
run does not depend on an earlier one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from tests.api.conftest import make_key, sqlite_runtime
from tests.conftest import SAMPLES, HashingEncoder
from triage.ingest.files import ingest_paths
from triage.knowledge.index import knowledge_index
from triage.knowledge.service import import_path

EXAMPLES = int(os.environ.get("TRIAGE_SCHEMATHESIS_EXAMPLES", "25"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
# Routes that start real work per call: a training job per generated upload would dominate the run.
# The planning routes fit a model per queue and channel (seconds per call). In this fixture the first forecast
# call ran past the client's 10 s read timeout, later ones did not (issue 17; not pinned down yet, the suspect is
# the start-up warm-up loading the encoder on the same two cores); tests/api/test_planning_api.py covers them.
SKIP = {"POST /api/v1/models/jobs", "GET /api/v1/planning/forecast", "GET /api/v1/planning/staffing",
        "GET /api/v1/planning/{name}/png"}


@schemathesis.serializer("message/rfc822")
def _raw_email(_ctx: object, value: object) -> bytes:
    """Generated bodies for POST /api/v1/emails: whatever bytes the strategy made, sent as they are."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, models_path: Path) -> Iterator[tuple[FastAPI, str]]:
    home = tmp_path_factory.mktemp("schemathesis")
    rt = sqlite_runtime(home, models_path)
    with rt.db.transaction() as session:
        ingest_paths([SAMPLES / "emails", SAMPLES / "chats"], session=session)
        import_path(SAMPLES / "kb", session=session, index=knowledge_index(rt.settings, encoder=HashingEncoder()))
    rt.worker().drain()
    key = make_key(rt, "admin")
    yield create_app(rt), key
    rt.db.dispose()


def test_generated_requests_get_no_server_error_and_match_the_schema(fuzz_app: tuple[FastAPI, str]) -> None:
    app, key = fuzz_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"Authorization": f"Bearer {key}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIP:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            check()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert operations >= 40, f"only {operations} operations in the OpenAPI document"
    assert not failures, "\n\n".join(failures)
