"""What every linear-model policy shares: the scorer, learning, prediction and state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from limelight.bandits.base import Action, Features, Policy, RandomState, State, check_feedback
from limelight.bandits.linear import LinearScorer
from limelight.errors import InvalidInput


class LinearPolicy(Policy):
    """A policy whose beliefs are ridge regressions over the feature space.

    ``shared=False``: one model per action id over the context (disjoint).
    ``shared=True``: one model over context, action features and their interactions.
    """

    def __init__(
        self,
        *,
        shared: bool = False,
        ridge: float = 1.0,
        max_features: int = 4096,
        min_probability: float = 0.01,
        random_state: RandomState = None,
    ) -> None:
        super().__init__(min_probability=min_probability, random_state=random_state)
        if ridge <= 0:
            raise InvalidInput("ridge must be positive", field="ridge")
        self.shared = shared
        self.ridge = ridge
        self.max_features = max_features
        self.scorer = LinearScorer(shared=shared, ridge=ridge, max_features=max_features)

    @property
    def name(self) -> str:
        return f"{self.kind}-shared" if self.shared else self.kind

    def params(self) -> dict[str, Any]:
        return {"shared": self.shared, "ridge": self.ridge, "max_features": self.max_features}

    def learn_one(
        self, context: Features, action: Action, reward: float, probability: float = 1.0
    ) -> None:
        check_feedback(reward, probability)
        self.scorer.update(context, action, float(reward))

    def learn_many(self, feedback: Sequence[tuple[Features, Action, float, float]]) -> None:
        """One ridge update for the lot (the same model as ``learn_one`` each, up to rounding:
        the model is a sum over observations). All are checked before any is learned."""
        for _, _, reward, probability in feedback:
            check_feedback(reward, probability)
        self.scorer.update_many(
            [context for context, _, _, _ in feedback],
            [action for _, action, _, _ in feedback],
            [float(reward) for _, _, reward, _ in feedback],
        )

    def predict_one(self, context: Features, action: Action) -> float:
        return self.scorer.predict(context, action)

    def _model_state(self) -> State:
        return self.scorer.state()

    def _load_model(self, model: State) -> None:
        self.scorer.load(model)
