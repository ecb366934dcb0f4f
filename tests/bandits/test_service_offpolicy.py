"""Off-policy evaluation on a point's own log, against the simulator's known truth, and the
``bandits`` command that runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from limelight import Engine
from limelight.bandits.offpolicy import (
    candidate_distribution,
    logged_rounds,
    plot_evaluation,
    reward_model,
)
from limelight.bandits.simulator import ArtworkSimulator
from limelight.errors import InvalidInput
from tests.bandits.test_service_support import Clock, play, point, service_for

N = 2000


@pytest.fixture
def logged(engine: Engine) -> tuple[Engine, object, dict[str, object]]:
    """A point whose log was made by uniform random choice (the textbook logging policy)."""
    clock = Clock()
    service = service_for(engine, clock)
    service.configure(
        point(
            "logged",
            policy={"name": "uniform"},
            exploration={"epsilon": None, "floor": 0.0},
            reward={"window_s": 60.0},
        )
    )
    simulator = ArtworkSimulator(seed=31)
    rounds = simulator.rounds(N, seed=32)
    _, decision_ids = play(engine, service, clock, "logged", rounds)
    return engine, service, dict(zip(decision_ids, rounds, strict=True))


def _truth(situations: dict[str, object], log: object, distribution: np.ndarray) -> float:
    """The candidate's true expected click rate on the logged situations."""
    values = []
    for t, decision_id in enumerate(log.decision_ids):  # type: ignore[attr-defined]
        truth = situations[decision_id].probabilities  # type: ignore[attr-defined]
        values.append(float(distribution[t, : len(truth)] @ truth))
    return float(np.mean(values))


def test_evaluating_the_logging_policy_gives_back_its_own_value(logged) -> None:  # type: ignore[no-untyped-def]
    _, service, _ = logged
    result = service.evaluate("logged", "uniform", n_bootstrap=50)
    assert result.n_rounds == N and result.support == 1.0
    estimates = result.report.values()
    assert set(estimates) == {"dm", "ips", "snips", "dr", "sndr", "switch-dr"}
    assert estimates["ips"] == pytest.approx(result.logged_value)  # every weight is 1
    assert estimates["snips"] == pytest.approx(result.logged_value)
    diagnostics = result.report.diagnostics
    assert diagnostics.effective_sample_size == pytest.approx(N)
    assert diagnostics.max_weight == pytest.approx(1.0)


def test_estimates_of_a_better_policy_find_the_truth(logged) -> None:  # type: ignore[no-untyped-def]
    engine, service, situations = logged
    definition = service.point("logged")
    for candidate in ("greedy", {"name": "linucb", "params": {"shared": True}}):
        result = service.evaluate("logged", candidate, n_bootstrap=100)
        log = logged_rounds(engine.database, definition)
        _, distribution = candidate_distribution(
            log, definition, candidate, estimates=reward_model(log)
        )
        truth = _truth(situations, log, distribution)
        assert truth > 1.2 * result.logged_value  # the candidate is really better
        for name in ("ips", "snips", "dr", "sndr", "switch-dr"):
            interval = result.report.estimates[name]
            assert interval.lower < interval.estimate < interval.upper
            # within about three bootstrap standard errors (the 95% width is ~3.9 of them)
            width = interval.upper - interval.lower
            assert abs(interval.estimate - truth) < 0.8 * width, (candidate, name, interval, truth)
        assert result.report.diagnostics.max_weight <= 5.0 + 1e-9  # at most 5 artworks a title
        assert "replayed" in result.candidate or result.candidate == "greedy"


def test_the_current_model_and_errors(logged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, service, _ = logged
    current = service.evaluate("logged", "current", n_bootstrap=20)
    assert current.candidate == "current (uniform)"
    assert current.report.values()["ips"] == pytest.approx(current.logged_value)
    path = plot_evaluation(current, tmp_path / "ope.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInput):
        service.evaluate("logged", {"name": "no-such-policy"})
    with pytest.raises(InvalidInput):
        service.evaluate("logged", {"name": "linucb", "params": {"alpha": "high"}})
    service.configure(point("empty"))
    with pytest.raises(InvalidInput, match="usable logged rounds"):
        service.evaluate("empty", "uniform")


def _cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIMELIGHT_")}
    env["LIMELIGHT_DATA_DIR"] = str(engine.settings.data_dir)
    if engine.settings.database_url:
        env["LIMELIGHT_DATABASE_URL"] = engine.settings.database_url
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "limelight.bandits.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_command_configures_lists_reports_and_evaluates(logged, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, _, _ = logged
    engine.decisions.flush()  # the command is another process: it reads the table
    definition = tmp_path / "points.json"
    definition.write_bytes(orjson.dumps([point("rows"), point("ads", reward={"window_s": 5.0})]))
    done = _cli(engine, "configure", str(definition))
    assert done.returncode == 0, done.stderr
    assert "configured 'rows'" in done.stdout and "configured 'ads'" in done.stdout
    done = _cli(engine, "points")
    assert done.returncode == 0, done.stderr
    for name in ("logged", "rows", "ads", "uniform", "epsilon-greedy"):
        assert name in done.stdout
    done = _cli(engine, "report", "logged")
    assert done.returncode == 0, done.stderr
    assert f"live {N}" in done.stdout
    plot = tmp_path / "plot.png"
    done = _cli(
        engine,
        "evaluate",
        "logged",
        "--policy",
        "linucb",
        "--param",
        "shared=true",
        "--n-bootstrap",
        "30",
        "--plot",
        str(plot),
    )
    assert done.returncode == 0, done.stderr
    for needle in ("IPS", "SNIPS", "SWITCH-DR", "effective sample size", "largest weight"):
        assert needle in done.stdout
    assert plot.exists()
    done = _cli(engine, "evaluate", "nowhere", "--policy", "uniform")
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "nowhere" in done.stderr
    assert "Traceback" not in done.stderr
