"""Off-policy evaluation on the Open Bandit Dataset, side by side with obp 0.4.1.

Two parts:

1. Agreement. Our estimators (DM, IPS, SNIPS, DR, SNDR, Switch-DR) and obp's run on identical
   inputs: the same logs, the same BTS action distribution and the same reward-model
   predictions ``q(x, a)``, passed to obp as ``.npz`` files (no pickle). Printed: the largest
   absolute difference per estimator over every evaluation of part 2 (must be <= 1e-9), the
   bootstrap intervals in obp's scheme, and checks of the loader and of the BTS distribution
   against obp's own ``OpenBanditDataset`` and ``BernoulliTS``.
2. The standard OBD experiment (obp's ``examples/obd/evaluate_off_policy_estimators.py``):
   estimate the click rate of Bernoulli TS (action distribution by Monte Carlo from its
   production prior) from the Random policy's log, per campaign; compare with BTS's on-policy
   click rate from its own log. Each run draws a bootstrap sample of the Random log (obp's
   sampling, seed = run), fits the reward model with 3-fold cross-fitting (logistic regression,
   obp's benchmark hyperparameters C=1000, max_iter=10000), and records the relative error
   ``|V_hat - V_bts| / V_bts``. Printed: mean and sd per estimator and campaign.

obp needs ``pandas<2``, ``numpy<2`` and ``scikit-learn<1.3``, so it lives in its own virtual
environment, ``.venv-obp`` (gitignored), made on first use with pip. This file is also the
script run inside that environment (``--obp-side DIR``), where it imports only numpy and obp.

    .venv/bin/python benchmarks/ope_obd.py                 # 30 runs, all three campaigns
    .venv/bin/python benchmarks/ope_obd.py --runs 5 --campaigns all --skip-obp   # quick look

Default run: about 3-5 minutes on 2 cores, plus about a minute the first time to make the
obp environment (it pulls torch, which obp imports). ``--n-sim`` sets the Monte Carlo draws for
BTS (obp's quickstart uses 100,000, its example script 1,000,000).
"""

from __future__ import annotations

import argparse
import os

# One BLAS thread: many small fits on 2 cores are several times slower with thread contention.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OBP_VENV = ROOT / ".venv-obp"
# obp imports torch; pinning the release also keeps pip from resolving the newest (large) build.
OBP_REQUIREMENTS = ["obp==0.4.1", "pandas<2", "numpy<2", "scikit-learn<1.3", "torch==2.13.0"]
ESTIMATORS = ["dm", "ips", "snips", "dr", "sndr", "switch-dr"]
OBP_NAMES = {
    "dm": "dm",
    "ips": "ipw",
    "snips": "snipw",
    "dr": "dr",
    "sndr": "sndr",
    "switch-dr": "switch-dr",
}
OBP_REPORTED = {
    "dm": 0.157,
    "ips": 0.311,
    "snips": 0.312,
    "dr": 0.292,
    "sndr": 0.302,
    "switch-dr": 0.258,
}
CI_BOOTSTRAP = 100
SEED = 12345


# -- the obp side (runs in .venv-obp: numpy and obp only) -----------------------------------


def obp_side(folder: Path) -> None:
    import warnings

    warnings.filterwarnings("ignore")
    import logging

    logging.disable(logging.INFO)
    import numpy as np
    from obp.dataset import OpenBanditDataset  # type: ignore[import-not-found]
    from obp.ope import (  # type: ignore[import-not-found]
        DirectMethod,
        DoublyRobust,
        InverseProbabilityWeighting,
        SelfNormalizedDoublyRobust,
        SelfNormalizedInverseProbabilityWeighting,
        SwitchDoublyRobust,
    )
    from obp.policy import BernoulliTS  # type: ignore[import-not-found]

    estimators = {
        "dm": DirectMethod(),
        "ips": InverseProbabilityWeighting(),
        "snips": SelfNormalizedInverseProbabilityWeighting(),
        "dr": DoublyRobust(),
        "sndr": SelfNormalizedDoublyRobust(),
        "switch-dr": SwitchDoublyRobust(tau=1.0),
    }
    for path in sorted(folder.glob("*.in.npz")):
        with np.load(path, allow_pickle=False) as stored:
            data = {key: stored[key] for key in stored.files}
        n_rounds = data["action"].shape[0]
        inputs = {
            "reward": data["reward"],
            "action": data["action"],
            "pscore": data["pscore"],
            "position": data["position"],
            "action_dist": (
                data["action_dist"]
                if "action_dist" in data
                else np.tile(data["pi"], (n_rounds, 1, 1))
            ),
            "estimated_rewards_by_reg_model": data["q"],
        }
        out: dict[str, Any] = {}
        for name, estimator in estimators.items():
            out[f"value:{name}"] = np.array(estimator.estimate_policy_value(**inputs))
        if path.name.startswith(("full-", "synthetic-")):
            for name, estimator in estimators.items():
                interval = estimator.estimate_interval(
                    **inputs, n_bootstrap_samples=CI_BOOTSTRAP, random_state=SEED
                )
                out[f"ci:{name}"] = np.array(list(interval.values()))
        if path.name.startswith("full-"):
            campaign = str(data["campaign"])
            dataset = OpenBanditDataset(behavior_policy="random", campaign=campaign)
            for key in ("action", "position", "reward", "pscore", "context", "action_context"):
                out[f"data:{key}"] = getattr(dataset, key)
            policy = BernoulliTS(
                n_actions=dataset.n_actions,
                len_list=dataset.len_list,
                is_zozotown_prior=True,
                campaign=campaign,
                random_state=SEED,
            )
            out["bts"] = policy.compute_batch_action_dist(n_sim=int(data["n_sim"]))[0]
            out["on_policy"] = np.array(
                OpenBanditDataset.calc_on_policy_policy_value_estimate("bts", campaign)
            )
        np.savez(path.with_name(path.name.replace(".in.", ".out.")), **out)


