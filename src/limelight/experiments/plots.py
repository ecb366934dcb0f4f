"""PNG plots of a report: the primary metric's lift over time, and cumulative exposures.

Figures are drawn on matplotlib's Agg canvas directly (``Figure`` + ``FigureCanvasAgg``)
rather than through ``pyplot``, so nothing global changes (no backend switch, no figure left
open) when a server or a test draws them.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from limelight.experiments.report import Report, number


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    for axes in figure.axes:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, format="png", dpi=100)
    return path


def _bound(value: float, fallback: float) -> float:
    shown = number(value)
    return fallback if shown is None else shown


def lift_plot(report: Report, path: Path) -> Path:
    """Relative lift of each treatment with its fixed and sequential intervals, by day."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    days = [point.day for point in report.timeline]
    treatments = [variant.key for variant in report.experiment.variants[1:]]
    for index, variant in enumerate(treatments):
        lifts = [point.lifts[index] for point in report.timeline]
        estimates = [100 * lift.estimate for lift in lifts]
        line = axes.plot(days, estimates, marker="o", label=f"{variant} lift")[0]
        colour = line.get_color()
        axes.fill_between(
            days,
            [100 * _bound(lift.ci[0], lift.estimate) for lift in lifts],
            [100 * _bound(lift.ci[1], lift.estimate) for lift in lifts],
            color=colour,
            alpha=0.25,
            label=f"{variant} {1 - report.experiment.analysis.alpha:.0%} interval",
        )
        axes.plot(
            days,
            [100 * _bound(lift.sequential_ci[0], lift.estimate) for lift in lifts],
            color=colour,
            linestyle="--",
            linewidth=1,
            label=f"{variant} sequential interval",
        )
        axes.plot(
            days,
            [100 * _bound(lift.sequential_ci[1], lift.estimate) for lift in lifts],
            color=colour,
            linestyle="--",
            linewidth=1,
        )
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_xlabel("day since first exposure")
    axes.set_ylabel("relative lift (%)")
    axes.set_title(f"{report.experiment.key}: {report.timeline_metric or 'no metric'}")
    if treatments and days:
        axes.legend(loc="best", fontsize="small")
    return _save(figure, path)


def exposure_plot(report: Report, path: Path) -> Path:
    """Cumulative exposed units per variant, by day."""
    figure = Figure(figsize=(8, 4.5))
    axes = figure.add_subplot()
    days = [point.day for point in report.timeline]
    for index, variant in enumerate(report.experiment.variants):
        axes.plot(
            days,
            [point.exposures[index] for point in report.timeline],
            marker="o",
            label=variant.key,
        )
    axes.set_xlabel("day since first exposure")
    axes.set_ylabel("units exposed (cumulative)")
    axes.set_title(f"{report.experiment.key}: exposures")
    if days:
        axes.legend(loc="best", fontsize="small")
    return _save(figure, path)


def write_plots(report: Report, directory: Path) -> list[Path]:
    """Both plots as PNG files in ``directory`` (created if needed); returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    key = report.experiment.key
    return [
        lift_plot(report, directory / f"{key}-lift.png"),
        exposure_plot(report, directory / f"{key}-exposures.png"),
    ]
