"""Online ridge regression, the shared core of LinUCB, linear Thompson sampling and the greedy
policies.

Why keep the inverse: every decision needs ``x' A^-1 x`` for each candidate, so the inverse is
kept up to date with the Sherman-Morrison rank-one formula (``O(d^2)`` per update, in one pass
over the matrix) rather than solved afresh. Columns added by a growing vocabulary extend ``A^-1``
with ``1/ridge`` on the diagonal, which is exact because no earlier vector used them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.linalg import blas

from limelight.bandits.base import Action, Features, State, signature
from limelight.bandits.features import FeatureSpace

#: How often (in updates) ``Ridge`` averages ``A^-1`` with its transpose against rounding drift.
SYMMETRIZE_EVERY = 256


def _rank_one(matrix: np.ndarray, vector: np.ndarray, alpha: float) -> np.ndarray:
    """``matrix + alpha * vector vector'``, in place for a C-ordered float64 ``matrix``.

    BLAS works on Fortran order; the transpose of a C-ordered matrix is one, without a copy.
    """
    updated: np.ndarray = blas.dger(alpha, vector, vector, a=matrix.T, overwrite_a=True).T
    return updated


class Ridge:
    """``theta = (ridge * I + sum x x')^-1 sum r x``, updated one observation at a time.

    >>> model = Ridge(2, ridge=1.0)
    >>> for _ in range(100):
    ...     model.update(np.array([1.0, 0.0]), 1.0)
    >>> round(float(model.mean(np.array([1.0, 0.0]))), 2)
    0.99
    """

    def __init__(self, size: int, ridge: float = 1.0) -> None:
        self.ridge = ridge
        self.inverse = np.eye(size) / ridge
        self.target = np.zeros(size)
        self.theta = np.zeros(size)
        self.count = 0

    @property
    def size(self) -> int:
        return int(self.target.shape[0])

    def grow(self, size: int) -> None:
        """Add columns for features first seen after this model was made."""
        extra = size - self.size
        if extra <= 0:
            return
        inverse = np.zeros((size, size))
        inverse[: self.size, : self.size] = self.inverse
        inverse[self.size :, self.size :] = np.eye(extra) / self.ridge
        self.inverse = inverse
        self.target = np.concatenate([self.target, np.zeros(extra)])
        self.theta = np.concatenate([self.theta, np.zeros(extra)])

    def mean(self, x: np.ndarray) -> np.ndarray:
        """``x @ theta`` for one vector or a matrix of row vectors."""
        self.grow(x.shape[-1])
        result: np.ndarray = x @ self.theta
        return result

    def variance(self, x: np.ndarray) -> np.ndarray:
        """``x' A^-1 x`` for one vector, or per row of a matrix."""
        self.grow(x.shape[-1])
        result: np.ndarray = ((x @ self.inverse) * x).sum(axis=-1)  # BLAS, unlike einsum
        return result

    def covariance(self, matrix: np.ndarray) -> np.ndarray:
        """``X A^-1 X'``: the joint covariance of the rows' predictions (up to noise scale)."""
        self.grow(matrix.shape[-1])
        result: np.ndarray = matrix @ self.inverse @ matrix.T
        return result

    def difference_covariance(self, matrix: np.ndarray) -> np.ndarray:
        """``D A^-1 D'`` for the differences ``D`` of the rows after the first to the first:
        the covariance of ``x_b' theta - x_0' theta`` (what Thompson sampling's argmax needs),
        one row fewer than ``covariance`` and without its ``K x K`` result to difference."""
        self.grow(matrix.shape[-1])
        differences = matrix[1:] - matrix[0]
        result: np.ndarray = (differences @ self.inverse) @ differences.T
        return result

    def update(self, x: np.ndarray, reward: float) -> None:
        """Sherman-Morrison: ``A^-1 <- A^-1 - (A^-1 x)(A^-1 x)' / (1 + x' A^-1 x)``.

        ``x`` is sparse (one-hot terms), so ``A^-1 x`` reads only the rows of its non-zero
        entries (``A^-1`` is symmetric), and the rank-one correction is applied in place in one
        pass (BLAS ``dger``) instead of building a ``d x d`` outer product. ``theta`` follows
        by the recursive least-squares step ``theta += A'^-1 x (r - x' theta)``, with
        ``A'^-1 x = A^-1 x / (1 + x' A^-1 x)``. Rounding is not symmetric term by term and
        accumulates in the recursion, so every ``SYMMETRIZE_EVERY`` updates ``A^-1`` is averaged
        with its transpose and ``theta`` recomputed as ``A^-1 b``.
        """
        self.grow(x.shape[0])
        nonzero = np.flatnonzero(x)
        self.count += 1
        if not nonzero.shape[0]:  # an all-zero row changes nothing
            return
        values = x[nonzero]
        projected = values @ self.inverse[nonzero]
        denominator = 1.0 + float(values @ projected[nonzero])
        error = reward - float(values @ self.theta[nonzero])
        self.inverse = _rank_one(self.inverse, projected, -1.0 / denominator)
        self.target[nonzero] += reward * values
        if self.count % SYMMETRIZE_EVERY == 0:
            self._resymmetrize()
        else:  # the new A^-1 (b + r x), without a d x d product: A'^-1 x = A^-1 x / denominator
            self.theta += projected * (error / denominator)

    def update_many(self, rows: np.ndarray, weights: np.ndarray, sums: np.ndarray) -> None:
        """``weights[i]`` observations of the vector ``rows[i]`` whose rewards sum to
        ``sums[i]``: ``A += X' W X`` and ``b += X' s``, with ``A^-1`` by the Woodbury identity,
        ``A^-1 <- A^-1 - A^-1 U' (I + U A^-1 U')^-1 U A^-1`` for ``U = W^(1/2) X``. The cost is
        ``O(d^2 k)`` for ``k`` distinct rows however many observations they stand for (a page of
        tiles is a few dozen), and the result is that of ``update`` on each observation in turn,
        up to rounding: ``A`` and ``b`` are sums, whatever their order."""
        if rows.shape[0] == 0:
            return
        self.grow(rows.shape[1])
        if rows.shape[1] < self.size:
            rows = np.pad(rows, ((0, 0), (0, self.size - rows.shape[1])))
        self.count += int(weights.sum())
        self.target += sums @ rows
        used = np.flatnonzero(np.any(rows != 0.0, axis=0))
        if used.size:
            scaled = rows[:, used] * np.sqrt(weights)[:, None]
            projected = scaled @ self.inverse[used]  # U A^-1 (A^-1 is symmetric)
            inner = np.eye(rows.shape[0]) + projected[:, used] @ scaled.T
            self.inverse = self.inverse - projected.T @ np.linalg.solve(inner, projected)
        self._resymmetrize()

    def _resymmetrize(self) -> None:
        """Average ``A^-1`` with its transpose (rounding drift) and set ``theta = A^-1 b``."""
        symmetric = self.inverse + self.inverse.T
        symmetric *= 0.5
        self.inverse = symmetric
        self.theta = self.inverse @ self.target

    def state(self) -> State:
        return {
            "ridge": self.ridge,
            "count": self.count,
            "inverse": self.inverse,
            "target": self.target,
            "theta": self.theta,
        }

    @classmethod
    def from_state(cls, state: State) -> Ridge:
        model = cls(0, ridge=float(state["ridge"]))
        model.inverse = np.array(state["inverse"], dtype=float)
        model.target = np.array(state["target"], dtype=float)
        model.theta = np.array(state["theta"], dtype=float)
        model.count = int(state["count"])
        return model


class LinearScorer:
    """Reward estimates for candidates: one ridge per action id (disjoint) or one over
    context x action features (shared).

    Disjoint models learn each action separately from context features only, so they need no
    action features but learn nothing about an action they have not shown. The shared model
    generalizes across actions through their features (e.g. the artwork's style), at the cost
    of one larger matrix.
    """

    def __init__(self, *, shared: bool, ridge: float, max_features: int) -> None:
        self.shared = shared
        self.ridge = ridge
        self.space = FeatureSpace(max_features)
        self.models: dict[str, Ridge] = {}

    def _model(self, key: str) -> Ridge:
        model = self.models.get(key)
        if model is None:
            model = self.models[key] = Ridge(len(self.space.vocabulary), self.ridge)
        return model

    def design(self, context: Features, actions: Sequence[Action]) -> np.ndarray:
        """The row vector of each candidate (the same context vector for disjoint models)."""
        if self.shared:
            return self.space.joint_matrix(context, actions)
        x = self.space.context_vector(context)
        return np.tile(x, (len(actions), 1))

    def means(self, context: Features, actions: Sequence[Action]) -> tuple[np.ndarray, np.ndarray]:
        """Design matrix and estimated rewards of ``actions``."""
        matrix = self.design(context, actions)
        if self.shared:
            return matrix, self._model("").mean(matrix)
        means = np.array([float(self._model(a.id).mean(matrix[0])) for a in actions])
        return matrix, means

    def variances(self, matrix: np.ndarray, actions: Sequence[Action]) -> np.ndarray:
        """``x' A^-1 x`` per candidate."""
        if self.shared:
            return self._model("").variance(matrix)
        return np.array([float(self._model(a.id).variance(matrix[0])) for a in actions])

    def covariance(self, matrix: np.ndarray, actions: Sequence[Action]) -> np.ndarray:
        """Joint covariance of the candidates' estimates (diagonal for disjoint models)."""
        if self.shared:
            return self._model("").covariance(matrix)
        return np.diag(self.variances(matrix, actions))

    def difference_covariance(self, matrix: np.ndarray, actions: Sequence[Action]) -> np.ndarray:
        """Covariance of each candidate's estimate minus the first one's (``K - 1`` square)."""
        if self.shared:
            return self._model("").difference_covariance(matrix)
        variances = self.variances(matrix, actions)  # independent: var(s_b) + var(s_0)
        size = variances.shape[0] - 1
        result = np.full((size, size), variances[0])
        result.flat[:: size + 1] += variances[1:]
        return result

    def predict(self, context: Features, action: Action) -> float:
        return float(self.means(context, [action])[1][0])

    def update(self, context: Features, action: Action, reward: float) -> None:
        if self.shared:
            self._model("").update(self.space.joint_vector(context, action), reward)
        else:
            self._model(action.id).update(self.space.context_vector(context), reward)

    def update_many(
        self, contexts: Sequence[Features], actions: Sequence[Action], rewards: Sequence[float]
    ) -> None:
        """``update`` for each ``(context, action, reward)``, folded: observations with the
        same context and the same action features (shared) or action id (disjoint) become one
        weighted row of one ridge update per model."""
        groups: dict[tuple[Any, ...], tuple[Features, dict[Any, list[Any]]]] = {}
        known: dict[int, tuple[Any, ...]] = {}  # a page's rows share their mapping objects

        def key_of(features: Features) -> tuple[Any, ...]:
            found = known.get(id(features))
            if found is None:
                found = known[id(features)] = signature(features)
            return found

        for context, action, reward in zip(contexts, actions, rewards, strict=True):
            key = key_of(context)
            group = groups.get(key)
            if group is None:
                group = groups[key] = (context, {})
            inner = key_of(action.features) if self.shared else action.id
            entry = group[1].get(inner)
            if entry is None:
                group[1][inner] = [action, 1, reward]
            else:
                entry[1] += 1
                entry[2] += reward
        if self.shared:
            blocks, weights, sums = [], [], []
            for context, entries in groups.values():
                found = list(entries.values())
                # Positions as ids: action ids need not be unique across a page's titles.
                unique = [Action(str(k), e[0].features) for k, e in enumerate(found)]
                blocks.append(self.space.joint_matrix(context, unique))
                weights += [e[1] for e in found]
                sums += [e[2] for e in found]
            if not blocks:
                return
            width = len(self.space.vocabulary)
            rows = np.vstack([np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in blocks])
            self._model("").update_many(rows, np.array(weights, float), np.array(sums, float))
            return
        per_action: dict[str, list[tuple[np.ndarray, int, float]]] = {}
        for context, entries in groups.values():
            vector = self.space.context_vector(context)
            for action, count, total in entries.values():
                per_action.setdefault(action.id, []).append((vector, count, total))
        width = len(self.space.vocabulary)
        for action_id, observed in per_action.items():
            rows = np.vstack([np.pad(v, (0, width - v.shape[0])) for v, _, _ in observed])
            self._model(action_id).update_many(
                rows,
                np.array([c for _, c, _ in observed], float),
                np.array([t for _, _, t in observed], float),
            )

    def state(self) -> State:
        return {
            "vocabulary": self.space.vocabulary.names,
            "models": [{"key": key, **model.state()} for key, model in self.models.items()],
        }

    def load(self, state: State) -> None:
        self.space = FeatureSpace(self.space.vocabulary.max_features, state["vocabulary"])
        self.models = {str(entry["key"]): Ridge.from_state(entry) for entry in state["models"]}
