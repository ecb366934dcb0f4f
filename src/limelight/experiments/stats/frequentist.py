"""Fixed-horizon frequentist tests: Welch's t-test and the z-test for proportions.

Both report the absolute or the relative lift with a two-sided interval, the relative one by
the delta method (see :mod:`.effects`). Welch's test does not assume equal variances, which a
treatment that changes behaviour rarely preserves. These p-values are valid for one look at a
sample size fixed in advance; to look repeatedly use :mod:`.sequential`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats as scipy_stats

from limelight.experiments.stats import effects
from limelight.experiments.stats.effects import Difference, Interval, Statistic
from limelight.experiments.stats.summaries import ProportionSummary, Summary

Method = Literal["welch", "z", "sequential"]


@dataclass(frozen=True, slots=True)
class FrequentistResult:
    """A lift with its interval and p-value.

    ``error`` names why no test could be run (control mean zero, a variant without variance);
    the numbers are then the neutral ``0``, ``(0, 0)`` and ``p = 1``, as in gbstats, so a
    report never shows a spurious winner.
    """

    method: Method
    difference: Difference
    estimate: float
    ci: Interval
    p_value: float
    standard_error: float
    dof: float
    alpha: float
    control_mean: float
    treatment_mean: float
    error: str | None = None

    @property
    def significant(self) -> bool:
        return self.error is None and self.p_value < self.alpha


def _check(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")


def neutral(
    method: Method,
    difference: Difference,
    alpha: float,
    control: Statistic,
    treatment: Statistic,
    error: str,
) -> FrequentistResult:
    """The uninformative result returned when a test cannot be computed."""
    return FrequentistResult(
        method=method,
        difference=difference,
        estimate=0.0,
        ci=(0.0, 0.0),
        p_value=1.0,
        standard_error=0.0,
        dof=math.inf,
        alpha=alpha,
        control_mean=control.unadjusted_mean,
        treatment_mean=treatment.unadjusted_mean,
        error=error,
    )


def untestable(control: Statistic, treatment: Statistic) -> str | None:
    """Why these two variants cannot be compared, or ``None`` when they can.

    A control mean of exactly zero is refused for absolute lifts too, as gbstats does: for the
    non-negative metrics experiments measure it means a control without a single conversion,
    where a normal approximation (and a CUPED variance borrowed from the covariate) is
    meaningless.
    """
    if control.mean == 0 or control.unadjusted_mean == 0:
        return effects.BASELINE_ZERO
    if control.n == 0 or treatment.n == 0:
        return effects.NO_UNITS
    if effects.has_zero_variance(control, treatment):
        return effects.ZERO_VARIANCE
    return None


def welch_t_test(
    control: Summary,
    treatment: Summary,
    *,
    alpha: float = 0.05,
    difference: Difference = "relative",
    test_value: float = 0.0,
) -> FrequentistResult:
    """Two-sided Welch t-test of ``treatment`` against ``control``.

    ``CupedSummary`` inputs are regression-adjusted first; ``RatioSummary`` inputs use the
    delta-method variance of the ratio. ``test_value`` is the lift under the null hypothesis.
    """
    _check(alpha)
    a, b = effects.prepare(control, treatment)
    error = untestable(a, b)
    if error is not None:
        return neutral("welch", difference, alpha, a, b, error)
    estimate = effects.difference(a, b, difference)
    se = math.sqrt(effects.variance(a, b, difference))
    dof = effects.welch_dof(a, b)
    t = (estimate - test_value) / se
    width = float(scipy_stats.t.ppf(1 - alpha / 2, dof)) * se
    return FrequentistResult(
        method="welch",
        difference=difference,
        estimate=estimate,
        ci=(estimate - width, estimate + width),
        p_value=2 * float(scipy_stats.t.sf(abs(t), dof)),
        standard_error=se,
        dof=dof,
        alpha=alpha,
        control_mean=a.unadjusted_mean,
        treatment_mean=b.unadjusted_mean,
    )


def z_test(
    control: ProportionSummary,
    treatment: ProportionSummary,
    *,
    alpha: float = 0.05,
    difference: Difference = "relative",
    pooled: bool = False,
) -> FrequentistResult:
    """Two-sided z-test for two proportions (click-through, retention).

    The interval always uses each variant's own variance. With ``pooled=True`` the p-value uses
    the variance pooled under the null of equal rates (the textbook test, whose square is
    Pearson's chi-square on the 2x2 table); otherwise it matches the interval.
    """
    _check(alpha)
    if not isinstance(control, ProportionSummary) or not isinstance(treatment, ProportionSummary):
        raise TypeError("the z-test is for proportions; use welch_t_test for other metrics")
    error = untestable(control, treatment)
    if error is not None:
        return neutral("z", difference, alpha, control, treatment, error)
    estimate = effects.difference(control, treatment, difference)
    se = math.sqrt(effects.variance(control, treatment, difference))
    z = estimate / se
    if pooled:
        rate = (control.sum + treatment.sum) / (control.n + treatment.n)
        pooled_se = math.sqrt(rate * (1 - rate) * (1 / control.n + 1 / treatment.n))
        z = (treatment.mean - control.mean) / pooled_se
    width = float(scipy_stats.norm.ppf(1 - alpha / 2)) * se
    return FrequentistResult(
        method="z",
        difference=difference,
        estimate=estimate,
        ci=(estimate - width, estimate + width),
        p_value=2 * float(scipy_stats.norm.sf(abs(z))),
        standard_error=se,
        dof=math.inf,
        alpha=alpha,
        control_mean=control.mean,
        treatment_mean=treatment.mean,
    )
