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


@customers_app.command("vip")
def customers_vip(
    email: Annotated[str, typer.Argument(help="An address the customer writes from.")],
    off: Annotated[bool, typer.Option("--off", help="Take the VIP flag away.")] = False,
) -> None:
    """Flag a customer as VIP: their messages are raised one urgency level (at least normal)."""
    from triage.customers.service import customer_by_email, set_vip

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        customer = set_vip(customer_by_email(email, session=session).id, not off, session=session, actor="cli")
        state = "VIP" if customer.vip else "not VIP"
    out.print(f"customer #{customer.id} ({email.strip().lower()}) is {state}.", highlight=False)
