"""From per-unit values to verdicts, through the statistics package.

For every metric and every treatment arm against control: Welch's t-test on the relative and
the absolute lift (CUPED-adjusted when a pre-exposure covariate is available), the sequential
test (always valid, so the report may be read every day), and the Bayesian chance to beat
control with its expected loss. Each family (arms x metrics of one role: primary, secondary,
guardrail) is then corrected by Holm and by Benjamini-Hochberg; the experiment's
``analysis.correction`` says which one decides ``significant``. Guardrail warnings use the
raw p-values: a harm should not hide behind a correction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from limelight.experiments.measure import FloatArray, Measurement, Units
from limelight.experiments.metrics import Metric
from limelight.experiments.model import Experiment
from limelight.experiments.stats import (
    BayesianResult,
    CupedSummary,
    FrequentistResult,
    MeanSummary,
    ProportionSummary,
    RatioSummary,
    Summary,
    adjust_p_values,
    adjusted_interval,
    bayesian_test,
    caps,
    sequential_test,
    variance_reduction,
    welch_t_test,
    winsorize,
)
from limelight.experiments.stats.effects import Interval

Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class UnitValues:
    """One metric's value per unit, with its covariate and the units that count."""

    metric: Metric
    value: FloatArray
    denominator: FloatArray | None
    covariate: FloatArray | None
    included: Mask


def unit_values(
    measurement: Measurement,
    units: Units,
    *,
    cutoff: float,
    before_day: int | None = None,
    with_covariate: bool = True,
) -> UnitValues:
    """Fold a measurement into per-unit values as of ``cutoff``.

    A unit counts once exposed before ``cutoff``; for retention, once its day-N window has
    closed. 0/1 metrics become "had at least one"; means and ratios are capped when the
    metric says so, with caps computed on all variants pooled (a cap per variant would itself
    differ by treatment).
    """
    metric = measurement.metric
    top, bottom = measurement.post(before_day)
    opens = units.first_exposed + metric.offset_s
    included = units.first_exposed < cutoff
    if metric.kind == "retention" and metric.length_s is not None:
        included &= opens + metric.length_s <= cutoff
    covariate = None
    if with_covariate and metric.kind != "ratio":
        covariate = measurement.pre()[0]
    if metric.binary:
        top = (top > 0).astype(np.float64)
        covariate = None if covariate is None else (covariate > 0).astype(np.float64)
    elif metric.winsorize is not None and included.any():
        top = winsorize(top, caps(top[included], upper_quantile=metric.winsorize))
        if covariate is not None:
            covariate = winsorize(
                covariate, caps(covariate[included], upper_quantile=metric.winsorize)
            )
    return UnitValues(
        metric=metric,
        value=top,
        denominator=bottom if metric.kind == "ratio" else None,
        covariate=covariate,
        included=included,
    )


def summarize(values: UnitValues, mask: Mask) -> Summary:
    """The sufficient statistics of the units in ``mask`` (and included)."""
    keep = mask & values.included
    metric = values.metric
    kind: type[MeanSummary] | type[ProportionSummary] = (
        ProportionSummary if metric.binary else MeanSummary
    )
    if values.denominator is not None:
        return RatioSummary.from_values(values.value[keep], values.denominator[keep])
    if values.covariate is not None:
        return CupedSummary.from_values(
            values.value[keep], values.covariate[keep], metric_kind=kind, covariate_kind=kind
        )
    return kind.from_values(values.value[keep])


def plain(summary: Summary) -> MeanSummary | ProportionSummary | RatioSummary:
    """The summary without its covariate (what a reader's "mean" is)."""
    return summary.metric if isinstance(summary, CupedSummary) else summary


@dataclass(frozen=True)
class VariantResult:
    variant: str
    units: int
    mean: float


@dataclass(frozen=True)
class Comparison:
    """One treatment against control on one metric."""

    variant: str
    relative: FrequentistResult
    absolute: FrequentistResult
    sequential: FrequentistResult
    bayesian: BayesianResult
    cuped: bool
    variance_reduction: float | None
    holm_p: float = 1.0
    benjamini_hochberg_p: float = 1.0
    adjusted_p: float = 1.0
    adjusted_ci: Interval = (0.0, 0.0)
    significant: bool = False

    @property
    def p_value(self) -> float:
        return self.relative.p_value


@dataclass(frozen=True)
class MetricResult:
    metric: Metric
    role: str
    variants: list[VariantResult]
    comparisons: list[Comparison]

    def direction(self, comparison: Comparison) -> str:
        """``better``, ``worse`` or ``flat`` (the estimate's sign, read with the metric's sense)."""
        estimate = comparison.relative.estimate
        if comparison.relative.error is not None or estimate == 0:
            return "flat"
        return "better" if (estimate > 0) == self.metric.higher_is_better else "worse"


