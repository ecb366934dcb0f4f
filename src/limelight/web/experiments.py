"""The dashboard's experiment pages: ``/ui/experiments`` and ``/ui/experiments/{key}``.

The list reads definitions and exposure counts (one grouped query, no analysis); the detail
page analyses the experiment as of now with ``engine.experiments.analyse`` and turns the
report's JSON shape into ready-made rows and chart geometry, so that the templates only place
numbers. Charts are SVG elements with attributes and classes (the CSP forbids inline styles and
scripts); numbers that cannot be computed show as ``-``, as in the text report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi import Path as PathParam
from sqlalchemy import func, select
from starlette.responses import HTMLResponse, Response

from limelight.api.deps import EngineDep
from limelight.auth import KeyInfo
from limelight.engine import Engine
from limelight.errors import NotFound
from limelight.experiments.model import Experiment
from limelight.storage.schema import experiment_exposures
from limelight.web.routes import render
from limelight.web.session import PageError, ui_require

Reader = Annotated[KeyInfo, ui_require("read")]
ExperimentKey = Annotated[str, PathParam(min_length=1, max_length=256)]

#: Chart boxes (SVG user units); the SVGs stretch to their width with non-scaling strokes.
CHART_W = 300.0
CHART_H = 100.0
BAR_W = 100.0
ROLE_ORDER = {"primary": 0, "secondary": 1, "guardrail": 2}

router = APIRouter(prefix="/ui", tags=["dashboard"])


# -- formatting ------------------------------------------------------------------------------


def finite(value: Any) -> float | None:
    """A finite float, or ``None`` for nulls, infinities and NaN."""
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def pct(value: Any) -> str:
    """A relative lift as a signed percentage (``+12.34%``), ``-`` when unknown."""
    shown = finite(value)
    return "-" if shown is None else f"{shown:+.2%}"


def interval(values: Sequence[Any]) -> str:
    """An interval of relative lifts, ``[-1.20%, +8.40%]``."""
    return f"[{pct(values[0])}, {pct(values[1])}]"


def num(value: Any, spec: str = ".4g") -> str:
    """A number for a table cell, ``-`` when unknown."""
    shown = finite(value)
    return "-" if shown is None else format(shown, spec)


def chance(value: Any) -> str:
    shown = finite(value)
    return "-" if shown is None else f"{shown:.1%}"


# -- list ------------------------------------------------------------------------------------


def exposure_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Exposed units per experiment and variant, in one grouped query."""
    table = experiment_exposures
    query = select(table.c.experiment_key, table.c.variant, func.count()).group_by(
        table.c.experiment_key, table.c.variant
    )
    found: dict[str, dict[str, int]] = {}
    with engine.database.read() as connection:
        for key, variant, count in connection.execute(query):
            found.setdefault(str(key), {})[str(variant)] = int(count)
    return found


def _when(value: Any) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def list_rows(engine: Engine) -> list[dict[str, Any]]:
    """One row per experiment for the list page."""
    counts = exposure_counts(engine)
    rows = []
    for experiment in engine.experiments.list():
        exposed = counts.get(experiment.key, {})
        total_weight = sum(variant.weight for variant in experiment.variants)
        rows.append(
            {
                "key": experiment.key,
                "name": experiment.name,
                "status": experiment.status,
                "layer": experiment.layer or "",
                "unit": experiment.unit,
                "traffic": experiment.traffic_percent,
                "start": _when(experiment.started_at or experiment.start_at),
                "stop": _when(experiment.stopped_at or experiment.stop_at),
                "variants": [
                    {
                        "key": variant.key,
                        "weight": variant.weight,
                        "share": variant.weight / total_weight,
                        "exposures": exposed.get(variant.key, 0),
                    }
                    for variant in experiment.variants
                ],
                "exposures": sum(exposed.values()),
            }
        )
    return rows


# -- detail ----------------------------------------------------------------------------------


def _scale(values: Sequence[float | None], *, floor: float = 0.01) -> float:
    """Half the width of a symmetric axis around zero that holds every finite value."""
    top = max((abs(value) for value in values if value is not None), default=0.0)
    return max(top * 1.1, floor)


