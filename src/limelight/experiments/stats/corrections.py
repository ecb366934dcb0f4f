"""Corrections for many comparisons (several arms, several metrics, several segments).

With ten metrics and three arms, thirty tests at alpha 0.05 will show about one and a half
"wins" by chance. Holm's step-down method controls the chance of any false positive
(family-wise error); Benjamini-Hochberg controls the expected share of false positives among
the discoveries (false discovery rate), which keeps more power when many effects are real.
Adjusted intervals follow GrowthBook: the interval implied by the adjusted p-value, used only
when it is wider than the unadjusted one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as scipy_stats

from limelight.experiments.stats.effects import Interval
from limelight.experiments.stats.frequentist import FrequentistResult

Correction = Literal["holm", "benjamini-hochberg"]


def _validated(p_values: Sequence[float]) -> np.ndarray[tuple[int], np.dtype[np.float64]]:
    array = np.asarray(p_values, dtype=np.float64).ravel()
    if np.any(np.isnan(array)) or np.any((array < 0) | (array > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return array


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order.

    >>> holm([0.01, 0.04, 0.03])
    [0.03, 0.06, 0.06]
    """
    p = _validated(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(p[order] * (m - np.arange(m)), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    return [float(x) for x in adjusted]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    >>> benjamini_hochberg([0.01, 0.04, 0.03])
    [0.03, 0.04, 0.04]
    """
    p = _validated(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(p[order] * m / np.arange(1, m + 1), 1.0)
    adjusted = np.empty(m)
    adjusted[order] = np.minimum.accumulate(scaled[::-1])[::-1]
    return [float(x) for x in adjusted]


def adjust_p_values(p_values: Sequence[float], method: Correction) -> list[float]:
    if method == "holm":
        return holm(p_values)
    if method == "benjamini-hochberg":
        return benjamini_hochberg(p_values)
    raise ValueError(f"unknown correction {method!r}")


def adjusted_interval(result: FrequentistResult, adjusted_p_value: float) -> Interval:
    """The interval implied by an adjusted p-value, never narrower than ``result.ci``.

    The standard error is backed out of the estimate and the adjusted p-value
    (``|estimate| / z(1 - p/2)``) and the interval rebuilt at ``result.alpha``; an adjusted
    p-value of 1 gives an unbounded interval, and a zero estimate keeps the original one.
    """
    if adjusted_p_value > 0.999999:
        return (-math.inf, math.inf)
    if result.estimate == 0 or adjusted_p_value <= 0:
        return result.ci
    se = abs(result.estimate / float(scipy_stats.norm.ppf(1 - adjusted_p_value / 2)))
    width = float(scipy_stats.norm.ppf(1 - result.alpha / 2)) * se
    lower, upper = result.estimate - width, result.estimate + width
    if lower < result.ci[0] and upper > result.ci[1]:
        return (lower, upper)
    return result.ci


@dataclass(frozen=True, slots=True)
class AdjustedResult:
    """A test result with its p-value and interval adjusted for the whole family."""

    result: FrequentistResult
    method: Correction
    p_value: float
    ci: Interval

    @property
    def significant(self) -> bool:
        return self.result.error is None and self.p_value < self.result.alpha


def correct(results: Sequence[FrequentistResult], method: Correction) -> list[AdjustedResult]:
    """Adjust a family of results (every arm against control, every metric) together.

    Results that could not be computed (``error`` set) keep p = 1 and take part in the
    family, as GrowthBook does.
    """
    adjusted = adjust_p_values([r.p_value for r in results], method)
    return [
        AdjustedResult(result=r, method=method, p_value=p, ci=adjusted_interval(r, p))
        for r, p in zip(results, adjusted, strict=True)
    ]
