"""Confidence sequences: the formula by hand, and the price of peeking."""

from __future__ import annotations

import math

import pytest

from limelight.experiments.stats import ProportionSummary, sequential_test, welch_t_test
from limelight.experiments.stats.sequential import half_width, mixing_rho

CONTROL = ProportionSummary(n=5000, sum=500)
TREATMENT = ProportionSummary(n=5000, sum=570)


def test_interval_and_p_value_by_hand() -> None:
    result = sequential_test(CONTROL, TREATMENT, difference="absolute", tuning=10_000)
    # rho from alpha 0.05 and tuning 10,000: sqrt((2 ln 20 + ln(2 ln 20 + 1)) / 10,000)
    rho = math.sqrt((-2 * math.log(0.05) + math.log(-2 * math.log(0.05) + 1)) / 10_000)
    assert mixing_rho(0.05, 10_000) == pytest.approx(rho)
    variance = 0.1 * 0.9 / 5000 + 0.114 * 0.886 / 5000
    total = 10_000
    scaled = total * rho**2 + 1
    width = math.sqrt(variance * total) * math.sqrt(
        2 * scaled * math.log(math.sqrt(scaled) / 0.05) / (total * rho) ** 2
    )
    assert result.estimate == pytest.approx(0.014)
    assert result.ci == pytest.approx((0.014 - width, 0.014 + width))
    e_value = math.exp(rho**2 * (0.014**2 * total / variance) / (2 * scaled)) / math.sqrt(scaled)
    assert result.p_value == pytest.approx(min(1.0, 1 / e_value))
    assert result.method == "sequential"


def test_sequence_is_wider_than_the_fixed_horizon_interval() -> None:
    fixed = welch_t_test(CONTROL, TREATMENT)
    for tuning in (500.0, 5000.0, 50_000.0):
        always = sequential_test(CONTROL, TREATMENT, tuning=tuning)
        assert always.ci[0] < fixed.ci[0] and always.ci[1] > fixed.ci[1]
        assert always.p_value >= fixed.p_value


def test_tuning_makes_the_sequence_tightest_near_it() -> None:
    widths = {t: half_width(1e-4, 10_000, 0.05, t) for t in (100.0, 10_000.0, 1e6)}
    assert widths[10_000.0] < widths[100.0]
    assert widths[10_000.0] < widths[1e6]


def test_no_effect_gives_p_value_one() -> None:
    same = sequential_test(CONTROL, ProportionSummary(n=5000, sum=500))
    assert same.p_value == 1.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="tuning"):
        sequential_test(CONTROL, TREATMENT, tuning=0)
    with pytest.raises(ValueError, match="alpha"):
        sequential_test(CONTROL, TREATMENT, alpha=0)
    zero = ProportionSummary(n=10, sum=0)
    assert sequential_test(zero, TREATMENT).error == "ZERO_NEGATIVE_BASELINE_VARIATION"
