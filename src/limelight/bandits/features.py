"""Turn context and action feature dicts into numpy vectors, with context x action interactions.

Why a growing one-hot vocabulary rather than hashing: linear bandits keep a ``d x d`` matrix per
model, so ``d`` must stay small, and hashing into a small space makes unrelated features collide.
A vocabulary assigns each distinct term its own column the first time it is seen. A new column
is exact for ridge models (no past vector used it), so models simply grow. ``max_features``
bounds the size; terms beyond it share one overflow column.

Terms: a number ``{"age": 31}`` gives the term ``age`` with value 31; a string
``{"device": "tv"}`` gives the term ``device=tv`` with value 1. Interaction terms multiply a
context term with an action term (``device=tv*style=close-up``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from limelight.bandits.base import Action, Features
from limelight.errors import InvalidInput

BIAS = "__bias__"
OVERFLOW = "__overflow__"


def terms(features: Features) -> list[tuple[str, float]]:
    """The (term, value) pairs of a feature dict, in a stable (sorted) order.

    >>> terms({"device": "tv", "hour": 21})
    [('device=tv', 1.0), ('hour', 21.0)]
    """
    out: list[tuple[str, float]] = []
    for name in sorted(features):
        value = features[name]
        if isinstance(value, str):
            out.append((f"{name}={value}", 1.0))
        elif isinstance(value, bool | int | float):
            number = float(value)
            if not np.isfinite(number):
                raise InvalidInput(f"feature {name!r} is not a finite number", field=name)
            out.append((name, number))
        else:
            raise InvalidInput(f"feature {name!r} must be a number or a string", field=name)
    return out


class Vocabulary:
    """Term -> column index, growing on first sight up to ``max_features`` columns.

    >>> vocabulary = Vocabulary()
    >>> vocabulary.vector([("a", 1.0), ("b", 2.0)]).tolist()
    [1.0, 2.0]
    >>> vocabulary.index("b"), len(vocabulary)
    (1, 2)
    """

    def __init__(self, max_features: int = 4096, names: Iterable[str] = ()) -> None:
        if max_features < 2:
            raise InvalidInput("max_features must be at least 2", field="max_features")
        self.max_features = max_features
        self._index: dict[str, int] = {}
        for name in names:
            self.index(name)

    def __len__(self) -> int:
        return len(self._index)

    @property
    def names(self) -> list[str]:
        """Terms in column order (what the state stores)."""
        return list(self._index)

    def index(self, term: str) -> int:
        """The column of ``term``, assigned now if new (overflow once the vocabulary is full)."""
        found = self._index.get(term)
        if found is not None:
            return found
        if len(self._index) < self.max_features - 1 or term == OVERFLOW:
            self._index[term] = len(self._index)
            return self._index[term]
        return self.index(OVERFLOW)

    def vector(self, pairs: Sequence[tuple[str, float]]) -> np.ndarray:
        """A dense vector over the current vocabulary (growing it first if needed)."""
        columns = [self.index(term) for term, _ in pairs]
        vector = np.zeros(len(self._index))
        np.add.at(vector, columns, [value for _, value in pairs])
        return vector


class FeatureSpace:
    """Builds the vectors a linear policy learns on.

    ``context_vector`` (for per-action models) is the bias plus the context terms.
    ``joint_vector`` (for one shared model) adds the action terms and every context x action
    interaction, so one model can learn "this style works on TV in the evening" across titles.

    >>> space = FeatureSpace()
    >>> x = space.joint_vector({"device": "tv"}, Action("a", {"style": "dark"}))
    >>> space.vocabulary.names
    ['__bias__', 'device=tv', 'style=dark', 'device=tv*style=dark']
    >>> x.tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    def __init__(self, max_features: int = 4096, names: Iterable[str] = ()) -> None:
        self.vocabulary = Vocabulary(max_features, names)
        self.vocabulary.index(BIAS)

    def context_vector(self, context: Features) -> np.ndarray:
        """Bias and context terms."""
        return self.vocabulary.vector([(BIAS, 1.0), *terms(context)])

    def joint_vector(self, context: Features, action: Action) -> np.ndarray:
        """Bias, context terms, action terms and their pairwise context x action products."""
        return self._joint(terms(context), action)

    def joint_matrix(self, context: Features, actions: Sequence[Action]) -> np.ndarray:
        """One ``joint_vector`` per action, stacked and padded to the final vocabulary size."""
        context_terms = terms(context)
        rows = [self._joint(context_terms, action) for action in actions]
        width = len(self.vocabulary)
        matrix = np.zeros((len(rows), width))
        for i, row in enumerate(rows):
            matrix[i, : row.shape[0]] = row
        return matrix

    def _joint(self, context_terms: list[tuple[str, float]], action: Action) -> np.ndarray:
        action_terms = terms(action.features)
        crossed = [(f"{c}*{a}", cv * av) for c, cv in context_terms for a, av in action_terms]
        return self.vocabulary.vector([(BIAS, 1.0), *context_terms, *action_terms, *crossed])
