"""Side by side with GrowthBook's gbstats 0.8.0 (opt-in: LIMELIGHT_RUN_GBSTATS=1).

Runs ``benchmarks/stats_gbstats.py``, which makes ``.venv-gbstats`` on first use (a download
of gbstats, pandas 1.5 and numpy 1.26 from the package index), so it is skipped by default.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "stats_gbstats.py"

pytestmark = pytest.mark.skipif(
    os.environ.get("LIMELIGHT_RUN_GBSTATS") != "1",
    reason="set LIMELIGHT_RUN_GBSTATS=1 to compare with gbstats in its own environment",
)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_agrees_with_gbstats_to_one_in_a_million() -> None:
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--cases", "300", "--seed", "3", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode in (0, 1), completed.stderr[-2000:]
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    assert summary["versions"]["gbstats"] == "0.8.0"
    assert summary["refused_by_one"] == 0
    methods = summary["methods"]
    for required in (
        "t-test / mean",
        "t-test / CUPED mean",
        "Bayesian / binomial",
        "Bayesian / mean",
        "sequential / mean",
        "SRM chi-square",
    ):
        assert required in methods
    for method, statistics in methods.items():
        for statistic, difference in statistics.items():
            assert difference <= 1e-6, (method, statistic, difference)
