"""Holm and Benjamini-Hochberg on a hand-computed family, and GrowthBook's adjusted intervals."""

from __future__ import annotations

import math

import pytest

from limelight.experiments.stats import (
    ProportionSummary,
    adjust_p_values,
    adjusted_interval,
    benjamini_hochberg,
    correct,
    holm,
    welch_t_test,
)

# Eight p-values (sorted here, shuffled below). By hand, with m = 8:
#   Holm: p_(i) * (m - i + 1) = .008 .056 .234 .205 .168 .180 .148 .205, running max
#   BH:   p_(i) * m / i      = .008 .032 .104 .082 .0672 .080 .08457 .205, running min from the end
P_VALUES = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
HOLM = [0.008, 0.056, 0.234, 0.234, 0.234, 0.234, 0.234, 0.234]
BH = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.074 * 8 / 7, 0.205]


def test_holm_by_hand() -> None:
    assert holm(P_VALUES) == pytest.approx(HOLM)


def test_benjamini_hochberg_by_hand() -> None:
    assert benjamini_hochberg(P_VALUES) == pytest.approx(BH)


def test_input_order_is_kept() -> None:
    order = [5, 0, 7, 2, 4, 1, 6, 3]
    shuffled = [P_VALUES[i] for i in order]
    assert holm(shuffled) == pytest.approx([HOLM[i] for i in order])
    assert adjust_p_values(shuffled, "benjamini-hochberg") == pytest.approx([BH[i] for i in order])


def test_adjusted_values_are_capped_and_never_smaller() -> None:
    p = [0.5, 0.9, 0.01]
    for adjusted in (holm(p), benjamini_hochberg(p)):
        assert all(a >= q for a, q in zip(adjusted, p, strict=True))
        assert max(adjusted) <= 1.0
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([1.5])
    with pytest.raises(ValueError):
        adjust_p_values([0.1], "bonferroni")  # type: ignore[arg-type]


def test_adjusted_interval_widens_with_the_adjusted_p_value() -> None:
    result = welch_t_test(ProportionSummary(n=5000, sum=500), ProportionSummary(n=5000, sum=570))
    assert result.p_value < 0.05
    lower, upper = adjusted_interval(result, min(1.0, result.p_value * 3))
    assert lower < result.ci[0] and upper > result.ci[1]
    # the implied standard error reproduces the adjusted p-value
    se = (upper - lower) / 2 / 1.959963984540054
    assert 2 * (1 - _phi(abs(result.estimate) / se)) == pytest.approx(result.p_value * 3)
    assert adjusted_interval(result, 1.0) == (-math.inf, math.inf)
    assert adjusted_interval(result, result.p_value / 2) == result.ci  # never narrower


def test_correct_a_family_of_arms() -> None:
    control = ProportionSummary(n=5000, sum=500)
    arms = [ProportionSummary(n=5000, sum=s) for s in (505, 600, 530)]
    results = [welch_t_test(control, arm) for arm in arms]
    family = correct(results, "holm")
    assert [a.p_value for a in family] == pytest.approx(holm([r.p_value for r in results]))
    assert [a.significant for a in family] == [False, True, False]
    assert all(a.method == "holm" and a.result is r for a, r in zip(family, results, strict=True))


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))
