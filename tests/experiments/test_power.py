"""Sample size and power against textbook values."""

from __future__ import annotations

import math

import pytest

from limelight.experiments.stats import Design, achieved_power, duration_days, sample_size


def test_two_proportions_textbook_sample_size() -> None:
    # 10% vs 12%, alpha 0.05 two-sided, 80% power, unpooled normal approximation:
    # n = (1.95996 + 0.84162)^2 (0.1 * 0.9 + 0.12 * 0.88) / 0.02^2 = 3838.1 -> 3839 per group
    plan = sample_size(Design.proportion(0.10, 0.20), difference="absolute")
    assert plan.n_per_variant == 3839
    assert plan.n_total == 7678
    assert plan.power >= 0.8


def test_means_textbook_sample_size() -> None:
    # Cohen's d = 0.5, alpha 0.05 two-sided, 80% power: 2 (1.95996 + 0.84162)^2 / 0.25 = 62.8
    plan = sample_size(Design.mean(10.0, 10.0, 0.5), difference="absolute")
    assert plan.n_per_variant == 63


def test_power_at_a_given_n_by_hand() -> None:
    design = Design.mean(10.0, 10.0, 0.5)
    # se = sqrt(2 * 100 / 64) = 1.7678; power = Phi(5 / 1.7678 - 1.95996) + Phi(-5/1.7678 - 1.96)
    se = math.sqrt(2 * 100 / 64)
    expected = _phi(5 / se - 1.959963984540054) + _phi(-5 / se - 1.959963984540054)
    assert achieved_power(design, 64, difference="absolute") == pytest.approx(expected)
    assert achieved_power(design, 1) == 0.0


def test_relative_plans_are_the_smallest_that_reach_the_target() -> None:
    design = Design.proportion(0.05, 0.10)
    plan = sample_size(design, target_power=0.9, alpha=0.01)
    assert achieved_power(design, plan.n_per_variant, alpha=0.01) >= 0.9
    assert achieved_power(design, plan.n_per_variant - 1, alpha=0.01) < 0.9
    # the relative test also carries the control mean's noise, so it needs more than absolute
    absolute = sample_size(design, target_power=0.9, alpha=0.01, difference="absolute")
    assert plan.n_per_variant > absolute.n_per_variant


def test_duration_from_daily_traffic() -> None:
    plan = sample_size(Design.proportion(0.10, 0.05), variants=3, daily_units=20_000, traffic=0.5)
    assert plan.n_total == 3 * plan.n_per_variant
    assert plan.days == math.ceil(plan.n_total / 10_000)
    assert duration_days(1, 1000) == 1
    with pytest.raises(ValueError):
        duration_days(10, 0)


def test_sequential_plans_need_more_units() -> None:
    design = Design.proportion(0.10, 0.05)
    fixed = sample_size(design)
    peeking = sample_size(design, sequential_tuning=2.0 * fixed.n_per_variant)
    assert peeking.n_per_variant > fixed.n_per_variant


def test_bad_designs_are_refused() -> None:
    with pytest.raises(ValueError):
        Design.proportion(0.9, 0.2)
    with pytest.raises(ValueError):
        Design.mean(0.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="zero effect"):
        sample_size(Design.proportion(0.1, 0.0))


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))
