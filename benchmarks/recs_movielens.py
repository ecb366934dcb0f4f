"""Limelight's recommender against well-known peers on MovieLens-100K, in one process.

Every model sees identical splits and is judged by the same code
(:func:`limelight.evaluation.protocols.evaluate`: rank every unseen item, top 10):

* (a) ``leave_last_out``: each person's latest rating is the test;
* (c) ``random_75_25``: a random 75/25 split per person (the Microsoft Recommenders table).

Peers come from their libraries directly, not through Limelight's wrappers: popularity (numpy),
``implicit`` ALS and BPR, ``implicit``'s cosine item kNN, and EASE in its closed form (numpy).
Each peer gets a small grid search on a validation split carved from the training part the same
way the protocol carves the test (its own leave-last-out, or its own random 75/25), scored by
NDCG@10. Limelight's pipeline (all sources + the LightGBM LambdaRank ranker) reuses the
hyperparameters that validation chose for its ALS and kNN sources, chooses its own linear source
(EASE with dropout, i.e. DLAE: ``LINEAR_GRID``) alone on the same validation split, and picks its
ranker's tree size there too. Under (c) its ranker learns from four random folds of
each person's training history (every fold labelled once by sources fitted on the other three),
without the features whose scale depends on how much data the sources saw, and boosts from
EASE's per-person z-score (``limelight.recommend.evaluation.ranker_settings``); the variant
"time-split ranker" is the ranker as it is served, trained on each person's latest 25%.

Run: ``python benchmarks/recs_movielens.py`` (5 seeds) or ``--quick`` (1 seed, smaller grids);
``--protocols c`` (or ``a``) runs one protocol only, ``--seeds N`` fewer seeds.
Writes ``reports/recs_movielens/report.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import implicit
import lightgbm
import numpy as np
import scipy
import scipy.linalg
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from limelight.candidates import ALS, EASE, Interactions, ItemKNN, ItemMeta
from limelight.datasets import movielens
from limelight.evaluation.protocols import Protocol, evaluate, make_split
from limelight.evaluation.report import Report
from limelight.evaluation.splits import Split
from limelight.ranking import Ranker, default_sources
from limelight.recommend.evaluation import ranker_settings

RecommendFn = Callable[[np.ndarray, int], np.ndarray]
PROTOCOLS: tuple[Protocol, ...] = ("leave_last_out", "random_75_25")

FULL_GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "implicit-als": [
        {"factors": f, "regularization": r, "alpha": a}
        for f, r, a in itertools.product((64, 128), (0.01, 0.1), (1.0, 5.0))
    ],
    "implicit-bpr": [
        {"factors": f, "learning_rate": lr, "iterations": it}
        for f, lr, it in itertools.product((64, 128), (0.01, 0.05), (100, 300))
    ],
    "ease": [{"l2": v} for v in (100.0, 250.0, 500.0, 1000.0)],
    "implicit-cosine-knn": [{"K": k} for k in (20, 50, 100, 200)],
}
QUICK_GRIDS: dict[str, list[dict[str, Any]]] = {
    "popularity": [{}],
    "implicit-als": [{"factors": 64, "regularization": r, "alpha": 1.0} for r in (0.01, 0.1)],
    "implicit-bpr": [
        {"factors": 64, "learning_rate": lr, "iterations": 100} for lr in (0.01, 0.05)
    ],
    "ease": [{"l2": v} for v in (250.0, 500.0)],
    "implicit-cosine-knn": [{"K": k} for k in (50, 200)],
}
RANKER_GRID = [{"num_leaves": 7, "n_estimators": 150}, {"num_leaves": 15, "n_estimators": 100}]
#: Limelight's own linear source (EASE with dropout: DLAE), chosen alone on validation.
LINEAR_GRID = [
    {"l2": 300.0, "dropout": 0.67},
    {"l2": 600.0, "dropout": 0.67},
    {"l2": 600.0, "dropout": 0.75},
]


# ---------------------------------------------------------------------- data


def load(data_dir: Path) -> Interactions:
    """MovieLens-100K as an implicit-feedback log (every rating counts once) with genres."""
    folder = movielens.fetch(data_dir)
    data = movielens.read(folder)
    meta = {
        m.item_id: ItemMeta(genres=tuple(m.genres), release_year=m.release_year, text=m.title)
        for m in data.movies
    }
    return Interactions.from_records(data.ratings, metadata=meta)


# ---------------------------------------------------------------------- peers


def _binary(split: Split) -> sp.csr_matrix:
    matrix = split.train.matrix.astype(np.float32)
    matrix.data[:] = 1.0
    return sp.csr_matrix(matrix)


def _cold_items(split: Split) -> np.ndarray:
    return np.flatnonzero(split.train.item_counts == 0)


def popularity(split: Split, params: dict[str, Any], seed: int) -> RecommendFn:
    counts = split.train.item_counts.astype(np.float64)
    matrix = _binary(split)

    def recommend(rows: np.ndarray, n: int) -> np.ndarray:
        out = np.empty((rows.size, n), dtype=np.int64)
        for position, row in enumerate(rows):
            scores = counts.copy()
            scores[matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]] = -np.inf
            scores[counts == 0] = -np.inf
            out[position] = np.argsort(-scores, kind="stable")[:n]
        return out

    return recommend


def _implicit(model: Any, split: Split) -> RecommendFn:
    matrix = _binary(split)
    with threadpool_limits(1, "blas"):
        model.fit(matrix, show_progress=False)
    cold = _cold_items(split)

    def recommend(rows: np.ndarray, n: int) -> np.ndarray:
        ids, _ = model.recommend(
            rows, matrix[rows], N=n, filter_already_liked_items=True, filter_items=cold
        )
        return np.asarray(ids, dtype=np.int64)

    return recommend


def implicit_als(split: Split, params: dict[str, Any], seed: int) -> RecommendFn:
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(iterations=15, num_threads=1, random_state=seed, **params)
    return _implicit(model, split)


def implicit_bpr(split: Split, params: dict[str, Any], seed: int) -> RecommendFn:
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    model = BayesianPersonalizedRanking(num_threads=1, random_state=seed, **params)
    return _implicit(model, split)


def implicit_knn(split: Split, params: dict[str, Any], seed: int) -> RecommendFn:
    from implicit.nearest_neighbours import CosineRecommender

    return _implicit(CosineRecommender(num_threads=1, **params), split)


def ease(split: Split, params: dict[str, Any], seed: int) -> RecommendFn:
    """EASE exactly as in Steck (2019), in numpy."""
    matrix = _binary(split)
    gram = (matrix.T @ matrix).toarray().astype(np.float64)
    gram[np.diag_indices_from(gram)] += params["l2"]
    precision = scipy.linalg.inv(gram)
    weights = -precision / np.diag(precision)
    np.fill_diagonal(weights, 0.0)
    cold = _cold_items(split)

    def recommend(rows: np.ndarray, n: int) -> np.ndarray:
        scores = np.asarray(matrix[rows] @ weights)
        scores[matrix[rows].nonzero()] = -np.inf
        scores[:, cold] = -np.inf
        return np.argsort(-scores, axis=1, kind="stable")[:, :n]

    return recommend


PEERS: dict[str, Callable[[Split, dict[str, Any], int], RecommendFn]] = {
    "popularity": popularity,
    "implicit-als": implicit_als,
    "implicit-bpr": implicit_bpr,
    "ease": ease,
    "implicit-cosine-knn": implicit_knn,
}


# ---------------------------------------------------------------------- limelight


def limelight_ranker(
    chosen: dict[str, dict[str, Any]], protocol: Protocol, seed: int, *, time_split: bool
) -> Callable[[dict[str, Any]], Ranker]:
    """The full pipeline with the validated source settings; ``time_split`` picks the ranker's
    label window for protocol (c): each person's latest 25% (a ranker trained as it is served),
    or else random folds of each person's history, which mirror that protocol."""
    sources = default_sources()
    sources["ease"] = EASE(**chosen["limelight-linear"])
    als = chosen["implicit-als"]
    sources["als"] = ALS(
        factors=als["factors"],
        regularization=als["regularization"],
        alpha=als["alpha"],
        random_state=seed,
    )
    sources["itemknn"] = ItemKNN(neighbours=chosen["implicit-cosine-knn"]["K"])
    settings: dict[str, Any]
    if protocol == "leave_last_out":
        settings = {"split": "per_user", "label_size": 1.0}
    elif time_split:
        settings = {"split": "per_user", "label_size": 0.25}
    else:
        # Random folds, each labelled by sources fitted on the other three, scale-dependent
        # features left out, boosting from EASE's per-person z-score (ranker_settings says why).
        settings = ranker_settings("random_75_25")

    def build(params: dict[str, Any]) -> Ranker:
        return Ranker(sources=sources, random_state=seed, **settings, **params)

    return build


