"""The lift of a treatment over control and its delta-method variance, shared by every test.

The relative lift ``(mean_b - mean_a) / mean_a`` is a ratio of two independent estimates; its
variance to first order is ``var_b / (mean_a^2 n_b) + var_a mean_b^2 / (mean_a^4 n_a)``. That is
the formula gbstats uses, so frequentist, sequential and Bayesian results all rest on it.
"""

from __future__ import annotations

from typing import Literal, Protocol

from limelight.experiments.stats.cuped import adjust
from limelight.experiments.stats.summaries import CupedSummary, Summary

Difference = Literal["absolute", "relative"]
Interval = tuple[float, float]

BASELINE_ZERO = "ZERO_NEGATIVE_BASELINE_VARIATION"
ZERO_VARIANCE = "ZERO_NEGATIVE_VARIANCE"
NO_UNITS = "NO_UNITS_IN_VARIATION"


class Statistic(Protocol):
    """What a test needs of one variant: units, (adjusted) mean, per-unit variance."""

    @property
    def n(self) -> int: ...

    @property
    def mean(self) -> float: ...

    @property
    def unadjusted_mean(self) -> float: ...

    @property
    def variance(self) -> float: ...


def prepare(control: Summary, treatment: Summary) -> tuple[Statistic, Statistic]:
    """Check that both variants were summarized alike; apply CUPED when they carry covariates."""
    if type(control) is not type(treatment):
        raise TypeError(
            f"control and treatment must be summarized alike "
            f"({type(control).__name__} != {type(treatment).__name__})"
        )
    if isinstance(control, CupedSummary) or isinstance(treatment, CupedSummary):
        if not isinstance(control, CupedSummary) or not isinstance(treatment, CupedSummary):
            raise TypeError("CUPED needs a covariate in both variants")
        return adjust(control, treatment)
    return control, treatment


def difference(control: Statistic, treatment: Statistic, kind: Difference) -> float:
    """Point estimate of the lift; relative lifts divide by control's unadjusted mean."""
    diff = treatment.mean - control.mean
    return diff / control.unadjusted_mean if kind == "relative" else diff


def variance(control: Statistic, treatment: Statistic, kind: Difference) -> float:
    """Variance of :func:`difference` (delta method for the relative lift)."""
    if kind == "relative":
        mean_a, mean_b = control.unadjusted_mean, treatment.unadjusted_mean
        return treatment.variance / (mean_a**2 * treatment.n) + control.variance * mean_b**2 / (
            mean_a**4 * control.n
        )
    return treatment.variance / treatment.n + control.variance / control.n


def has_zero_variance(control: Statistic, treatment: Statistic) -> bool:
    return control.variance <= 0.0 or treatment.variance <= 0.0


def welch_dof(control: Statistic, treatment: Statistic) -> float:
    """Welch-Satterthwaite degrees of freedom for two samples with unequal variances."""
    va, vb = control.variance / control.n, treatment.variance / treatment.n
    return (va + vb) ** 2 / (va**2 / (control.n - 1) + vb**2 / (treatment.n - 1))
