"""Epsilon-greedy and softmax (Boltzmann) exploration over ridge reward estimates.

Why over a linear model rather than per-action averages: the artwork choice depends on who is
watching and on what device, so even the simple policies see the context. With an empty context
they reduce to the classic context-free versions (a shrunk mean per action).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from limelight.bandits.base import Action, Features, RandomState
from limelight.bandits.policies._linear import LinearPolicy
from limelight.errors import InvalidInput


def greedy_distribution(scores: np.ndarray) -> np.ndarray:
    """All mass on the best score, split evenly among exact ties."""
    best = scores == scores.max()
    distribution: np.ndarray = best / best.sum()
    return distribution


class EpsilonGreedy(LinearPolicy):
    """Best estimate with probability ``1 - epsilon``, uniform otherwise.

    The exact probability of action ``a`` is ``epsilon / K + (1 - epsilon) [a is best]``
    (ties at the top share the greedy mass).

    >>> policy = EpsilonGreedy(epsilon=0.1, random_state=7)
    >>> posters = [Action("dark"), Action("bright")]
    >>> for _ in range(20):
    ...     policy.learn_one({"device": "tv"}, posters[0], 1.0)
    >>> decision = policy.rank({"device": "tv"}, posters)
    >>> round(decision.probabilities["dark"], 3)
    0.95
    """

    kind = "epsilon-greedy"

    def __init__(
        self,
        epsilon: float = 0.05,
        *,
        shared: bool = False,
        ridge: float = 1.0,
        max_features: int = 4096,
        min_probability: float = 0.01,
        random_state: RandomState = None,
    ) -> None:
        super().__init__(
            shared=shared,
            ridge=ridge,
            max_features=max_features,
            min_probability=min_probability,
            random_state=random_state,
        )
        if not 0.0 <= epsilon <= 1.0:
            raise InvalidInput("epsilon must be in [0, 1]", field="epsilon")
        self.epsilon = epsilon

    def params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon, **super().params()}

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        _, scores = self.scorer.means(context, actions)
        uniform = np.full(len(actions), 1.0 / len(actions))
        proposed = self.epsilon * uniform + (1.0 - self.epsilon) * greedy_distribution(scores)
        return scores, proposed


class Softmax(LinearPolicy):
    """Boltzmann exploration: ``P(a) = exp(score_a / temperature) / sum_b exp(score_b / T)``.

    Scores are expected click rates, so the temperature is on that scale: at 0.05 an action
    with a 5-point higher click rate is chosen ``e`` times as often.

    >>> policy = Softmax(temperature=0.1, random_state=7)
    >>> round(policy.rank({}, [Action("a"), Action("b")]).probabilities["a"], 2)
    0.5
    """

    kind = "softmax"

    def __init__(
        self,
        temperature: float = 0.05,
        *,
        shared: bool = False,
        ridge: float = 1.0,
        max_features: int = 4096,
        min_probability: float = 0.01,
        random_state: RandomState = None,
    ) -> None:
        super().__init__(
            shared=shared,
            ridge=ridge,
            max_features=max_features,
            min_probability=min_probability,
            random_state=random_state,
        )
        if temperature <= 0:
            raise InvalidInput("temperature must be positive", field="temperature")
        self.temperature = temperature

    def params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, **super().params()}

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        _, scores = self.scorer.means(context, actions)
        logits = (scores - scores.max()) / self.temperature
        weights = np.exp(logits)
        return scores, weights / weights.sum()