def _ndcg(model: Any, split: Split) -> float:
    return evaluate(model, split, (10,)).metrics["ndcg@10"]


def run(args: argparse.Namespace) -> Report:
    log = load(args.data)
    grids = QUICK_GRIDS if args.quick else FULL_GRIDS
    seeds = list(range(args.seeds))
    report = Report("Limelight vs peers on MovieLens-100K (top-10, all unseen items ranked)")
    report.notes.update(
        {
            "versions": (
                f"implicit {implicit.__version__}, lightgbm {lightgbm.__version__}, "
                f"numpy {np.__version__}, scipy {scipy.__version__}"
            ),
            "seeds": len(seeds),
            "grids": {name: len(grid) for name, grid in grids.items()},
        }
    )
    chosen_log: dict[str, Any] = {}
    for protocol, seed in itertools.product(args.protocols, seeds):
        started = time.perf_counter()
        split = make_split(log, protocol, seed)
        validation = make_split(split.train, protocol, seed + 1000)
        chosen: dict[str, dict[str, Any]] = {}
        for name, build in PEERS.items():
            grid = grids[name]
            scored = [
                (_ndcg(build(validation, p, seed), validation), i) for i, p in enumerate(grid)
            ]
            chosen[name] = grid[max(scored)[1]] if len(grid) > 1 else grid[0]
            result = evaluate(build(split, chosen[name], seed), split, (10,))
            report.add(protocol, name, result.metrics)
        linear = LINEAR_GRID[:1] if args.quick else LINEAR_GRID
        scored = [
            (_ndcg(EASE(**p).fit(validation.train), validation), i) for i, p in enumerate(linear)
        ]
        chosen["limelight-linear"] = linear[max(scored)[1]]
        variants = [("limelight", False)]
        if protocol == "random_75_25" and not args.quick:
            variants.append(("limelight (time-split ranker)", True))
        for label, time_split in variants:
            make = limelight_ranker(chosen, protocol, seed, time_split=time_split)
            if args.quick:
                params = RANKER_GRID[0]
            else:
                scores = [_ndcg(make(p).fit(validation.train), validation) for p in RANKER_GRID]
                params = RANKER_GRID[int(np.argmax(scores))]
            model = make(params).fit(split.train)
            report.add(protocol, label, evaluate(model, split, (10,)).metrics)
            chosen[label] = params
        chosen_log[f"{protocol}/seed{seed}"] = chosen
        print(
            f"{protocol} seed {seed}: {time.perf_counter() - started:.0f}s",
            file=sys.stderr,
            flush=True,
        )
    report.notes["chosen by validation"] = chosen_log
    return report


