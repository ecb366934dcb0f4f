"""Sample ratio mismatch: did the variants receive the traffic they were configured to get?

A split that should be 50/50 but comes out 50.6/49.4 over 100,000 users means the assignment
or the exposure logging is broken (a redirect that loses users, a bot filter that acts on one
arm), and then every other number in the report is suspect. The check is Pearson's chi-square
goodness of fit against the configured weights; GrowthBook flags it at p < 0.001 so that it
almost never cries wolf on a healthy experiment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as scipy_stats

SRM_THRESHOLD = 0.001


@dataclass(frozen=True, slots=True)
class SrmResult:
    """The chi-square statistic, its p-value, the counts expected and whether it is flagged."""

    statistic: float
    p_value: float
    expected: tuple[float, ...]
    threshold: float

    @property
    def flagged(self) -> bool:
        return self.p_value < self.threshold


def srm_test(
    counts: Sequence[int], weights: Sequence[float], *, threshold: float = SRM_THRESHOLD
) -> SrmResult:
    """Chi-square test of observed unit ``counts`` per variant against ``weights``.

    Weights need not sum to one. As in gbstats, variants with weight 0 add nothing to the
    statistic but still count toward the degrees of freedom, except that any unit observed in
    a variant with weight 0 is itself a mismatch (p = 0). With no units at all, p = 1.

    >>> round(srm_test([5000, 5000], [0.5, 0.5]).p_value, 6)
    1.0
    """
    if len(counts) != len(weights) or len(counts) < 2:
        raise ValueError("need one weight per variant and at least two variants")
    if any(c < 0 for c in counts) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError("counts and weights must be non-negative, with some weight")
    total = sum(counts)
    total_weight = sum(weights)
    expected = tuple(w / total_weight * total for w in weights)
    if total == 0:
        return SrmResult(statistic=0.0, p_value=1.0, expected=expected, threshold=threshold)
    if any(c > 0 and w == 0 for c, w in zip(counts, weights, strict=True)):
        return SrmResult(math.inf, 0.0, expected, threshold)
    statistic = sum((o - e) ** 2 / e for o, e in zip(counts, expected, strict=True) if e > 0)
    p_value = float(scipy_stats.chi2.sf(statistic, len(counts) - 1))
    return SrmResult(statistic=statistic, p_value=p_value, expected=expected, threshold=threshold)
