"""LinUCB (Li et al., 2010): pick the highest upper confidence bound on the expected reward.

``shared=False`` is the disjoint variant (one ridge per action over the context);
``shared=True`` learns one ridge over context x action features, so what is learned about a
style on one title carries over to the next (the role the hybrid model plays in the paper).
LinUCB itself is deterministic; its logged probabilities come from the propensity floor, i.e.
an explicit epsilon of ``K * min_probability`` spread uniformly (see ``Policy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from limelight.bandits.base import Action, Features, RandomState
from limelight.bandits.policies._linear import LinearPolicy
from limelight.bandits.policies.greedy import greedy_distribution
from limelight.errors import InvalidInput


class LinUCB(LinearPolicy):
    """``score_a = theta' x_a + alpha * sqrt(x_a' A^-1 x_a)``; all mass on the best bound.

    Scores in the decision are the mean estimates (for ranking and ``explored``); the choice
    follows the bounds, so picking an uncertain action over a better-looking one counts as
    exploring.

    >>> policy = LinUCB(alpha=0.5, random_state=3)
    >>> posters = [Action("a"), Action("b"), Action("c")]
    >>> for poster, reward in zip(posters * 30, [1.0, 0.0, 0.0] * 30):
    ...     policy.learn_one({"device": "tv"}, poster, reward)
    >>> decision = policy.rank({"device": "tv"}, posters)
    >>> {key: round(p, 2) for key, p in decision.probabilities.items()}
    {'a': 0.98, 'b': 0.01, 'c': 0.01}
    """

    kind = "linucb"

    def __init__(
        self,
        alpha: float = 0.3,
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
        if alpha < 0:
            raise InvalidInput("alpha must not be negative", field="alpha")
        self.alpha = alpha

    def params(self) -> dict[str, Any]:
        return {"alpha": self.alpha, **super().params()}

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        matrix, means = self.scorer.means(context, actions)
        widths = np.sqrt(np.maximum(self.scorer.variances(matrix, actions), 0.0))
        bounds = means + self.alpha * widths
        # Ties among the bounds share the mass (all candidates tie before any learning).
        return means, greedy_distribution(bounds)
