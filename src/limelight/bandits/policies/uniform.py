"""Uniform random choice: the logging policy of choice for unbiased data, and a baseline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from limelight.bandits.base import Action, Features, Policy, RandomState, State, check_feedback


class UniformRandom(Policy):
    """Every candidate with probability ``1/K``; ``predict_one`` is the mean reward seen.

    >>> UniformRandom(random_state=1).rank({}, [Action("a"), Action("b")]).probability
    0.5
    """

    kind = "uniform"

    def __init__(self, *, min_probability: float = 0.0, random_state: RandomState = None) -> None:
        super().__init__(min_probability=min_probability, random_state=random_state)
        self.total = 0.0
        self.count = 0

    def params(self) -> dict[str, Any]:
        return {}

    def learn_one(
        self, context: Features, action: Action, reward: float, probability: float = 1.0
    ) -> None:
        check_feedback(reward, probability)
        self.total += float(reward)
        self.count += 1

    def predict_one(self, context: Features, action: Action) -> float:
        return self.total / self.count if self.count else 0.0

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        size = len(actions)
        return np.zeros(size), np.full(size, 1.0 / size)

    def _explored(self, scores: np.ndarray, index: int) -> bool:
        return True  # it never exploits

    def _model_state(self) -> State:
        return {"total": self.total, "count": self.count}

    def _load_model(self, model: State) -> None:
        self.total = float(model["total"])
        self.count = int(model["count"])