def _bar_x(value: float | None, half: float, *, fallback: float) -> float:
    """Where ``value`` sits on a 0..100 axis centred on zero; unknown bounds go to the edge."""
    if value is None:
        return fallback
    return round(min(BAR_W, max(0.0, 50.0 + 50.0 * value / half)), 2)


def _lift_bar(ci: Sequence[Any], sequential: Sequence[Any], estimate: Any, half: float) -> Any:
    low, high = finite(ci[0]), finite(ci[1])
    s_low, s_high = finite(sequential[0]), finite(sequential[1])
    x1, x2 = _bar_x(low, half, fallback=0.0), _bar_x(high, half, fallback=BAR_W)
    s1, s2 = _bar_x(s_low, half, fallback=0.0), _bar_x(s_high, half, fallback=BAR_W)
    point = finite(estimate)
    return {
        "x": x1,
        "width": round(max(x2 - x1, 0.5), 2),
        "seq_x": s1,
        "seq_width": round(max(s2 - s1, 0.5), 2),
        "estimate": None if point is None else _bar_x(point, half, fallback=50.0),
        "open_low": low is None,
        "open_high": high is None,
    }


def metric_sections(report: dict[str, Any], control: str) -> list[dict[str, Any]]:
    """Each metric with one row per treatment arm, primary first, then secondary, guardrails."""
    sections = []
    ordered = sorted(report["metrics"], key=lambda metric: ROLE_ORDER.get(metric["role"], 3))
    for metric in ordered:
        means = {variant["variant"]: variant for variant in metric["variants"]}
        base = means.get(control, {"units": 0, "mean": None})
        bounds: list[float | None] = []
        for comparison in metric["comparisons"]:
            for values in (comparison["relative"]["ci"], comparison["sequential"]["ci"]):
                bounds.extend(finite(value) for value in values)
            bounds.append(finite(comparison["relative"]["estimate"]))
        half = _scale(bounds)
        rows = []
        for comparison in metric["comparisons"]:
            arm = means.get(comparison["variant"], {"units": 0, "mean": None})
            relative = comparison["relative"]
            rows.append(
                {
                    "variant": comparison["variant"],
                    "control_units": base["units"],
                    "control_mean": num(base["mean"]),
                    "treatment_units": arm["units"],
                    "treatment_mean": num(arm["mean"]),
                    "lift": pct(relative["estimate"]),
                    "ci": interval(relative["ci"]),
                    "p_value": num(relative["p_value"], ".3g"),
                    "adjusted_p": num(comparison["adjusted_p"], ".3g"),
                    "chance_to_win": chance(comparison["bayesian"]["chance_to_win"]),
                    "sequential_ci": interval(comparison["sequential"]["ci"]),
                    "significant": comparison["significant"],
                    "direction": comparison["direction"],
                    "error": relative["error"],
                    "bar": _lift_bar(
                        relative["ci"], comparison["sequential"]["ci"], relative["estimate"], half
                    ),
                }
            )
        sections.append(
            {
                "name": metric["name"],
                "kind": metric["kind"],
                "role": metric["role"],
                "higher_is_better": metric["higher_is_better"],
                "axis": f"±{half:.0%}",
                "rows": rows,
            }
        )
    return sections


def _x(index: int, count: int) -> float:
    return round(CHART_W * (index / (count - 1) if count > 1 else 0.5), 2)


def _y(value: float, low: float, high: float) -> float:
    clamped = min(high, max(low, value))
    return round(CHART_H - CHART_H * (clamped - low) / (high - low), 2)


def exposure_chart(points: list[dict[str, Any]], variants: list[str]) -> dict[str, Any]:
    """Cumulative exposures per variant at the end of each day, as polylines."""
    top = max((max(point["exposures"], default=0) for point in points), default=0) or 1
    count = len(points)
    series = []
    for index, variant in enumerate(variants):
        coords = [
            (_x(n, count), _y(float(point["exposures"][index]), 0.0, float(top)))
            for n, point in enumerate(points)
        ]
        series.append(
            {
                "variant": variant,
                "index": index % 6,
                "points": " ".join(f"{x},{y}" for x, y in coords),
                "last": points[-1]["exposures"][index] if points else 0,
            }
        )
    return {
        "series": series,
        "top": top,
        "days": [point["day"] for point in points],
    }


