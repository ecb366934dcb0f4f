"""Bootstrap confidence intervals and weight diagnostics for off-policy estimates.

Two resampling schemes, both seeded:

``"rounds"`` (the default)
    Resample logged rounds with replacement and recompute the estimator on each sample. This is
    the textbook nonparametric bootstrap, and it is the right one for the self-normalized
    estimators, whose normalizer changes with the sample.
``"obp"``
    Resample the per-round contributions computed once on the full log, with numpy's legacy
    ``RandomState`` exactly as ``obp``'s ``estimate_interval`` does, so the interval matches
    obp's to the last digit for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from limelight.bandits.ope.estimators import Estimator, RoundTerms
from limelight.errors import InvalidInput

Method = Literal["rounds", "obp"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A point estimate with its percentile bootstrap interval at level ``1 - alpha``."""

    estimate: float
    lower: float
    upper: float
    bootstrap_mean: float
    alpha: float
    n_bootstrap: int


@dataclass(frozen=True, slots=True)
class WeightDiagnostics:
    """How far the evaluation policy is from the logging one, seen through the weights.

    ``effective_sample_size`` is Kish's ``(sum w)^2 / sum w^2``: the number of rounds an
    on-policy sample would need for the same variance; far below ``n_rounds`` means few rounds
    carry the estimate. ``mean_weight`` should be close to 1 when the propensities are right.
    """

    n_rounds: int
    effective_sample_size: float
    max_weight: float
    mean_weight: float


def diagnostics(terms: RoundTerms) -> WeightDiagnostics:
    """Weight diagnostics of a log under an evaluation policy."""
    weight = terms.weight
    squares = float(np.sum(weight**2))
    return WeightDiagnostics(
        n_rounds=int(weight.shape[0]),
        effective_sample_size=float(weight.sum() ** 2 / squares) if squares > 0 else 0.0,
        max_weight=float(weight.max()),
        mean_weight=float(weight.mean()),
    )


def bootstrap_interval(
    estimator: Estimator,
    terms: RoundTerms,
    *,
    n_bootstrap: int = 1000,
    alpha: float = 0.05,
    random_state: int | None = 0,
    method: Method = "rounds",
) -> Interval:
    """Percentile bootstrap interval of ``estimator`` on ``terms``."""
    if n_bootstrap < 1:
        raise InvalidInput("n_bootstrap must be positive", field="n_bootstrap")
    if not 0.0 < alpha < 1.0:
        raise InvalidInput("alpha must be in (0, 1)", field="alpha")
    size = terms.reward.shape[0]
    samples = np.empty(n_bootstrap)
    if method == "rounds":
        rng = np.random.default_rng(random_state)
        for b in range(n_bootstrap):
            index = np.asarray(rng.integers(0, size, size=size))
            samples[b] = estimator.estimate(terms.take(index))
    elif method == "obp":
        legacy = np.random.RandomState(random_state)
        contributions = estimator.round_rewards(terms)
        for b in range(n_bootstrap):
            samples[b] = np.mean(legacy.choice(contributions, size=size))
    else:
        raise InvalidInput(f"unknown bootstrap method {method!r}", field="method")
    return Interval(
        estimate=estimator.estimate(terms),
        lower=float(np.percentile(samples, 100 * (alpha / 2))),
        upper=float(np.percentile(samples, 100 * (1.0 - alpha / 2))),
        bootstrap_mean=float(np.mean(samples)),
        alpha=alpha,
        n_bootstrap=n_bootstrap,
    )
