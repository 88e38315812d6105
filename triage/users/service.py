"""Create, find and revoke API users; keys are random, shown once and stored as SHA-256 hashes.

A fast hash is enough here because keys carry 192 random bits: there is nothing to brute-force,
unlike passwords, and every request pays for the check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from triage.agents.tables import Agent
from triage.db import utcnow
from triage.errors import UserError
from triage.events.service import record
from triage.users.tables import User, WebSession

KEY_PREFIX = "trg_"


class Role(StrEnum):
    agent = "agent"
    qa = "qa"
    supervisor = "supervisor"
    data_scientist = "data_scientist"
    admin = "admin"
    integration = "integration"  # machine clients: chat widget webhook, mail relays, Prometheus


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    parts = key[len(KEY_PREFIX):].split("_", 1)
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def create_user(name: str, role: str, *, session: Session, agent_email: str | None = None,
                password: str | None = None) -> tuple[User, str]:
    """Add a key holder; returns the row and the key, which cannot be recovered later.

    A `password` lets the person sign in to the desk as well (people only: machines keep to keys).
    """
    name = name.strip()
    if not name:
        raise UserError("a user needs a name")
    try:
        role = Role(role).value
    except ValueError:
        raise UserError(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}") from None
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise UserError(f"a user named {name!r} exists; revoke it first or pick another name")
    agent_id = None
    if role == Role.agent:
        if not agent_email:
            raise UserError("an agent's key must name the agent (--agent EMAIL from triage.toml)")
        agent_id = session.scalar(select(Agent.id).where(Agent.email == agent_email.strip().lower()))
        if agent_id is None:
            raise UserError(f"no agent with email {agent_email!r}; add it to triage.toml first")
    elif agent_email:
        raise UserError("--agent only applies to the agent role")
    password_hash = None
    if password is not None:
        from triage.users.auth import PERSON_ROLES, hash_password

        if role not in PERSON_ROLES:
            raise UserError(f"the {role} role authenticates with its API key only; it gets no password")
        password_hash = hash_password(password)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(24)
    user = User(name=name, role=role, key_prefix=prefix, key_hash=_hash(secret), agent_id=agent_id,
                password_hash=password_hash)
    session.add(user)
    session.flush()
    record("user.created", session=session, user_id=user.id, role=role)
    return user, f"{KEY_PREFIX}{prefix}_{secret}"


def authenticate(key: str, *, session: Session) -> User | None:
    """The active user holding this key, or None; compares in constant time."""
    parts = _split(key.strip())
    if parts is None:
        return None
    prefix, secret = parts
    user = session.scalar(select(User).where(User.key_prefix == prefix))
    if user is None or not user.active or not hmac.compare_digest(user.key_hash, _hash(secret)):
        return None
    now = utcnow()
    # Writing on every request would turn reads into writes; a minute's precision is plenty.
    if user.last_used_at is None or now - user.last_used_at > timedelta(minutes=1):
        user.last_used_at = now
    return user


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def revoke_user(name: str, *, session: Session) -> User:
    """Deactivate a key at once; the row stays for the audit trail."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise UserError(f"no user named {name!r}")
    if user.active:
        user.active = False
        # Free the name for a replacement key while keeping the old row's history.
        user.name = f"{user.name} (revoked {user.id})"
        session.execute(delete(WebSession).where(WebSession.user_id == user.id))  # signed-in browsers too
        record("user.revoked", session=session, user_id=user.id)
    return user
