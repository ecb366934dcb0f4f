"""Train/test splits of an interaction log, all keeping the log's id maps.

Three protocols (see :mod:`limelight.evaluation.protocols`):

* :func:`leave_last_out` - each person's latest interaction is the test; the model must find it
  among everything they have not seen. Ties in time keep the order of the log, so "latest" is
  the last of them as given.
* :func:`global_time_split` - everything at or after a cutoff time is the test; only people with
  history before the cutoff are tested (the model cannot know anyone else), so no test
  interaction can inform training.
* :func:`random_split` - each person's interactions are shuffled and a share goes to the test
  (the random per-user 75/25 split of the Microsoft Recommenders benchmark table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from limelight.candidates.data import Interactions
from limelight.errors import InvalidInput


@dataclass(frozen=True, eq=False)
class Split:
    """A training log and a test log over the same id maps."""

    train: Interactions
    test: Interactions

    @property
    def test_users(self) -> NDArray[np.int64]:
        """Rows of the people with at least one test interaction."""
        return np.unique(self.test.users)


def leave_last_out(interactions: Interactions, n: int = 1) -> Split:
    """Each person's ``n`` latest interactions to the test; people with ``n`` or fewer
    interactions stay wholly in training (they have nothing left to learn from)."""
    if n < 1:
        raise InvalidInput("n must be at least 1", field="n")
    order, starts = interactions.order, interactions.user_starts
    counts = np.diff(starts)
    position_in_user = np.arange(order.size) - np.repeat(starts[:-1], counts)
    from_end = np.repeat(counts, counts) - position_in_user
    is_test = np.zeros(len(interactions), dtype=bool)
    is_test[order] = (from_end <= n) & (np.repeat(counts, counts) > n)
    return Split(interactions.subset(~is_test), interactions.subset(is_test))


def per_user_time_split(interactions: Interactions, test_fraction: float = 0.25) -> Split:
    """Per person, the latest ``round(test_fraction * count)`` interactions (at least one, and
    at least one left in training) to the test; people with one interaction stay in training."""
    if not 0 < test_fraction < 1:
        raise InvalidInput("test_fraction must be in (0, 1)", field="test_fraction")
    order, starts = interactions.order, interactions.user_starts
    counts = np.diff(starts)
    n_test = np.clip(np.round(test_fraction * counts), 1, np.maximum(counts - 1, 0))
    position_in_user = np.arange(order.size) - np.repeat(starts[:-1], counts)
    from_end = np.repeat(counts, counts) - position_in_user
    is_test = np.zeros(len(interactions), dtype=bool)
    is_test[order] = from_end <= np.repeat(n_test, counts)
    return Split(interactions.subset(~is_test), interactions.subset(is_test))


def global_time_split(
    interactions: Interactions, test_fraction: float = 0.2, cutoff: float | None = None
) -> Split:
    """Interactions at or after ``cutoff`` (default: the time quantile leaving
    ``test_fraction`` of the log) to the test, for people with history before it."""
    if cutoff is None:
        if not 0 < test_fraction < 1:
            raise InvalidInput("test_fraction must be in (0, 1)", field="test_fraction")
        cutoff = float(np.quantile(interactions.timestamps, 1 - test_fraction))
    is_test = interactions.timestamps >= cutoff
    known = np.zeros(interactions.n_users, dtype=bool)
    known[interactions.users[~is_test]] = True
    return Split(
        interactions.subset(~is_test), interactions.subset(is_test & known[interactions.users])
    )


def random_split(
    interactions: Interactions, test_fraction: float = 0.25, random_state: int | None = None
) -> Split:
    """Per person, ``round(test_fraction * count)`` random interactions to the test (at least
    one left in training)."""
    if not 0 < test_fraction < 1:
        raise InvalidInput("test_fraction must be in (0, 1)", field="test_fraction")
    rng = np.random.default_rng(random_state)
    shuffled = np.lexsort((rng.random(len(interactions)), interactions.users))
    counts = np.bincount(interactions.users, minlength=interactions.n_users)
    starts = np.concatenate([[0], np.cumsum(counts)])[:-1]
    position = np.arange(shuffled.size) - np.repeat(starts, counts)
    n_test = np.minimum(np.round(test_fraction * counts), np.maximum(counts - 1, 0))
    is_test = np.zeros(len(interactions), dtype=bool)
    is_test[shuffled] = position < np.repeat(n_test, counts)
    return Split(interactions.subset(~is_test), interactions.subset(is_test))
