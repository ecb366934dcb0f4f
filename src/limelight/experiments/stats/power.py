"""Power: how many units (and days) an experiment needs to detect a given lift.

The calculation mirrors the analysis that will be run, as GrowthBook's power calculator does:
the minimum detectable effect (MDE) is relative to the baseline (``0.05`` is +5%), the lift is
tested on the relative scale by default with the delta-method standard error of
:mod:`.effects`, and the test is two-sided. Planning on the scale one analyses on is what makes
the designed power come true; the calibration benchmark checks it does.

Unlike GrowthBook's calculator, a proportion's treatment variance uses the treatment rate
``p (1 + mde)`` rather than the control rate, which is what the test will see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as scipy_stats

from limelight.experiments.stats.effects import Difference
from limelight.experiments.stats.sequential import half_width

MAX_UNITS = 10**12


@dataclass(frozen=True, slots=True)
class Design:
    """Per-unit mean and variance of the metric in control and under the hoped-for lift."""

    control_mean: float
    control_variance: float
    treatment_mean: float
    treatment_variance: float

    @classmethod
    def proportion(cls, baseline_rate: float, mde: float) -> Design:
        """A conversion rate ``baseline_rate`` lifted by ``mde`` (relative)."""
        lifted = baseline_rate * (1 + mde)
        if not 0 < baseline_rate < 1 or not 0 < lifted < 1:
            raise ValueError("baseline and lifted rates must lie strictly between 0 and 1")
        return cls(
            control_mean=baseline_rate,
            control_variance=baseline_rate * (1 - baseline_rate),
            treatment_mean=lifted,
            treatment_variance=lifted * (1 - lifted),
        )

    @classmethod
    def mean(
        cls,
        mean: float,
        standard_deviation: float,
        mde: float,
        *,
        treatment_standard_deviation: float | None = None,
    ) -> Design:
        """A mean metric (minutes per user). The treatment's spread defaults to control's, as
        in GrowthBook; pass ``standard_deviation * (1 + mde)`` for a lift that scales every
        unit's value (then the spread grows with it)."""
        spread = treatment_standard_deviation
        if spread is None:
            spread = standard_deviation
        if mean == 0 or standard_deviation <= 0 or spread <= 0:
            raise ValueError("need a non-zero mean and positive standard deviations")
        return cls(mean, standard_deviation**2, mean * (1 + mde), spread**2)

    def effect(self, difference: Difference) -> float:
        diff = self.treatment_mean - self.control_mean
        return diff / self.control_mean if difference == "relative" else diff

    def standard_error(self, n_per_variant: float, difference: Difference) -> float:
        """Standard error of the lift with ``n_per_variant`` units in each of the two arms."""
        va, vb = self.control_variance, self.treatment_variance
        if difference == "relative":
            ma, mb = self.control_mean, self.treatment_mean
            return math.sqrt((vb / ma**2 + va * mb**2 / ma**4) / n_per_variant)
        return math.sqrt((va + vb) / n_per_variant)


def achieved_power(
    design: Design,
    n_per_variant: int,
    *,
    alpha: float = 0.05,
    difference: Difference = "relative",
    sequential_tuning: float | None = None,
) -> float:
    """Chance that a two-sided test at ``alpha`` rejects when the lift is ``design``'s.

    With ``sequential_tuning`` it is the chance that the confidence sequence excludes zero at
    the last look (a lower bound, since it may already have done so earlier).
    """
    if n_per_variant < 2:
        return 0.0
    effect = design.effect(difference)
    se = design.standard_error(n_per_variant, difference)
    if sequential_tuning is None:
        threshold = float(scipy_stats.norm.ppf(1 - alpha / 2)) * se
    else:
        total = 2 * n_per_variant
        threshold = half_width(se**2, total, alpha, sequential_tuning)
    upper = float(scipy_stats.norm.sf((threshold - effect) / se))
    lower = float(scipy_stats.norm.cdf((-threshold - effect) / se))
    return upper + lower


@dataclass(frozen=True, slots=True)
class Plan:
    """Units needed per variant (and in total, and days at the given traffic)."""

    n_per_variant: int
    n_total: int
    power: float
    days: int | None


def duration_days(n_total: int, daily_units: float, traffic: float = 1.0) -> int:
    """Whole days until ``n_total`` units have entered, with ``daily_units`` new eligible units
    a day of which a share ``traffic`` is put in the experiment."""
    if daily_units <= 0 or not 0 < traffic <= 1:
        raise ValueError("daily_units must be positive and traffic in (0, 1]")
    return max(1, math.ceil(n_total / (daily_units * traffic)))


def sample_size(
    design: Design,
    *,
    alpha: float = 0.05,
    target_power: float = 0.8,
    difference: Difference = "relative",
    variants: int = 2,
    daily_units: float | None = None,
    traffic: float = 1.0,
    sequential_tuning: float | None = None,
) -> Plan:
    """Smallest equal ``n`` per variant reaching ``target_power`` for each treatment-vs-control
    comparison; ``variants`` counts control too. ``daily_units`` adds the duration."""
    if not 0 < target_power < 1 or not 0 < alpha < 1:
        raise ValueError("alpha and target_power must lie in (0, 1)")
    if design.effect(difference) == 0:
        raise ValueError("a zero effect cannot be detected")

    def enough(n: int) -> bool:
        return (
            achieved_power(
                design, n, alpha=alpha, difference=difference, sequential_tuning=sequential_tuning
            )
            >= target_power
        )

    high = 2
    while not enough(high):
        high *= 2
        if high > MAX_UNITS:
            raise ValueError("the effect is too small to detect with any practical sample")
    low = max(2, high // 2)
    while low < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle + 1
    n_total = high * variants
    days = None if daily_units is None else duration_days(n_total, daily_units, traffic)
    achieved = achieved_power(
        design, high, alpha=alpha, difference=difference, sequential_tuning=sequential_tuning
    )
    return Plan(n_per_variant=high, n_total=n_total, power=achieved, days=days)