def lift_chart(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The primary metric's relative lift by day with its confidence band, per treatment arm."""
    values: list[float | None] = [0.0]
    for point in points:
        for lift in point["lifts"]:
            values.append(finite(lift["estimate"]))
            values.extend(finite(bound) for bound in lift["ci"])
    found = [value for value in values if value is not None]
    low, high = min(found), max(found)
    pad = max((high - low) * 0.08, 0.01)
    low, high = low - pad, high + pad
    count = len(points)
    arms = [lift["variant"] for lift in points[0]["lifts"]] if points else []
    series = []
    for index, arm in enumerate(arms):
        line = []
        upper = []
        lower = []
        for n, point in enumerate(points):
            lift = point["lifts"][index]
            x = _x(n, count)
            estimate = finite(lift["estimate"])
            if estimate is None:
                continue
            line.append(f"{x},{_y(estimate, low, high)}")
            ci_low, ci_high = finite(lift["ci"][0]), finite(lift["ci"][1])
            upper.append(f"{x},{_y(high if ci_high is None else ci_high, low, high)}")
            lower.append(f"{x},{_y(low if ci_low is None else ci_low, low, high)}")
        series.append(
            {
                "variant": arm,
                "index": (index + 1) % 6,
                "line": " ".join(line),
                "band": " ".join([*upper, *reversed(lower)]),
                "last": pct(points[-1]["lifts"][index]["estimate"]),
                "last_ci": interval(points[-1]["lifts"][index]["ci"]),
            }
        )
    return {
        "series": series,
        "zero": _y(0.0, low, high),
        "high": pct(high),
        "low": pct(low),
    }


def detail_page(experiment: Experiment, report: dict[str, Any]) -> dict[str, Any]:
    """Everything the experiment page shows, from the report's JSON shape."""
    variants = [variant.key for variant in experiment.variants]
    total_weight = sum(variant.weight for variant in experiment.variants)
    srm = report["srm"]
    points = report["timeline"]["points"]
    return {
        "key": experiment.key,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "status": experiment.status,
        "unit": experiment.unit,
        "layer": experiment.layer or "",
        "traffic": experiment.traffic_percent,
        "start": _when(experiment.started_at or experiment.start_at),
        "stop": _when(experiment.stopped_at or experiment.stop_at),
        "targeting": json.dumps(experiment.targeting, sort_keys=True)
        if experiment.targeting
        else "",
        "analysis": experiment.analysis,
        "metric_roles": experiment.metrics.roles,
        "variants": [
            {
                "key": variant.key,
                "weight": variant.weight,
                "share": variant.weight / total_weight,
                "description": variant.description,
                "parameters": json.dumps(variant.parameters, sort_keys=True),
                "exposures": report["exposures"].get(variant.key, 0),
            }
            for variant in experiment.variants
        ],
        "exposures": sum(report["exposures"].values()),
        "window": report["window"],
        "srm": {
            "flagged": srm["flagged"],
            "p_value": num(srm["p_value"], ".3g"),
            "threshold": srm["threshold"],
            "expected": [num(value, ".1f") for value in srm["expected"]],
        },
        "warnings": report["warnings"],
        "metrics": metric_sections(report, experiment.control.key),
        "timeline_metric": report["timeline"]["metric"],
        "exposure_chart": exposure_chart(points, variants) if points else None,
        "lift_chart": lift_chart(points) if points else None,
    }


# -- routes ----------------------------------------------------------------------------------


@router.get("/experiments", response_class=HTMLResponse)
def experiment_list(engine: EngineDep, viewer: Reader) -> Response:
    """Every experiment: status, layer, variants with weights, traffic, window, exposures."""
    return render(
        "experiments.html", viewer=viewer, active="experiments", experiments=list_rows(engine)
    )


@router.get("/experiments/{key}", response_class=HTMLResponse)
def experiment_detail(engine: EngineDep, viewer: Reader, key: ExperimentKey) -> Response:
    """One experiment's report: metrics with lifts and intervals, SRM check, timeline charts."""
    try:
        report = engine.experiments.analyse(key)
    except NotFound as error:
        raise PageError(404, "No such experiment", error.message) from error
    return render(
        "experiment.html",
        viewer=viewer,
        active="experiments",
        page=detail_page(report.experiment, report.to_dict()),
        chart_w=CHART_W,
        chart_h=CHART_H,
    )
