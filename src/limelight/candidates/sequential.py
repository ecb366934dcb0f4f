"""Sequence-aware next item: what people watch after what this person just watched.

From every person's time-ordered history we count transitions ``i -> j`` between items up to
``span`` steps apart (a step ``d`` apart counts ``1 / d``), and normalise each row into an
estimate of "what comes next after ``i``" with ``shrinkage`` damping rarely-seen items. A
person's scores sum the rows of their last ``window`` items, the latest weighted 1, the one
before ``decay``, then ``decay ** 2``, ... so what they watched a minute ago counts most.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from limelight.candidates.base import CandidateSource, ScoreArray, csr_row_sum, require
from limelight.candidates.data import FloatArray, IntArray, Interactions


def _collapse_repeats(users: IntArray, items: IntArray) -> tuple[IntArray, IntArray]:
    """Drop an interaction that repeats the same person's previous item (a resumed play)."""
    keep = np.ones(users.size, dtype=bool)
    keep[1:] = (users[1:] != users[:-1]) | (items[1:] != items[:-1])
    return users[keep], items[keep]


class SequentialNextItem(CandidateSource):
    """Item-to-next-item transitions weighted by the recency of the person's last items.

    >>> from limelight.candidates.data import Interactions
    >>> log = Interactions.from_arrays(["u"] * 3 + ["v"] * 3, list("abcabc"))
    >>> SequentialNextItem().fit(log).recommend_for_history(["a", "b"], n=1).ids
    [['c']]
    """

    transitions_: sp.csr_matrix
    recent_: sp.csr_matrix

    def __init__(
        self, window: int = 5, decay: float = 0.6, span: int = 3, shrinkage: float = 5.0
    ) -> None:
        self.window = window
        self.decay = decay
        self.span = span
        self.shrinkage = shrinkage

    def _validate_params(self) -> None:
        require(self.window >= 1, "window must be at least 1", "window")
        require(0 < self.decay <= 1, "decay must be in (0, 1]", "decay")
        require(self.span >= 1, "span must be at least 1", "span")
        require(self.shrinkage >= 0, "shrinkage must be non-negative", "shrinkage")

    def _fit(self, interactions: Interactions) -> None:
        order = interactions.order
        users, items = _collapse_repeats(interactions.users[order], interactions.items[order])
        n_items = interactions.n_items
        sources: list[IntArray] = []
        targets: list[IntArray] = []
        weights: list[FloatArray] = []
        for distance in range(1, self.span + 1):
            same = users[distance:] == users[:-distance]
            sources.append(items[:-distance][same])
            targets.append(items[distance:][same])
            weights.append(np.full(int(same.sum()), 1.0 / distance))
        counts = sp.csr_matrix(
            (np.concatenate(weights), (np.concatenate(sources), np.concatenate(targets))),
            shape=(n_items, n_items),
        )
        counts.sum_duplicates()
        out_weight = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
        scale = sp.diags(1.0 / (out_weight + self.shrinkage + 1e-12))
        self.transitions_ = sp.csr_matrix(scale @ counts, dtype=np.float32)
        self.recent_ = self._recent(users, items, interactions.n_users, n_items)

    def _recent(
        self, users: IntArray, items: IntArray, n_users: int, n_items: int
    ) -> sp.csr_matrix:
        """Users x items matrix of each person's last ``window`` items, recency-weighted."""
        counts = np.bincount(users, minlength=n_users)
        ends = np.cumsum(counts)
        steps_back = np.repeat(ends, counts) - 1 - np.arange(users.size)
        keep = steps_back < self.window
        recent = sp.csr_matrix(
            (self.decay ** steps_back[keep].astype(np.float64), (users[keep], items[keep])),
            shape=(n_users, n_items),
            dtype=np.float32,
        )
        recent.sum_duplicates()
        return recent

    def _last(self, items: IntArray) -> tuple[IntArray, FloatArray]:
        """The last ``window`` distinct-in-a-row items of a history and their recency weights."""
        last = items[::-1]
        keep = np.ones(last.size, dtype=bool)
        keep[1:] = last[1:] != last[:-1]
        last = last[keep][: self.window]
        return last, self.decay ** np.arange(last.size, dtype=np.float64)

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return np.asarray((self.recent_[rows] @ self.transitions_).toarray(), dtype=np.float32)

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        last, weights = self._last(items)
        return csr_row_sum(self.transitions_, last, weights)

    def _similar(self, item: int) -> ScoreArray:
        return np.asarray(self.transitions_[item].toarray(), dtype=np.float32).ravel()
