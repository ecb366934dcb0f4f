"""Limelight's statistics against GrowthBook's gbstats 0.8.0 on identical inputs.

    .venv/bin/python benchmarks/stats_gbstats.py [--cases 600] [--seed 7] [--json]

gbstats pins pandas 1.5 and numpy < 2, which clash with the project's environment, so this
script makes its own virtual environment ``.venv-gbstats`` (gitignored) the first time and runs
gbstats there. Inputs are random variant summaries drawn from simulated raw data (means,
proportions, ratios, CUPED pairs; two or three arms; small and large samples; a few degenerate
ones) crossed with a grid of settings (t-test, sequential with several tuning values, Bayesian
with flat and proper priors, inverse metrics, relative and absolute lifts, several alphas).
They travel to gbstats as JSON, are analysed through gbstats' own ``get_configured_test``
(the function its runner uses) and ``check_srm``, and the largest absolute difference per
method and statistic is printed. Exit status 1 when any exceeds the tolerance (1e-6).

The same file is the runner inside the gbstats environment (``--gbstats-runner IN OUT``), so
only the standard library is imported at the top.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-gbstats"
PINS = ["gbstats==0.8.0", "pandas==1.5.3", "numpy==1.26.4", "scipy>=1.13,<2", "pydantic>=2.5,<3"]
COLUMNS = [
    "users",
    "count",
    "main_sum",
    "main_sum_squares",
    "denominator_sum",
    "denominator_sum_squares",
    "main_denominator_sum_product",
    "covariate_sum",
    "covariate_sum_squares",
    "main_covariate_sum_product",
]
TOLERANCE = 1e-6

Case = dict[str, Any]


# --------------------------------------------------------------------------- gbstats side


def run_gbstats(source: str, target: str) -> None:
    """Analyse every case with gbstats (runs inside .venv-gbstats)."""
    import importlib.metadata

    import pandas as pd
    from gbstats.bayesian.tests import BayesianTestResult
    from gbstats.gbstats import get_configured_test
    from gbstats.models.settings import (
        AnalysisSettingsForStatsEngine,
        MetricSettingsForStatsEngine,
    )
    from gbstats.utils import check_srm

    cases = json.loads(Path(source).read_text())
    answers = []
    for case in cases:
        variants = case["variants"]
        row: dict[str, Any] = {}
        for i, variant in enumerate(variants):
            prefix = "baseline" if i == 0 else f"v{i}"
            for column in COLUMNS:
                row[f"{prefix}_{column}"] = variant.get(column, 0)
        analysis = AnalysisSettingsForStatsEngine(
            var_names=[f"v{i}" for i in range(len(variants))],
            var_ids=[str(i) for i in range(len(variants))],
            weights=case["weights"],
            stats_engine="bayesian" if case["engine"] == "bayesian" else "frequentist",
            sequential_testing_enabled=case["engine"] == "sequential",
            sequential_tuning_parameter=case["tuning"],
            difference_type=case["difference"],
            alpha=case["alpha"],
        )
        metric = MetricSettingsForStatsEngine(
            id="m",
            name="m",
            statistic_type=case["statistic_type"],
            main_metric_type=case["main_type"],
            inverse=case["inverse"],
            prior_proper=case["prior_proper"],
            prior_mean=case["prior_mean"],
            prior_stddev=case["prior_stddev"],
            denominator_metric_type=case.get("other_type"),
            covariate_metric_type=case.get("other_type"),
        )
        series = pd.Series(row)
        arms = []
        for i in range(1, len(variants)):
            try:
                result = get_configured_test(series, i, analysis, metric).compute_result()
            except ZeroDivisionError as exc:  # gbstats 0.8.0 divides by a zero prior variance
                arms.append({"raised": f"{type(exc).__name__}: {exc}"})
                continue
            out = {
                "expected": result.expected,
                "ci_lower": result.ci[0],
                "ci_upper": result.ci[1],
                "stddev": result.uplift.stddev,
                "error": result.error_message,
            }
            if isinstance(result, BayesianTestResult):
                out["chance_to_win"] = result.chance_to_win
                out["risk_control"] = result.risk[0]
                out["risk_treatment"] = result.risk[1]
            else:
                out["p_value"] = result.p_value
            arms.append(out)
        srm = check_srm([v["users"] for v in variants], case["weights"])
        answers.append({"arms": arms, "srm_p_value": float(srm)})
    versions = {
        name: importlib.metadata.version(name) for name in ("gbstats", "pandas", "numpy", "scipy")
    }
    Path(target).write_text(json.dumps({"versions": versions, "answers": answers}))


# --------------------------------------------------------------------------- environment


def ensure_venv() -> Path:
    """Path of the gbstats interpreter, creating .venv-gbstats with the pins when missing."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import gbstats.gbstats, pandas"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print(f"creating {VENV.name} with {' '.join(PINS)} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PINS],
        check=True,
    )
    subprocess.run(probe, check=True)
    return python