def verdict(report: Report, protocol: str) -> list[str]:
    """Whether Limelight beats the best peer by more than the two spreads together."""
    peers = [m for m in report.runs[protocol] if m in PEERS]
    lines = []
    for metric in ("ndcg@10", "hr@10"):
        best = max(peers, key=lambda m: report.summary(protocol, m, metric)[0])
        peer_mean, peer_sd = report.summary(protocol, best, metric)
        mean, spread = report.summary(protocol, "limelight", metric)
        margin = mean - peer_mean
        ok = margin > spread + peer_sd
        # The same splits for both: the per-seed differences, for the reader (the verdict
        # above asks more: a margin beyond both spreads added together).
        mine = [run[metric] for run in report.runs[protocol]["limelight"]]
        theirs = [run[metric] for run in report.runs[protocol][best]]
        differences = np.array(mine) - np.array(theirs)
        paired = float(differences.std(ddof=1)) if differences.size > 1 else 0.0
        lines.append(
            f"  {metric}: limelight {mean:.4f} vs best peer {best} {peer_mean:.4f} "
            f"(ratio {mean / peer_mean:.3f}, margin {margin:+.4f}, "
            f"sd {spread:.4f}+{peer_sd:.4f}) -> {'BEATS' if ok else 'does not beat'}; "
            f"per seed: ahead on {int((differences > 0).sum())} of {differences.size}, "
            f"difference {differences.mean():+.4f} +- {paired:.4f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 seed, small grids")
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5)")
    parser.add_argument(
        "--protocols",
        default="ac",
        help="protocols to run: a (leave-last-out), c (random 75/25) or both (default ac)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("LIMELIGHT_TEST_CACHE", "~/.cache/limelight-test-data")),
    )
    parser.add_argument("--out", type=Path, default=Path("reports/recs_movielens"))
    args = parser.parse_args(argv)
    args.data = args.data.expanduser()
    codes = {"a": "leave_last_out", "c": "random_75_25"}
    if not args.protocols or set(args.protocols) - set(codes):
        parser.error("--protocols takes a, c or ac")
    args.protocols = [codes[code] for code in dict.fromkeys(args.protocols)]
    if args.seeds is None:
        args.seeds = 1 if args.quick else 5
    started = time.perf_counter()
    report = run(args)
    elapsed = time.perf_counter() - started
    report.notes["run time"] = f"{elapsed:.0f}s on {os.cpu_count()} cores"
    for protocol in args.protocols:
        print(f"\n## {protocol}\n")
        print(report.table(protocol))
        print("\n".join(verdict(report, protocol)))
    print(f"\n{report.notes['versions']}; {args.seeds} seed(s); {elapsed:.0f}s")
    for path in report.write(args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
