"""Calibration by simulation, sized to run in seconds (seeded; the full run is
``benchmarks/stats_calibration.py``)."""

from __future__ import annotations

import math

import pytest

from limelight.experiments.stats import Design, calibration, sample_size

TRIALS = 2000
LOW, HIGH = calibration.acceptance_band(0.05, TRIALS)


def test_acceptance_band_is_the_99_percent_binomial_interval() -> None:
    band = calibration.acceptance_band(0.05, TRIALS)
    assert band == pytest.approx((0.038, 0.063))


@pytest.mark.parametrize(
    ("kind", "n", "seed"), [("proportion", 2000, 1), ("mean", 200, 2), ("cuped", 200, 3)]
)
def test_aa_false_positive_rate_is_alpha(kind: calibration.Kind, n: int, seed: int) -> None:
    rate = calibration.fixed_horizon(kind, calibration.welch(), trials=TRIALS, n=n, seed=seed)
    assert LOW <= rate.rate <= HIGH, rate


def test_aa_ratio_metric_false_positive_rate_is_alpha() -> None:
    rate = calibration.fixed_horizon("ratio", calibration.welch(), trials=1000, n=200, seed=4)
    low, high = calibration.acceptance_band(0.05, 1000)
    assert low <= rate.rate <= high, rate


def test_sequential_test_keeps_alpha_when_peeked_daily() -> None:
    looks, per_day = 14, 300
    test = calibration.sequential(0.05, tuning=2.0 * looks * per_day)
    rate = calibration.peeking(
        "proportion", test, trials=TRIALS, looks=looks, n_per_look=per_day, seed=5
    )
    assert rate.rate <= HIGH, rate


def test_fixed_horizon_test_does_not_survive_peeking() -> None:
    rate = calibration.peeking(
        "proportion", calibration.welch(), trials=500, looks=14, n_per_look=300, seed=6
    )
    assert rate.rate > 0.1, rate


@pytest.mark.parametrize("kind", ["proportion", "mean"])
def test_designed_power_comes_true(kind: calibration.Kind) -> None:
    if kind == "proportion":
        design, lift = Design.proportion(calibration.BASE_RATE, 0.2), 0.2
    else:
        sd = math.sqrt(calibration.MEAN_SHAPE) * calibration.MEAN_SCALE
        mean = calibration.MEAN_SHAPE * calibration.MEAN_SCALE
        design = Design.mean(mean, sd, 0.2, treatment_standard_deviation=sd * 1.2)
        lift = 0.2
    plan = sample_size(design, target_power=0.8)
    rate = calibration.fixed_horizon(
        kind, calibration.welch(), trials=TRIALS, n=plan.n_per_variant, lift=lift, seed=7
    )
    assert 0.75 <= rate.rate <= 0.85, (plan, rate)
