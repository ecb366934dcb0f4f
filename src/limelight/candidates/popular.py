"""Popular and trending: the same list for everyone, and the answer for a cold person.

Popularity counts distinct people per title. Trending weights each interaction by
``2 ** (-(t_end - t) / half_life)`` where ``t_end`` is the latest time in the training log, so a
title watched by many this week outranks one watched by more a year ago.
"""

from __future__ import annotations

import numpy as np

from limelight.candidates.base import CandidateSource, ScoreArray, require
from limelight.candidates.data import FloatArray, IntArray, Interactions

DAY_S = 86_400.0


class Popular(CandidateSource):
    """Most-watched titles (distinct people per title).

    >>> from limelight.candidates.data import Interactions
    >>> log = Interactions.from_arrays(["a", "b", "b"], ["x", "x", "y"])
    >>> Popular().fit(log).recommend_for_history([], n=2).ids
    [['x', 'y']]
    """

    scores_: ScoreArray

    def __init__(self) -> None:
        pass

    def _fit(self, interactions: Interactions) -> None:
        self.scores_ = interactions.item_counts.astype(np.float32)

    def cold_scores(self) -> ScoreArray:
        return self.scores_.copy()

    def _score_rows(self, rows: IntArray) -> ScoreArray:
        return np.broadcast_to(self.scores_, (rows.size, self.scores_.size)).copy()

    def _score_history(self, items: IntArray, timestamps: FloatArray) -> ScoreArray:
        return self.scores_.copy()

    def _similar(self, item: int) -> ScoreArray:
        return self.scores_.copy()


class Trending(Popular):
    """Time-decayed popularity: each interaction counts ``2 ** (-age / half_life)``, age taken
    from the latest interaction in the training log."""

    def __init__(self, half_life_days: float = 7.0) -> None:
        self.half_life_days = half_life_days

    def _validate_params(self) -> None:
        require(self.half_life_days > 0, "half_life_days must be positive", "half_life_days")

    def _fit(self, interactions: Interactions) -> None:
        age = interactions.last_timestamp - interactions.timestamps
        decayed = np.exp2(-age / (self.half_life_days * DAY_S))
        scores = np.bincount(interactions.items, weights=decayed, minlength=interactions.n_items)
        self.scores_ = scores.astype(np.float32)
