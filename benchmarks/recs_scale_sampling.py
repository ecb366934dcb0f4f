"""What sampling the ranker's training people costs at scale: quality and training time.

The synthetic log of ``recs_scale.py`` (10 million events, 100,000 people, 20,000 titles, same
seed), split leave-last-out (each person's latest title held out). The whole pipeline
(``recs_scale.ranker_sources``: the product's default sources, EASE in float32, and LambdaRank)
is fitted on the rest once per ``--people`` setting (the ranker's ``max_people``; ``all`` is
the product's default), and each is scored on the same ``--test-people`` held-out people:
HR@10 and NDCG@10, as ratios to the run with everyone, and the training time.

Run: ``python benchmarks/recs_scale_sampling.py`` (about 15 minutes on 2 cores) or
``--events 1000000 --people 2000 all`` for a quick run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from recs_scale import generate, ranker_sources, synthetic_log
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from limelight.evaluation.protocols import evaluate
from limelight.evaluation.splits import leave_last_out
from limelight.ranking import Ranker


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-people", type=int, default=5_000)
    parser.add_argument("--people", nargs="+", default=["20000", "all"])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    settings = [None if value == "all" else int(value) for value in args.people]
    if None not in settings:
        settings.append(None)  # the reference: everyone
    log = synthetic_log(
        *generate(args.events, args.users, args.items, args.seed), args.users, args.items
    )
    split = leave_last_out(log, 1)
    rng = np.random.default_rng(args.seed + 1)
    test = split.test_users
    users = np.sort(rng.choice(test, min(args.test_people, test.size), replace=False))
    print(
        f"synthetic log: {args.events:,} events, {log.n_users:,} people, {args.items:,} titles; "
        f"leave-last-out, {users.size:,} test people; {os.cpu_count()} cores",
        file=sys.stderr,
    )
    found: dict[int | None, tuple[float, float, float]] = {}
    for people in settings:
        started = time.perf_counter()
        ranker = Ranker(
            sources=ranker_sources(None, args.threads),
            max_people=people,
            num_threads=args.threads,
            random_state=0,
        )
        with threadpool_limits(args.threads, "blas"):
            ranker.fit(split.train)
        seconds = time.perf_counter() - started
        scores = evaluate(ranker, split, (10,), users=users).metrics
        found[people] = (seconds, scores["hr@10"], scores["ndcg@10"])
        print(
            f"  max_people {people or 'all'}: fit {seconds:.0f}s, HR@10 {scores['hr@10']:.4f}, "
            f"NDCG@10 {scores['ndcg@10']:.4f}",
            file=sys.stderr,
            flush=True,
        )
        del ranker
    seconds_all, hr_all, ndcg_all = found[None]
    print("\n| ranker's people | fit seconds | HR@10 | NDCG@10 | vs everyone (HR, NDCG, time) |")
    print("|---|---|---|---|---|")
    for people, (seconds, hr, ndcg) in found.items():
        print(
            f"| {people or 'all'} | {seconds:.0f} | {hr:.4f} | {ndcg:.4f} | "
            f"{hr / hr_all:.3f}x, {ndcg / ndcg_all:.3f}x, {seconds / seconds_all:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
