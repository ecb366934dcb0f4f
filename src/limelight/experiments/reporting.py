"""Assemble a report: measure every metric in SQL, compare, correct, check the split, warn."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Connection

from limelight.experiments.analysis import (
    MetricResult,
    by_device,
    compare,
    correct_family,
    unit_values,
)
from limelight.experiments.measure import DAY_S, measure, units_of
from limelight.experiments.model import Experiment, epoch
from limelight.experiments.report import Report
from limelight.experiments.stats import srm_test
from limelight.experiments.timeline import timeline


def analysis_end(experiment: Experiment, at: float) -> float:
    """Where the analysis window closes: ``at``, or the experiment's stop if that is earlier."""
    ends = [at, epoch(experiment.stopped_at), epoch(experiment.stop_at)]
    return min(end for end in ends if end is not None)


def _warnings(
    experiment: Experiment,
    report_srm_flagged: bool,
    srm_p: float,
    units: int,
    results: list[MetricResult],
) -> list[str]:
    warnings = []
    if units == 0:
        warnings.append("no unit has been exposed yet: nothing to analyse")
    if report_srm_flagged:
        warnings.append(
            f"sample ratio mismatch (p = {srm_p:.2g}): the exposures do not follow the weights, "
            "so assignment or exposure logging is broken; do not trust these results until "
            "the cause is found"
        )
    for result in results:
        for comparison in result.comparisons:
            relative = comparison.relative
            worse = result.direction(comparison) == "worse"
            if result.role == "guardrail" and worse and relative.significant:
                warnings.append(
                    f"guardrail {result.metric.name} is worse in {comparison.variant} "
                    f"({relative.estimate:+.2%}, p = {relative.p_value:.2g})"
                )
        if result.metric.kind == "retention":
            counted = sum(variant.units for variant in result.variants)
            if counted < units:
                warnings.append(
                    f"{result.metric.name}: {units - counted} exposed units have not yet "
                    f"reached day {result.metric.day} and are left out"
                )
    return warnings


def build_report(connection: Connection, experiment: Experiment, *, at: float) -> Report:
    """The report of ``experiment`` as of ``at``, read inside one transaction."""
    end = analysis_end(experiment, at)
    units = units_of(connection, experiment)
    analysis = experiment.analysis
    pre_s = analysis.pre_exposure_days * DAY_S if analysis.cuped else 0.0
    measured = [
        (measure(connection, experiment, metric, units, end=end, pre_exposure_s=pre_s), role)
        for metric, role in experiment.metric_roles()
    ]
    results = []
    devices = []
    for measurement, role in measured:
        values = unit_values(measurement, units, cutoff=end, with_covariate=pre_s > 0)
        results.append(compare(experiment, values, units, role))
        if role != "guardrail" and len(units):
            devices.extend(by_device(experiment, values, units))
    results = correct_family(experiment, results)

    counts = np.bincount(units.variants, minlength=len(experiment.variants))
    srm = srm_test([int(count) for count in counts], [v.weight for v in experiment.variants])
    primary = measured[0][0]
    return Report(
        experiment=experiment,
        generated_at=at,
        start=epoch(experiment.started_at) or epoch(experiment.start_at),
        end=end,
        exposures={
            variant.key: int(count)
            for variant, count in zip(experiment.variants, counts, strict=True)
        },
        srm=srm,
        metrics=results,
        devices=devices,
        timeline_metric=primary.metric.name,
        timeline=timeline(experiment, primary, units, end=end) if len(units) else [],
        warnings=_warnings(experiment, srm.flagged, srm.p_value, len(units), results),
    )
