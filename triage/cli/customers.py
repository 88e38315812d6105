"""`triage customers ...`: what a person does about a customer's address (issue 14)."""

from __future__ import annotations

from typing import Annotated

import typer

from triage.cli import _common
from triage.cli._common import out, prepare
from triage.errors import UserError

customers_app = typer.Typer(help="Customers and their addresses.", no_args_is_help=True)


@customers_app.command("clear-bounce")
def customers_clear_bounce(
    email: Annotated[str, typer.Argument(help="The address a delivery-status report marked bouncing.")],
) -> None:
    """Let acknowledgements and replies go to an address again once it is fixed."""
    from triage.conversations.bounces import clear_bounce

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        cleared = clear_bounce(email, session=session)
    if not cleared:
        raise UserError(f"{email} is not marked bouncing")
    out.print(f"{email.strip().lower()}: mail goes to it again.", highlight=False)
