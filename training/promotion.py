"""Whether a model's label set may replace the one in service (issue 12).

Routing sends each intent to the team that lists it in triage.toml; a model that lacks those intents,
or speaks other labels than the model in service, would quietly send live traffic to the default queue
(a Banking77 model once served `pending_top_up`). Such a model is never promoted on the strength of its
scores alone: the data scientist must say so (`--force`, API `force=true`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from training.measure import serving_label
from training.registry import ModelInfo, Registry
from triage.config import TriageConfig
from triage.errors import Conflict

FORCE_HINT = "promote it anyway with --force (API: force=true)"


class PromotionRefused(Conflict):
    """A promotion that would change the label set in service without being forced."""


def routed_intents(config: TriageConfig) -> set[str]:
    """Every intent a team lists in triage.toml."""
    return {intent for team in config.teams for intent in team.intents}


def served_labels(kind: str, labels: Sequence[str], oos_label: str | None) -> set[str]:
    """The labels as agents see them (out of scope is "other" whatever the data called it)."""
    return {serving_label(kind, label, oos_label) for label in labels}


def _some(labels: Collection[str], limit: int = 5) -> str:
    ordered = sorted(labels)
    more = f", ... {len(ordered) - limit} more" if len(ordered) > limit else ""
    return ", ".join(ordered[:limit]) + more


def label_problem(kind: str, labels: Sequence[str], oos_label: str | None, *, current: ModelInfo | None,
                  routed: Collection[str] | None) -> str | None:
    """Why this label set must not replace the one in service unasked; None when it may.

    `routed` is the intents triage.toml routes (None: not checked); `current` the model in service.
    """
    mine = served_labels(kind, labels, oos_label)
    problems = []
    if kind == "intent" and routed is not None:
        missing = set(routed) - mine
        if missing:
            problems.append(f"it lacks {len(missing)} of the {len(set(routed))} intents routed in triage.toml "
                            f"({_some(missing)})")
    if current is not None:
        theirs = served_labels(kind, current.labels, current.params.get("oos_label"))
        if not mine & theirs:
            problems.append(f"it shares no label with {current.version} in service")
        elif mine != theirs:
            changes = []
            if mine - theirs:
                changes.append(f"adds {_some(mine - theirs)}")
            if theirs - mine:
                changes.append(f"drops {_some(theirs - mine)}")
            problems.append(f"its labels differ from {current.version} in service: {'; '.join(changes)}")
    return "; ".join(problems) or None


def check_promotion(registry: Registry, kind: str, version: str, *, routed: Collection[str] | None,
                    force: bool = False) -> str | None:
    """Refuse (PromotionRefused) to serve `version` over a different label set unless forced.

    Returns the problem that `force` overrode, if any, for the caller to log.
    """
    info = registry.info(kind, version)
    current = registry.current(kind)
    current_info = registry.info(kind, current) if current and current != version else None
    problem = label_problem(kind, info.labels, info.params.get("oos_label"), current=current_info, routed=routed)
    if problem and not force:
        raise PromotionRefused(f"not promoting {version}: {problem}; {FORCE_HINT}")
    return problem
