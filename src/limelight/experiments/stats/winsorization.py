"""Winsorization: cap extreme values before summarizing.

One binge-watcher with 900 minutes can swing a watch-time test more than ten thousand ordinary
users; capping trades a little bias for a large cut in variance. Caps must be computed once
over all variants pooled together (:func:`caps`), then applied to every variant with the same
numbers (:func:`winsorize`): a cap computed per variant would itself differ by treatment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from limelight.experiments.stats.summaries import FloatArray, as_values


@dataclass(frozen=True, slots=True)
class Caps:
    """Lower and upper limits; ``None`` leaves that side uncapped."""

    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"lower cap {self.lower} is above upper cap {self.upper}")


def caps(
    values: ArrayLike,
    *,
    upper_quantile: float | None = None,
    lower_quantile: float | None = None,
) -> Caps:
    """Caps at quantiles of ``values`` (pass every variant's values pooled).

    >>> caps(list(range(101)), upper_quantile=0.99)
    Caps(lower=None, upper=99.0)
    """
    array = as_values(values)
    for q in (upper_quantile, lower_quantile):
        if q is not None and not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} is outside [0, 1]")
    if array.size == 0:
        return Caps()
    upper = None if upper_quantile is None else float(np.quantile(array, upper_quantile))
    lower = None if lower_quantile is None else float(np.quantile(array, lower_quantile))
    return Caps(lower=lower, upper=upper)


def winsorize(values: ArrayLike, limits: Caps) -> FloatArray:
    """``values`` clipped to ``limits``; a new array, the input is left alone.

    >>> winsorize([1.0, 5.0, 900.0], Caps(upper=60.0)).tolist()
    [1.0, 5.0, 60.0]
    """
    array = as_values(values)
    return np.clip(array, limits.lower, limits.upper) if limits != Caps() else array.copy()
