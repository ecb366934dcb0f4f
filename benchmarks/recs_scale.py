"""Training at scale: a seeded synthetic log of 10 million events, 100,000 people, 20,000 titles.

The log is generated in chunks of one million events (people with two favourite genres out of
twenty and a heavy-tailed activity; titles with a heavy-tailed popularity inside each genre;
play starts, finishes and skips) and folded by the same :class:`PairLog` that reads the event
store, then every candidate source is fitted stage by stage, and then the whole pipeline that
``limelight train`` fits (stage ``ranker``): the product's default sources on the feature window
(everything but each person's latest title), the ranker's training candidates and features for
everyone with a label (``--ranker-people`` samples fewer, the ranker's ``max_people``), the
sources again on the whole log, and the LightGBM LambdaRank trees. Each stage, and each step of
the ranker, reports its wall time, its peak resident memory (the kernel's high-water mark, reset
before the stage through ``/proc/self/clear_refs``) and its peak traced numpy/Python allocation
(``tracemalloc``).

No stage may build a dense people x titles matrix. A float32 one would take
``people x titles x 4`` bytes (8 GB at full size); the benchmark asserts that no stage's peak
(resident or traced) reaches that size, and that no fitted source keeps an array of
people x titles cells. EASE is the one stage that builds a dense titles x titles matrix: it runs
in float32 (1.6 GB at 20,000 titles, inverted in place by Cholesky, on ``--blas-threads``
threads) and ``--ease-items`` can restrict it to the most watched titles; the ranker's EASE (the
default DLAE) runs in float32 too.

Run: ``python benchmarks/recs_scale.py`` (full size; see the module's report for the time it
took) or ``--events 1000000 --ease-items 5000 --ranker-people 5000`` for a quick run.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from limelight.candidates import (
    ALS,
    BPR,
    EASE,
    CandidateSource,
    ContentSimilarity,
    Interactions,
    ItemKNN,
    ItemMeta,
    Popular,
    SequentialNextItem,
    Trending,
)
from limelight.ranking import Ranker, default_sources
from limelight.recommend.interactions import PairLog

GENRES = 20
CHUNK = 1_000_000
DAY = 86_400.0


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss: int
    rss_before: int
    peak_traced: int
    note: str = ""


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (0 where unavailable)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")  # resets VmHWM, the resident high-water mark
        return True
    except OSError:
        return False


class Meter:
    """Wall time, peak resident memory and peak traced allocation from ``start`` to ``stop``."""

    def start(self) -> None:
        gc.collect()
        self.before = _status("VmRSS")
        _reset_peak()
        tracemalloc.reset_peak()
        self.started = time.perf_counter()

    def stop(self, name: str, stages: list[Stage], note: str = "") -> Stage:
        found = Stage(
            name,
            time.perf_counter() - self.started,
            max(_status("VmHWM"), self.before),
            self.before,
            tracemalloc.get_traced_memory()[1],
            note,
        )
        stages.append(found)
        print(
            f"  {name:<34} {found.seconds:8.1f}s  peak RSS {found.peak_rss / 2**30:6.2f} GiB  "
            f"traced {found.peak_traced / 2**30:6.2f} GiB  {found.note}",
            file=sys.stderr,
            flush=True,
        )
        return found


@contextmanager
def stage(name: str, stages: list[Stage]) -> Iterator[Stage]:
    meter = Meter()
    meter.start()
    found = Stage(name, 0.0, 0, 0, 0)
    yield found
    meter.stop(name, stages, found.note)


class Steps:
    """The ranker's ``progress`` hook: each step it hears of closes a stage, the next begins."""

    def __init__(self, prefix: str, stages: list[Stage]) -> None:
        self.prefix, self.stages, self.meter = prefix, stages, Meter()
        self.meter.start()

    def __call__(self, step: str) -> None:
        self.meter.stop(f"{self.prefix}: {step}", self.stages)
        self.meter.start()


