"""Inter-rater agreement for calibration: Cohen's kappa (two raters, optionally weighted) and Fleiss' kappa.

Written out here rather than imported so the report does not depend on scikit-learn's or statsmodels'
conventions (scikit-learn only knows the categories it sees; statsmodels' Fleiss needs equal rater
counts). Kappa is undefined when chance agreement is already perfect (every rating in one category):
the functions return None then, and the report says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

Weights = Literal["linear", "quadratic"] | None


def _index(categories: Sequence[int]) -> dict[int, int]:
    if len(set(categories)) != len(categories) or len(categories) < 2:
        raise ValueError("categories must list at least two distinct values")
    return {c: i for i, c in enumerate(categories)}


def cohen_kappa(a: Sequence[int], b: Sequence[int], *, categories: Sequence[int],
                weights: Weights = None) -> float | None:
    """Cohen's kappa for two raters over the same items; `weights` credits near misses on an ordinal scale.

    kappa = 1 - sum(w * observed) / sum(w * expected), with w = 0 on the diagonal and 1 (unweighted),
    |i-j|/(k-1) (linear) or ((i-j)/(k-1))^2 (quadratic) elsewhere; expected = product of the marginals.
    """
    if len(a) != len(b):
        raise ValueError(f"{len(a)} ratings against {len(b)}: both raters must rate the same items")
    if not a:
        return None
    index = _index(categories)
    k = len(categories)
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        if x not in index or y not in index:
            raise ValueError(f"rating {x if x not in index else y} is not one of the categories {list(categories)}")
        observed[index[x], index[y]] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    i, j = np.indices((k, k))
    if weights is None:
        w = (i != j).astype(float)
    elif weights == "linear":
        w = np.abs(i - j) / (k - 1)
    elif weights == "quadratic":
        w = ((i - j) / (k - 1)) ** 2
    else:
        raise ValueError(f"unknown weights {weights!r}: None, 'linear' or 'quadratic'")
    disagreement_expected = float((w * expected).sum())
    if disagreement_expected <= 1e-12:
        return None
    return 1.0 - float((w * observed).sum()) / disagreement_expected


def fleiss_kappa(ratings: Sequence[Sequence[int]], *, categories: Sequence[int]) -> float | None:
    """Fleiss' kappa for several raters; each item lists the ratings it got (at least two, counts may differ).

    P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1)) is the agreement on item i, p_j = share of all ratings in
    category j; kappa = (mean P_i - sum p_j^2) / (1 - sum p_j^2). With equal counts this is Fleiss (1971);
    unequal counts use the same per-item agreement, weighting the category shares by ratings.
    """
    index = _index(categories)
    rows = [list(r) for r in ratings if len(r) >= 2]
    if not rows:
        return None
    counts = np.zeros((len(rows), len(categories)))
    for row_no, row in enumerate(rows):
        for value in row:
            if value not in index:
                raise ValueError(f"rating {value} is not one of the categories {list(categories)}")
            counts[row_no, index[value]] += 1
    n = counts.sum(axis=1)
    per_item = ((counts ** 2).sum(axis=1) - n) / (n * (n - 1))
    shares = counts.sum(axis=0) / n.sum()
    chance = float((shares ** 2).sum())
    if chance >= 1 - 1e-12:
        return None
    return (float(per_item.mean()) - chance) / (1 - chance)


def interpret(kappa: float | None) -> str:
    """Landis and Koch's (1977) words for a kappa, the scale QA teams usually quote."""
    if kappa is None:
        return "undefined"
    if kappa < 0:
        return "poor"
    for limit, word in ((0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if kappa <= limit:
            return word
    return "almost perfect"
