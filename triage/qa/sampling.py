"""Which replies to review and who reviews them: pure functions, so fairness can be tested without a database.

Each agent's random draw uses its own generator seeded by (run seed, agent id): the same seed gives the
same samples, and one agent's replies never change another agent's draw.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

MANDATORY_REASONS = ("sla_breach", "negative_sentiment")

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Candidate:
    """An agent's reply in the period, with why it must be reviewed (if it must)."""

    message_id: int
    agent_id: int
    ticket_id: int
    sent_at: datetime
    flags: frozenset[str] = frozenset()


@dataclass
class Pick:
    candidate: Candidate
    reasons: list[str]


@dataclass
class AgentTally:
    """What the run did for one agent: the basis of the fairness report."""

    agent_id: int
    replies: int = 0
    already_sampled: int = 0
    mandatory: int = 0
    random: int = 0
    random_pool: int = 0
    shortfall: int = 0  # random replies short of sample_size because the agent wrote too few
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"agent_id": self.agent_id, "replies": self.replies, "already_sampled": self.already_sampled,
                "mandatory": self.mandatory, "random": self.random, "random_pool": self.random_pool,
                "shortfall": self.shortfall, "reasons": dict(sorted(self.reasons.items()))}


def agent_rng(seed: int, agent_id: int, purpose: str = "review") -> random.Random:
    return random.Random(f"{purpose}:{seed}:{agent_id}")


def select_review(candidates: Iterable[Candidate], *, per_agent: int, seed: int, exclude: set[int],
                  mandatory: Iterable[str] = MANDATORY_REASONS) -> tuple[list[Pick], dict[int, AgentTally]]:
    """Every reply carrying a mandatory flag, plus `per_agent` replies per agent drawn at random from all of its
    replies (fewer only when the agent has fewer), never one in `exclude` (already sampled for review)."""
    wanted = set(mandatory)
    by_agent: dict[int, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_agent[c.agent_id].append(c)
    picks: list[Pick] = []
    tallies: dict[int, AgentTally] = {}
    for agent_id in sorted(by_agent):
        replies = sorted(by_agent[agent_id], key=lambda c: c.message_id)
        tally = tallies[agent_id] = AgentTally(agent_id=agent_id, replies=len(replies))
        fresh = [c for c in replies if c.message_id not in exclude]
        tally.already_sampled = len(replies) - len(fresh)
        # The random sample is drawn from every fresh reply, flagged or not: it estimates the agent's usual
        # quality, which a mass breach (every reply flagged) must not empty. A reply drawn both ways is one pick.
        chosen = {c.message_id for c in agent_rng(seed, agent_id).sample(fresh, min(per_agent, len(fresh)))}
        tally.random_pool = len(fresh)
        tally.random = len(chosen)
        tally.shortfall = per_agent - len(chosen)
        if chosen:
            tally.reasons["random"] = len(chosen)
        for c in fresh:
            reasons = sorted(c.flags & wanted)
            if reasons:
                tally.mandatory += 1
                for reason in reasons:
                    tally.reasons[reason] = tally.reasons.get(reason, 0) + 1
            if c.message_id in chosen:
                reasons.append("random")
            if reasons:
                picks.append(Pick(c, reasons))
    return picks, tallies


def select_calibration(candidates: Iterable[Candidate], *, size: int, seed: int, exclude: set[int],
                       avoid: set[int]) -> list[Candidate]:
    """`size` replies for a calibration panel, spread over agents in turn; replies already picked for review
    in this run (`avoid`) only when nothing else is left, never one in `exclude` (already calibrated)."""
    rng = random.Random(f"calibration:{seed}")
    by_agent: dict[int, list[Candidate]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: c.message_id):
        if c.message_id not in exclude:
            by_agent[c.agent_id].append(c)
    agents = sorted(by_agent)
    rng.shuffle(agents)
    chosen: list[Candidate] = []
    for tier in (lambda c: c.message_id not in avoid, lambda c: c.message_id in avoid):
        pools = {a: [c for c in by_agent[a] if tier(c)] for a in agents}
        for pool in pools.values():
            rng.shuffle(pool)
        while len(chosen) < size and any(pools.values()):
            for agent in agents:
                if pools[agent] and len(chosen) < size:
                    chosen.append(pools[agent].pop())
    return chosen


def assign_reviewers(keys: Sequence[K], reviewers: Sequence[int], load: dict[int, int], *,
                     per_key: int = 1, sizes: dict[K, int] | None = None) -> dict[K, list[int]]:
    """Give each key `per_key` distinct reviewers, always the least loaded (open reviews), ties by id.

    Starting from equal loads this is round robin; a reviewer with a backlog gets fewer until caught up.
    A key may stand for several reviews (`sizes`, e.g. the sampled replies of one ticket, which one
    reviewer should read together). `load` is updated in place.
    """
    if per_key > len(reviewers):
        raise ValueError(f"{per_key} reviewers needed per sample, {len(reviewers)} available")
    for r in reviewers:
        load.setdefault(r, 0)
    out: dict[K, list[int]] = {}
    for key in keys:
        panel = sorted(reviewers, key=lambda r: (load[r], r))[:per_key]
        for r in panel:
            load[r] += sizes.get(key, 1) if sizes else 1
        out[key] = panel
    return out
