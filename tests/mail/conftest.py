"""A real Dovecot IMAP server on 127.0.0.1 for the IMAP tests, started once per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.dovecot import Dovecot, DovecotError, DovecotMissing, run_dovecot


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    try:
        with run_dovecot() as server:
            yield server
    except DovecotMissing as exc:
        pytest.skip(str(exc))
    except DovecotError as exc:
        pytest.fail(str(exc))
