"""Evaluation reports: one Markdown table, the same numbers as JSON, and a PNG bar chart.

A report holds, for each protocol and model, the metric values of every run (one per seed);
it prints mean +- sample standard deviation so that a difference can be read against the
spread over seeds.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_METRICS = ("ndcg@10", "hr@10", "precision@10", "coverage")


@dataclass
class Report:
    """Runs of models under protocols, with free-form notes (versions, timings, settings)."""

    title: str
    runs: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, protocol: str, model: str, metrics: dict[str, float]) -> None:
        """Record one run (one seed) of ``model`` under ``protocol``."""
        self.runs.setdefault(protocol, {}).setdefault(model, []).append(dict(metrics))

    def summary(self, protocol: str, model: str, metric: str) -> tuple[float, float]:
        """Mean and sample standard deviation (0 for one run) of a metric."""
        values = [run[metric] for run in self.runs[protocol][model] if metric in run]
        if not values:
            return math.nan, math.nan
        spread = statistics.stdev(values) if len(values) > 1 else 0.0
        return statistics.fmean(values), spread

    def table(self, protocol: str, metrics: Sequence[str] = DEFAULT_METRICS) -> str:
        """A Markdown table of one protocol: mean +- sd per model and metric."""
        header = ["model", "runs", *metrics]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for model, runs in self.runs.get(protocol, {}).items():
            cells = [model, str(len(runs))]
            for metric in metrics:
                mean, spread = self.summary(protocol, model, metric)
                cells.append(f"{mean:.4f} ± {spread:.4f}")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def markdown(self, metrics: Sequence[str] = DEFAULT_METRICS) -> str:
        parts = [f"# {self.title}", ""]
        for protocol in self.runs:
            parts += [f"## {protocol}", "", self.table(protocol, metrics), ""]
        if self.notes:
            parts += ["## Notes", ""]
            parts += [f"- **{key}**: {value}" for key, value in self.notes.items()]
        return "\n".join(parts) + "\n"

    def as_dict(self) -> dict[str, Any]:
        summary = {
            protocol: {
                model: {
                    metric: dict(
                        zip(("mean", "sd"), self.summary(protocol, model, metric), strict=True)
                    )
                    for metric in runs[0]
                }
                for model, runs in models.items()
            }
            for protocol, models in self.runs.items()
        }
        return {"title": self.title, "summary": summary, "runs": self.runs, "notes": self.notes}

    def plot(self, path: Path, metric: str = "ndcg@10") -> None:
        """One bar chart per protocol of ``metric`` with sd error bars."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        protocols = list(self.runs)
        figure, axes = plt.subplots(1, max(len(protocols), 1), figsize=(6 * len(protocols), 4))
        axes_list = list(axes) if len(protocols) > 1 else [axes]
        for axis, protocol in zip(axes_list, protocols, strict=False):
            models = list(self.runs[protocol])
            stats = [self.summary(protocol, model, metric) for model in models]
            axis.bar(models, [s[0] for s in stats], yerr=[s[1] for s in stats], capsize=3)
            axis.set_title(protocol)
            axis.set_ylabel(metric)
            axis.tick_params(axis="x", rotation=45)
        figure.tight_layout()
        figure.savefig(path, dpi=100)
        plt.close(figure)

    def write(
        self,
        folder: Path,
        stem: str = "report",
        metrics: Sequence[str] = DEFAULT_METRICS,
        plot_metric: str = "ndcg@10",
    ) -> list[Path]:
        """Write ``stem.md`` (a table of ``metrics``), ``stem.json`` (every metric) and
        ``stem.png`` (``plot_metric``) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = [folder / f"{stem}.md", folder / f"{stem}.json", folder / f"{stem}.png"]
        paths[0].write_text(self.markdown(metrics), encoding="utf-8")
        paths[1].write_text(json.dumps(self.as_dict(), indent=2, default=str), encoding="utf-8")
        self.plot(paths[2], plot_metric)
        return paths
