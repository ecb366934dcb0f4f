"""Offline evaluation protocols: split, fit on the training part, rank, score.

Every model is judged the same way: for each person with test interactions it ranks every item
it may recommend except what the person already has in training (``exclude_seen``), and the
top of that list is compared with their test items. Any recommender works: a
:class:`~limelight.candidates.base.Recommender`, or a plain function ``(rows, n) -> item
indices`` for peers from other libraries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

from limelight.candidates.base import Recommender
from limelight.candidates.data import IntArray, Interactions
from limelight.errors import InvalidInput
from limelight.evaluation import metrics
from limelight.evaluation.splits import Split, global_time_split, leave_last_out, random_split

Protocol = Literal["leave_last_out", "time_split", "random_75_25"]
PROTOCOLS: dict[str, str] = {
    "leave_last_out": "(a) leave-last-out per user by time, ranking all unseen items",
    "time_split": "(b) global time split (latest 20% of the log), warm users",
    "random_75_25": "(c) random per-user 75/25 split, top-k over unseen items",
}
RecommendFn = Callable[[IntArray, int], IntArray]


def make_split(
    interactions: Interactions, protocol: Protocol, random_state: int | None = None
) -> Split:
    """The split a protocol prescribes (only the random one uses ``random_state``)."""
    if protocol == "leave_last_out":
        return leave_last_out(interactions)
    if protocol == "time_split":
        return global_time_split(interactions, 0.2)
    if protocol == "random_75_25":
        return random_split(interactions, 0.25, random_state)
    raise InvalidInput(
        f"unknown protocol {protocol!r}; one of {sorted(PROTOCOLS)}", field="protocol"
    )


def relevant_items(split: Split, users: IntArray) -> sp.csr_matrix:
    """Test items of each person in ``users`` that are not already in their training row."""
    test = split.test.matrix[users].copy()
    test.data[:] = 1.0
    seen = split.train.matrix[users].copy()
    seen.data[:] = 1.0
    fresh = test - test.multiply(seen)
    fresh.eliminate_zeros()
    return sp.csr_matrix(fresh)


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one model on one split."""

    metrics: dict[str, float]
    n_users: int
    recommend_seconds: float
    extra: dict[str, float] = field(default_factory=dict)


def _as_function(model: Recommender | RecommendFn) -> RecommendFn:
    if isinstance(model, Recommender):
        return lambda rows, n: model.recommend(rows, n, exclude_seen=True).indices
    return model


def evaluate(
    model: Recommender | RecommendFn,
    split: Split,
    ks: tuple[int, ...] = (10,),
    *,
    users: IntArray | None = None,
) -> Evaluation:
    """Rank for every test person and score the lists (the model is already fitted on
    ``split.train``)."""
    rows = split.test_users if users is None else users
    relevant = relevant_items(split, rows)
    keep = np.diff(relevant.indptr) > 0
    rows, relevant = rows[keep], relevant[keep]
    depth = max(ks)
    started = time.perf_counter()
    recommended = np.asarray(_as_function(model)(rows, depth), dtype=np.int64)
    seconds = time.perf_counter() - started
    train = split.train
    top = recommended[:, : min(ks)]
    values = metrics.ranking_metrics(recommended, relevant, ks)
    values["coverage"] = metrics.coverage(top, int((train.item_counts > 0).sum()))
    values["novelty"] = metrics.novelty(top, train.item_counts, train.n_users)
    if train.metadata:
        genres = [train.metadata[i].genres if i in train.metadata else () for i in train.item_ids]
        values["diversity"] = metrics.intra_list_diversity(top, metrics.genre_matrix(genres))
    return Evaluation(values, int(rows.size), seconds)
