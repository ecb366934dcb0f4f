"""Bayesian comparison: chance to beat control and expected loss, as gbstats 0.8 computes them.

The lift (relative by default) is approximated as normal with the delta-method variance and
combined with a normal prior on the lift; the default prior is flat (improper), so the
posterior is the likelihood. Binomial metrics (``ProportionSummary``) and gaussian ones
(``MeanSummary``, ratios, CUPED) go through the same approximation, differing only in their
per-unit variance. A proper prior shrinks noisy early lifts toward the prior mean.

Expected loss (risk) is what one gives up on average by shipping a variant if the other is in
fact better: ``E[max(-lift, 0)]`` for shipping treatment, ``E[max(lift, 0)]`` for keeping
control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as scipy_stats

from limelight.experiments.stats import effects
from limelight.experiments.stats.effects import Difference, Interval
from limelight.experiments.stats.summaries import Summary


@dataclass(frozen=True, slots=True)
class GaussianPrior:
    """A normal prior on the lift, on the scale named by ``scale``.

    gbstats states metric priors on the relative scale (a prior standard deviation of 0.3
    means lifts beyond +/-60% are unlikely) and rescales them by the control mean for absolute
    lifts. ``proper=False`` ignores mean and variance (a flat prior).
    """

    mean: float = 0.0
    variance: float = 1.0
    proper: bool = False
    scale: Difference = "relative"

    def __post_init__(self) -> None:
        if self.proper and self.variance <= 0:
            raise ValueError("a proper prior needs a positive variance")

    def on_scale(self, difference: Difference, control_mean: float) -> GaussianPrior:
        """This prior restated for lifts of kind ``difference``."""
        if difference == self.scale:
            return self
        if difference == "relative":
            mean, variance = self.mean / abs(control_mean), self.variance / control_mean**2
        else:
            mean, variance = self.mean * abs(control_mean), self.variance * control_mean**2
        return GaussianPrior(mean=mean, variance=variance, proper=self.proper, scale=difference)


@dataclass(frozen=True, slots=True)
class BayesianResult:
    """Posterior of the lift. ``risk`` is ``(control, treatment)``: the expected loss of
    choosing each, in units of the lift (relative or absolute)."""

    difference: Difference
    chance_to_win: float
    expected: float
    ci: Interval
    standard_deviation: float
    risk: tuple[float, float]
    control_mean: float
    treatment_mean: float
    error: str | None = None


def expected_losses(mean: float, sd: float) -> tuple[float, float]:
    """``(E[max(X, 0)], E[max(-X, 0)])`` for ``X ~ N(mean, sd^2)``: the risks of keeping control
    and of shipping treatment (closed form of gbstats' truncated-normal expression)."""
    z = mean / sd
    density = sd * float(scipy_stats.norm.pdf(z))
    keep_control = mean * float(scipy_stats.norm.cdf(z)) + density
    ship_treatment = density - mean * float(scipy_stats.norm.cdf(-z))
    return keep_control, ship_treatment


def _neutral(
    difference: Difference, control_mean: float, treatment_mean: float, error: str
) -> BayesianResult:
    return BayesianResult(
        difference=difference,
        chance_to_win=0.5,
        expected=0.0,
        ci=(0.0, 0.0),
        standard_deviation=0.0,
        risk=(0.0, 0.0),
        control_mean=control_mean,
        treatment_mean=treatment_mean,
        error=error,
    )


def bayesian_test(
    control: Summary,
    treatment: Summary,
    *,
    prior: GaussianPrior = GaussianPrior(),
    difference: Difference = "relative",
    inverse: bool = False,
    alpha: float = 0.05,
) -> BayesianResult:
    """Chance that ``treatment`` beats ``control``, the lift's credible interval and the risks.

    ``inverse=True`` is for metrics where lower is better (skip rate, errors): the chance to
    win becomes the chance that the lift is negative, and the risks swap sides.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    a, b = effects.prepare(control, treatment)
    error = None
    if difference == "relative" and (a.mean == 0 or a.unadjusted_mean == 0):
        error = effects.BASELINE_ZERO
    elif a.n == 0 or b.n == 0:
        error = effects.NO_UNITS
    elif effects.has_zero_variance(a, b):
        error = effects.ZERO_VARIANCE
    elif prior.proper and prior.scale != difference and a.unadjusted_mean == 0:
        error = effects.BASELINE_ZERO  # a relative prior cannot be restated around zero
    if error is not None:
        return _neutral(difference, a.unadjusted_mean, b.unadjusted_mean, error)

    prior = prior.on_scale(difference, a.unadjusted_mean)
    data_mean = effects.difference(a, b, difference)
    data_variance = effects.variance(a, b, difference)
    precision = 1 / data_variance + (1 / prior.variance if prior.proper else 0.0)
    mean = data_mean
    if prior.proper:
        mean = (data_mean / data_variance + prior.mean / prior.variance) / precision
    sd = math.sqrt(1 / precision)

    chance = float(scipy_stats.norm.sf(0, mean, sd))
    keep_control, ship_treatment = expected_losses(mean, sd)
    if inverse:
        chance = 1 - chance
        keep_control, ship_treatment = ship_treatment, keep_control
    z = float(scipy_stats.norm.ppf(1 - alpha / 2))
    return BayesianResult(
        difference=difference,
        chance_to_win=chance,
        expected=mean,
        ci=(mean - z * sd, mean + z * sd),
        standard_deviation=sd,
        risk=(keep_control, ship_treatment),
        control_mean=a.unadjusted_mean,
        treatment_mean=b.unadjusted_mean,
    )
