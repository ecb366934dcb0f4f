"""Our estimators against obp 0.4.1's own, on identical inputs (opt-in: LIMELIGHT_RUN_OBP=1).

obp needs old pandas, numpy and scikit-learn, so it runs in ``.venv-obp`` (made by
``benchmarks/ope_obd.py`` on first use, about a minute and a few GB because obp imports torch).
Inputs travel as ``.npz`` files; obp's side is the benchmark script itself (``--obp-side``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from limelight.bandits.ope import bootstrap_interval, default_estimators, round_terms
from limelight.bandits.ope.estimators import LoggedFeedback

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("LIMELIGHT_RUN_OBP") != "1", reason="set LIMELIGHT_RUN_OBP=1 to compare"
    ),
]


def _synthetic(seed: int, n: int, n_actions: int, len_list: int) -> dict[str, np.ndarray]:
    """Random logs: positions, per-round evaluation distributions, propensities and q."""
    rng = np.random.default_rng(seed)
    dist = rng.dirichlet(np.ones(n_actions), size=(n, len_list)).transpose(0, 2, 1)
    return {
        "action": rng.integers(0, n_actions, n),
        "position": rng.integers(0, len_list, n),
        "reward": rng.integers(0, 2, n),
        "pscore": rng.uniform(0.05, 1.0, n),
        "action_dist": dist,
        "q": rng.random((n, n_actions, len_list)),
    }


def test_estimators_and_intervals_match_obp_on_random_inputs(tmp_path: Path) -> None:
    from benchmarks import ope_obd  # imported here: it sets BLAS thread variables

    python = ope_obd.ensure_obp_venv()
    cases = {
        "synthetic-slots": _synthetic(0, 3000, 6, 3),
        "synthetic-single": _synthetic(1, 2000, 4, 1),
    }
    for name, arrays in cases.items():
        np.savez(tmp_path / f"{name}.in.npz", **arrays)  # type: ignore[arg-type]
    subprocess.run(
        [str(python), ope_obd.__file__, "--obp-side", str(tmp_path)], check=True, timeout=600
    )
    for name, arrays in cases.items():
        with np.load(tmp_path / f"{name}.out.npz", allow_pickle=False) as stored:
            theirs = {key: stored[key] for key in stored.files}
        position = arrays["position"] if arrays["action_dist"].shape[2] > 1 else None
        log = LoggedFeedback(arrays["action"], arrays["reward"], arrays["pscore"], position)
        terms = round_terms(log, arrays["action_dist"], arrays["q"])
        for estimator in default_estimators(tau=1.0):
            assert abs(estimator.estimate(terms) - float(theirs[f"value:{estimator.name}"])) <= 1e-9
            interval = bootstrap_interval(
                estimator,
                terms,
                n_bootstrap=ope_obd.CI_BOOTSTRAP,
                random_state=ope_obd.SEED,
                method="obp",
            )
            mean, lower, upper = theirs[f"ci:{estimator.name}"]
            assert abs(interval.bootstrap_mean - mean) <= 1e-9
            assert abs(interval.lower - lower) <= 1e-9
            assert abs(interval.upper - upper) <= 1e-9


def test_obd_benchmark_agrees_with_obp() -> None:
    from benchmarks import ope_obd

    done = subprocess.run(
        [sys.executable, ope_obd.__file__, "--runs", "1", "--campaigns", "men", "women"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout
    assert done.stdout.count("integer arrays identical True") == 2
    assert "BTS distribution max diff 0.0e+00" in done.stdout
