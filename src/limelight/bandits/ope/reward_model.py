"""Cross-fitted reward models ``q(x, a)`` for the direct method and doubly robust estimators.

The layout follows obp's ``RegressionModel``: one classifier per slot (position), trained on the
context concatenated with the features of the logged action, then queried for every action.
Cross-fitting (each round is predicted by a model that did not see it) keeps the doubly robust
correction from being fooled by the model's own overfitting. The folds are sklearn's
``KFold(shuffle=True)``: indices shuffled by ``RandomState(random_state)``, consecutive chunks,
the first ``n % k`` one larger, so the same seed gives obp's folds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from limelight.errors import InvalidInput


class Classifier(Protocol):
    """What a reward model must offer (any scikit-learn classifier does)."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> Any: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


def kfold(
    n_rounds: int, n_folds: int, random_state: int | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs, both sorted, as ``sklearn.model_selection.KFold`` yields."""
    if not 2 <= n_folds <= n_rounds:
        raise InvalidInput("n_folds must be between 2 and the number of rounds", field="n_folds")
    shuffled = np.arange(n_rounds)
    np.random.RandomState(random_state).shuffle(shuffled)
    sizes = np.full(n_folds, n_rounds // n_folds)
    sizes[: n_rounds % n_folds] += 1
    start = 0
    for size in sizes:
        mask = np.zeros(n_rounds, dtype=bool)
        mask[shuffled[start : start + size]] = True
        start += int(size)
        yield np.flatnonzero(~mask), np.flatnonzero(mask)


def cross_fit_rewards(
    make_model: Callable[[], Classifier],
    context: np.ndarray,
    action: np.ndarray,
    reward: np.ndarray,
    action_context: np.ndarray,
    *,
    position: np.ndarray | None = None,
    len_list: int = 1,
    n_folds: int = 3,
    random_state: int | None = None,
) -> np.ndarray:
    """``q[t, a, k]``: the predicted reward of action ``a`` at slot ``k`` for round ``t``.

    ``make_model`` builds a fresh classifier (e.g. ``lambda: LogisticRegression(C=100)``);
    ``action_context`` has one row of features per action. With ``n_folds=1`` the model is fit
    on all rounds and predicts the same rounds (no cross-fitting).
    """
    n_rounds, n_actions = context.shape[0], action_context.shape[0]
    slots = np.zeros(n_rounds, dtype=int) if position is None or len_list == 1 else position
    estimates = np.zeros((n_rounds, n_actions, len_list))
    splits = (
        [(np.arange(n_rounds), np.arange(n_rounds))]
        if n_folds == 1
        else list(kfold(n_rounds, n_folds, random_state))
    )
    for train, test in splits:
        for slot in range(len_list):
            rows = train[slots[train] == slot]
            if rows.shape[0] == 0:
                raise InvalidInput(f"no training rounds at position {slot}", field="position")
            labels = reward[rows]
            if np.unique(labels).shape[0] < 2:
                # Rare clicks: a fold can have none at a slot, and a classifier cannot be fit
                # on one class (obp's RegressionModel fails here); predict that constant.
                estimates[test, :, slot] = float(labels[0])
                continue
            model = make_model()
            model.fit(np.c_[context[rows], action_context[action[rows]]], labels)
            # One call for every (round, candidate) pair: rows are round-major.
            features = np.c_[
                np.repeat(context[test], n_actions, axis=0),
                np.tile(action_context, (test.shape[0], 1)),
            ]
            predicted = model.predict_proba(features)[:, 1]
            estimates[test, :, slot] = predicted.reshape(test.shape[0], n_actions)
    return estimates
