"""Linear Thompson sampling (Agrawal and Goyal, 2013) with exact logged probabilities.

Thompson sampling acts by drawing parameters from the posterior and taking the argmax, so the
probability of its choice is ``P(argmax of the sampled scores = a)``, which has no closed form in
general. Here the candidates' sampled scores are jointly Gaussian, ``N(m, v^2 X A^-1 X')``, and
the policy computes that argmax distribution first, then draws its action from it (after the
propensity floor). The logged probability is therefore exact for the distribution actually
used, whatever the accuracy of the computation:

- two candidates: the closed form ``P(s_1 > s_2) = Phi((m_1 - m_2) / sd(s_1 - s_2))``;
- more: when the union bound says one candidate is best with certainty at the Monte Carlo's
  precision, that candidate (``clear_winner``); otherwise Monte Carlo with ``n_draws`` joint
  draws (default 1,000; the standard error of each
  probability is at most ``0.5 / sqrt(n_draws)``, about 0.016), vectorized in ``K`` dimensions
  so the cost does not depend on the feature count. Only the differences to the first
  candidate's score decide the argmax, so each draw takes ``K - 1`` normals, not ``K``
  (see ``difference_map``).

Common random numbers: the ``n_draws`` standard normals are drawn afresh every ``reuse``
decisions (default 4) and shared by the decisions in between. Generating them was most of a
decision's cost; sharing them makes the Monte Carlo errors of neighbouring decisions alike
instead of independent, and changes nothing else: each estimate is still unbiased, each action
is still drawn with a fresh uniform from the distribution computed, and that distribution is
still what is logged. ``reuse=1`` draws new normals for every decision. Measured on the
artwork simulator (``benchmarks/bandits.py``, same stream): reuse 1, 4 and 16 ran at 0.44x,
0.51x and 0.55x of raw Vowpal Wabbit's rate with click rates 0.1885, 0.1868 and 0.1853; at 4 the
disjoint model's regret benchmark is unchanged (0.905-0.906 of the oracle against 0.904-0.907
with 1, two seeds), at 16 it dropped to 0.897-0.898.

Drawing from the computed distribution is itself a valid Thompson-style policy: it chooses each
action with (an estimate of) the probability that the action is the best under the posterior.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import erf, sqrt
from typing import Any

import numpy as np
from scipy.linalg import lapack

from limelight.bandits.base import Action, Features, RandomState, State
from limelight.bandits.policies._linear import LinearPolicy
from limelight.bandits.state import rng_from_state, rng_to_state
from limelight.errors import InvalidInput


def _normal_cdf(value: float) -> float:
    return 0.5 * (1.0 + erf(value / sqrt(2.0)))


class LinearThompson(LinearPolicy):
    """Posterior ``theta ~ N(theta_hat, scale^2 A^-1)``; choose by the probability of being best.

    >>> policy = LinearThompson(scale=0.1, random_state=5)
    >>> posters = [Action("a"), Action("b")]
    >>> for _ in range(50):
    ...     policy.learn_one({}, posters[0], 1.0)
    ...     policy.learn_one({}, posters[1], 0.0)
    >>> round(policy.rank({}, posters).probabilities["a"], 2)
    0.99
    """

    kind = "thompson"

    def __init__(
        self,
        scale: float = 0.15,
        *,
        n_draws: int = 1000,
        reuse: int = 4,
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
        if scale < 0:
            raise InvalidInput("scale must not be negative", field="scale")
        if n_draws < 1:
            raise InvalidInput("n_draws must be positive", field="n_draws")
        if reuse < 1:
            raise InvalidInput("reuse must be positive", field="reuse")
        self.scale = scale
        self.n_draws = n_draws
        self.reuse = reuse
        self._pool: np.ndarray | None = None
        self._pool_origin: State | None = None
        self._uses = 0

    def params(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "n_draws": self.n_draws,
            "reuse": self.reuse,
            **super().params(),
        }

    def normals(self, width: int) -> np.ndarray:
        """``n_draws x width`` standard normals for one decision (see "common random numbers"
        in the module docstring); ``rank`` and ``rank_many`` read them in the same order."""
        pool = self._pool
        if pool is None or self._uses >= self.reuse or pool.shape[1] < width:
            self._pool_origin = rng_to_state(self._rng)
            pool = self._pool = self._rng.standard_normal((self.n_draws, max(width, 3)))
            self._uses = 0
        self._uses += 1
        return pool[:, :width]

    def _model_state(self) -> State:
        """The ridge models, and where the current normals came from: a restored policy then
        regenerates the same normals and goes on exactly as this one would."""
        found = dict(super()._model_state())
        if self._pool is not None and self._pool_origin is not None:
            found["normals"] = {
                "origin": self._pool_origin,
                "width": int(self._pool.shape[1]),
                "uses": self._uses,
            }
        return found

    def _load_model(self, model: State) -> None:
        model = dict(model)
        normals = model.pop("normals", None)
        super()._load_model(model)
        self._pool, self._pool_origin, self._uses = None, None, 0
        if isinstance(normals, dict):
            origin = normals["origin"]
            width = int(normals["width"])
            self._pool = rng_from_state(origin).standard_normal((self.n_draws, width))
            self._pool_origin = origin
            self._uses = int(normals["uses"])

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        matrix, means = self.scorer.means(context, actions)
        covariance = self.scale**2 * self.scorer.covariance(matrix, actions)
        return means, self.best_probabilities(means, covariance)

    def best_probabilities(self, means: np.ndarray, covariance: np.ndarray) -> np.ndarray:
        """``P(argmax = a)`` for jointly Gaussian scores ``N(means, covariance)``."""
        size = means.shape[0]
        if size == 1:
            return np.ones(1)
        if size == 2:
            spread = covariance[0, 0] + covariance[1, 1] - 2.0 * covariance[0, 1]
            if spread <= 1e-18:
                first = 0.5 if means[0] == means[1] else float(means[0] > means[1])
            else:
                first = _normal_cdf(float(means[0] - means[1]) / sqrt(spread))
            return np.array([first, 1.0 - first])
        winner = self.clear_winner(means, covariance)
        if winner is not None:
            certain = np.zeros(size)
            certain[winner] = 1.0
            return certain
        mixing, shift = difference_map(means, covariance)
        scores = self.normals(size - 1) @ mixing
        scores += shift
        counts = np.bincount(scores.argmax(axis=1), minlength=size)
        probabilities: np.ndarray = counts / self.n_draws
        return probabilities

    def clear_winner(self, means: np.ndarray, covariance: np.ndarray) -> int | None:
        """The candidate that is best with certainty at this precision, if there is one.

        By the union bound, ``P(some b beats a) <= sum_b Phi(-(m_a - m_b) / sd(s_a - s_b))``;
        when that is below half of one Monte Carlo draw (``0.5 / n_draws``), the draws would
        almost surely all pick ``a`` and estimate ``P(best = a) = 1``, so they are skipped. A
        confident posterior (most decisions once a model has learned) then costs ``K`` normal
        CDFs instead of ``n_draws`` joint draws."""
        best = int(np.argmax(means))
        limit = 0.5 / self.n_draws
        bound = 0.0
        diagonal = covariance.diagonal()
        for other in range(means.shape[0]):
            if other == best:
                continue
            spread = float(diagonal[best] + diagonal[other] - 2.0 * covariance[best, other])
            gap = float(means[best] - means[other])
            if spread <= 1e-18:
                if gap <= 0.0:
                    return None
                continue
            bound += _normal_cdf(-gap / sqrt(spread))
            if bound >= limit:
                return None
        return best


def difference_map(means: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How ``K - 1`` standard normals become scores with the argmax law of ``N(means, cov)``.

    The argmax depends only on the differences ``s_b - s_0``, which are Gaussian with mean
    ``m_b - m_0`` and covariance ``D cov D'`` (``D = [-1 | I]``): ``K - 1`` normals per draw
    instead of ``K``, and a better conditioned factor, since the part every candidate shares
    (the context's) cancels. Returns ``mixing`` (``(K-1) x K``, first column zero) and
    ``shift`` (``[0, m_1 - m_0, ...]``): a draw is ``z @ mixing + shift``, ``z ~ N(0, I)``.
    """
    size = means.shape[0]
    differences = covariance[1:, 1:] - covariance[1:, :1] - covariance[:1, 1:] + covariance[0, 0]
    jitter = 1e-12 * max(float(differences.trace()) / (size - 1), 1e-12)
    differences.flat[::size] += jitter  # the diagonal of a (K-1) x (K-1) array
    # LAPACK directly (numpy's wrapper costs several times the factorization of a tiny matrix);
    # the transpose of the C-ordered array is the Fortran one it wants, and its upper factor
    # ``U`` (``U'U = differences``) is the transpose of the lower one, which is what ``mixing``
    # needs: ``z @ U`` has covariance ``U'U``.
    upper, info = lapack.dpotrf(differences.T, lower=0, clean=1)
    if info != 0:  # not positive definite: let numpy raise its usual error
        upper = np.linalg.cholesky(differences).T
    mixing = np.zeros((size - 1, size))
    mixing[:, 1:] = upper
    shift = means - means[0]
    shift[0] = 0.0
    return mixing, shift
