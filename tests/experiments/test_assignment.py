"""Assignment: deterministic across processes, weighted as configured, exclusive within a layer,
and respectful of the global holdout."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from scipy import stats as scipy_stats

from limelight import Engine
from limelight.errors import InvalidInput
from limelight.experiments.assignment import (
    BUCKETS,
    allocate,
    bucket,
    decide,
    in_holdout,
    position,
    variant_index,
)
from limelight.experiments.errors import ExperimentConflict
from limelight.experiments.model import Experiment
from limelight.experiments.service import Experiments
from limelight.experiments.stats import srm_test
from tests.experiments.builders import definition

UNITS = [f"user-{n}" for n in range(1000)]

_SERVICE_IN_SUBPROCESS = """
import sys, orjson
from limelight import Engine, Settings
from limelight.experiments.attach import attached
with Engine(Settings()) as engine:
    service = attached(engine)
    units = orjson.loads(sys.stdin.buffer.read())
    found = {unit: service.variant(sys.argv[1], unit).variant for unit in units}
sys.stdout.buffer.write(orjson.dumps(found))
"""

_PURE_IN_SUBPROCESS = """
import sys, orjson
from limelight.experiments.assignment import decide
from limelight.experiments.model import Experiment
payload = orjson.loads(sys.stdin.buffer.read())
experiment = Experiment.model_validate(payload["experiment"])
found = {unit: decide(experiment, unit).variant for unit in payload["units"]}
sys.stdout.buffer.write(orjson.dumps(found))
"""


def _run(script: str, payload: object, engine: Engine, hash_seed: str, *args: str) -> object:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LIMELIGHT_")}
    env.update(PYTHONHASHSEED=hash_seed, LIMELIGHT_DATA_DIR=str(engine.settings.data_dir))
    if engine.settings.database_url:
        env["LIMELIGHT_DATABASE_URL"] = engine.settings.database_url
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        input=orjson.dumps(payload),
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return orjson.loads(done.stdout)


def test_hashes_are_pinned_so_every_machine_and_version_agrees() -> None:
    # SHA-256 of fixed text: if these move, every running experiment would reshuffle its units.
    assert position("variant", "home-rows", "user-1") == 0.24509084240846757
    assert bucket("layer-a", "user-1") == 9906
    assert [variant_index("home-rows", f"user-{n}", [1, 1]) for n in range(10)] == [
        1, 0, 1, 0, 1, 0, 0, 1, 0, 0,
    ]  # fmt: skip


def test_sticky_across_processes_with_different_hash_seeds(
    engine: Engine, experiments: Experiments
) -> None:
    experiments.create(definition())
    started = experiments.start("home-rows")
    # Another process reads the variants through the service (logging the exposures) ...
    served = _run(_SERVICE_IN_SUBPROCESS, UNITS, engine, "1", "home-rows")
    # ... a third computes them from the definition alone, with another str-hash salt ...
    payload = {"experiment": started.model_dump(mode="json"), "units": UNITS}
    computed = _run(_PURE_IN_SUBPROCESS, payload, engine, "2")
    # ... and this process agrees with both, unit by unit.
    local = {unit: decide(started, unit).variant for unit in UNITS}
    keys = [variant.key for variant in started.variants]
    assert None not in local.values()  # full traffic, no targeting, no holdout
    assert computed == local
    assert served == {unit: keys[index] for unit, index in local.items() if index is not None}
    assert all(experiments.variant("home-rows", unit).variant == served[unit] for unit in UNITS)
    assert 400 < sum(index == 1 for index in local.values()) < 600


def test_weights_are_respected_on_many_units() -> None:
    weights = [1.0, 2.0, 7.0]
    counts = [0, 0, 0]
    for n in range(30_000):
        counts[variant_index("weights", f"unit-{n}", weights)] += 1
    expected = [30_000 * weight / 10 for weight in weights]
    assert scipy_stats.chisquare(counts, expected).pvalue > 0.001
    assert not srm_test(counts, weights).flagged
    # and a different seed splits the same units differently (no two tests share a split)
    other = [variant_index("other", f"unit-{n}", [1, 1]) for n in range(2000)]
    same = [variant_index("weights", f"unit-{n}", [1, 1]) for n in range(2000)]
    assert 0.4 < sum(a == b for a, b in zip(other, same, strict=True)) / 2000 < 0.6


def test_traffic_takes_its_share_of_the_layer() -> None:
    experiment = Experiment.model_validate(definition(traffic_percent=30))
    inside = sum(decide(experiment, f"unit-{n}").variant is not None for n in range(20_000))
    assert scipy_stats.binomtest(inside, 20_000, 0.3).pvalue > 0.001


def test_allocation_finds_gaps_and_keeps_a_ramping_slice() -> None:
    assert allocate(3000, []) == (0, 3000)
    assert allocate(3000, [(0, 2000), (5000, 6000)]) == (2000, 5000)
    assert allocate(4000, [(0, 2000), (5000, 6000)]) == (6000, 10_000)
    assert allocate(4001, [(0, 2000), (5000, 6000)]) is None
    assert allocate(5000, [(0, 2000), (5000, 6000)]) is None
    assert allocate(4000, [(6000, 10_000)], prefer=0) == (0, 4000)
    assert allocate(BUCKETS, []) == (0, BUCKETS)


def test_experiments_in_one_layer_never_share_a_unit(experiments: Experiments) -> None:
    for key, traffic in (("rows-a", 30), ("rows-b", 30), ("rows-c", 40)):
        experiments.create(definition(key, layer="home", traffic_percent=traffic))
        experiments.start(key)
    experiments.create(definition("free-standing"))
    experiments.start("free-standing")
    experiments.create(definition("rows-d", layer="home", traffic_percent=10))
    with pytest.raises(ExperimentConflict, match="no free slice"):
        experiments.start("rows-d")

    slices = sorted(
        experiments.get(key).buckets or (0, 0) for key in ("rows-a", "rows-b", "rows-c")
    )
    assert slices == [(0, 3000), (3000, 6000), (6000, 10_000)]
    seen = {"rows-a": 0, "rows-b": 0, "rows-c": 0, "free-standing": 0}
    for n in range(3000):
        keys = [found.experiment for found in experiments.assignments(f"unit-{n}")]
        layered = [key for key in keys if key.startswith("rows-")]
        assert len(layered) == 1, keys  # exactly one: the layer is fully allocated, disjointly
        for key in keys:
            seen[key] += 1
    assert seen["free-standing"] == 3000  # outside the layer, units overlap freely
    for key, share in (("rows-a", 0.3), ("rows-b", 0.3), ("rows-c", 0.4)):
        assert scipy_stats.binomtest(seen[key], 3000, share).pvalue > 0.001

    # stopping frees the slice, and the next experiment of the layer takes it
    experiments.stop("rows-b")
    assert experiments.start("rows-d").buckets == (3000, 4000)


def test_ramping_traffic_keeps_the_units_already_in(experiments: Experiments) -> None:
    experiments.create(definition(layer="home", traffic_percent=20))
    experiments.start("home-rows")
    before = {n for n in range(2000) if experiments.assignments(f"unit-{n}")}
    experiments.update("home-rows", {"traffic_percent": 50})
    after = {n for n in range(2000) if experiments.assignments(f"unit-{n}")}
    assert before < after
    assert experiments.get("home-rows").buckets == (0, 5000)


def test_the_holdout_keeps_units_out_of_every_experiment(experiments: Experiments) -> None:
    experiments.create(definition())
    experiments.start("home-rows")
    exposed = experiments.variant("home-rows", "early-bird")
    assert exposed is not None
    assert experiments.set_holdout(10) == 10.0
    assert experiments.holdout() == 10.0
    held = 0
    for n in range(3000):
        unit = f"unit-{n}"
        found = experiments.assignments(unit)
        if in_holdout(unit, 10):
            held += 1
            assert found == []
        else:
            assert [a.experiment for a in found] == ["home-rows"]
    assert scipy_stats.binomtest(held, 3000, 0.1).pvalue > 0.001
    # a unit exposed before the holdout grew keeps its variant, even if now held out
    experiments.set_holdout(50)
    experiments.cache_ttl_s = 0.0
    assert experiments.variant("home-rows", "early-bird") == exposed
    with pytest.raises(InvalidInput, match="0 to 50"):
        experiments.set_holdout(80)
