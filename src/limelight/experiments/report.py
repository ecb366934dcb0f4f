"""The report: one object, rendered as JSON (for machines) or plain text (for people).

Numbers that cannot be computed (an interval widened to infinity by a correction, a test that
could not run) appear as ``null`` in JSON and ``-`` in text, never as ``NaN``, which JSON
cannot carry and people misread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from limelight.catalog.model import iso
from limelight.experiments.analysis import Comparison, DeviceResult, MetricResult, VariantResult
from limelight.experiments.model import Experiment
from limelight.experiments.stats import FrequentistResult, SrmResult
from limelight.experiments.timeline import Point


def number(value: float | None) -> float | None:
    """A float for JSON: non-finite values become ``None``."""
    return None if value is None or not math.isfinite(value) else float(value)


def pair(values: tuple[float, float]) -> list[float | None]:
    return [number(values[0]), number(values[1])]


@dataclass(frozen=True)
class Report:
    """Everything known about one experiment at ``generated_at``."""

    experiment: Experiment
    generated_at: float
    start: float | None
    end: float
    exposures: dict[str, int]
    srm: SrmResult
    metrics: list[MetricResult]
    devices: list[DeviceResult]
    timeline_metric: str | None
    timeline: list[Point]
    warnings: list[str]

    def metric(self, name: str) -> MetricResult:
        for result in self.metrics:
            if result.metric.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment.model_dump(mode="json"),
            "generated_at": iso(self.generated_at),
            "window": {"start": iso(self.start), "end": iso(self.end)},
            "exposures": self.exposures,
            "srm": {
                "p_value": number(self.srm.p_value),
                "statistic": number(self.srm.statistic),
                "expected": [number(value) for value in self.srm.expected],
                "flagged": self.srm.flagged,
                "threshold": self.srm.threshold,
            },
            "metrics": [_metric(result) for result in self.metrics],
            "devices": [_device(result) for result in self.devices],
            "timeline": {
                "metric": self.timeline_metric,
                "points": [_point(point) for point in self.timeline],
            },
            "warnings": self.warnings,
        }


def _variants(variants: list[VariantResult]) -> list[dict[str, Any]]:
    return [
        {"variant": variant.variant, "units": variant.units, "mean": number(variant.mean)}
        for variant in variants
    ]


def _test(result: FrequentistResult) -> dict[str, Any]:
    return {
        "method": result.method,
        "estimate": number(result.estimate),
        "ci": pair(result.ci),
        "p_value": number(result.p_value),
        "standard_error": number(result.standard_error),
        "error": result.error,
    }


def _comparison(result: MetricResult, comparison: Comparison) -> dict[str, Any]:
    bayes = comparison.bayesian
    return {
        "variant": comparison.variant,
        "direction": result.direction(comparison),
        "significant": comparison.significant,
        "relative": _test(comparison.relative),
        "absolute": _test(comparison.absolute),
        "sequential": _test(comparison.sequential),
        "bayesian": {
            "chance_to_win": number(bayes.chance_to_win),
            "expected": number(bayes.expected),
            "ci": pair(bayes.ci),
            "risk": {"control": number(bayes.risk[0]), "treatment": number(bayes.risk[1])},
            "error": bayes.error,
        },
        "cuped": comparison.cuped,
        "variance_reduction": number(comparison.variance_reduction),
        "p_value": number(comparison.p_value),
        "holm_p": number(comparison.holm_p),
        "benjamini_hochberg_p": number(comparison.benjamini_hochberg_p),
        "adjusted_p": number(comparison.adjusted_p),
        "adjusted_ci": pair(comparison.adjusted_ci),
    }


def _metric(result: MetricResult) -> dict[str, Any]:
    return {
        "name": result.metric.name,
        "kind": result.metric.kind,
        "role": result.role,
        "higher_is_better": result.metric.higher_is_better,
        "variants": _variants(result.variants),
        "comparisons": [_comparison(result, comparison) for comparison in result.comparisons],
    }


def _device(result: DeviceResult) -> dict[str, Any]:
    return {
        "device": result.device,
        "metric": result.metric,
        "variants": _variants(result.variants),
        "comparisons": [
            {"variant": variant, **_test(test)} for variant, test in result.comparisons
        ],
    }


def _point(point: Point) -> dict[str, Any]:
    return {
        "day": point.day,
        "at": iso(point.at),
        "exposures": point.exposures,
        "lifts": [
            {
                "variant": lift.variant,
                "estimate": number(lift.estimate),
                "ci": pair(lift.ci),
                "sequential_ci": pair(lift.sequential_ci),
                "p_value": number(lift.p_value),
                "error": lift.error,
            }
            for lift in point.lifts
        ],
    }


# -- text --------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".4g") -> str:
    shown = number(value)
    return "-" if shown is None else format(shown, spec)


def _pct(value: float | None) -> str:
    shown = number(value)
    return "-" if shown is None else f"{shown:+.2%}"


def _interval(values: tuple[float, float]) -> str:
    return f"[{_pct(values[0])}, {_pct(values[1])}]"


def render_text(report: Report) -> str:
    """The report for a terminal: plain text, one table per metric."""
    experiment = report.experiment
    lines = [
        f"experiment {experiment.key} ({experiment.status})"
        + (f": {experiment.name}" if experiment.name else ""),
    ]
    if experiment.hypothesis:
        lines.append(f"hypothesis: {experiment.hypothesis}")
    lines.append(f"window: {iso(report.start) or '-'} to {iso(report.end)}")
    total = sum(report.exposures.values())
    split = ", ".join(f"{key} {count:,}" for key, count in report.exposures.items())
    lines.append(f"exposed units: {total:,} ({split})")
    verdict = "MISMATCH" if report.srm.flagged else "ok"
    lines.append(f"sample ratio: {verdict} (chi-square p = {_fmt(report.srm.p_value)})")
    correction = experiment.analysis.correction
    for result in report.metrics:
        lines.append("")
        sense = "" if result.metric.higher_is_better else ", lower is better"
        lines.append(f"{result.role} metric {result.metric.name} ({result.metric.kind}{sense})")
        for variant in result.variants:
            lines.append(
                f"  {variant.variant:<20} units {variant.units:>9,}  mean {_fmt(variant.mean)}"
            )
        for comparison in result.comparisons:
            relative = comparison.relative
            mark = " *" if comparison.significant else ""
            lines.append(
                f"  {comparison.variant} vs {experiment.control.key}: lift "
                f"{_pct(relative.estimate)} {_interval(relative.ci)}, p {_fmt(relative.p_value)}, "
                f"{correction} p {_fmt(comparison.adjusted_p)}{mark} "
                f"[{result.direction(comparison)}]"
            )
            lines.append(
                f"    sequential {_interval(comparison.sequential.ci)}; chance to win "
                f"{_fmt(comparison.bayesian.chance_to_win, '.1%')}; cuped "
                f"{'on' if comparison.cuped else 'off'}"
                + (
                    f" (variance -{comparison.variance_reduction:.0%})"
                    if comparison.variance_reduction
                    else ""
                )
                + (f"; {relative.error}" if relative.error else "")
            )
    if report.devices:
        lines.append("")
        lines.append("by device (exploratory, uncorrected)")
        for device in report.devices:
            lifts = ", ".join(
                f"{variant} {_pct(test.estimate)} (p {_fmt(test.p_value)})"
                for variant, test in device.comparisons
            )
            units = sum(variant.units for variant in device.variants)
            lines.append(f"  {device.device:<12} {device.metric:<22} units {units:>8,}  {lifts}")
    if report.warnings:
        lines.append("")
        lines.extend(f"warning: {warning}" for warning in report.warnings)
    return "\n".join(lines) + "\n"
