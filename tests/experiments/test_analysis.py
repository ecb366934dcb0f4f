"""Analysis end to end: a simulated A/B test through assignment, exposure logging and ingest,
the sample-ratio check on a broken exposure log, and the corrections across arms x metrics."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from limelight import Engine
from limelight.experiments.analysis import UnitValues, compare, correct_family
from limelight.experiments.assignment import decide
from limelight.experiments.measure import DAY_S, Units
from limelight.experiments.metrics import BUILT_IN
from limelight.experiments.model import Experiment
from limelight.experiments.plots import write_plots
from limelight.experiments.report import render_text
from limelight.experiments.service import Experiments
from limelight.storage.schema import experiment_exposures
from tests.experiments.builders import definition

T = 1_750_000_000.0
CLICK_RATE = {"control": 0.10, "treatment": 0.22}
PLAY_LIFT = {"control": 1.0, "treatment": 1.3}


def _simulate(engine: Engine, experiments: Experiments, units: int) -> float:
    """Exposed users over five days; treatment clicks more and plays more. Returns the end."""
    rng = random.Random(7)
    batch: list[dict[str, Any]] = []
    for n in range(units):
        user = f"viewer-{n}"
        exposed_at = T + rng.random() * 5 * DAY_S
        device = rng.choice(["tv", "mobile", "web"])
        # a habit of watching, seen before exposure (the CUPED covariate) and after
        habit = rng.expovariate(1 / 3)
        for k in range(np.random.default_rng(n).poisson(habit)):
            batch.append(_event(f"{user}-pre{k}", "play_start", user, exposed_at - 3600 * (k + 1)))
        assignment = experiments.variant(
            "home-rows", user, context={"device": device}, at=exposed_at
        )
        assert assignment is not None
        arm = assignment.variant
        for k in range(3):
            batch.append(_event(f"{user}-imp{k}", "impression", user, exposed_at + 5 + k))
        if rng.random() < CLICK_RATE[arm]:
            batch.append(_event(f"{user}-click", "click", user, exposed_at + 30))
        plays = np.random.default_rng(units + n).poisson(habit * PLAY_LIFT[arm])
        for k in range(plays):
            batch.append(_event(f"{user}-play{k}", "play_start", user, exposed_at + 60 * (k + 1)))
    for start in range(0, len(batch), 5000):
        result = engine.ingest(batch[start : start + 5000])
        assert not result.rejected, result.rejected[:3]
    return T + 6 * DAY_S


def _event(event_id: str, kind: str, user: str, at: float) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": kind,
        "user_id": user,
        "timestamp": at,
        "properties": {"item_id": "m1"},
    }


def test_simulated_ab_test_shows_the_known_lift(
    engine: Engine, experiments: Experiments, tmp_path: Path
) -> None:
    experiments.create(
        definition(
            metrics={
                "primary": ["click_through"],
                "secondary": ["plays_per_user", "clicks_per_impression"],
                "guardrails": ["skip_rate"],
            }
        )
    )
    experiments.start("home-rows", at=T - 1)
    end = _simulate(engine, experiments, units=1200)
    report = experiments.analyse("home-rows", at=end)

    assert sum(report.exposures.values()) == 1200
    assert not report.srm.flagged
    clicks = report.metric("click_through")
    control, treatment = clicks.variants
    assert control.mean == pytest.approx(0.10, abs=0.03)
    assert treatment.mean == pytest.approx(0.22, abs=0.04)
    (lift,) = clicks.comparisons
    assert lift.relative.estimate > 0.5  # +120% designed
    assert lift.relative.p_value < 1e-4 and lift.significant
    assert lift.relative.ci[0] > 0 and lift.absolute.ci[0] > 0
    assert lift.sequential.ci[0] > 0  # even the peek-safe interval excludes zero
    assert lift.bayesian.chance_to_win > 0.999
    assert clicks.direction(lift) == "better"

    plays = report.metric("plays_per_user").comparisons[0]
    assert plays.cuped and plays.variance_reduction is not None
    assert plays.variance_reduction > 0.2  # the habit seen before exposure explains a lot
    assert plays.relative.estimate == pytest.approx(0.3, abs=0.15)
    assert plays.relative.significant

    ratio = report.metric("clicks_per_impression")
    assert ratio.variants[1].mean == pytest.approx(treatment.mean / 3, rel=1e-9)

    # devices, timeline, warnings
    assert {device.device for device in report.devices} == {"tv", "mobile", "web"}
    assert [point.day for point in report.timeline] == [1, 2, 3, 4, 5, 6]
    totals = [sum(point.exposures) for point in report.timeline]
    assert totals == sorted(totals) and totals[-1] == 1200
    assert report.timeline[-1].lifts[0].estimate == pytest.approx(lift.relative.estimate)
    assert not report.warnings

    # renderings: JSON (strict: no NaN), text and plots
    body = report.to_dict()
    assert json.loads(json.dumps(body, allow_nan=False)) == orjson.loads(orjson.dumps(body))
    assert body["metrics"][0]["comparisons"][0]["significant"] is True
    text = render_text(report)
    assert "primary metric click_through" in text and "treatment vs control" in text
    assert "sample ratio: ok" in text
    paths = write_plots(report, tmp_path / "plots")
    assert [path.name for path in paths] == ["home-rows-lift.png", "home-rows-exposures.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in paths)


def _log(engine: Engine, experiment: Experiment, units: list[str], drop: float) -> None:
    """Exposures as assignment would make them, minus a share of treatment's (lost logs)."""
    rng = random.Random(3)
    rows = []
    for unit in units:
        index = decide(experiment, unit).variant
        assert index is not None
        if index == 1 and rng.random() < drop:
            continue
        rows.append(
            {
                "experiment_key": experiment.key,
                "unit_id": unit,
                "variant": experiment.variants[index].key,
                "first_exposed_at": T,
                "device": "tv",
                "context": None,
            }
        )
    with engine.database.write() as connection:
        connection.execute(experiment_exposures.insert(), rows)


