"""`python -m benchmarks [NAME...]`: run benchmarks, print one table (NAME: see BENCHMARKS; default all)."""

from __future__ import annotations

import argparse
import importlib
import logging

from rich.console import Console
from rich.table import Table

BENCHMARKS = {"smtp": "benchmarks.smtp_intake", "imap": "benchmarks.imap_ingest", "quotes": "benchmarks.quotes",
              "models": "benchmarks.models", "simulate": "benchmarks.simulation",
              "knowledge": "benchmarks.knowledge", "api": "benchmarks.api_load", "reports": "benchmarks.reports",
              "triage": "benchmarks.triage_eval",
              "reliability": "benchmarks.reliability", "cap": "benchmarks.classify_cap",
              "forecast": "benchmarks.forecast", "pipeline": "benchmarks.pipeline",
              "drafts": "benchmarks.drafts", "alerts": "benchmarks.alerts"}


def _figure(value: float) -> str:
    # Throughputs read best with separators, accuracies with two decimals, calibration errors with four.
    if abs(value) >= 1000:
        return f"{value:,.1f}"
    return f"{value:.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help=f"which to run: {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    logging.basicConfig(level=logging.WARNING)
    console = Console(width=160)
    table = Table(title="Triage benchmarks (2 cores; ratios against a baseline measured in the same run)")
    for column in ("benchmark", "case", "value", "unit", "ratio to baseline", "note"):
        table.add_column(column)
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        console.print(f"running {name} ...")
        for row in module.run():
            table.add_row(row.benchmark, row.case, _figure(row.value), row.unit, row.ratio, row.note)
    console.print(table)


if __name__ == "__main__":
    main()
