"""Chance to beat control and expected loss, against numerical integration."""

from __future__ import annotations

import math

import pytest
from scipy import integrate
from scipy import stats as scipy_stats

from limelight.experiments.stats import (
    GaussianPrior,
    MeanSummary,
    ProportionSummary,
    bayesian_test,
    welch_t_test,
)
from limelight.experiments.stats.bayesian import expected_losses

CONTROL = ProportionSummary(n=4000, sum=400)
TREATMENT = ProportionSummary(n=4000, sum=440)


@pytest.mark.parametrize(("mean", "sd"), [(0.1, 0.05), (-0.02, 0.03), (0.0, 1.0), (3.0, 0.5)])
def test_expected_losses_match_integration(mean: float, sd: float) -> None:
    density = scipy_stats.norm(mean, sd).pdf
    keep_control = integrate.quad(lambda x: x * density(x), 0, math.inf)[0]
    ship_treatment = integrate.quad(lambda x: -x * density(x), -math.inf, 0)[0]
    ours = expected_losses(mean, sd)
    assert ours[0] == pytest.approx(keep_control, abs=1e-9)
    assert ours[1] == pytest.approx(ship_treatment, abs=1e-9)


def test_flat_prior_binomial_posterior_is_the_delta_method_normal() -> None:
    result = bayesian_test(CONTROL, TREATMENT)
    frequentist = welch_t_test(CONTROL, TREATMENT)
    assert result.expected == pytest.approx(0.1)
    assert result.standard_deviation == pytest.approx(frequentist.standard_error)
    assert result.chance_to_win == pytest.approx(
        scipy_stats.norm.cdf(0.1 / frequentist.standard_error)
    )
    assert result.ci == pytest.approx(
        (0.1 - 1.959964 * result.standard_deviation, 0.1 + 1.959964 * result.standard_deviation),
        rel=1e-6,
    )
    assert result.risk[1] < result.risk[0]
    assert result.error is None


def test_gaussian_metric_and_inverse() -> None:
    control = MeanSummary(n=500, sum=5000.0, sum_squares=500 * 100 + 499 * 25)
    treatment = MeanSummary(n=500, sum=4900.0, sum_squares=500 * 96.04 + 499 * 25)
    lower_is_better = bayesian_test(control, treatment, inverse=True)
    higher_is_better = bayesian_test(control, treatment)
    assert lower_is_better.chance_to_win == pytest.approx(1 - higher_is_better.chance_to_win)
    assert lower_is_better.risk == pytest.approx(higher_is_better.risk[::-1])
    # relative lift -2%, sd sqrt(25 / (100 * 500) + 25 * 96.04 / (10**4 * 500)) = 0.031305
    sd = math.sqrt(25 / (100 * 500) + 25 * 96.04 / (10**4 * 500))
    assert lower_is_better.standard_deviation == pytest.approx(sd)
    assert lower_is_better.chance_to_win == pytest.approx(scipy_stats.norm.cdf(0.02 / sd))


def test_proper_prior_shrinks_toward_its_mean() -> None:
    flat = bayesian_test(CONTROL, TREATMENT)
    prior = GaussianPrior(mean=0.0, variance=0.05**2, proper=True)
    shrunk = bayesian_test(CONTROL, TREATMENT, prior=prior)
    data_var = flat.standard_deviation**2
    expected = (0.1 / data_var) / (1 / data_var + 1 / 0.05**2)
    assert shrunk.expected == pytest.approx(expected)
    assert 0 < shrunk.expected < flat.expected
    assert shrunk.standard_deviation < flat.standard_deviation


def test_relative_prior_is_rescaled_for_absolute_lifts() -> None:
    prior = GaussianPrior(mean=0.1, variance=0.04, proper=True)
    absolute = prior.on_scale("absolute", control_mean=2.0)
    assert (absolute.mean, absolute.variance, absolute.scale) == (0.2, 0.16, "absolute")
    assert absolute.on_scale("relative", control_mean=2.0) == prior
    with pytest.raises(ValueError, match="positive variance"):
        GaussianPrior(variance=0.0, proper=True)


def test_untestable_inputs_are_neutral() -> None:
    zero = ProportionSummary(n=100, sum=0)
    result = bayesian_test(zero, TREATMENT)
    assert (result.chance_to_win, result.risk, result.error) == (
        0.5,
        (0.0, 0.0),
        "ZERO_NEGATIVE_BASELINE_VARIATION",
    )
    empty = ProportionSummary(n=0, sum=0)
    assert bayesian_test(CONTROL, empty, difference="absolute").error == "NO_UNITS_IN_VARIATION"