def ranker_sources(ease_items: int | None, threads: int = 1) -> dict[str, CandidateSource]:
    """The product's default sources (content included), EASE in float32 at this size, ALS on
    ``threads`` threads (as ``limelight train`` fits it: ``TrainingConfig.threads``)."""
    sources = default_sources(with_content=True, threads=threads)
    ease = sources["ease"]
    params = {**ease.get_params(), "dtype": "float32", "max_items": ease_items}
    sources["ease"] = type(ease)(**params)
    return sources


def generate(events: int, people: int, titles: int, seed: int) -> tuple[PairLog, np.ndarray]:
    """The synthetic log in chunks, folded as it is made. Returns it and each title's genre."""
    rng = np.random.default_rng(seed)
    per_genre = titles // GENRES
    genre_of = np.repeat(np.arange(GENRES), per_genre)
    genre_of = np.concatenate([genre_of, np.full(titles - genre_of.size, GENRES - 1)])
    favourites = rng.integers(0, GENRES, size=(people, 2))
    activity = rng.lognormal(0.0, 1.0, people)
    activity /= activity.sum()
    log = PairLog()
    start = 1_700_000_000.0
    for offset in range(0, events, CHUNK):
        size = min(CHUNK, events - offset)
        who = rng.choice(people, size=size, p=activity)
        liked = favourites[who, rng.integers(0, 2, size)]
        genre = np.where(rng.random(size) < 0.8, liked, rng.integers(0, GENRES, size))
        rank = np.minimum((rng.pareto(1.2, size) * 10).astype(np.int64), per_genre - 1)
        item = genre * per_genre + rank
        kind = rng.random(size)
        weight = np.where(kind < 0.1, -1.0, 1.0)  # 10% skips, the rest starts and finishes
        stamp = start + rng.random(size) * 90 * DAY
        log.add_codes(who.astype(np.int64), item.astype(np.int64), weight, stamp)
    return log, genre_of


def synthetic_log(pairs: PairLog, genre_of: np.ndarray, people: int, titles: int) -> Interactions:
    """The folded log as an interaction log, with each title's genre and a release year."""
    meta = {
        f"t{i}": ItemMeta(genres=(f"g{genre_of[i]}",), release_year=1990 + i % 30)
        for i in range(titles)
    }
    return pairs.build(
        metadata=meta,
        n_people=people,
        n_items=titles,
        person_ids=lambda codes: [f"u{c}" for c in codes],
        item_ids=[f"t{i}" for i in range(titles)],
    )


def assert_sparse(source: CandidateSource, people: int, titles: int) -> None:
    """No fitted array of a source holds people x titles cells."""
    for name, value in vars(source).items():
        if isinstance(value, np.ndarray):
            assert value.size < people * titles, f"{type(source).__name__}.{name} is dense"
        elif sp.issparse(value):
            assert value.nnz < people * titles, f"{type(source).__name__}.{name} is full"