def test_sample_ratio_mismatch_is_flagged_on_a_skewed_log(
    engine: Engine, experiments: Experiments
) -> None:
    experiments.create(definition("healthy"))
    healthy = experiments.start("healthy", at=T - 1)
    experiments.create(definition("broken"))
    broken = experiments.start("broken", at=T - 1)
    units = [f"unit-{n}" for n in range(4000)]
    _log(engine, healthy, units, drop=0.0)
    _log(engine, broken, units, drop=0.12)

    fine = experiments.analyse("healthy", at=T + DAY_S)
    assert not fine.srm.flagged and fine.srm.p_value > 0.001
    assert not any("mismatch" in warning for warning in fine.warnings)

    skewed = experiments.analyse("broken", at=T + DAY_S)
    assert skewed.srm.flagged and skewed.srm.p_value < 0.001
    assert skewed.exposures["treatment"] < skewed.exposures["control"] * 0.95
    assert any(warning.startswith("sample ratio mismatch") for warning in skewed.warnings)
    assert "sample ratio: MISMATCH" in render_text(skewed)
    assert skewed.to_dict()["srm"]["flagged"] is True


def test_an_experiment_without_exposures_reports_nothing_yet(experiments: Experiments) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    report = experiments.analyse("home-rows")
    assert report.exposures == {"control": 0, "treatment": 0}
    assert report.timeline == [] and report.devices == []
    assert report.warnings == ["no unit has been exposed yet: nothing to analyse"]
    comparison = report.metric("click_through").comparisons[0]
    assert comparison.relative.error is not None and not comparison.significant
    json.dumps(report.to_dict(), allow_nan=False)
    assert "exposed units: 0" in render_text(report)


def _values(name: str, arms: list[np.ndarray[Any, Any]]) -> tuple[UnitValues, Units]:
    value = np.concatenate(arms).astype(np.float64)
    variants = np.concatenate([np.full(len(arm), index) for index, arm in enumerate(arms)])
    units = Units(
        ids=[str(n) for n in range(len(value))],
        variants=variants.astype(np.int64),
        devices=["tv"] * len(value),
        first_exposed=np.zeros(len(value)),
    )
    included = np.ones(len(value), dtype=bool)
    return UnitValues(BUILT_IN[name], value, None, None, included), units


def test_holm_and_benjamini_hochberg_across_arms_and_metrics() -> None:
    experiment = Experiment.model_validate(
        definition(
            variants=[{"key": "a"}, {"key": "b"}, {"key": "c"}],
            metrics={"primary": ["plays_per_user", "watch_minutes"], "secondary": ["errors"]},
        )
    )
    rng = np.random.default_rng(11)
    results = []
    for name, role, shifts in (
        ("plays_per_user", "primary", (0.0, 0.3, 0.02)),
        ("watch_minutes", "primary", (0.0, 0.05, 0.0)),
        ("errors", "secondary", (0.0, 0.0, 0.5)),
    ):
        arms = [rng.normal(10 * (1 + shift), 3, 400) for shift in shifts]
        values, units = _values(name, arms)
        results.append(compare(experiment, values, units, role))
    corrected = correct_family(experiment, results)

    primary = [c for r in corrected if r.role == "primary" for c in r.comparisons]
    raw = [c.p_value for c in primary]
    assert len(primary) == 4  # 2 metrics x 2 treatment arms: one family
    order = np.argsort(raw)
    expected_holm = np.maximum.accumulate(
        np.minimum(np.array(raw)[order] * (4 - np.arange(4)), 1.0)
    )
    assert [primary[i].holm_p for i in order] == pytest.approx(list(expected_holm))
    for comparison in primary:
        assert comparison.p_value <= comparison.benjamini_hochberg_p <= comparison.holm_p
        assert comparison.adjusted_p == comparison.holm_p  # the default correction decides
        low, high = comparison.adjusted_ci
        assert low <= comparison.relative.ci[0] and high >= comparison.relative.ci[1]
    # the secondary family is corrected on its own: its two comparisons only
    secondary = corrected[2].comparisons
    assert secondary[1].holm_p == pytest.approx(min(1.0, 2 * min(c.p_value for c in secondary)))
    assert corrected[0].comparisons[0].significant  # a 30% lift survives the correction
    assert not math.isnan(corrected[1].comparisons[1].adjusted_p)