# -- our side ----------------------------------------------------------------------------------


def ensure_obp_venv() -> Path:
    """The python of ``.venv-obp``, made with pip on first use."""
    python = OBP_VENV / "bin" / "python"
    if python.exists():
        return python
    print(f"making {OBP_VENV.name} with {' '.join(OBP_REQUIREMENTS)} (first run only) ...")
    subprocess.run([sys.executable, "-m", "venv", str(OBP_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-qq", *OBP_REQUIREMENTS],
        check=True,
    )
    return python


def _reward_model(data: Any) -> Any:
    from sklearn.linear_model import LogisticRegression

    from limelight.bandits.ope import cross_fit_rewards

    return cross_fit_rewards(
        lambda: LogisticRegression(C=1000, max_iter=10000, random_state=SEED),
        data.context.astype(float),
        data.action,
        data.reward,
        data.action_context,
        position=data.position,
        len_list=data.len_list,
        n_folds=3,
        random_state=SEED,
    )


def run_experiment(args: argparse.Namespace, work: Path | None) -> dict[str, Any]:
    import numpy as np

    from limelight.bandits.ope import bootstrap_interval, default_estimators, round_terms
    from limelight.datasets import obd

    folder = obd.fetch(Path(args.data))
    estimators = default_estimators(tau=1.0)
    results: dict[str, Any] = {"errors": {}, "ours": {}, "full": {}, "truth": {}}
    for campaign in args.campaigns:
        started = time.perf_counter()
        random_log = obd.read(folder, "random", campaign)
        truth = obd.read(folder, "bts", campaign).on_policy_value
        pi = obd.bts_policy(folder, campaign, n_sim=args.n_sim, random_state=SEED)
        results["truth"][campaign] = truth
        errors: dict[str, list[float]] = {name: [] for name in ESTIMATORS}
        samples = [("full", random_log)] + [
            (f"run{b:03d}", random_log.bootstrap(b)) for b in range(args.runs)
        ]
        for label, sample in samples:
            q = _reward_model(sample)
            dist = np.tile(pi, (sample.n_rounds, 1, 1))
            terms = round_terms(sample.feedback(), dist, q)
            values = {e.name: e.estimate(terms) for e in estimators}
            results["ours"][(campaign, label)] = values
            if label == "full":
                results["full"][campaign] = {
                    e.name: bootstrap_interval(
                        e, terms, n_bootstrap=CI_BOOTSTRAP, random_state=SEED, method="obp"
                    )
                    for e in estimators
                }
                results["full"][(campaign, "arrays")] = random_log
                results["full"][(campaign, "pi")] = pi
            else:
                for name, value in values.items():
                    errors[name].append(abs(value - truth) / truth)
            if work is not None:
                np.savez(
                    work / f"{label}-{campaign}.in.npz",
                    action=sample.action,
                    position=sample.position,
                    reward=sample.reward,
                    pscore=sample.pscore,
                    pi=pi,
                    q=q,
                    campaign=np.array(campaign),
                    n_sim=np.array(args.n_sim),
                )
        results["errors"][campaign] = errors
        print(f"  {campaign}: {args.runs} runs in {time.perf_counter() - started:.0f} s")
    return results


def compare_with_obp(results: dict[str, Any], work: Path, python: Path) -> None:
    import numpy as np

    version = subprocess.run(
        [str(python), "-c", "import obp; print(obp.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    started = time.perf_counter()
    subprocess.run([str(python), __file__, "--obp-side", str(work)], check=True)
    print(
        f"\n== Agreement with obp {version} on identical inputs "
        f"({time.perf_counter() - started:.0f} s on obp's side)"
    )
    worst = dict.fromkeys(ESTIMATORS, 0.0)
    count = 0
    for (campaign, label), ours in results["ours"].items():
        with np.load(work / f"{label}-{campaign}.out.npz", allow_pickle=False) as stored:
            theirs = {key: stored[key] for key in stored.files}
        count += 1
        for name in ESTIMATORS:
            worst[name] = max(worst[name], abs(ours[name] - float(theirs[f"value:{name}"])))
        if label != "full":
            continue
        interval_gap = 0.0
        for name in ESTIMATORS:
            mine = results["full"][campaign][name]
            mean, lower, upper = theirs[f"ci:{name}"]
            interval_gap = max(
                interval_gap,
                abs(mine.bootstrap_mean - mean),
                abs(mine.lower - lower),
                abs(mine.upper - upper),
            )
        data = results["full"][(campaign, "arrays")]
        same = all(
            np.array_equal(getattr(data, key), theirs[f"data:{key}"])
            for key in ("action", "position", "reward", "context")
        )
        # pandas' CSV float parser may be 1 ulp off the correctly rounded value we read.
        float_gap = max(
            float(np.abs(getattr(data, key) - theirs[f"data:{key}"]).max())
            for key in ("pscore", "action_context")
        )
        bts_gap = float(np.abs(results["full"][(campaign, "pi")] - theirs["bts"]).max())
        print(
            f"  {campaign:5s} loader: integer arrays identical {same}, float arrays max diff "
            f"{float_gap:.1e}; BTS distribution max diff {bts_gap:.1e}; "
            f"bootstrap CI ({CI_BOOTSTRAP} samples, obp scheme) max diff {interval_gap:.1e}; "
            f"on-policy {float(theirs['on_policy']):.4f}"
        )
    print(f"  max |ours - obp| over {count} evaluations (each campaign: full log + runs):")
    for name in ESTIMATORS:
        verdict = "ok" if worst[name] <= 1e-9 else "FAIL"
        print(f"    {name:10s} {worst[name]:.2e}  {verdict}")
    if any(value > 1e-9 for value in worst.values()):
        raise SystemExit("estimators disagree with obp by more than 1e-9")


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    import numpy as np

    full = results["full"]
    print(
        "\n== Estimates of BTS's click rate from the full Random log (n_sim="
        f"{args.n_sim}) vs BTS on-policy"
    )
    for campaign in args.campaigns:
        values = results["ours"][(campaign, "full")]
        shown = "  ".join(f"{name} {values[name]:.6f}" for name in ESTIMATORS)
        print(f"  {campaign:5s} on-policy {results['truth'][campaign]:.6f}  {shown}")
        intervals = full[campaign]
        print(
            "        95% CI: "
            + "  ".join(
                f"{n} [{intervals[n].lower:.4f}, {intervals[n].upper:.4f}]" for n in ESTIMATORS
            )
        )
    print(
        f"\n== Relative error |V_hat - V_bts| / V_bts over {args.runs} bootstrap runs "
        "(mean ± sd); last column: obp's reported mean (campaign all), for scale"
    )
    header = "  estimator " + "".join(f"{c:>17s}" for c in args.campaigns) + "   overall   obp all"
    print(header)
    for name in ESTIMATORS:
        cells, pooled = [], []
        for campaign in args.campaigns:
            errors = np.array(results["errors"][campaign][name])
            pooled.extend(errors.tolist())
            cells.append(f"{errors.mean():8.3f} ± {errors.std(ddof=1):5.3f}")
        print(
            f"  {name:10s}"
            + "".join(f"{cell:>17s}" for cell in cells)
            + f"   {np.mean(pooled):7.3f}   {OBP_REPORTED[name]:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="bootstrap runs per campaign")
    parser.add_argument("--campaigns", nargs="+", default=["all", "men", "women"])
    parser.add_argument("--n-sim", type=int, default=100_000, help="Monte Carlo draws for BTS")
    parser.add_argument("--data", default=str(ROOT / "data"), help="where the OBD copy lives")
    parser.add_argument("--skip-obp", action="store_true", help="only our estimators")
    parser.add_argument("--obp-side", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.obp_side is not None:
        obp_side(args.obp_side)
        return
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    python = None if args.skip_obp else ensure_obp_venv()
    work = None if args.skip_obp else Path(tempfile.mkdtemp(prefix="limelight-ope-obd-"))
    try:
        print(f"== OBD experiment: {args.runs} runs x {len(args.campaigns)} campaigns")
        results = run_experiment(args, work)
        report(results, args)
        if python is not None and work is not None:
            compare_with_obp(results, work, python)
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
