"""Linear Thompson sampling (Agrawal and Goyal, 2013) with exact logged probabilities.

Thompson sampling acts by drawing parameters from the posterior and taking the argmax, so the
probability of its choice is ``P(argmax of the sampled scores = a)``, which has no closed form in
general. Here the candidates' sampled scores are jointly Gaussian, ``N(m, v^2 X A^-1 X')``, and
the policy computes that argmax distribution first, then draws its action from it (after the
propensity floor). The logged probability is therefore exact for the distribution actually
used, whatever the accuracy of the computation:

- two candidates: the closed form ``P(s_1 > s_2) = Phi((m_1 - m_2) / sd(s_1 - s_2))``;
- more: the union bound first leaves out the candidates that are best with a total
  probability below half of one Monte Carlo draw (``contenders``); one left is certain, two
  left take the closed form, and otherwise Monte Carlo with ``n_draws`` joint draws (default
  1,000; the standard error of each probability is at most ``0.5 / sqrt(n_draws)``, about
  0.016), vectorized in ``K`` dimensions so the cost does not depend on the feature count.
  Only the differences to the first candidate's score decide the argmax, so each draw takes
  ``K - 1`` normals, not ``K`` (see ``to_differences``), and a linear model computes the
  covariance of those differences straight from its feature rows, without the ``K x K`` one.

Common random numbers: the ``n_draws`` standard normals are drawn afresh every ``reuse``
decisions (default 4) and shared by the decisions in between. Generating them was most of a
decision's cost; sharing them makes the Monte Carlo errors of neighbouring decisions alike
instead of independent, and changes nothing else: each estimate is still unbiased, each action
is still drawn with a fresh uniform from the distribution computed, and that distribution is
still what is logged. ``reuse=1`` draws new normals for every decision. Measured on the
artwork simulator (``benchmarks/bandits.py``'s stream, 20,000 decisions, median of three trials,
shared model): reuse 1, 4 and 16 ran at 0.50x, 0.54x and 0.54x of raw Vowpal Wabbit's rate
with click rates 0.1876, 0.1876 and 0.1867 (before the contenders shortcut, which leaves fewer
decisions to the draws, the same runs gave 0.44x, 0.51x and 0.55x). With 4 the regret
benchmark puts the disjoint model at 0.905 of the oracle (0.904-0.907 with 1, measured
before); at 16 it had dropped to 0.897-0.898.

Drawing from the computed distribution is itself a valid Thompson-style policy: it chooses each
action with (an estimate of) the probability that the action is the best under the posterior.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import erf, erfc, sqrt
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
        """``width x n_draws`` standard normals for one decision (see "common random numbers"
        in the module docstring); ``rank`` and ``rank_many`` read them in the same order.

        Kept one row per dimension (the transpose of how they are drawn) so that a decision's
        ``K - 1`` rows are one contiguous block for its matrix product."""
        pool = self._pool
        if pool is None or self._uses >= self.reuse or pool.shape[0] < width:
            self._pool_origin = rng_to_state(self._rng)
            pool = self._pool = _drawn(self._rng, self.n_draws, max(width, 3))
            self._uses = 0
        self._uses += 1
        return pool[:width]

    def _model_state(self) -> State:
        """The ridge models, and where the current normals came from: a restored policy then
        regenerates the same normals and goes on exactly as this one would."""
        found = dict(super()._model_state())
        if self._pool is not None and self._pool_origin is not None:
            found["normals"] = {
                "origin": self._pool_origin,
                "width": int(self._pool.shape[0]),
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
            self._pool = _drawn(rng_from_state(origin), self.n_draws, width)
            self._pool_origin = origin
            self._uses = int(normals["uses"])

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        matrix, means = self.scorer.means(context, actions)
        if means.shape[0] == 1:
            return means, np.ones(1)
        spread = self.scale**2 * self.scorer.difference_covariance(matrix, actions)
        return means, self.best_of_differences(means[1:] - means[0], spread)

    def best_probabilities(self, means: np.ndarray, covariance: np.ndarray) -> np.ndarray:
        """``P(argmax = a)`` for jointly Gaussian scores ``N(means, covariance)``."""
        if means.shape[0] == 1:
            return np.ones(1)
        return self.best_of_differences(*to_differences(means, covariance))

    def best_of_differences(self, gaps: np.ndarray, spread: np.ndarray) -> np.ndarray:
        """``P(argmax = a)`` over ``K`` candidates from the law of their differences to the
        first one: ``s_b - s_0 ~ N(gaps[b-1], spread)`` for ``b = 1..K-1``."""
        size = gaps.shape[0] + 1
        members, gaps, spread = self.reduced(gaps, spread)
        settled = without_draws(size, members, gaps, spread)
        if settled is not None:
            return settled
        probabilities = np.zeros(size)
        noise = self.normals(len(members) - 1)
        probabilities[members] = sampled_best(gaps, spread, noise)
        return probabilities

    def reduced(
        self, gaps: np.ndarray, spread: np.ndarray
    ) -> tuple[list[int], np.ndarray, np.ndarray]:
        """The ``contenders`` (all of two candidates) and the differences law of them alone."""
        size = gaps.shape[0] + 1
        members = list(range(size)) if size == 2 else self.contenders(gaps, spread)
        if len(members) < size:
            gaps, spread = restricted(gaps, spread, members)
        return members, gaps, spread

    def contenders(self, gaps: np.ndarray, spread: np.ndarray) -> list[int]:
        """The candidates that can be best at this precision, in index order (``gaps`` and
        ``spread`` as in ``best_of_differences``).

        By the union bound, the candidates ``c`` left out are best together with probability
        at most ``sum_c P(s_c > s_a) = sum_c Phi(-(m_a - m_c) / sd(s_a - s_c))``, ``a`` the
        best mean; the largest set whose sum is below half of one Monte Carlo draw
        (``0.5 / n_draws``) is left out, since the draws would almost surely never pick any
        of them. A confident posterior (most decisions once a model has learned) then costs
        ``K`` normal CDFs instead of the draws, and when two remain, their closed form. In
        plain floats: for a handful of candidates array calls would cost more than the
        arithmetic."""
        differences = gaps.tolist()
        rows = spread.tolist()
        best, top = 0, 0.0  # candidate 0's difference to itself
        for index, gap in enumerate(differences, start=1):
            if gap > top:
                best, top = index, gap
        own = rows[best - 1][best - 1] if best else 0.0
        tails: list[tuple[float, int]] = []
        kept = [best]
        for other in range(len(differences) + 1):
            if other == best:
                continue
            if other == 0:  # s_best - s_0 is the difference itself
                variance, gap = own, top
            elif best == 0:
                variance, gap = rows[other - 1][other - 1], -differences[other - 1]
            else:
                variance = own + rows[other - 1][other - 1] - 2.0 * rows[best - 1][other - 1]
                gap = top - differences[other - 1]
            if variance <= 1e-18:
                if gap <= 0.0:
                    kept.append(other)  # ties with the best for sure
                continue  # loses for sure
            tails.append((0.5 * erfc(gap / sqrt(2.0 * variance)), other))
        tails.sort()
        left_out, limit = 0.0, 0.5 / self.n_draws
        for tail, other in tails:
            left_out += tail
            if left_out >= limit:
                kept.append(other)
        kept.sort()
        return kept


def without_draws(
    size: int, members: Sequence[int], gaps: np.ndarray, spread: np.ndarray
) -> np.ndarray | None:
    """``P(argmax = a)`` over ``size`` candidates when at most two ``members`` (as ``reduced``
    returns them) can be best: certain, or the closed form of the pair; None otherwise."""
    if len(members) > 2:
        return None
    probabilities = np.zeros(size)
    if len(members) == 1:
        probabilities[members[0]] = 1.0
    else:
        probabilities[list(members)] = _pair(float(gaps[0]), float(spread[0, 0]))
    return probabilities


def _pair(gap: float, variance: float) -> tuple[float, float]:
    """``(P(s_0 > s_1), P(s_1 > s_0))`` when ``s_1 - s_0 ~ N(gap, variance)``."""
    if variance <= 1e-18:
        first = 0.5 if gap == 0.0 else float(gap < 0.0)
    else:
        first = _normal_cdf(-gap / sqrt(variance))
    return first, 1.0 - first


def restricted(
    gaps: np.ndarray, spread: np.ndarray, members: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The differences law of the candidates ``members`` alone (to the first of them)."""
    size = gaps.shape[0] + 1
    means = np.zeros(size)
    means[1:] = gaps
    covariance = np.zeros((size, size))  # of s - s_0: a valid law of the scores for argmax
    covariance[1:, 1:] = spread
    return to_differences(means[members], covariance[np.ix_(members, members)])


