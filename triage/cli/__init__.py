"""The `triage` command: one module per command group; they validate input, call services and shape the answer.

What the groups share (consoles, settings from --home/--config, progress bars, JSON output, errors to exit
codes) lives in `triage.cli._common`; the groups never import each other.
"""

from __future__ import annotations

import typer

from triage.cli import _common
from triage.cli.agents import agents_app, simulate_cmd
from triage.cli.customers import customers_app
from triage.cli.imap import imap_app
from triage.cli.inbox import inbox_app, ingest
from triage.cli.knowledge import kb_app, suggest_cmd
from triage.cli.models import data_app, evaluate_cmd, models_app, train_cmd
from triage.cli.outbox import outbox_app
from triage.cli.planning import alerts_cmd, forecast_cmd, staffing_cmd, surveys_app
from triage.cli.qa import qa_app
from triage.cli.reports import report_cmd
from triage.cli.setup import demo, init, serve, worker
from triage.cli.sla import sla_app
from triage.cli.tickets import tickets_app
from triage.cli.users import users_app

__all__ = ["app", "main"]

app = typer.Typer(help="Triage: understand, route and answer customer email and chat.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False)
app.callback()(_common.global_options)

# `triage --help` lists commands, then groups, each in the order registered here.
app.command("train")(train_cmd)
app.command("evaluate")(evaluate_cmd)
app.command("simulate")(simulate_cmd)
app.command("suggest")(suggest_cmd)
app.command("report")(report_cmd)
app.command("forecast")(forecast_cmd)
app.command("staffing")(staffing_cmd)
app.command("alerts")(alerts_cmd)
app.command("init")(init)
app.command("ingest")(ingest)
app.command("worker")(worker)
app.command("serve")(serve)
app.command("demo")(demo)
app.add_typer(tickets_app, name="tickets")
app.add_typer(inbox_app, name="inbox")
app.add_typer(imap_app, name="imap")
app.add_typer(models_app, name="models")
app.add_typer(data_app, name="data")
app.add_typer(agents_app, name="agents")
app.add_typer(kb_app, name="kb")
app.add_typer(sla_app, name="sla")
app.add_typer(users_app, name="users")
app.add_typer(qa_app, name="qa")
app.add_typer(customers_app, name="customers")
app.add_typer(outbox_app, name="outbox")
app.add_typer(surveys_app, name="surveys")


def main() -> None:
    """Console entry point: a Triage error is one line on stderr and its exit code, never a traceback."""
    _common.run(app)
