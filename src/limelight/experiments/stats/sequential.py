"""Always-valid inference: confidence sequences that stay valid however often one looks.

A fixed-horizon p-value checked every day and acted on the first time it dips under 0.05 has a
false-positive rate several times 0.05. The asymptotic confidence sequence of Waudby-Smith et
al. (2023, arXiv:2103.06476, eq. 9 with the mixing parameter of eq. 161), as GrowthBook applies
it, covers the true lift at every sample size simultaneously with probability ``1 - alpha``.

``tuning`` (GrowthBook's ``sequential_tuning_parameter``, default 5000) is the total sample
size at which the sequence is tightest: set it near the sample size you expect to reach. The
price of peeking is a wider interval than the fixed-horizon one at the same sample size.
"""

from __future__ import annotations

import math

from limelight.experiments.stats import effects
from limelight.experiments.stats.effects import Difference
from limelight.experiments.stats.frequentist import FrequentistResult, neutral, untestable
from limelight.experiments.stats.summaries import Summary

DEFAULT_TUNING = 5000.0


def mixing_rho(alpha: float, tuning: float) -> float:
    """The normal-mixture spread that makes the sequence tightest at ``tuning`` samples."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning)


def half_width(variance: float, total: int, alpha: float, tuning: float) -> float:
    """Half-width of the confidence sequence for an estimate with ``variance`` after ``total``
    units (both variants together)."""
    rho = mixing_rho(alpha, tuning)
    scaled = total * rho**2 + 1
    return math.sqrt(variance * total) * math.sqrt(
        2 * scaled * math.log(math.sqrt(scaled) / alpha) / (total * rho) ** 2
    )


def sequential_test(
    control: Summary,
    treatment: Summary,
    *,
    alpha: float = 0.05,
    difference: Difference = "relative",
    tuning: float = DEFAULT_TUNING,
    test_value: float = 0.0,
) -> FrequentistResult:
    """Two-sided test whose interval and p-value may be checked after every batch of data.

    The p-value is the reciprocal of the mixture e-value (capped at 1): rejecting the first
    time it falls under ``alpha`` keeps the error rate under ``alpha``.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), not {alpha}")
    if tuning <= 0:
        raise ValueError(f"tuning must be positive, not {tuning}")
    a, b = effects.prepare(control, treatment)
    error = untestable(a, b)
    if error is not None:
        return neutral("sequential", difference, alpha, a, b, error)
    estimate = effects.difference(a, b, difference)
    var = effects.variance(a, b, difference)
    total = a.n + b.n
    width = half_width(var, total, alpha, tuning)
    rho2 = mixing_rho(alpha, tuning) ** 2
    scaled = total * rho2 + 1
    statistic2 = (estimate - test_value) ** 2 * total / var
    log_e_value = rho2 * statistic2 / (2 * scaled) - 0.5 * math.log(scaled)
    return FrequentistResult(
        method="sequential",
        difference=difference,
        estimate=estimate,
        ci=(estimate - width, estimate + width),
        p_value=min(1.0, math.exp(-log_e_value)),
        standard_error=math.sqrt(var),
        dof=math.inf,
        alpha=alpha,
        control_mean=a.unadjusted_mean,
        treatment_mean=b.unadjusted_mean,
    )