def sampled_best(gaps: np.ndarray, spread: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Monte Carlo ``P(argmax = a)`` from ``noise`` (``K - 1`` rows of standard normals).

    Draws of all ``K`` scores less the first one's: row 0 is zero, row ``b`` is gap ``b`` plus
    the correlated noise ``U' z`` (``U'U = spread``, which takes the factor's jitter in place);
    the argmax of each column is a draw's winner, counted by comparing every row with the
    column maxima (an exact tie, which would count twice, falls back to argmax)."""
    size, n_draws = gaps.shape[0] + 1, noise.shape[1]
    scores = np.empty((size, n_draws))
    scores[0] = 0.0
    np.matmul(difference_factor(spread).T, noise, out=scores[1:])
    scores[1:] += gaps[:, None]
    top = scores.max(axis=0)
    counts = np.count_nonzero(scores == top, axis=1)
    if int(counts.sum()) != n_draws:
        counts = np.bincount(scores.argmax(axis=0), minlength=size)
    probabilities: np.ndarray = counts / n_draws
    return probabilities


def _drawn(rng: np.random.Generator, n_draws: int, width: int) -> np.ndarray:
    """``n_draws x width`` standard normals from ``rng``, stored transposed (``width`` rows)."""
    return np.ascontiguousarray(rng.standard_normal((n_draws, width)).T)


def to_differences(means: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The law of ``s_b - s_0`` (``b >= 1``) for scores ``s ~ N(means, covariance)``.

    The argmax depends only on these differences, which are Gaussian with mean ``m_b - m_0``
    and covariance ``D cov D'`` (``D = [-1 | I]``): ``K - 1`` normals per draw instead of
    ``K``, and a better conditioned factor, since the part every candidate shares (the
    context's) cancels. Linear models compute ``D cov D'`` directly from their feature rows
    (``LinearScorer.difference_covariance``); this is for a covariance already at hand."""
    spread = covariance[1:, 1:] - covariance[1:, :1] - covariance[:1, 1:] + covariance[0, 0]
    return means[1:] - means[0], spread


def difference_factor(spread: np.ndarray) -> np.ndarray:
    """Upper triangular ``U`` with ``U'U = spread`` (plus a relative jitter of 1e-12 on the
    diagonal, added to ``spread`` in place, so that equal candidates still factor): a draw of
    the differences is ``z @ U`` for ``z ~ N(0, I)``."""
    size = spread.shape[0]
    jitter = 1e-12 * max(float(spread.trace()) / size, 1e-12)
    spread.flat[:: size + 1] += jitter
    # LAPACK directly (numpy's wrapper costs several times the factorization of a tiny matrix);
    # the transpose of a C-ordered array is the Fortran one it wants, and its upper factor is
    # what a row of normals needs.
    upper, info = lapack.dpotrf(spread.T, lower=0, clean=1)
    if info != 0:  # not positive definite: let numpy raise its usual error
        upper = np.linalg.cholesky(spread).T
    factor: np.ndarray = upper
    return factor
