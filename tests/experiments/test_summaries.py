"""Sufficient statistics, merging and winsorization."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from limelight.experiments import stats
from limelight.experiments.stats import (
    Caps,
    CupedSummary,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    bayesian,
    caps,
    corrections,
    cuped,
    frequentist,
    power,
    sequential,
    srm,
    summaries,
    winsorization,
)


@pytest.mark.parametrize(
    "module",
    [
        stats,
        summaries,
        winsorization,
        frequentist,
        sequential,
        bayesian,
        cuped,
        srm,
        corrections,
        power,
    ],
)
def test_docstring_examples_run(module: object) -> None:
    failures, _ = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert failures == 0


def test_public_surface_is_exact() -> None:
    assert sorted(stats.__all__) == sorted(set(stats.__all__))
    for name in stats.__all__:
        assert hasattr(stats, name), name


def test_mean_summary_matches_numpy() -> None:
    values = np.random.default_rng(1).gamma(0.5, 40.0, 999)
    s = MeanSummary.from_values(values)
    assert s.n == 999
    assert s.mean == pytest.approx(values.mean(), rel=1e-12)
    assert s.variance == pytest.approx(values.var(ddof=1), rel=1e-9)


def test_summaries_add_like_concatenation() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=50), rng.normal(size=70)
    merged = MeanSummary.from_values(a) + MeanSummary.from_values(b)
    whole = MeanSummary.from_values(np.concatenate([a, b]))
    assert merged.n == whole.n
    assert merged.sum == pytest.approx(whole.sum)
    assert merged.sum_squares == pytest.approx(whole.sum_squares)
    x, y = rng.poisson(3, 50) + 1.0, rng.poisson(3, 70) + 1.0
    ratio = RatioSummary.from_values(a, x) + RatioSummary.from_values(b, y)
    assert ratio.variance == pytest.approx(
        RatioSummary.from_values(np.concatenate([a, b]), np.concatenate([x, y])).variance
    )


def test_proportion_summary_is_bernoulli() -> None:
    s = ProportionSummary.from_values([1, 0, 0, 1, 1])
    assert (s.n, s.sum, s.mean) == (5, 3.0, 0.6)
    assert s.variance == pytest.approx(0.24)
    with pytest.raises(ValueError, match="0 or 1"):
        ProportionSummary.from_values([0, 2])


def test_degenerate_summaries_have_zero_variance() -> None:
    assert MeanSummary(n=0, sum=0, sum_squares=0).mean == 0
    assert MeanSummary.from_values([3.0]).variance == 0
    assert ProportionSummary(n=0, sum=0).variance == 0


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        MeanSummary.from_values([1.0, float("nan")])


def test_ratio_variance_is_the_linearized_variance() -> None:
    """Delta method: var(m/d) per unit equals var(m - R d) / mean(d)^2 with R = sum m / sum d."""
    rng = np.random.default_rng(3)
    impressions = rng.poisson(5, 400) + 1.0
    clicks = rng.binomial(impressions.astype(int), 0.2).astype(float)
    s = RatioSummary.from_values(clicks, impressions)
    ratio = clicks.sum() / impressions.sum()
    linear = clicks - ratio * impressions
    assert s.mean == pytest.approx(ratio)
    assert s.variance == pytest.approx(linear.var(ddof=1) / impressions.mean() ** 2, rel=1e-9)


def test_exact_ratio_has_no_variance() -> None:
    impressions = np.arange(1.0, 101.0)
    s = RatioSummary.from_values(0.25 * impressions, impressions)
    assert s.mean == pytest.approx(0.25)
    assert s.variance == pytest.approx(0.0, abs=1e-12)


def test_parts_must_count_the_same_units() -> None:
    with pytest.raises(ValueError, match="same units"):
        CupedSummary(
            metric=MeanSummary(n=3, sum=1, sum_squares=1),
            covariate=MeanSummary(n=4, sum=1, sum_squares=1),
            sum_products=0,
        )
    with pytest.raises(ValueError, match="one value per unit"):
        RatioSummary.from_values([1.0, 2.0], [1.0])


def test_winsorize_with_pooled_quantile_caps() -> None:
    control = np.array([1.0, 2.0, 3.0, 1000.0])
    treatment = np.array([2.0, 4.0, 6.0, 8.0])
    limits = caps(np.concatenate([control, treatment]), upper_quantile=0.75)
    assert limits == Caps(upper=float(np.quantile(np.concatenate([control, treatment]), 0.75)))
    capped = winsorization.winsorize(control, limits)
    assert capped.max() == limits.upper
    assert control[-1] == 1000.0  # input untouched
    assert winsorization.winsorize([-5.0, 5.0], Caps(lower=0.0)).tolist() == [0.0, 5.0]
    assert winsorization.winsorize([-5.0, 5.0], Caps()).tolist() == [-5.0, 5.0]


def test_winsorizing_cuts_variance() -> None:
    values = np.random.default_rng(4).pareto(1.5, 5000)
    limits = caps(values, upper_quantile=0.99)
    before = MeanSummary.from_values(values).variance
    after = MeanSummary.from_values(winsorization.winsorize(values, limits)).variance
    assert after < before / 2


def test_bad_caps_are_refused() -> None:
    with pytest.raises(ValueError, match="above"):
        Caps(lower=2.0, upper=1.0)
    with pytest.raises(ValueError, match="outside"):
        caps([1.0], upper_quantile=1.5)
    assert caps([], upper_quantile=0.9) == Caps()
