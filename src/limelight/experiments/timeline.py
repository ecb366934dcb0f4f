"""The experiment day by day: cumulative exposures and the primary metric's lift as of each day.

Each point recomputes the analysis with what was known at the end of that day (units exposed
by then, their events up to then), so the curve shows how the estimate settled. Next to the
fixed-horizon interval it carries the sequential one, the interval that is safe to act on when
one looks every day.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from limelight.experiments.analysis import summarize, unit_values
from limelight.experiments.measure import DAY_S, Measurement, Units
from limelight.experiments.model import Experiment
from limelight.experiments.stats import sequential_test, welch_t_test
from limelight.experiments.stats.effects import Interval

MAX_POINTS = 60


@dataclass(frozen=True)
class Lift:
    variant: str
    estimate: float
    ci: Interval
    sequential_ci: Interval
    p_value: float
    error: str | None


@dataclass(frozen=True)
class Point:
    day: int
    at: float
    exposures: list[int]
    lifts: list[Lift]


def cutoffs(origin: float, end: float) -> list[tuple[int, float]]:
    """``(day, moment)`` pairs: the end of each whole day since ``origin`` and ``end`` itself."""
    if end <= origin:
        return []
    days = math.ceil((end - origin) / DAY_S)
    step = max(1, math.ceil(days / MAX_POINTS))
    found = [(day, origin + day * DAY_S) for day in range(step, days, step)]
    return [*found, (days, end)]


def timeline(
    experiment: Experiment, measurement: Measurement, units: Units, *, end: float
) -> list[Point]:
    """The primary metric's lift and the cumulative exposures at the end of every day."""
    analysis = experiment.analysis
    points = []
    marks = cutoffs(units.origin, end)
    for day, moment in marks:
        last = day == marks[-1][0]
        values = unit_values(
            measurement,
            units,
            cutoff=moment,
            before_day=None if last else day,
            with_covariate=False,
        )
        exposed = units.first_exposed < moment
        counts = np.bincount(units.variants[exposed], minlength=len(experiment.variants))
        summaries = [
            summarize(values, units.variants == index) for index in range(len(experiment.variants))
        ]
        lifts = []
        for variant, summary in zip(experiment.variants[1:], summaries[1:], strict=True):
            fixed = welch_t_test(summaries[0], summary, alpha=analysis.alpha)
            always = sequential_test(
                summaries[0], summary, alpha=analysis.alpha, tuning=analysis.sequential_tuning
            )
            lifts.append(
                Lift(variant.key, fixed.estimate, fixed.ci, always.ci, fixed.p_value, fixed.error)
            )
        points.append(Point(day, moment, [int(count) for count in counts], lifts))
    return points
