"""Routing benchmark: `triage simulate` over a week of synthetic traffic, averaged over five seeds.

Our router against round-robin (the baseline column) and random assignment, all on the same tickets,
handling times and shifts, through the same routing code that production runs (`triage.routing.balancer`).
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Row
from triage.config import load_config
from triage.routing.simulate import PRIORITIES, simulate

NAME = "simulate"
AGENTS, HOURS, SEEDS = 20, 168.0, (1, 2, 3, 4, 5)


def run() -> list[Row]:
    config = load_config()
    runs = [simulate(agents=AGENTS, hours=HOURS, seed=seed, config=config) for seed in SEEDS]

    def mean(policy: str, key: str, sub: str | None = None) -> float:
        values = [r[policy][key][sub] if sub else r[policy][key] for r in runs]  # type: ignore[index]
        return round(float(np.mean(values)), 2)

    where = f"{AGENTS} agents, {HOURS:g} h, mean of seeds {SEEDS[0]}-{SEEDS[-1]}"
    tickets = int(np.mean([r["router"]["tickets"] for r in runs]))  # type: ignore[call-overload]
    rows = []
    for priority in PRIORITIES:
        gains = [r["router"]["sla_attainment"][priority] - r["round_robin"]["sla_attainment"][priority]  # type: ignore[index]
                 for r in runs]
        rows.append(Row(NAME, f"first response within SLA, {priority} ({where})", mean("router", "sla_attainment",
                        priority), "%", mean("round_robin", "sla_attainment", priority),
                        f"random {mean('random', 'sla_attainment', priority)}%; gain over round-robin "
                        f"{min(gains):+.1f} to {max(gains):+.1f} points"))
    for key, label, unit in (("first_response_mean_min", "first-response wait, mean", "min"),
                             ("first_response_p90_min", "first-response wait, p90", "min"),
                             ("load_max_over_mean", "handled work per shift hour, max/mean", "ratio"),
                             ("load_gini", "handled work per shift hour, Gini", "gini"),
                             ("estimate_within_20pct", "wait estimate within 20% of the real wait", "%")):
        rows.append(Row(NAME, label, mean("router", key), unit, mean("round_robin", key),
                        f"random {mean('random', key)}"))
    rows.append(Row(NAME, "tickets per run", tickets, "tickets", note="same traffic for every policy"))
    return rows
