"""CUPED (regression adjustment with a pre-exposure covariate), as gbstats does it.

One slope ``theta = cov(Y, X) / var(X)`` is estimated on both variants pooled, so both are
adjusted by the same line and the difference of adjusted means stays unbiased. The adjusted
mean is ``mean(Y) - theta mean(X)`` and its per-unit variance
``var(Y) + theta^2 var(X) - 2 theta cov(Y, X)``, which is ``var(Y) (1 - rho^2)`` at the
optimum. Relative lifts still divide by the *unadjusted* control mean, the quantity a reader
knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from limelight.experiments.stats.summaries import CupedSummary


@dataclass(frozen=True, slots=True)
class AdjustedStatistic:
    """One variant after CUPED: the statistic a test compares."""

    n: int
    mean: float
    unadjusted_mean: float
    variance: float
    theta: float


def theta(control: CupedSummary, treatment: CupedSummary) -> float:
    """The pooled regression slope of metric on covariate; 0 when either has no variance."""
    pooled = control + treatment
    if pooled.covariate.variance == 0 or pooled.metric.variance == 0:
        return 0.0
    return pooled.covariance / pooled.covariate.variance


def adjusted(summary: CupedSummary, slope: float) -> AdjustedStatistic:
    """``summary`` adjusted with a given slope (use :func:`theta` for the slope)."""
    metric, covariate = summary.metric, summary.covariate
    variance = 0.0
    if summary.n > 1:
        variance = metric.variance + slope**2 * covariate.variance - 2 * slope * summary.covariance
    return AdjustedStatistic(
        n=summary.n,
        mean=metric.mean - slope * covariate.mean,
        unadjusted_mean=metric.mean,
        variance=variance,
        theta=slope,
    )


def adjust(
    control: CupedSummary, treatment: CupedSummary
) -> tuple[AdjustedStatistic, AdjustedStatistic]:
    """Both variants adjusted with their pooled slope (slope 0 leaves them unadjusted)."""
    slope = theta(control, treatment)
    return adjusted(control, slope), adjusted(treatment, slope)


def variance_reduction(control: CupedSummary, treatment: CupedSummary) -> float:
    """Share of the pooled metric variance that CUPED removes (about ``rho^2``)."""
    slope = theta(control, treatment)
    before = control.metric.variance + treatment.metric.variance
    after = adjusted(control, slope).variance + adjusted(treatment, slope).variance
    return 0.0 if before == 0 else 1.0 - after / before