# --------------------------------------------------------------------------- inputs


def make_cases(count: int, seed: int) -> list[Case]:
    """Random variant summaries from simulated raw data, crossed with random settings."""
    import numpy as np

    rng = np.random.default_rng(seed)
    kinds = ["mean", "binomial", "ratio", "cuped", "cuped_binomial"]
    engines = ["frequentist", "sequential", "bayesian"]
    cases = []
    for index in range(count):
        kind = kinds[index % len(kinds)]
        engine = engines[(index // len(kinds)) % len(engines)]
        arms = int(rng.choice([2, 2, 3]))
        degenerate = rng.random() < 0.04
        raw_weights = rng.uniform(0.2, 1.0, arms)
        weights = (raw_weights / raw_weights.sum()).tolist()
        base = _baseline(rng, kind)
        variants = []
        for arm in range(arms):
            n = int(rng.integers(2, 6)) if degenerate else int(np.exp(rng.uniform(np.log(30), 9)))
            lift = 0.0 if arm == 0 else float(rng.normal(0, 0.08))
            variants.append(_variant(rng, kind, n, base, lift))
        statistic_type = {"ratio": "ratio", "cuped": "mean_ra", "cuped_binomial": "mean_ra"}
        main_type = "binomial" if kind in ("binomial", "cuped_binomial") else "count"
        cases.append(
            {
                "kind": kind,
                "engine": engine,
                "statistic_type": statistic_type.get(kind, "mean"),
                "main_type": main_type,
                "other_type": main_type if kind != "mean" and kind != "binomial" else None,
                "difference": str(rng.choice(["relative", "relative", "absolute"])),
                "alpha": float(rng.choice([0.01, 0.05, 0.1])),
                "tuning": float(rng.choice([500.0, 5000.0, 50000.0])),
                "inverse": bool(rng.random() < 0.3),
                "prior_proper": bool(rng.random() < 0.5),
                "prior_mean": float(rng.normal(0, 0.05)),
                "prior_stddev": float(rng.choice([0.1, 0.3])),
                "weights": weights,
                "variants": variants,
            }
        )
    return cases


def _baseline(rng: Any, kind: str) -> dict[str, float]:
    return {
        "rate": float(rng.uniform(0.02, 0.5)),
        "scale": float(rng.uniform(1, 50)),
        "shape": float(rng.uniform(0.3, 3)),
        "rho": float(rng.uniform(0.0, 0.95)),
    }


def _variant(rng: Any, kind: str, n: int, base: dict[str, float], lift: float) -> dict[str, float]:
    import numpy as np

    factor = max(0.05, 1 + lift)
    if kind in ("binomial", "cuped_binomial"):
        main = (rng.random(n) < min(0.99, base["rate"] * factor)).astype(float)
        if kind == "binomial":
            return _sums(main)
        pre = np.where(rng.random(n) < base["rho"], main, rng.random(n) < base["rate"])
        return _sums(main, covariate=pre.astype(float))
    if kind == "ratio":
        impressions = rng.poisson(5, n) + 1.0
        clicks = rng.binomial(impressions.astype(int), min(0.9, 0.1 * factor)).astype(float)
        return _sums(clicks, denominator=impressions)
    pre = rng.gamma(base["shape"], base["scale"], n)
    noise = rng.gamma(base["shape"], base["scale"], n)
    main = factor * (base["rho"] * pre + (1 - base["rho"]) * noise)
    if kind == "mean":
        return _sums(main)
    return _sums(main, covariate=pre)


def _sums(main: Any, denominator: Any = None, covariate: Any = None) -> dict[str, float]:
    sums = {
        "users": int(main.size),
        "count": int(main.size),
        "main_sum": float(main.sum()),
        "main_sum_squares": float(main @ main),
    }
    if denominator is not None:
        sums["denominator_sum"] = float(denominator.sum())
        sums["denominator_sum_squares"] = float(denominator @ denominator)
        sums["main_denominator_sum_product"] = float(main @ denominator)
    if covariate is not None:
        sums["covariate_sum"] = float(covariate.sum())
        sums["covariate_sum_squares"] = float(covariate @ covariate)
        sums["main_covariate_sum_product"] = float(main @ covariate)
    return sums


# --------------------------------------------------------------------------- Limelight side


def _summary(variant: dict[str, float], kind: str) -> Any:
    from limelight.experiments import stats

    def base(prefix: str, binomial: bool) -> stats.BaseSummary:
        n = int(variant["count"])
        if binomial:
            return stats.ProportionSummary(n=n, sum=variant[f"{prefix}_sum"])
        return stats.MeanSummary(
            n=n, sum=variant[f"{prefix}_sum"], sum_squares=variant[f"{prefix}_sum_squares"]
        )

    binomial = kind in ("binomial", "cuped_binomial")
    if kind == "ratio":
        return stats.RatioSummary(
            numerator=base("main", False),
            denominator=base("denominator", False),
            sum_products=variant["main_denominator_sum_product"],
        )
    if kind.startswith("cuped"):
        return stats.CupedSummary(
            metric=base("main", binomial),
            covariate=base("covariate", binomial),
            sum_products=variant["main_covariate_sum_product"],
        )
    return base("main", binomial)


def run_limelight(cases: list[Case]) -> list[dict[str, Any]]:
    from limelight.experiments import stats

    answers = []
    for case in cases:
        summaries = [_summary(v, case["kind"]) for v in case["variants"]]
        arms = []
        for treatment in summaries[1:]:
            control = summaries[0]
            if case["engine"] == "bayesian":
                prior = stats.GaussianPrior(
                    mean=case["prior_mean"],
                    variance=case["prior_stddev"] ** 2,
                    proper=case["prior_proper"],
                )
                # gbstats' runner leaves the Bayesian alpha at its default of 0.05
                b = stats.bayesian_test(
                    control,
                    treatment,
                    prior=prior,
                    difference=case["difference"],
                    inverse=case["inverse"],
                    alpha=0.05,
                )
                arms.append(
                    {
                        "expected": b.expected,
                        "ci_lower": b.ci[0],
                        "ci_upper": b.ci[1],
                        "stddev": b.standard_deviation,
                        "chance_to_win": b.chance_to_win,
                        "risk_control": b.risk[0],
                        "risk_treatment": b.risk[1],
                        "error": b.error,
                    }
                )
                continue
            if case["engine"] == "sequential":
                f = stats.sequential_test(
                    control,
                    treatment,
                    alpha=case["alpha"],
                    difference=case["difference"],
                    tuning=case["tuning"],
                )
            else:
                f = stats.welch_t_test(
                    control, treatment, alpha=case["alpha"], difference=case["difference"]
                )
            arms.append(
                {
                    "expected": f.estimate,
                    "ci_lower": f.ci[0],
                    "ci_upper": f.ci[1],
                    "stddev": f.standard_error,
                    "p_value": f.p_value,
                    "error": f.error,
                }
            )
        srm = stats.srm_test([int(v["users"]) for v in case["variants"]], case["weights"])
        answers.append({"arms": arms, "srm_p_value": srm.p_value})
    return answers


# --------------------------------------------------------------------------- comparison


def _method(case: Case) -> str:
    kind = {
        "mean": "mean",
        "binomial": "binomial",
        "ratio": "ratio",
        "cuped": "CUPED mean",
        "cuped_binomial": "CUPED binomial",
    }[case["kind"]]
    engine = {"frequentist": "t-test", "sequential": "sequential", "bayesian": "Bayesian"}
    return f"{engine[case['engine']]} / {kind}"


def compare(cases: list[Case], ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> Case:
    """Largest absolute difference per method and statistic, and refusals that disagree."""
    table: dict[str, dict[str, float]] = {}
    counts: dict[str, int] = {}
    refused_by_one = 0
    refused_by_both = 0
    peer_raised = 0
    for case, mine, peer in zip(cases, ours, theirs, strict=True):
        method = _method(case)
        row = table.setdefault(method, {})
        for a, b in zip(mine["arms"], peer["arms"], strict=True):
            counts[method] = counts.get(method, 0) + 1
            if "raised" in b:
                # gbstats 0.8.0 divides 0 by a zero prior variance when an absolute lift meets
                # a zero control mean (even with a flat prior); nothing to compare against
                peer_raised += 1
                continue
            if (a["error"] is None) != (b["error"] is None):
                refused_by_one += 1
            elif a["error"] is not None:
                refused_by_both += 1
            for key, value in b.items():
                if key == "error":
                    continue
                diff = abs(float(a[key]) - float(value))
                row[key] = max(row.get(key, 0.0), diff)
        srm = table.setdefault("SRM chi-square", {})
        counts["SRM chi-square"] = counts.get("SRM chi-square", 0) + 1
        diff = abs(mine["srm_p_value"] - peer["srm_p_value"])
        srm["p_value"] = max(srm.get("p_value", 0.0), diff)
    worst = max(v for row in table.values() for v in row.values())
    return {
        "methods": table,
        "comparisons": counts,
        "refused_by_one": refused_by_one,
        "refused_by_both": refused_by_both,
        "gbstats_raised": peer_raised,
        "max_abs_diff": worst,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--gbstats-runner", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gbstats_runner:
        run_gbstats(*args.gbstats_runner)
        return 0

    python = ensure_venv()
    cases = make_cases(args.cases, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        source, target = os.path.join(folder, "in.json"), os.path.join(folder, "out.json")
        Path(source).write_text(json.dumps(cases))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        subprocess.run(
            [str(python), __file__, "--gbstats-runner", source, target], check=True, env=env
        )
        peer = json.loads(Path(target).read_text())
    summary = compare(cases, run_limelight(cases), peer["answers"])
    summary["versions"] = peer["versions"]
    summary["tolerance"] = TOLERANCE
    if args.json:
        print(json.dumps(summary))
    else:
        _print(summary, args.cases, args.seed)
    ok = summary["max_abs_diff"] <= TOLERANCE and summary["refused_by_one"] == 0
    return 0 if ok else 1


def _print(summary: Case, count: int, seed: int) -> None:
    versions = ", ".join(f"{k} {v}" for k, v in summary["versions"].items())
    print(f"Limelight vs gbstats ({versions}): {count} cases, seed {seed}")
    print(f"{'method':<28} {'arms':>5}  largest |difference| per statistic")
    for method in sorted(summary["methods"]):
        stats = summary["methods"][method]
        cells = "  ".join(f"{k}={v:.1e}" for k, v in sorted(stats.items()))
        print(f"{method:<28} {summary['comparisons'][method]:>5}  {cells}")
    print(
        f"refused by both: {summary['refused_by_both']}, by only one: {summary['refused_by_one']}"
        f"; gbstats raised ZeroDivisionError (nothing compared): {summary['gbstats_raised']}"
    )
    verdict = "within" if summary["max_abs_diff"] <= TOLERANCE else "OUTSIDE"
    print(f"largest difference {summary['max_abs_diff']:.2e}: {verdict} tolerance {TOLERANCE:g}")


if __name__ == "__main__":
    sys.exit(main())
