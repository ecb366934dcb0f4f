"""Metrics computed in SQL over really ingested events equal counts made by hand.

Three exposed users and one that never was, with events before exposure (they feed the CUPED
covariate, never the metric), after exposure, and after the analysis ends (ignored).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from limelight import Engine
from limelight.experiments.analysis import unit_values
from limelight.experiments.measure import DAY_S, measure, units_of
from limelight.experiments.model import Experiment
from limelight.experiments.service import Experiments
from tests.experiments.builders import definition
from tests.helpers import event

T = 1_700_000_000.0
AT = T + 2.5 * DAY_S

CUSTOM = [
    {
        "name": "watch",
        "kind": "mean",
        "numerator": {
            "events": ["play_progress", "play_complete"],
            "value": "properties.watch_s",
            "scale": 1 / 60,
        },
    },
    {"name": "minutes", "kind": "mean", "numerator": {"value": "properties.minutes"}},
    {
        "name": "tv_plays",
        "kind": "proportion",
        "numerator": {"events": ["play_start"], "where": {"context.device": "tv"}},
    },
    {
        "name": "drm_errors",
        "kind": "mean",
        "numerator": {"where": {"properties.error": ["drm", "network"]}},
    },
    {
        "name": "clicks_first_hour",
        "kind": "mean",
        "numerator": {"events": ["click"]},
        "window_days": 1 / 24,
    },
]
METRICS = {
    "primary": ["click_through"],
    "secondary": [
        "plays_per_user",
        "watch_minutes",
        "clicks_per_impression",
        "retention_d1",
        "watch",
        "minutes",
        "tv_plays",
        "drm_errors",
        "clicks_first_hour",
    ],
    "guardrails": ["errors", "skip_rate"],
}
HAND: dict[str, dict[str, float]] = {
    "click_through": {"u1": 1, "u2": 0, "u3": 0},
    "plays_per_user": {"u1": 4, "u2": 1, "u3": 0},
    "watch": {"u1": 3.0, "u2": 0.0, "u3": 0.0},
    "minutes": {"u1": 5.0, "u2": 0.0, "u3": 0.0},  # u2's "abc" is not a number: 0
    "tv_plays": {"u1": 1, "u2": 0, "u3": 0},
    "drm_errors": {"u1": 1, "u2": 0, "u3": 0},
    "errors": {"u1": 1, "u2": 1, "u3": 0},
    "clicks_first_hour": {"u1": 1, "u2": 0, "u3": 0},
    "retention_d1": {"u1": 1, "u2": 0},  # u3 has not had its day 1 yet: left out
}
HAND_RATIOS = {  # (numerator, denominator) per unit
    "clicks_per_impression": {"u1": (1, 3), "u2": (0, 1), "u3": (0, 0)},
    "skip_rate": {"u1": (1, 4), "u2": (0, 1), "u3": (0, 0)},  # skips over play starts
}
HAND_COVARIATE = {"click_through": {"u1": 1, "u2": 1, "u3": 0}}


def _events() -> list[dict[str, Any]]:
    tv = {"device": "tv"}
    mobile = {"device": "mobile"}
    return [
        # u1, exposed at T
        event("click", user="u1", item="m1", at=T - 100),  # before exposure: covariate only
        event("impression", user="u1", item="m1", at=T - 50),
        event("impression", user="u1", item="m1", at=T + 10),
        event("impression", user="u1", item="m2", at=T + 20),
        event("impression", user="u1", item="m3", at=T + 30),
        event("click", user="u1", item="m1", at=T + 40),
        event("play_start", user="u1", item="m1", at=T + 50, minutes=5, context=tv),
        event("play_progress", user="u1", item="m1", at=T + 60, progress=0.5, watch_s=120.0),
        event("play_complete", user="u1", item="m1", at=T + 70, watch_s=60.0),
        event("skip", user="u1", item="m2", at=T + 80),
        event("play_start", user="u1", item="m2", at=T + 90, error="drm"),
        event("play_start", user="u1", item="m3", at=T + 1.5 * DAY_S),  # returned on day 1
        event("click", user="u1", item="m3", at=T + 3 * DAY_S),  # after the analysis: ignored
        event("play_start", user="u1", item="m3", at=T + 2 * DAY_S),  # kept for plays
        # u2, exposed an hour later
        event("click", user="u2", item="m1", at=T + 3590),  # before u2's exposure
        event("impression", user="u2", item="m1", at=T + 4000),
        event("play_start", user="u2", item="m4", at=T + 4100, minutes="abc", context=mobile),
        event("search", user="u2", at=T + 4200, query="space", error="timeout"),
        # u3, exposed on day 2, quiet since; u4 never exposed
        event("search", user="u3", at=T - 20 * DAY_S, query="too early for the covariate"),
        event("click", user="u4", item="m1", at=T + 100),
    ]  # fmt: skip


@pytest.fixture
def experiment(engine: Engine, experiments: Experiments) -> Experiment:
    experiments.create(definition(metrics=METRICS, metric_definitions=CUSTOM))
    experiments.start("home-rows", at=T - 1)
    for unit, at in (("u1", T), ("u2", T + 3600), ("u3", T + 2 * DAY_S)):
        assert experiments.variant("home-rows", unit, context={"device": "tv"}, at=at)
    result = engine.ingest(_events())
    assert not result.rejected, result.rejected
    return experiments.get("home-rows")


def per_unit(engine: Engine, experiment: Experiment, name: str) -> dict[str, Any]:
    metric = next(metric for metric, _ in experiment.metric_roles() if metric.name == name)
    with engine.database.read() as connection:
        units = units_of(connection, experiment)
        measured = measure(connection, experiment, metric, units, end=AT, pre_exposure_s=14 * DAY_S)
    values = unit_values(measured, units, cutoff=AT)
    found: dict[str, Any] = {}
    for index, unit in enumerate(units.ids):
        if not values.included[index]:
            continue
        value = float(values.value[index])
        if values.denominator is not None:
            found[unit] = (value, float(values.denominator[index]))
        elif name in HAND_COVARIATE and values.covariate is not None:
            found[unit] = (value, float(values.covariate[index]))
        else:
            found[unit] = value
    return found


def test_every_metric_kind_equals_a_hand_count(engine: Engine, experiment: Experiment) -> None:
    for name, expected in HAND.items():
        found = per_unit(engine, experiment, name)
        if name in HAND_COVARIATE:
            covariate = {unit: pair[1] for unit, pair in found.items()}
            assert covariate == HAND_COVARIATE[name], name
            found = {unit: pair[0] for unit, pair in found.items()}
        assert found == pytest.approx(expected), name
    for name, pairs in HAND_RATIOS.items():
        assert per_unit(engine, experiment, name) == pairs, name


def test_winsorization_caps_at_the_pooled_quantile(engine: Engine, experiment: Experiment) -> None:
    # watch_minutes is "watch" capped at the 99th percentile of [0, 0, 3]: 2.94
    found = per_unit(engine, experiment, "watch_minutes")
    assert found == pytest.approx({"u1": float(np.quantile([0, 0, 3.0], 0.99)), "u2": 0, "u3": 0})


def test_the_report_means_are_the_hand_means(
    engine: Engine, experiment: Experiment, experiments: Experiments
) -> None:
    report = experiments.analyse("home-rows", at=AT)
    variant_of = {
        assignment.unit_id: assignment.variant
        for unit in ("u1", "u2", "u3")
        for assignment in experiments.assignments(unit, at=AT)
    }
    assert sum(report.exposures.values()) == 3
    for name, expected in HAND.items():
        for variant in report.metric(name).variants:
            values = [
                value for unit, value in expected.items() if variant_of[unit] == variant.variant
            ]
            assert variant.units == len(values), name
            assert variant.mean == pytest.approx(np.mean(values) if values else 0.0), name
    for name, pairs in HAND_RATIOS.items():
        for variant in report.metric(name).variants:
            chosen = [pair for unit, pair in pairs.items() if variant_of[unit] == variant.variant]
            bottom = sum(pair[1] for pair in chosen)
            expected_ratio = sum(pair[0] for pair in chosen) / bottom if bottom else 0.0
            assert variant.mean == pytest.approx(expected_ratio), name
    assert report.end == AT
    warning = "retention_d1: 1 exposed units have not yet reached day 1 and are left out"
    assert warning in report.warnings


def test_device_units_join_on_the_anonymous_id(engine: Engine, experiments: Experiments) -> None:
    experiments.create(definition("devices", unit="device", metrics={"primary": ["click_through"]}))
    experiments.start("devices", at=T - 1)
    experiments.variant("devices", "phone-9", at=T)
    experiments.variant("devices", "tablet-2", at=T)
    engine.ingest(
        [
            event("click", user=None, anon="phone-9", item="m1", at=T + 5),
            event("click", user="someone", anon="tablet-3", item="m1", at=T + 5),
        ]
    )
    found = per_unit(engine, experiments.get("devices"), "click_through")
    assert found == {"phone-9": (1.0, 0.0), "tablet-2": (0.0, 0.0)}  # (value, covariate)
