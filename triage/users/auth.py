"""People signing in to the desk: argon2id passwords, server-side sessions and a login rate limit.

API keys stay the way machines authenticate (`service.authenticate`); a person's browser holds a random
session token instead, and only its SHA-256 is stored, like a key's. Sessions live in the database so that
logging out, a new password or a revoked user ends them at once, whichever process serves the next request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from triage.config import TriageConfig
from triage.db import utcnow
from triage.errors import TooManyAttempts, UserError
from triage.events.service import record
from triage.users.tables import LoginAttempt, User, WebSession

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 takes any length; a cap keeps a megabyte "password" from costing a core
SESSION_LIFETIME = timedelta(hours=12)  # one working day; then sign in again
# Per account and address: five wrong passwords lock that pair for the rest of a quarter of an hour.
# Keyed on both so that a guesser cannot lock a colleague out from elsewhere (OWASP authentication cheat sheet).
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
ATTEMPTS_KEPT = timedelta(days=30)

# Roles whose people may hold a password: machines (integration) authenticate with keys only.
PERSON_ROLES = frozenset({"agent", "qa", "supervisor", "data_scientist", "admin"})


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults


@cache
def _dummy_hash() -> str:
    # Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
    return _hasher().hash(secrets.token_urlsafe(16))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_password(password: str) -> None:
    """Refuse passwords that are too short or absurdly long; length matters more than character classes."""
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"a password may have at most {MAX_PASSWORD} characters")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string: algorithm, parameters and salt included) of an acceptable password."""
    check_password(password)
    return _hasher().hash(password)


def set_password(name: str, password: str, *, session: Session) -> User:
    """Give a person a (new) password; their open sessions end, as after a suspected leak they must."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None or not user.active:
        raise UserError(f"no active user named {name!r}")
    if user.role not in PERSON_ROLES:
        raise UserError(f"the {user.role} role authenticates with its API key only; it gets no password")
    user.password_hash = hash_password(password)
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    record("user.password_set", session=session, user_id=user.id)
    return user


@dataclass
class SignIn:
    """A started session: the row and the token for the cookie (shown only now, kept only as a hash)."""

    web_session: WebSession
    token: str
    user: User


def _recent_failures(name: str, ip: str, *, session: Session, now: datetime) -> list[datetime]:
    since = now - FAILURE_WINDOW
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.name == name, LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(True),
        LoginAttempt.at >= since))
    if last_ok is not None:
        since = last_ok
    return list(session.scalars(select(LoginAttempt.at).where(
        LoginAttempt.name == name, LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since).order_by(LoginAttempt.at)))


def sign_in(name: str, password: str, *, ip: str, session: Session, now: datetime | None = None) -> SignIn | None:
    """Check a name and password; a new session, or None when they do not match (which is recorded).

    Raises TooManyAttempts, without checking the password, once this name has failed MAX_FAILURES times
    from this address within FAILURE_WINDOW; a success in between starts the count again.
    """
    now = now or utcnow()
    name, ip = name.strip()[:200], ip[:64]
    failures = _recent_failures(name, ip, session=session, now=now)
    if len(failures) >= MAX_FAILURES:
        wait = failures[-MAX_FAILURES] + FAILURE_WINDOW - now
        raise TooManyAttempts(f"too many failed sign-ins for {name!r} from this address; try again later",
                              retry_after=max(1, int(wait.total_seconds()) + 1))
    user = session.scalar(select(User).where(User.name == name)) if name else None
    stored = user.password_hash if user is not None and user.active else None
    ok = False
    try:
        ok = _hasher().verify(stored or _dummy_hash(), password[:MAX_PASSWORD]) and stored is not None
    except (VerificationError, InvalidHashError):
        ok = False
    session.add(LoginAttempt(name=name, ip=ip, succeeded=ok, at=now))
    # The limit needs a quarter of an hour of attempts; a month is kept to read the trail of an incident.
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - ATTEMPTS_KEPT))
    if not ok or user is None or stored is None:
        session.flush()
        return None
    if _hasher().check_needs_rehash(stored):
        user.password_hash = _hasher().hash(password)
    token = secrets.token_urlsafe(32)
    web = WebSession(token_hash=token_hash(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32), ip=ip,
                     created_at=now, last_seen_at=now, expires_at=now + SESSION_LIFETIME)
    session.add(web)
    session.flush()
    record("user.signed_in", session=session, user_id=user.id)
    return SignIn(web, token, user)


def session_user(token: str, *, session: Session, now: datetime | None = None) -> tuple[User, WebSession] | None:
    """The active person behind a session cookie, or None (unknown, expired, user revoked or password removed)."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    web = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if web is None or web.expires_at <= now:
        return None
    user = session.get(User, web.user_id)
    if user is None or not user.active or user.password_hash is None:
        return None
    # As for API keys: writing on every page view would turn reads into writes; a minute's precision is plenty.
    if now - web.last_seen_at > timedelta(minutes=1):
        web.last_seen_at = now
    return user, web


def csrf_matches(web: WebSession, sent: str | None) -> bool:
    """Whether a form carried this session's CSRF token (constant-time comparison)."""
    return bool(sent) and hmac.compare_digest(web.csrf_token.encode(), (sent or "").encode())


def sign_out(token: str, *, session: Session) -> None:
    """End the session holding this token; unknown tokens are ignored (signing out twice is fine)."""
    found = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if found is not None:
        record("user.signed_out", session=session, user_id=found.user_id)
        session.delete(found)
        session.flush()


@dataclass(frozen=True)
class DemoLogin:
    name: str
    role: str
    password: str
    agent: str | None = None


def demo_logins(config: TriageConfig, *, session: Session, environment: str) -> list[DemoLogin]:
    """Desk accounts to try a demo home with: each team's lead as an agent, a supervisor, a QA reviewer and a
    data scientist (one person of each role the desk has pages for).

    Fresh random passwords on every call (printed once by the caller), so a demo home never carries a known
    password; refused in production, where people get accounts from `triage users add`.
    """
    from triage.users.service import create_user

    if environment == "production":
        raise UserError("demo sign-ins are for development homes only; use `triage users add --password`")
    agents = {a.email for a in config.agents}
    leads = [lead for lead in dict.fromkeys(t.lead for t in config.teams if t.lead) if lead in agents]
    wanted: list[tuple[str, str, str | None]] = [(lead.split("@", 1)[0], "agent", lead) for lead in leads]
    wanted += [("demo-supervisor", "supervisor", None), ("demo-qa", "qa", None),
               ("demo-data-scientist", "data_scientist", None)]
    logins = []
    for name, role, agent in wanted:
        password = secrets.token_urlsafe(12)  # 16 characters, 96 random bits
        existing = session.scalar(select(User).where(User.name == name))
        if existing is None:
            create_user(name, role, session=session, agent_email=agent, password=password)
        elif existing.role == role and existing.active:
            set_password(name, password, session=session)
        else:
            continue  # a real account by that name: leave it alone
        logins.append(DemoLogin(name=name, role=role, password=password, agent=agent))
    return logins
