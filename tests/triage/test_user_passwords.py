"""Desk sign-in service: argon2id passwords, server-side sessions, the login rate limit, and the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import cli_in_process
from triage.db import utcnow
from triage.errors import TooManyAttempts, UserError
from triage.runtime import Triage
from triage.users.auth import (
    MAX_FAILURES,
    csrf_matches,
    demo_logins,
    session_user,
    set_password,
    sign_in,
    sign_out,
)
from triage.users.service import create_user, revoke_user
from triage.users.tables import LoginAttempt, User

PASSWORD = "correct horse battery"


def _person(rt: Triage, name: str = "ana", role: str = "agent") -> None:
    with rt.db.transaction() as session:
        create_user(name, role, session=session, password=PASSWORD,
                    agent_email="nadia.brooks@larkspur.example" if role == "agent" else None)


def test_password_is_stored_as_argon2id_and_signs_in(rt: Triage) -> None:
    _person(rt)
    with rt.db.transaction() as session:
        user = session.scalar(select(User).where(User.name == "ana"))
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert sign_in("ana", "wrong password!", ip="10.0.0.1", session=session) is None
        started = sign_in("ana", PASSWORD, ip="10.0.0.1", session=session)
        assert started is not None and started.user.id == user.id
        token = started.token
        assert started.web_session.token_hash != token  # only the hash is kept
    with rt.db.transaction() as session:
        found = session_user(token, session=session)
        assert found is not None and found[0].name == "ana"
        assert csrf_matches(found[1], found[1].csrf_token) and not csrf_matches(found[1], "forged")
        assert not csrf_matches(found[1], None)
        assert session_user(token + "x", session=session) is None
        expired = session_user(token, session=session, now=utcnow() + timedelta(hours=13))
        assert expired is None
        sign_out(token, session=session)
    with rt.db.transaction() as session:
        assert session_user(token, session=session) is None
        assert [a.succeeded for a in session.scalars(select(LoginAttempt).order_by(LoginAttempt.id))] == [False, True]


def test_short_passwords_and_machine_roles_are_refused(rt: Triage) -> None:
    with rt.db.transaction() as session, pytest.raises(UserError, match="at least 10"):
        create_user("bob", "qa", session=session, password="short")
    with rt.db.transaction() as session, pytest.raises(UserError, match="API key only"):
        create_user("relay", "integration", session=session, password=PASSWORD)


def test_rate_limit_per_account_and_address(rt: Triage) -> None:
    _person(rt)
    now = utcnow()
    with rt.db.transaction() as session:
        for i in range(MAX_FAILURES):
            assert sign_in("ana", f"guess number {i}", ip="10.0.0.9", session=session, now=now) is None
    with rt.db.transaction() as session, pytest.raises(TooManyAttempts) as locked:
        # The right password does not help while the pair is locked: it is not even checked.
        sign_in("ana", PASSWORD, ip="10.0.0.9", session=session, now=now + timedelta(seconds=1))
    assert 0 < locked.value.retry_after <= 15 * 60
    with rt.db.transaction() as session:
        # Another address is not locked out by the guesser, and the lock ends with the window.
        assert sign_in("ana", PASSWORD, ip="10.0.0.10", session=session, now=now) is not None
        later = now + timedelta(minutes=15, seconds=1)
        assert sign_in("ana", PASSWORD, ip="10.0.0.9", session=session, now=later) is not None


def test_new_password_and_revocation_end_sessions(rt: Triage) -> None:
    _person(rt)
    with rt.db.transaction() as session:
        first = sign_in("ana", PASSWORD, ip="10.0.0.1", session=session)
        assert first is not None
    with rt.db.transaction() as session:
        set_password("ana", "a brand new passphrase", session=session)
    with rt.db.transaction() as session:
        assert session_user(first.token, session=session) is None
        assert sign_in("ana", PASSWORD, ip="10.0.0.1", session=session) is None
        second = sign_in("ana", "a brand new passphrase", ip="10.0.0.1", session=session)
        assert second is not None
    with rt.db.transaction() as session:
        revoke_user("ana", session=session)
    with rt.db.transaction() as session:
        assert session_user(second.token, session=session) is None


def test_cli_add_with_password_prompt_and_passwd(rt: Triage, monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from triage.cli import _common, app

    made: list[Triage] = []

    def runtime() -> Triage:
        made.append(Triage(rt.settings))
        return made[-1]

    monkeypatch.setattr(_common, "runtime", runtime)
    file = tmp_path / "pw"
    file.write_text("another long passphrase\n", encoding="utf-8")
    try:
        added = CliRunner().invoke(app, ["users", "add", "sam", "--role", "supervisor", "--password"],
                                   input=f"{PASSWORD}\n{PASSWORD}\n")
        changed = CliRunner().invoke(app, ["users", "passwd", "sam", "--password-file", str(file)])
    finally:
        for each in made:  # every runtime the commands made, or PostgreSQL connections outlive the test
            each.db.dispose()
    assert added.exit_code == 0, added.output
    assert "sign in to the desk" in added.output
    assert changed.exit_code == 0, changed.output
    with rt.db.transaction() as session:
        assert sign_in("sam", PASSWORD, ip="127.0.0.1", session=session) is None
        assert sign_in("sam", "another long passphrase", ip="127.0.0.1", session=session) is not None
    listed = cli_in_process(rt, monkeypatch, "users", "list", "--json")
    assert '"desk": true' in listed.output


def test_demo_logins_are_fresh_each_time_and_refused_in_production(rt: Triage) -> None:
    with rt.db.transaction() as session:
        first = demo_logins(rt.config, session=session, environment="development")
    leads = {t.lead for t in rt.config.teams if t.lead}
    assert {d.agent for d in first if d.role == "agent"} == leads
    assert [d.name for d in first if d.role == "supervisor"] == ["demo-supervisor"]
    assert {d.role: d.name for d in first if d.role in ("qa", "data_scientist")} == {
        "qa": "demo-qa", "data_scientist": "demo-data-scientist"}
    with rt.db.transaction() as session:
        again = demo_logins(rt.config, session=session, environment="development")
    assert [d.name for d in again] == [d.name for d in first]
    with rt.db.transaction() as session:
        for old, new in zip(first, again, strict=True):
            assert old.password != new.password
            assert sign_in(old.name, old.password, ip="127.0.0.1", session=session) is None
        assert sign_in(again[0].name, again[0].password, ip="127.0.0.1", session=session) is not None
    with rt.db.transaction() as session, pytest.raises(UserError, match="development homes only"):
        demo_logins(rt.config, session=session, environment="production")
