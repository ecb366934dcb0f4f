"""Welch t-test, z-test, ratio and CUPED analyses against textbook and scipy answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from limelight.experiments.stats import (
    CupedSummary,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    variance_reduction,
    welch_t_test,
    z_test,
)
from limelight.experiments.stats.cuped import adjust, theta


@pytest.fixture
def samples() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    return rng.gamma(2.0, 5.0, 300), rng.gamma(2.0, 5.5, 420)


def test_welch_matches_scipy_on_raw_arrays(samples: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = samples
    ours = welch_t_test(
        MeanSummary.from_values(a), MeanSummary.from_values(b), difference="absolute"
    )
    theirs = scipy_stats.ttest_ind(b, a, equal_var=False)
    interval = theirs.confidence_interval(0.95)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.estimate / ours.standard_error == pytest.approx(theirs.statistic, rel=1e-9)
    assert ours.dof == pytest.approx(theirs.df, rel=1e-9)
    assert ours.ci[0] == pytest.approx(interval.low, rel=1e-9)
    assert ours.ci[1] == pytest.approx(interval.high, rel=1e-9)
    assert ours.method == "welch" and ours.error is None


def test_relative_interval_is_the_delta_method(samples: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = samples
    ours = welch_t_test(MeanSummary.from_values(a), MeanSummary.from_values(b), alpha=0.1)
    mean_a, mean_b = a.mean(), b.mean()
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(var_b / mean_a**2 + var_a * mean_b**2 / mean_a**4)
    assert ours.estimate == pytest.approx(mean_b / mean_a - 1)
    assert ours.standard_error == pytest.approx(se)
    t = scipy_stats.t.ppf(0.95, ours.dof)
    assert ours.ci == pytest.approx((ours.estimate - t * se, ours.estimate + t * se))
    assert ours.alpha == 0.1


def test_welch_on_a_hand_computed_example() -> None:
    # control: mean 10, sample variance 4 over 100 units; treatment: mean 11, variance 9 over 100
    control = MeanSummary(n=100, sum=1000.0, sum_squares=4 * 99 + 1000.0**2 / 100)
    treatment = MeanSummary(n=100, sum=1100.0, sum_squares=9 * 99 + 1100.0**2 / 100)
    result = welch_t_test(control, treatment, difference="absolute")
    se = math.sqrt(4 / 100 + 9 / 100)  # 0.3606
    dof = (0.13**2) / ((0.04**2) / 99 + (0.09**2) / 99)  # 172.4
    assert result.estimate == pytest.approx(1.0)
    assert result.standard_error == pytest.approx(se)
    assert result.dof == pytest.approx(dof)
    assert result.p_value == pytest.approx(2 * scipy_stats.t.sf(1 / se, dof))
    assert result.significant


def test_z_test_pooled_squares_to_pearson_chi_square() -> None:
    control, treatment = ProportionSummary(n=1000, sum=200), ProportionSummary(n=1000, sum=250)
    table = [[200, 800], [250, 750]]
    chi2, p, _, _ = scipy_stats.chi2_contingency(table, correction=False)
    pooled = z_test(control, treatment, pooled=True, difference="absolute")
    assert pooled.p_value == pytest.approx(p, rel=1e-9)
    unpooled = z_test(control, treatment, difference="absolute")
    se = math.sqrt(0.2 * 0.8 / 1000 + 0.25 * 0.75 / 1000)  # 0.018641
    assert unpooled.standard_error == pytest.approx(se)
    assert unpooled.p_value == pytest.approx(2 * scipy_stats.norm.sf(0.05 / se))
    assert unpooled.ci == pytest.approx((0.05 - 1.959964 * se, 0.05 + 1.959964 * se), rel=1e-6)
    assert chi2 > 0


def test_z_test_refuses_other_metrics() -> None:
    mean = MeanSummary(n=3, sum=3, sum_squares=5)
    with pytest.raises(TypeError, match="proportions"):
        z_test(mean, mean)  # type: ignore[arg-type]


def test_untestable_inputs_give_neutral_results() -> None:
    zero = ProportionSummary(n=100, sum=0)
    some = ProportionSummary(n=100, sum=10)
    result = welch_t_test(zero, some)
    assert result.error == "ZERO_NEGATIVE_BASELINE_VARIATION"
    assert (result.estimate, result.ci, result.p_value) == (0.0, (0.0, 0.0), 1.0)
    assert not result.significant
    # refused for absolute lifts too, as gbstats does: a control without a single conversion
    assert welch_t_test(zero, some, difference="absolute").error == result.error
    assert welch_t_test(some, zero, difference="absolute").error == "ZERO_NEGATIVE_VARIANCE"
    empty = ProportionSummary(n=0, sum=0)
    assert welch_t_test(some, empty, difference="absolute").error == "NO_UNITS_IN_VARIATION"


def test_mixed_summaries_are_refused() -> None:
    with pytest.raises(TypeError, match="alike"):
        welch_t_test(ProportionSummary(n=10, sum=1), MeanSummary(n=10, sum=1, sum_squares=1))
    with pytest.raises(ValueError, match="alpha"):
        welch_t_test(ProportionSummary(n=10, sum=1), ProportionSummary(n=10, sum=2), alpha=1.5)


def test_ratio_metric_uses_the_delta_method() -> None:
    rng = np.random.default_rng(5)
    views_a, views_b = rng.poisson(4, 800) + 1.0, rng.poisson(4, 800) + 1.0
    clicks_a = rng.binomial(views_a.astype(int), 0.10).astype(float)
    clicks_b = rng.binomial(views_b.astype(int), 0.12).astype(float)
    control = RatioSummary.from_values(clicks_a, views_a)
    treatment = RatioSummary.from_values(clicks_b, views_b)
    result = welch_t_test(control, treatment, difference="absolute")
    assert result.estimate == pytest.approx(
        clicks_b.sum() / views_b.sum() - clicks_a.sum() / views_a.sum()
    )
    assert result.standard_error == pytest.approx(
        math.sqrt(control.variance / 800 + treatment.variance / 800)
    )


def _cuped_data(rho: float, seed: int) -> tuple[CupedSummary, CupedSummary, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pre = rng.normal(10, 3, 2000)
    post = 10 + rho * (pre - 10) + math.sqrt(1 - rho**2) * rng.normal(0, 3, 2000)
    post[1000:] += 0.3
    control = CupedSummary.from_values(post[:1000], pre[:1000])
    treatment = CupedSummary.from_values(post[1000:], pre[1000:])
    return control, treatment, post, pre


def test_cuped_theta_is_the_pooled_regression_slope() -> None:
    control, treatment, post, pre = _cuped_data(0.8, 6)
    slope = np.cov(post, pre, ddof=1)[0, 1] / pre.var(ddof=1)
    assert theta(control, treatment) == pytest.approx(slope, rel=1e-9)
    a, b = adjust(control, treatment)
    assert a.mean == pytest.approx(post[:1000].mean() - slope * pre[:1000].mean())
    assert a.variance == pytest.approx((post[:1000] - slope * pre[:1000]).var(ddof=1), rel=1e-9)
    assert a.unadjusted_mean == pytest.approx(post[:1000].mean())
    assert a.theta == b.theta == pytest.approx(slope)


def test_cuped_reduces_variance_when_the_covariate_correlates() -> None:
    control, treatment, _, _ = _cuped_data(0.8, 7)
    assert variance_reduction(control, treatment) == pytest.approx(0.64, abs=0.05)
    plain = welch_t_test(control.metric, treatment.metric)
    adjusted = welch_t_test(control, treatment)
    assert adjusted.standard_error < 0.7 * plain.standard_error
    assert adjusted.p_value < plain.p_value
    unrelated, other, _, _ = _cuped_data(0.0, 8)
    assert variance_reduction(unrelated, other) == pytest.approx(0.0, abs=0.01)


def test_cuped_without_covariate_variance_falls_back() -> None:
    metric = MeanSummary.from_values([1.0, 2.0, 4.0])
    flat = MeanSummary.from_values([5.0, 5.0, 5.0])
    control = CupedSummary(metric=metric, covariate=flat, sum_products=5.0 * 7.0)
    treatment = CupedSummary(metric=metric, covariate=flat, sum_products=5.0 * 7.0)
    assert theta(control, treatment) == 0.0
    assert welch_t_test(control, treatment) == welch_t_test(metric, metric)
    with pytest.raises(TypeError, match="alike"):
        welch_t_test(control, metric)
