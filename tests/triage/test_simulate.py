"""`triage simulate`: the same seeded traffic through the router and the baselines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from triage.config import load_config
from triage.routing.simulate import POLICIES, PRIORITIES, _Run, gini, make_scenario, simulate


def test_router_beats_round_robin_on_urgent_work_with_even_load() -> None:
    # A small seeded run (20 agents, two days); the README table has the week-long figures.
    results = simulate(agents=20, hours=48, seed=2, config=load_config())
    router, rr = results["router"], results["round_robin"]
    for priority in ("high", "urgent"):
        gain = router["sla_attainment"][priority] - rr["sla_attainment"][priority]  # type: ignore[index]
        assert gain >= 10, (priority, router["sla_attainment"], rr["sla_attainment"])
    assert router["load_max_over_mean"] <= 1.15  # type: ignore[operator]
    assert router["first_response_p90_min"] < rr["first_response_p90_min"]  # type: ignore[operator]


def test_same_seed_same_result_and_capacity_respected() -> None:
    config = load_config()
    assert simulate(agents=6, hours=12, seed=5, config=config) == simulate(agents=6, hours=12, seed=5, config=config)
    assert simulate(agents=6, hours=12, seed=5, config=config) != simulate(agents=6, hours=12, seed=6, config=config)
    scenario = make_scenario(agents=6, hours=12, seed=5, config=config)
    run = _Run(scenario, "round_robin", 5)
    give = run.give

    def checked(ticket, agent, now):  # type: ignore[no-untyped-def]
        give(ticket, agent, now)
        held = sum(1 for t in agent.held if t.channel == ticket.channel)
        assert held <= agent.capacity[ticket.channel] and ticket.channel in agent.channels
        assert ticket.intent in agent.skills or not any(ticket.intent in a.skills for a in run.agents.values())

    run.give = checked  # type: ignore[method-assign]
    report = run.run()
    assert report["tickets"] == len(scenario.tickets) > 50


def test_gini() -> None:
    import numpy as np

    assert gini(np.array([5.0, 5.0, 5.0])) == 0
    assert gini(np.array([0.0, 0.0, 9.0])) == pytest.approx(2 / 3)


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one agent"):
        make_scenario(agents=0, hours=8, seed=1)
    with pytest.raises(ValueError, match="unknown policy"):
        _Run(make_scenario(agents=2, hours=24, seed=1), "fastest", 1)
    with pytest.raises(ValueError, match="no agent's shift"):
        make_scenario(agents=1, hours=2, seed=1)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRIAGE_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "triage.cli", "simulate", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_json_contract(tmp_path: Path) -> None:
    done = _cli(tmp_path, "--agents", "8", "--hours", "24", "--seed", "3", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert list(report) == list(POLICIES)
    for result in report.values():
        assert set(result["sla_attainment"]) == set(PRIORITIES)
        assert {"first_response_mean_min", "first_response_p90_min", "load_max_over_mean", "load_gini",
                "estimate_within_20pct"} <= set(result)
        assert 0 <= result["estimate_within_20pct"] <= 100
    assert report["router"]["tickets"] == report["random"]["tickets"]  # same traffic for every policy
    bad = _cli(tmp_path, "--agents", "0")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    empty = _cli(tmp_path, "--agents", "1", "--hours", "2")
    assert empty.returncode == 2 and "no agent's shift" in empty.stderr
