"""`triage users ...`: API keys for people and machines, desk passwords for people."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import err, fmt_time, out, prepare, print_json

users_app = typer.Typer(help="API users and their keys (sent as 'Authorization: Bearer KEY').", no_args_is_help=True)


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. the person's login or 'chat-widget'.")],
    role: Annotated[str, typer.Option(help="agent, qa, supervisor, data_scientist, admin or integration.")],
    agent: Annotated[str | None, typer.Option(help="For the agent role: the agent's email in triage.toml.")] = None,
    password: Annotated[bool, typer.Option("--password", help="Also let this person sign in to the desk; "
                                           "asks for the password (not echoed, typed twice).")] = False,
    password_file: Annotated[Path | None, typer.Option(help="Read the desk password from this file's first line "
                                                       "instead of asking (for scripts).")] = None,
) -> None:
    """Create a user and print its API key once; only a hash is kept, so store the key now."""
    from triage.users.service import create_user

    secret = _read_password(password_file) if password_file else _ask_password() if password else None
    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        user, key = create_user(name, role.strip().lower(), session=session, agent_email=agent, password=secret)
        role_name = user.role
    if secret is not None:
        err.print(f"{name!r} can sign in to the desk (`triage serve`, then open /).", highlight=False)
    err.print(f"Created {name!r} ({role_name}). The key is shown only now:", highlight=False)
    out.print(key, highlight=False, soft_wrap=True)


@users_app.command("passwd")
def users_passwd(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    password_file: Annotated[Path | None, typer.Option(help="Read the password from this file's first line "
                                                       "instead of asking (for scripts).")] = None,
) -> None:
    """Set or change a person's desk password; their browsers are signed out."""
    from triage.users.auth import set_password

    secret = _read_password(password_file) if password_file else _ask_password()
    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        set_password(name, secret, session=session)
    out.print(f"New password set for {name!r}; their open desk sessions have ended.", highlight=False)


def _ask_password() -> str:
    # Never a command-line value: it would sit in the shell history and in `ps` for everyone to read.
    from triage.users.auth import check_password

    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password(value)
    return value


def _read_password(path: Path) -> str:
    from triage.errors import UserError
    from triage.users.auth import check_password

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"cannot read the password file {path}: {exc.strerror}") from None
    value = lines[0] if lines else ""
    check_password(value)
    return value


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users, roles and when each key was last used (never the keys)."""
    from triage.users.service import list_users

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.session() as session:
        users = list_users(session=session)  # loaded, and nothing expires them: readable after the session
    if as_json:
        print_json([{"name": u.name, "role": u.role, "active": u.active, "key_prefix": u.key_prefix,
                     "agent_id": u.agent_id, "desk": u.password_hash is not None,
                     "created_at": u.created_at.isoformat(),
                     "last_used_at": u.last_used_at.isoformat() if u.last_used_at else None} for u in users])
        return
    table = Table(title="API users")
    for column in ("name", "role", "active", "key", "desk", "created", "last used"):
        table.add_column(column)
    for u in users:
        table.add_row(u.name, u.role, "yes" if u.active else "revoked", f"trg_{u.key_prefix}_…",
                      "password" if u.password_hash else "-", fmt_time(u.created_at), fmt_time(u.last_used_at))
    out.print(table)


@users_app.command("revoke")
def users_revoke(name: Annotated[str, typer.Argument(help="The user's name.")]) -> None:
    """Disable a user's key at once; the row stays for the audit log."""
    from triage.users.service import revoke_user

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        revoke_user(name, session=session)
    out.print(f"Revoked {name!r}: its key no longer works.", highlight=False)