def compare(
    experiment: Experiment, values: UnitValues, units: Units, role: str = "primary"
) -> MetricResult:
    """Every treatment against control on one metric (corrections are applied later)."""
    analysis = experiment.analysis
    summaries = [
        summarize(values, units.variants == index) for index in range(len(experiment.variants))
    ]
    variants = [
        VariantResult(variant.key, summary.n, plain(summary).mean)
        for variant, summary in zip(experiment.variants, summaries, strict=True)
    ]
    control = summaries[0]
    comparisons = []
    for variant, treatment in zip(experiment.variants[1:], summaries[1:], strict=True):
        cuped = isinstance(control, CupedSummary) and isinstance(treatment, CupedSummary)
        reduction = None
        if isinstance(control, CupedSummary) and isinstance(treatment, CupedSummary):
            reduction = variance_reduction(control, treatment)
        comparisons.append(
            Comparison(
                variant=variant.key,
                relative=welch_t_test(control, treatment, alpha=analysis.alpha),
                absolute=welch_t_test(
                    control, treatment, alpha=analysis.alpha, difference="absolute"
                ),
                sequential=sequential_test(
                    control, treatment, alpha=analysis.alpha, tuning=analysis.sequential_tuning
                ),
                bayesian=bayesian_test(
                    control,
                    treatment,
                    alpha=analysis.alpha,
                    inverse=not values.metric.higher_is_better,
                ),
                cuped=cuped,
                variance_reduction=reduction,
            )
        )
    return MetricResult(values.metric, role, variants, comparisons)


def correct_family(experiment: Experiment, results: list[MetricResult]) -> list[MetricResult]:
    """Holm and Benjamini-Hochberg over every arm x metric of each role; the chosen one decides.

    Each role (primary, secondary, guardrail) is its own family: the decision rests on the
    primary metrics, and adding an exploratory secondary metric must not weaken it.
    """
    corrected = list(results)
    for role in ("primary", "secondary", "guardrail"):
        members = [index for index, result in enumerate(results) if result.role == role]
        family = [comparison for index in members for comparison in results[index].comparisons]
        if not family:
            continue
        fixed = iter(_corrected(experiment, family))
        for index in members:
            result = results[index]
            corrected[index] = replace(
                result, comparisons=[next(fixed) for _ in result.comparisons]
            )
    return corrected


def _corrected(experiment: Experiment, family: list[Comparison]) -> list[Comparison]:
    raw = [comparison.p_value for comparison in family]
    holm = adjust_p_values(raw, "holm")
    bh = adjust_p_values(raw, "benjamini-hochberg")
    chosen = experiment.analysis.correction
    adjusted = {"holm": holm, "benjamini-hochberg": bh, "none": raw}[chosen]
    return [
        replace(
            comparison,
            holm_p=holm[index],
            benjamini_hochberg_p=bh[index],
            adjusted_p=adjusted[index],
            adjusted_ci=(
                comparison.relative.ci
                if chosen == "none"
                else adjusted_interval(comparison.relative, adjusted[index])
            ),
            significant=comparison.relative.error is None
            and adjusted[index] < experiment.analysis.alpha,
        )
        for index, comparison in enumerate(family)
    ]


@dataclass(frozen=True)
class DeviceResult:
    """One metric on the units first exposed on one device (exploratory: no correction)."""

    device: str
    metric: str
    variants: list[VariantResult]
    comparisons: list[tuple[str, FrequentistResult]]


def by_device(
    experiment: Experiment, values: UnitValues, units: Units, *, limit: int = 10
) -> list[DeviceResult]:
    """The metric per device of first exposure, for the ``limit`` most common devices."""
    devices = np.array(units.devices, dtype=object)
    names, counts = np.unique(devices, return_counts=True)
    common = [str(name) for name, _ in sorted(zip(names, counts, strict=True), key=lambda p: -p[1])]
    found = []
    for device in common[:limit]:
        on_device = devices == device
        summaries = [
            summarize(values, on_device & (units.variants == index))
            for index in range(len(experiment.variants))
        ]
        found.append(
            DeviceResult(
                device=device,
                metric=values.metric.name,
                variants=[
                    VariantResult(variant.key, summary.n, plain(summary).mean)
                    for variant, summary in zip(experiment.variants, summaries, strict=True)
                ],
                comparisons=[
                    (
                        variant.key,
                        welch_t_test(summaries[0], summary, alpha=experiment.analysis.alpha),
                    )
                    for variant, summary in zip(experiment.variants[1:], summaries[1:], strict=True)
                ],
            )
        )
    return found
