"""Sufficient statistics for one variant of one metric.

Every test in this package works on these sums rather than on raw values: the sums can be
computed in SQL or folded incrementally from events, merged across days or shards by addition,
and sent to another engine (GrowthBook's ``gbstats``) to check the arithmetic. The variance
formulas follow gbstats exactly so that results agree to rounding error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def as_values(values: ArrayLike) -> FloatArray:
    """Values as a flat float array, refusing NaN and infinities (they would poison every sum)."""
    array = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite (no NaN or infinity)")
    return array


@dataclass(frozen=True, slots=True)
class MeanSummary:
    """A metric averaged per unit (watch minutes per user): count, sum and sum of squares.

    >>> s = MeanSummary.from_values([1.0, 2.0, 3.0])
    >>> s.mean, s.variance
    (2.0, 1.0)
    """

    n: int
    sum: float
    sum_squares: float

    @classmethod
    def from_values(cls, values: ArrayLike) -> MeanSummary:
        array = as_values(values)
        return cls(n=int(array.size), sum=float(array.sum()), sum_squares=float(array @ array))

    @property
    def mean(self) -> float:
        return 0.0 if self.n == 0 else self.sum / self.n

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        """Unbiased sample variance; 0 for fewer than two units (nothing can be tested then)."""
        if self.n <= 1:
            return 0.0
        return (self.sum_squares - self.sum**2 / self.n) / (self.n - 1)

    def __add__(self, other: MeanSummary) -> MeanSummary:
        return MeanSummary(
            n=self.n + other.n,
            sum=self.sum + other.sum,
            sum_squares=self.sum_squares + other.sum_squares,
        )


@dataclass(frozen=True, slots=True)
class ProportionSummary:
    """A 0/1 metric per unit (clicked, retained on day 7): units and successes.

    The variance is the Bernoulli ``p (1 - p)``, without the ``n / (n - 1)`` correction, as in
    gbstats; the sum of squares equals the sum because every value is 0 or 1.

    >>> ProportionSummary(n=4, sum=1).variance
    0.1875
    """

    n: int
    sum: float

    @classmethod
    def from_values(cls, values: ArrayLike) -> ProportionSummary:
        array = as_values(values)
        if not np.all((array == 0.0) | (array == 1.0)):
            raise ValueError("a proportion needs values that are 0 or 1")
        return cls(n=int(array.size), sum=float(array.sum()))

    @property
    def sum_squares(self) -> float:
        return self.sum

    @property
    def mean(self) -> float:
        return 0.0 if self.n == 0 else self.sum / self.n

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def variance(self) -> float:
        return self.mean * (1.0 - self.mean)

    def __add__(self, other: ProportionSummary) -> ProportionSummary:
        return ProportionSummary(n=self.n + other.n, sum=self.sum + other.sum)


BaseSummary = MeanSummary | ProportionSummary
"""A per-unit summary that can be a ratio's part or a CUPED metric or covariate."""


def merge(first: BaseSummary, second: BaseSummary) -> BaseSummary:
    """Two summaries of the same kind added (two days, two shards, two variants pooled)."""
    if isinstance(first, MeanSummary) and isinstance(second, MeanSummary):
        return first + second
    if isinstance(first, ProportionSummary) and isinstance(second, ProportionSummary):
        return first + second
    raise TypeError("a metric must be summarized alike everywhere it is merged")


def _covariance(n: int, sum_products: float, a: BaseSummary, b: BaseSummary) -> float:
    if n <= 1:
        return 0.0
    return (sum_products - a.sum * b.sum / n) / (n - 1)


def _same_units(first: BaseSummary, second: BaseSummary) -> None:
    if first.n != second.n:
        raise ValueError(f"both parts must count the same units ({first.n} != {second.n})")


@dataclass(frozen=True, slots=True)
class RatioSummary:
    """A ratio of two per-unit sums (clicks over impressions), analysed by the delta method.

    The unit of randomization is the user, not the impression, so the impressions of one user
    are correlated; the delta method turns the per-user numerator and denominator (and their
    cross-product) into the variance of the ratio of means.
    """

    numerator: BaseSummary
    denominator: BaseSummary
    sum_products: float

    def __post_init__(self) -> None:
        _same_units(self.numerator, self.denominator)

    @classmethod
    def from_values(
        cls,
        numerator: ArrayLike,
        denominator: ArrayLike,
        *,
        numerator_kind: type[BaseSummary] = MeanSummary,
        denominator_kind: type[BaseSummary] = MeanSummary,
    ) -> RatioSummary:
        top, bottom = as_values(numerator), as_values(denominator)
        if top.shape != bottom.shape:
            raise ValueError("numerator and denominator need one value per unit each")
        return cls(
            numerator=numerator_kind.from_values(top),
            denominator=denominator_kind.from_values(bottom),
            sum_products=float(top @ bottom),
        )

    @property
    def n(self) -> int:
        return self.numerator.n

    @property
    def mean(self) -> float:
        if self.denominator.sum == 0:
            return 0.0
        return self.numerator.sum / self.denominator.sum

    @property
    def unadjusted_mean(self) -> float:
        return self.mean

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.sum_products, self.numerator, self.denominator)

    @property
    def variance(self) -> float:
        """Per-unit variance of the ratio by the delta method (divide by ``n`` for the mean's)."""
        m, d = self.numerator.mean, self.denominator.mean
        if d == 0 or self.n <= 1:
            return 0.0
        return (
            self.numerator.variance / d**2
            - 2 * self.covariance * m / d**3
            + m**2 * self.denominator.variance / d**4
        )

    def __add__(self, other: RatioSummary) -> RatioSummary:
        return RatioSummary(
            numerator=merge(self.numerator, other.numerator),
            denominator=merge(self.denominator, other.denominator),
            sum_products=self.sum_products + other.sum_products,
        )


@dataclass(frozen=True, slots=True)
class CupedSummary:
    """A metric with its pre-exposure covariate (usually the same metric before the test).

    CUPED subtracts the part of the metric that the covariate predicts; the covariate was fixed
    before assignment, so the adjustment cannot bias the effect, only shrink its variance.
    """

    metric: BaseSummary
    covariate: BaseSummary
    sum_products: float

    def __post_init__(self) -> None:
        _same_units(self.metric, self.covariate)

    @classmethod
    def from_values(
        cls,
        metric: ArrayLike,
        covariate: ArrayLike,
        *,
        metric_kind: type[BaseSummary] = MeanSummary,
        covariate_kind: type[BaseSummary] = MeanSummary,
    ) -> CupedSummary:
        post, pre = as_values(metric), as_values(covariate)
        if post.shape != pre.shape:
            raise ValueError("metric and covariate need one value per unit each")
        return cls(
            metric=metric_kind.from_values(post),
            covariate=covariate_kind.from_values(pre),
            sum_products=float(post @ pre),
        )

    @property
    def n(self) -> int:
        return self.metric.n

    @property
    def covariance(self) -> float:
        return _covariance(self.n, self.sum_products, self.metric, self.covariate)

    def __add__(self, other: CupedSummary) -> CupedSummary:
        return CupedSummary(
            metric=merge(self.metric, other.metric),
            covariate=merge(self.covariate, other.covariate),
            sum_products=self.sum_products + other.sum_products,
        )


Summary = MeanSummary | ProportionSummary | RatioSummary | CupedSummary
"""Anything the tests accept for one variant."""