def run(args: argparse.Namespace) -> list[Stage]:
    stages: list[Stage] = []
    people, titles = args.users, args.items
    dense_bytes = people * titles * 4
    tracemalloc.start()
    with stage("generate + fold", stages) as current:
        pairs, genre_of = generate(args.events, people, titles, args.seed)
        log = synthetic_log(pairs, genre_of, people, titles)
        _ = log.matrix
        current.note = (
            f"{len(log):,} interactions from {pairs.stats.events:,} events, {log.n_users:,} people"
        )
    del pairs
    sources: dict[str, Callable[[], CandidateSource]] = {
        "popular": Popular,
        "trending": lambda: Trending(half_life_days=7.0),
        "itemknn": lambda: ItemKNN(neighbours=100, shrinkage=10.0),
        "als": lambda: ALS(factors=64, iterations=15, num_threads=args.threads, random_state=0),
        "bpr": lambda: BPR(
            factors=64, iterations=args.bpr_iterations, num_threads=args.threads, random_state=0
        ),
        "sequential": SequentialNextItem,
        "content": ContentSimilarity,
        "ease": lambda: EASE(l2=500.0, dtype="float32", max_items=args.ease_items),
    }
    for name in [n for n in args.stages if n != "ranker"]:
        threads = args.blas_threads if name == "ease" else 1  # EASE is one big LAPACK call
        with stage(name, stages) as current, threadpool_limits(threads, "blas"):
            model = sources[name]().fit(log)
            if name == "ease":
                kept = int(model.columns_.size)  # type: ignore[attr-defined]
                current.note = (
                    f"{kept:,} titles, float32 ({kept * kept * 4 / 2**30:.2f} GiB/matrix)"
                )
        assert_sparse(model, log.n_users, log.n_items)
        del model
    if "ranker" in args.stages:
        threads = args.threads or len(os.sched_getaffinity(0))
        ranker = Ranker(
            sources=ranker_sources(args.ease_items, threads),
            max_people=args.ranker_people,
            fit_threads=threads,
            random_state=0,
        )
        with threadpool_limits(args.blas_threads, "blas"):  # EASE's LAPACK calls, twice
            ranker.fit(log, progress=Steps("ranker", stages))
        summary = ranker.training_summary_
        stages[-1].note = (
            f"{summary['people']:,.0f} people, {summary['rows']:,.0f} candidate rows, "
            f"candidate recall {summary['candidate_recall']:.3f}"
        )
        for source in ranker.sources_.values():
            assert_sparse(source, log.n_users, log.n_items)
        assert_sparse(ranker.builder_, log.n_users, log.n_items)
        del ranker
    tracemalloc.stop()
    for found in stages:
        assert found.peak_traced < dense_bytes, f"{found.name} traced a dense users x items"
        assert found.peak_rss - found.rss_before < dense_bytes, f"{found.name} grew past it"
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--ease-items", type=int, default=None, help="EASE on the top N titles")
    parser.add_argument("--bpr-iterations", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, default=0, help="implicit's and the ranker's threads (0: all)"
    )
    parser.add_argument(
        "--blas-threads", type=int, default=os.cpu_count() or 1, help="BLAS threads for EASE"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--ranker-people",
        type=int,
        default=None,
        help="sample this many people for the ranker's training set (its max_people; default "
        "everyone, as the product trains)",
    )
    parser.add_argument(
        "--stages",
        nargs="+",
        default=[
            "popular",
            "trending",
            "itemknn",
            "als",
            "bpr",
            "sequential",
            "content",
            "ease",
            "ranker",
        ],
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(
        f"synthetic log: {args.events:,} events, {args.users:,} people, {args.items:,} titles, "
        f"seed {args.seed}; {os.cpu_count()} cores",
        file=sys.stderr,
    )
    stages = run(args)
    total = time.perf_counter() - started
    dense = args.users * args.items * 4 / 2**30
    print("\n| stage | seconds | peak RSS GiB | RSS growth GiB | peak traced GiB | notes |")
    print("|---|---|---|---|---|---|")
    for found in stages:
        print(
            f"| {found.name} | {found.seconds:.1f} | {found.peak_rss / 2**30:.2f} | "
            f"{(found.peak_rss - found.rss_before) / 2**30:.2f} | "
            f"{found.peak_traced / 2**30:.2f} | {found.note} |"
        )
    traced = max(stages, key=lambda found: found.peak_traced)
    grown = max(stages, key=lambda found: found.peak_rss - found.rss_before)
    print(
        f"\ntotal {total:.0f}s; a dense float32 people x titles matrix would be {dense:.1f} GiB "
        f"(no stage reached it: asserted); the largest traced peak, {traced.name}, was "
        f"{traced.peak_traced / 2**30:.2f} GiB = {traced.peak_traced / 2**30 / dense:.2f}x of it "
        f"(what the stages before it left alive included), the largest RSS growth, {grown.name}, "
        f"{(grown.peak_rss - grown.rss_before) / 2**30:.2f} GiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
