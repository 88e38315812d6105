"""Agreement statistics for QA calibration, against examples worked out by hand and against scikit-learn."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from sklearn.metrics import cohen_kappa_score

from triage.qa.kappa import cohen_kappa, fleiss_kappa, interpret

# Two reviewers, ten replies, scale 1-3.
#   a = 1 1 1 2 2 2 3 3 3 3
#   b = 1 1 2 2 2 3 3 3 3 1
# Confusion (rows a, columns b):   b=1 b=2 b=3
#                             a=1   2   1   0
#                             a=2   0   2   1
#                             a=3   1   0   3
# observed agreement p_o = (2 + 2 + 3) / 10 = 0.7
# marginals: a = (.3, .3, .4), b = (.3, .3, .4); chance p_e = .09 + .09 + .16 = .34
# kappa = (.7 - .34) / (1 - .34) = .36 / .66 = 6/11
A = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
B = [1, 1, 2, 2, 2, 3, 3, 3, 3, 1]


def test_cohen_unweighted_matches_the_hand_worked_example() -> None:
    assert cohen_kappa(A, B, categories=[1, 2, 3]) == pytest.approx(float(Fraction(6, 11)))


def test_cohen_quadratic_matches_the_hand_worked_example() -> None:
    # Quadratic weights w = ((i - j) / 2)^2: 0.25 one step apart, 1 two steps apart.
    # Observed disagreement: cells (1,2) and (2,3) at .1 each weigh .25 -> .05; cell (3,1) at .1 weighs 1 -> .1;
    #   total .15.
    # Expected disagreement from the marginals: one step apart .09 + .09 + .12 + .12 = .42 x .25 = .105;
    #   two steps apart .12 + .12 = .24 x 1 = .24; total .345.
    # kappa_w = 1 - .15 / .345 = 1 - 10/23 = 13/23
    assert cohen_kappa(A, B, categories=[1, 2, 3], weights="quadratic") == pytest.approx(float(Fraction(13, 23)))


def test_near_misses_count_for_more_under_quadratic_weights() -> None:
    # On a 1-5 scale, off by one every time: no exact agreement, but close.
    a = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5]
    b = [2, 3, 4, 5, 4, 2, 3, 4, 5, 4]
    plain = cohen_kappa(a, b, categories=range(1, 6))
    weighted = cohen_kappa(a, b, categories=range(1, 6), weights="quadratic")
    assert plain is not None and weighted is not None
    assert plain < 0 < weighted


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_agrees_with_scikit_learn(weights: str | None) -> None:
    rng = random.Random(7)
    for _ in range(20):
        a = [rng.randint(1, 5) for _ in range(30)]
        b = [min(5, max(1, x + rng.choice([-1, 0, 0, 1]))) for x in a]
        ours = cohen_kappa(a, b, categories=[1, 2, 3, 4, 5], weights=weights)  # type: ignore[arg-type]
        theirs = cohen_kappa_score(a, b, labels=[1, 2, 3, 4, 5], weights=weights)
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_perfect_and_chance_level_agreement() -> None:
    assert cohen_kappa([1, 2, 3, 4], [1, 2, 3, 4], categories=[1, 2, 3, 4]) == pytest.approx(1.0)
    # Independent marginals: a is 1,1,2,2 and b is 1,2,1,2 -> p_o = .5 = p_e -> 0.
    assert cohen_kappa([1, 1, 2, 2], [1, 2, 1, 2], categories=[1, 2]) == pytest.approx(0.0)


def test_kappa_is_undefined_without_variation() -> None:
    # Both reviewers always gave 4: p_o = p_e = 1, 0/0.
    assert cohen_kappa([4, 4, 4], [4, 4, 4], categories=[1, 2, 3, 4, 5]) is None
    assert fleiss_kappa([[4, 4, 4], [4, 4, 4]], categories=[1, 2, 3, 4, 5]) is None
    assert interpret(None) == "undefined"


def test_fleiss_matches_the_hand_worked_example() -> None:
    # Four replies, three reviewers, scale 1-3. Counts per category n_ij and per-reply agreement
    # P_i = (sum n_ij^2 - 3) / (3 * 2):
    #   [1, 1, 1] -> (3, 0, 0): (9 - 3) / 6 = 1
    #   [2, 2, 3] -> (0, 2, 1): (4 + 1 - 3) / 6 = 1/3
    #   [3, 3, 3] -> (0, 0, 3): 1
    #   [1, 2, 2] -> (1, 2, 0): (1 + 4 - 3) / 6 = 1/3
    # mean P = (1 + 1/3 + 1 + 1/3) / 4 = 2/3
    # category shares: 4/12 each -> chance P_e = 3 * (1/3)^2 = 1/3
    # kappa = (2/3 - 1/3) / (1 - 1/3) = 1/2
    ratings = [[1, 1, 1], [2, 2, 3], [3, 3, 3], [1, 2, 2]]
    assert fleiss_kappa(ratings, categories=[1, 2, 3]) == pytest.approx(0.5)


def test_fleiss_with_unequal_numbers_of_reviewers() -> None:
    # [1, 1] -> P = (4 - 2) / 2 = 1; [1, 2, 2] -> (1 + 4 - 3) / 6 = 1/3; [2, 2] -> 1; mean P = 7/9.
    # Shares over all 7 ratings: 3/7 ones, 4/7 twos -> P_e = 9/49 + 16/49 = 25/49.
    # kappa = (7/9 - 25/49) / (24/49) = (118/441) * (49/24) = 118/216
    assert fleiss_kappa([[1, 1], [1, 2, 2], [2, 2]], categories=[1, 2]) == pytest.approx(118 / 216)


def test_fleiss_with_two_reviewers_is_scotts_pi() -> None:
    # Two raters: Fleiss reduces to Scott's pi, which pools both raters' marginals.
    # Pairs (1,1) (1,2) (2,2) (2,2): p_o = 3/4; pooled shares 3/8 ones, 5/8 twos -> p_e = 9/64 + 25/64 = 34/64.
    # pi = (48/64 - 34/64) / (30/64) = 14/30
    assert fleiss_kappa([[1, 1], [1, 2], [2, 2], [2, 2]], categories=[1, 2]) == pytest.approx(14 / 30)


def test_ratings_outside_the_scale_and_unequal_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="not one of the categories"):
        cohen_kappa([1, 6], [1, 2], categories=[1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="same items"):
        cohen_kappa([1, 2], [1], categories=[1, 2])
    with pytest.raises(ValueError, match="not one of the categories"):
        fleiss_kappa([[0, 1]], categories=[1, 2])


def test_landis_koch_words() -> None:
    assert [interpret(k) for k in (-0.1, 0.1, 0.3, 0.5, 0.7, 0.9)] == [
        "poor", "slight", "fair", "moderate", "substantial", "almost perfect"]
