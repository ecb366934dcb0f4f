"""Calibration of Limelight's tests by simulation (all data simulated, seeded).

    .venv/bin/python benchmarks/stats_calibration.py [--trials 2000] [--seed 0]

Prints, for each check, the measured rate, the band a correct test lands in with 99%
probability at this many trials, and whether it does:

* A/A, one look, alpha 0.05: false positives inside the 99% binomial band around 0.05
  (about 0.037-0.063 at 2,000 trials), for proportions, skewed means, ratios and CUPED.
* A/A peeked at daily for 14 days, stopping at the first rejection: the sequential test at or
  under the band's top; the fixed-horizon t-test peeked the same way, shown for contrast.
* A/B with the lift that :func:`sample_size` says gives 80% power: detections within 80% +/- 5
  points.

Exit status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from typing import Any

from limelight.experiments.stats import Design, sample_size, z_test
from limelight.experiments.stats import calibration as cal
from limelight.experiments.stats.frequentist import FrequentistResult
from limelight.experiments.stats.summaries import ProportionSummary, Summary

ALPHA = 0.05
LOOKS = 14
TARGET_POWER = 0.8


def _z(control: Summary, treatment: Summary) -> FrequentistResult:
    assert isinstance(control, ProportionSummary) and isinstance(treatment, ProportionSummary)
    return z_test(control, treatment, alpha=ALPHA)


def _row(name: str, rate: cal.Rate, low: float, high: float, seconds: float) -> bool:
    ok = low <= rate.rate <= high
    verdict = "ok" if ok else "FAIL"
    print(
        f"  {name:<44} {rate.rate:7.4f}  ({rate.hits:>4}/{rate.trials})"
        f"  band [{low:.3f}, {high:.3f}]  {verdict:<4} {seconds:5.1f}s"
    )
    return ok


def _timed(run: Callable[..., cal.Rate], *args: Any, **kwargs: Any) -> tuple[cal.Rate, float]:
    start = time.perf_counter()
    rate = run(*args, **kwargs)
    return rate, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    trials, seed = args.trials, args.seed
    low, high = cal.acceptance_band(ALPHA, trials)
    results: list[bool] = []
    print(f"Calibration by simulation: {trials} simulated experiments per row, seed {seed}")

    print(f"A/A, one look, alpha {ALPHA} (Welch t unless named):")
    fixed: list[tuple[str, cal.Kind, int, cal.Test]] = [
        ("click-through, n=5000/arm", "proportion", 5000, cal.welch(ALPHA)),
        ("click-through, z-test, n=5000/arm", "proportion", 5000, _z),
        ("watch minutes (gamma, skewed), n=1000/arm", "mean", 1000, cal.welch(ALPHA)),
        ("clicks / impressions (delta), n=1000/arm", "ratio", 1000, cal.welch(ALPHA)),
        ("watch minutes with CUPED, n=1000/arm", "cuped", 1000, cal.welch(ALPHA)),
    ]
    for offset, (name, kind, n, test) in enumerate(fixed):
        rate, seconds = _timed(
            cal.fixed_horizon, kind, test, trials=trials, n=n, seed=seed + offset
        )
        results.append(_row(name, rate, low, high, seconds))

    print(f"A/A peeked at after each of {LOOKS} days, first rejection stops:")
    peeked: list[tuple[str, cal.Kind, int]] = [
        ("click-through, 1000/arm/day", "proportion", 1000),
        ("minutes, 300/arm/day", "mean", 300),
    ]
    for offset, (name, kind, per_day) in enumerate(peeked):
        tuning = 2.0 * per_day * LOOKS
        shape = {
            "trials": trials,
            "looks": LOOKS,
            "n_per_look": per_day,
            "seed": seed + 100 + offset,
        }
        rate, seconds = _timed(cal.peeking, kind, cal.sequential(ALPHA, tuning), **shape)
        results.append(_row(f"sequential, {name}", rate, 0.0, high, seconds))
        rate, seconds = _timed(cal.peeking, kind, cal.welch(ALPHA), **shape)
        print(
            f"  {'t-test peeked, ' + name:<44} {rate.rate:7.4f}"
            f"  ({rate.hits:>4}/{rate.trials})  contrast: not for peeking {seconds:5.1f}s"
        )

    print(f"A/B at the sample size planned for {TARGET_POWER:.0%} power:")
    sd = math.sqrt(cal.MEAN_SHAPE) * cal.MEAN_SCALE
    designs: list[tuple[str, cal.Kind, Design, float]] = [
        ("click-through 10% +5%", "proportion", Design.proportion(cal.BASE_RATE, 0.05), 0.05),
        (
            "watch minutes 20 +10%",
            "mean",
            Design.mean(
                cal.MEAN_SHAPE * cal.MEAN_SCALE, sd, 0.10, treatment_standard_deviation=sd * 1.1
            ),
            0.10,
        ),
    ]
    for offset, (name, kind, design, lift) in enumerate(designs):
        plan = sample_size(design, alpha=ALPHA, target_power=TARGET_POWER)
        rate, seconds = _timed(
            cal.fixed_horizon,
            kind,
            cal.welch(ALPHA),
            trials=trials,
            n=plan.n_per_variant,
            lift=lift,
            seed=seed + 200 + offset,
        )
        label = f"{name}, n={plan.n_per_variant}/arm"
        results.append(_row(label, rate, TARGET_POWER - 0.05, TARGET_POWER + 0.05, seconds))

    failed = results.count(False)
    print(f"checks: {len(results) - failed} ok, {failed} failing")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
