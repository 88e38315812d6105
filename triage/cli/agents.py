"""`triage agents ...` and `triage simulate`: the load balancer from the shell."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from triage.cli import _common
from triage.cli._common import emit_json_line, err, out, prepare, print_json
from triage.errors import UserError

agents_app = typer.Typer(help="Agents: who is online and how much they hold.", no_args_is_help=True)


@agents_app.command("list")
def agents_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List agents with their status, open tickets per channel against capacity, and weighted load.

    The status is the one the router obeys: an agent set online reads as away outside working hours, and why.
    """
    from triage.routing.service import agent_rows, waiting_count

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.session() as session:
        rows = agent_rows(session=session)
        waiting = waiting_count(session=session)
    if as_json:
        print_json({"agents": rows, "waiting": waiting})
        return
    table = Table(title=f"Agents ({waiting} ticket(s) waiting for one)")
    for column in ("agent", "status", "teams", "open / capacity", "load (min)"):
        table.add_column(column, overflow="fold")
    for r in rows:
        held = ", ".join(f"{ch} {r['open'].get(ch, 0)}/{cap}" for ch, cap in r["capacity"].items())  # type: ignore[attr-defined]
        status = r["status"] if r["active"] else "inactive"
        if r["active"] and r["status_reason"]:
            status = f"{status} (set {r['status_set']}; {r['status_reason']})"
        table.add_row(f"{r['name']} <{r['email']}>", str(status), ", ".join(r["teams"]), held,  # type: ignore[arg-type]
                      f"{r['load_minutes']:.0f}")
    out.print(table)


@agents_app.command("status")
def agents_status(
    email: Annotated[str, typer.Argument(help="The agent's email address.")],
    status: Annotated[str, typer.Argument(help="online, away or offline.")],
) -> None:
    """Set an agent's status: online drains the waiting queue, offline sends unanswered tickets back to it."""
    from triage.routing.service import set_status

    rt = _common.runtime()
    prepare(rt, train=False)
    with rt.db.transaction() as session:
        result = set_status(email, status.strip().lower(), session=session, actor="cli")
    out.print(f"{email.strip().lower()} is {status.strip().lower()}: {result['requeued']} unanswered ticket(s) back "
              f"in the queue, {result['assigned']} waiting ticket(s) assigned.", highlight=False)


def simulate_cmd(
    agents: Annotated[int, typer.Option(help="Agents on the team (shifts follow the daily curve).", min=1,
                                        max=10000)] = 20,
    hours: Annotated[float, typer.Option(help="Simulated hours.", min=1, max=24 * 365)] = 168,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same traffic.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Also print one JSON object keyed by policy (last line).")]
    = False,
) -> None:
    """Replay synthetic traffic through the router, round-robin and random assignment; compare SLA, waits, balance."""
    from triage.config import load_config
    from triage.routing.simulate import PRIORITIES, simulate

    config = load_config(settings=_common.settings())  # SLA first-response targets come from the policies there
    try:
        results = simulate(agents=agents, hours=hours, seed=seed, config=config,
                           progress=lambda policy: err.print(f"simulating {policy} ..."))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    table = Table(title=f"Simulation: {agents} agents, {hours:g} h, seed {seed}")
    table.add_column("metric")
    for policy in results:
        table.add_column(policy, justify="right")

    def fmt(value: object, unit: str = "") -> str:
        return "-" if value is None else f"{value}{unit}"

    def row(label: str, key: str, unit: str = "") -> None:
        table.add_row(label, *(fmt(r[key], unit) for r in results.values()))

    row("tickets", "tickets")
    for priority in PRIORITIES:
        table.add_row(f"first response within SLA, {priority}",
                      *(fmt(r["sla_attainment"][priority], "%") for r in results.values()))  # type: ignore[index]
    row("first-response wait, mean", "first_response_mean_min", " min")
    row("first-response wait, p90", "first_response_p90_min", " min")
    row("handled work per shift hour, max/mean", "load_max_over_mean")
    row("handled work per shift hour, Gini", "load_gini")
    row("wait estimates within 20%", "estimate_within_20pct", "%")
    out.print(table)
    if as_json:  # the contract: the last line of stdout is one JSON object keyed by policy
        emit_json_line(results)
