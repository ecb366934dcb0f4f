"""What training on every core buys: ``limelight train``'s pipeline on one thread and on all.

The same seeded synthetic log as ``recs_scale.py`` (1 million events, 20,000 people, 5,000
titles by default) and the product's default sources; the whole ranker fitted twice in one
process, once with ``threads=1`` and once with every core (``TrainingConfig.threads``, the
default): ALS fits on that many threads, the ranker's training candidates are built that many
batches at a time, and LightGBM learns on as many. Each step's wall time on both, and the ratio.
Both fits build the same training set (``tests/ranking/test_ranker_options.py`` checks it array
for array); the figures here are times only.

Run: ``python benchmarks/train_threads.py [--events N --users N --items N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from recs_scale import generate, ranker_sources, synthetic_log
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from limelight.ranking import Ranker


def fit(log: object, threads: int) -> tuple[dict[str, float], float, dict[str, float]]:
    """Seconds per step (the ranker's progress hook names them), in all, and the summary."""
    steps: dict[str, float] = {}
    mark = [time.perf_counter()]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = steps.get(name, 0.0) + now - mark[0]
        mark[0] = now

    ranker = Ranker(sources=ranker_sources(None, threads), fit_threads=threads, random_state=0)
    started = time.perf_counter()
    with threadpool_limits(threads, "blas"):
        ranker.fit(log, progress=step)  # type: ignore[arg-type]
    return steps, time.perf_counter() - started, ranker.training_summary_


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    pairs, genre_of = generate(args.events, args.users, args.items, args.seed)
    log = synthetic_log(pairs, genre_of, args.users, args.items)
    print(
        f"synthetic log: {args.events:,} events, {len(log):,} interactions, {log.n_users:,} "
        f"people, {args.items:,} titles; {cores} cores",
        file=sys.stderr,
    )
    one, one_total, one_summary = fit(log, 1)
    many, many_total, many_summary = fit(log, cores)
    assert one_summary["rows"] == many_summary["rows"], (one_summary, many_summary)
    print(f"\n| step | 1 thread s | {cores} threads s | ratio |")
    print("|---|---|---|---|")
    for name in one:
        print(f"| {name} | {one[name]:.1f} | {many[name]:.1f} | {many[name] / one[name]:.2f}x |")
    print(
        f"| all | {one_total:.1f} | {many_total:.1f} | {many_total / one_total:.2f}x |\n\n"
        f"{one_summary['people']:,.0f} people, {one_summary['rows']:,.0f} training rows in both"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
