"""Calibration by simulation: do the tests keep the error rates they promise?

Agreement with gbstats shows the arithmetic is the same; only simulation shows the arithmetic
is *right* for data like ours. Three checks, each a count of rejections over seeded trials:

* A/A (no effect), one look: the false-positive rate should be ``alpha``.
* A/A peeked at after every day, stopping at the first rejection: the sequential test should
  stay at or under ``alpha``, where a fixed-horizon test peeked at the same way does not.
* A/B with a lift designed at a given power by :func:`.power.sample_size`: the share of
  experiments that detect it should be that power.

Data are drawn per unit (skewed watch minutes, click-through, clicks over impressions, metric
with a correlated pre-period covariate) and summarized as the engine would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as scipy_stats

from limelight.experiments.stats.effects import Interval
from limelight.experiments.stats.frequentist import FrequentistResult, welch_t_test
from limelight.experiments.stats.sequential import sequential_test
from limelight.experiments.stats.summaries import (
    CupedSummary,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    Summary,
)

Kind = Literal["proportion", "mean", "ratio", "cuped"]
BASE_RATE = 0.1
MEAN_SHAPE = 0.5
MEAN_SCALE = 40.0
"""Gamma(0.5, 40): mean 20 minutes, standard deviation about 28, long right tail."""


@dataclass(frozen=True, slots=True)
class Rate:
    """How many of ``trials`` rejected."""

    hits: int
    trials: int

    @property
    def rate(self) -> float:
        return self.hits / self.trials


def acceptance_band(expected: float, trials: int, level: float = 0.99) -> Interval:
    """Range of measured rates that ``trials`` draws at a true rate ``expected`` fall in with
    probability ``level`` (central binomial interval)."""
    tail = (1 - level) / 2
    lower = float(scipy_stats.binom.ppf(tail, trials, expected))
    upper = float(scipy_stats.binom.ppf(1 - tail, trials, expected))
    return lower / trials, upper / trials


def draw(kind: Kind, n: int, lift: float, rng: np.random.Generator) -> Summary:
    """One variant of ``n`` units whose metric is lifted by the relative ``lift``."""
    factor = 1.0 + lift
    if kind == "proportion":
        return ProportionSummary(n=n, sum=float(rng.binomial(n, BASE_RATE * factor)))
    if kind == "mean":
        return MeanSummary.from_values(rng.gamma(MEAN_SHAPE, MEAN_SCALE, n) * factor)
    if kind == "ratio":
        impressions = rng.poisson(4.0, n) + 1
        per_user_rate = rng.beta(2.0, 18.0, n) * factor
        clicks = rng.binomial(impressions, np.minimum(per_user_rate, 1.0))
        return RatioSummary.from_values(clicks, impressions)
    pre = rng.gamma(MEAN_SHAPE, MEAN_SCALE, n)
    post = (0.8 * pre + 0.2 * rng.gamma(MEAN_SHAPE, MEAN_SCALE, n)) * factor
    return CupedSummary.from_values(post, pre)


Test = Callable[[Summary, Summary], FrequentistResult]


def welch(alpha: float = 0.05) -> Test:
    def test(control: Summary, treatment: Summary) -> FrequentistResult:
        return welch_t_test(control, treatment, alpha=alpha)

    return test


def sequential(alpha: float = 0.05, tuning: float = 5000.0) -> Test:
    def test(control: Summary, treatment: Summary) -> FrequentistResult:
        return sequential_test(control, treatment, alpha=alpha, tuning=tuning)

    return test


def fixed_horizon(
    kind: Kind, test: Test, *, trials: int, n: int, lift: float = 0.0, seed: int = 0
) -> Rate:
    """Rejections in ``trials`` experiments of ``n`` units per variant, one look each.

    With ``lift > 0`` only rejections in the right direction count (a detection).
    """
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        result = test(draw(kind, n, 0.0, rng), draw(kind, n, lift, rng))
        hits += result.significant and (lift == 0 or result.estimate * lift > 0)
    return Rate(hits=hits, trials=trials)


def peeking(
    kind: Kind, test: Test, *, trials: int, looks: int, n_per_look: int, seed: int = 0
) -> Rate:
    """A/A experiments looked at after each of ``looks`` equal batches, stopped at the first
    rejection: the false-positive rate of acting on any look."""
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        control = draw(kind, n_per_look, 0.0, rng)
        treatment = draw(kind, n_per_look, 0.0, rng)
        for look in range(looks):
            if look > 0:
                control = _add(control, draw(kind, n_per_look, 0.0, rng))
                treatment = _add(treatment, draw(kind, n_per_look, 0.0, rng))
            if test(control, treatment).significant:
                hits += 1
                break
    return Rate(hits=hits, trials=trials)


def _add(first: Summary, second: Summary) -> Summary:
    if isinstance(first, MeanSummary) and isinstance(second, MeanSummary):
        return first + second
    if isinstance(first, ProportionSummary) and isinstance(second, ProportionSummary):
        return first + second
    if isinstance(first, RatioSummary) and isinstance(second, RatioSummary):
        return first + second
    if isinstance(first, CupedSummary) and isinstance(second, CupedSummary):
        return first + second
    raise TypeError("summaries of different kinds cannot be added")
