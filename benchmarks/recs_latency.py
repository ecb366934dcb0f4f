"""Serving latency: recommendations for one person, in-process, MovieLens-100K, warm.

What one request does here is everything the API route does except HTTP: read the person's
live history and profile from SQLite, score every source on that history, build the candidate
features, rank them with the LightGBM LambdaRank model, apply the rules (seen, maturity,
availability, diversity), attach reasons, and log the decision. The limit is 5 ms at p99.

Two workloads, three rounds of 2,000 timed requests each after 200 warm-up requests (the table
shows the round with the median p99):

* ``one user``: the same person every time (the person with the median history length),
  which is what the limit is stated for;
* ``all users``: a seeded random person each time, so long histories (up to 737 titles) are
  in the mix;
* ``returning``: the one user again, from a service that keeps a history's candidate pool
  between requests (``LIMELIGHT_KEPT_PEOPLE``); the two rows above keep nothing, so every
  request computes its pool.

Last, the ranker's share: one person's candidates scored by LightGBM and by the compiled trees
that serve (``Ranker.compile_trees``, lleaves), the same rows, with the ratio.

Wall time is what a caller waits; CPU time (``time.thread_time``) is the work itself, and is
what to read on a shared machine where other processes take the CPU away. The server's GC
settings are used (``limelight.api.server.GC_THRESHOLDS``) and BLAS runs on one thread
(``OPENBLAS_NUM_THREADS=1``, as a serving process should).

Run: ``python benchmarks/recs_latency.py`` (loads MovieLens into a temporary folder and trains
first: about a minute), or ``--data-dir`` to reuse a folder that already holds it.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from limelight import Engine, Settings
from limelight.api.server import GC_THRESHOLDS
from limelight.datasets import movielens
from limelight.recommend.artifacts import TrainedModel
from limelight.recommend.service import RecommendationService
from limelight.recommend.training import TrainingConfig

LIMIT_MS = 5.0
ROUNDS = 3


def percentiles(samples: list[float]) -> dict[str, float]:
    values = np.asarray(samples) * 1e3
    return {
        "p50": float(np.percentile(values, 50)),
        "p90": float(np.percentile(values, 90)),
        "p99": float(np.percentile(values, 99)),
        "max": float(values.max()),
        "mean": float(statistics.fmean(values)),
    }


def measure(
    service: RecommendationService, users: list[str], at: float, device: str
) -> tuple[dict[str, float], dict[str, float]]:
    wall: list[float] = []
    cpu: list[float] = []
    for user in users:
        started, started_cpu = time.perf_counter(), time.thread_time()
        answer = service.recommend(user, 10, device=device, at=at)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        assert len(answer.items) == 10, answer
    return percentiles(wall), percentiles(cpu)


def scoring(model: TrainedModel, users: list[str], at: float) -> str:
    """One person's candidates scored by LightGBM and by the compiled trees that serve
    (``Ranker.compile_trees``): mean time per person, the ratio, and the largest difference."""
    ranker = model.ranker
    compiled = getattr(ranker, "compiled_", None)
    if compiled is None:
        return "ranker scoring: the served trees are not compiled (lleaves is not installed)"
    log = ranker.interactions_
    blocks = []
    for user in users:
        items, times = log.user_sequence(log.user_index[user])
        people = ranker.builder_.people_from_history(items, times)
        found = ranker.builder_.candidates(people, np.array([at]), ["tv"])
        blocks.append(found.features[:, ranker.columns_])
    spent = {"lightgbm": 0.0, "compiled": 0.0}
    gap = 0.0
    for block in blocks:
        started = time.perf_counter()
        plain = ranker.booster_.predict(block, num_threads=ranker.num_threads)
        middle = time.perf_counter()
        fast = compiled.predict(block.astype(np.float64), n_jobs=ranker.num_threads)
        spent["lightgbm"] += middle - started
        spent["compiled"] += time.perf_counter() - middle
        gap = max(gap, float(np.abs(plain - fast).max()))
    rows = statistics.fmean(block.shape[0] for block in blocks)
    lightgbm, native = (1e3 * spent[k] / len(blocks) for k in ("lightgbm", "compiled"))
    return (
        f"ranker scoring, one person's candidates ({len(blocks)} random people, "
        f"{rows:.0f} rows on average): LightGBM {lightgbm:.3f} ms, compiled trees "
        f"{native:.3f} ms = {native / lightgbm:.2f}x; largest score difference {gap:.1e}"
    )


def prepare(engine: Engine, cache: Path) -> RecommendationService:
    if engine.event_count() == 0:
        started = time.perf_counter()
        data = movielens.read(movielens.fetch(cache))
        movielens.load(engine, data)
        print(f"loaded MovieLens-100K in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    # Nothing kept between requests: every request computes its candidate pool (the work the
    # limit is about); the returning row below measures a service that keeps them.
    service = RecommendationService.from_engine(engine, poll_interval_s=5.0, kept_pools=0)
    if service.model_version() is None:
        started = time.perf_counter()
        service.train(TrainingConfig(validate=False))
        print(f"trained in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return service


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data")),
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.data_dir or Path(scratch)
        with Engine(Settings(data_dir=folder)) as engine:
            service = prepare(engine, args.cache.expanduser())
            model = service.live.get()
            assert model is not None
            log = model.interactions
            counts = log.user_counts
            median_user = log.user_ids[int(np.argsort(counts)[counts.size // 2])]
            at = log.last_timestamp + 3600.0
            rng = np.random.default_rng(0)
            everyone = [log.user_ids[i] for i in rng.integers(0, log.n_users, args.requests)]
            gc.collect()
            gc.set_threshold(*GC_THRESHOLDS)
            gc.freeze()
            measure(service, everyone[: args.warmup], at, "tv")
            print(
                f"MovieLens-100K: {log.n_users} people, {log.n_items} titles, "
                f"{len(log)} interactions; model {model.version}; "
                f"{len(model.ranker.sources_)} sources + LightGBM ranker (trees compiled: "
                f"{'yes' if getattr(model.ranker, 'compiled_', None) is not None else 'no'}); "
                f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
            )
            one = f"one user ({median_user}, {int(counts[log.user_index[median_user]])} titles)"
            returning = RecommendationService.from_engine(engine, poll_interval_s=5.0)
            measure(returning, everyone[: args.warmup], at, "tv")
            rows = [
                (one, [median_user] * args.requests, service),
                ("all users (random)", everyone, service),
                (one + ", returning: pool kept", [median_user] * args.requests, returning),
            ]
            limit = f"p99 / {LIMIT_MS:g} ms"
            print(f"\n| workload | clock | p50 ms | p90 ms | p99 ms | max ms | {limit} |")
            print("|---|---|---|---|---|---|---|")
            spread: list[str] = []
            for label, users, answering in rows:
                # Three rounds; the table shows the round with the median wall p99 (a shared
                # machine's neighbours make single rounds noisy), the notes show all three.
                rounds = [measure(answering, users, at, "tv") for _ in range(ROUNDS)]
                rounds.sort(key=lambda pair: pair[0]["p99"])
                wall, cpu = rounds[len(rounds) // 2]
                spread.append(
                    f"{label}: wall p99 of each round "
                    + ", ".join(f"{r[0]['p99']:.2f}" for r in rounds)
                    + " ms"
                )
                for clock, found in (("wall", wall), ("cpu", cpu)):
                    print(
                        f"| {label} | {clock} | {found['p50']:.2f} | {found['p90']:.2f} | "
                        f"{found['p99']:.2f} | {found['max']:.2f} | "
                        f"{found['p99'] / LIMIT_MS:.2f} |"
                    )
            print("\n" + "\n".join(spread))
            similar_wall: list[float] = []
            # Distinct titles: a title asked again is answered from what the service keeps.
            for item in [log.item_ids[i] for i in rng.choice(log.n_items, 500, replace=False)]:
                started = time.perf_counter()
                service.similar(item, 10, at=at)
                similar_wall.append(time.perf_counter() - started)
            found = percentiles(similar_wall)
            print(
                f"\nsimilar titles (500 random items): p50 {found['p50']:.2f} ms, "
                f"p99 {found['p99']:.2f} ms"
            )
            print(scoring(model, everyone[:300], at))
            returning.close()
            service.close()
            gc.unfreeze()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
