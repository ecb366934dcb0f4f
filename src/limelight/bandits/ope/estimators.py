"""Off-policy estimators: DM, IPS, SNIPS, DR, SNDR, Switch-DR and DRos.

Every estimator here is a function of four numbers per logged round, so they are computed once
(:func:`round_terms`) and shared; a bootstrap then only resamples these vectors. The formulas are
those of the ``obp`` package (``obp.ope``, version 0.4.1), term for term, including its
position-based input (arrays of shape ``(n_rounds, n_actions, len_list)`` with the logged
position selecting the slice) and its use of a weighted average for the direct-method term, so
that both give the same numbers on the same inputs (checked by ``benchmarks/ope_obd.py``).

With ``w = pi_e(a_t | x_t) / pi_b(a_t | x_t)``, ``q`` the reward model and
``dm_t = sum_a pi_e(a | x_t) q(x_t, a) / sum_a pi_e(a | x_t)``:

======== ==============================================================
DM       ``mean(dm_t)``
IPS      ``mean(w_t r_t)``
SNIPS    ``mean(w_t r_t) / mean(w_t)``
DR       ``mean(dm_t + w_t (r_t - q(x_t, a_t)))``
SNDR     ``mean(dm_t + w_t (r_t - q(x_t, a_t)) / mean(w))``
Switch   ``mean(dm_t + [w_t <= tau] w_t (r_t - q(x_t, a_t)))``
DRos     ``mean(dm_t + lambda w_t / (w_t^2 + lambda) (r_t - q(x_t, a_t)))``
======== ==============================================================
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from limelight.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class LoggedFeedback:
    """A logging policy's record: what it chose, with which probability, and what came of it.

    ``position`` is the slot of each round when one decision filled several (the Open Bandit
    Dataset shows three items); ``context`` is only needed to fit a reward model.
    """

    action: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    position: np.ndarray | None = None
    context: np.ndarray | None = None

    def __post_init__(self) -> None:
        size = self.action.shape[0]
        for name in ("reward", "pscore", "position", "context"):
            value = getattr(self, name)
            if value is not None and value.shape[0] != size:
                raise InvalidInput(f"{name} has {value.shape[0]} rounds, action has {size}")
        if self.action.ndim != 1 or size == 0:
            raise InvalidInput("action must be a non-empty 1-D array", field="action")
        if not np.issubdtype(self.action.dtype, np.integer) or self.action.min() < 0:
            raise InvalidInput("action must hold non-negative integer indices", field="action")
        if np.any(self.pscore <= 0) or np.any(self.pscore > 1):
            raise InvalidInput("pscore must be in (0, 1]", field="pscore")

    @property
    def n_rounds(self) -> int:
        return int(self.action.shape[0])

    def take(self, index: np.ndarray) -> LoggedFeedback:
        """The rounds at ``index`` (e.g. a bootstrap sample)."""
        return LoggedFeedback(
            self.action[index],
            self.reward[index],
            self.pscore[index],
            None if self.position is None else self.position[index],
            None if self.context is None else self.context[index],
        )


@dataclass(frozen=True, slots=True)
class RoundTerms:
    """Per round: reward, importance weight, direct-method term and the factual prediction."""

    reward: np.ndarray
    weight: np.ndarray
    direct: np.ndarray | None
    factual: np.ndarray | None

    def take(self, index: np.ndarray) -> RoundTerms:
        return RoundTerms(
            self.reward[index],
            self.weight[index],
            None if self.direct is None else self.direct[index],
            None if self.factual is None else self.factual[index],
        )


def _three_d(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 2:
        return array[:, :, np.newaxis]
    if array.ndim != 3:
        raise InvalidInput(f"{name} must have shape (n_rounds, n_actions[, len_list])", field=name)
    return array


def round_terms(
    log: LoggedFeedback, action_dist: np.ndarray, estimated_rewards: np.ndarray | None = None
) -> RoundTerms:
    """The per-round ingredients of every estimator.

    ``action_dist[t, a(, k)]`` is the evaluation policy's probability of action ``a`` (at slot
    ``k``) in round ``t``; ``estimated_rewards`` has the same shape and holds ``q(x_t, a(, k))``.
    """
    dist = _three_d(np.asarray(action_dist, dtype=float), "action_dist")
    rounds = np.arange(log.n_rounds)
    position = np.zeros(log.n_rounds, dtype=int) if log.position is None else log.position
    if dist.shape[0] != log.n_rounds:
        raise InvalidInput("action_dist must have one row per logged round", field="action_dist")
    if log.action.max() >= dist.shape[1] or position.max() >= dist.shape[2]:
        raise InvalidInput("action or position outside action_dist", field="action_dist")
    if log.position is None and dist.shape[2] > 1:
        raise InvalidInput("position is needed when action_dist has several slots")
    if not np.allclose(dist.sum(axis=1), 1.0):
        raise InvalidInput("action_dist must sum to 1 over actions", field="action_dist")
    weight = dist[rounds, log.action, position] / log.pscore
    if estimated_rewards is None:
        return RoundTerms(log.reward, weight, None, None)
    q = _three_d(np.asarray(estimated_rewards, dtype=float), "estimated_rewards")
    if q.shape != dist.shape:
        raise InvalidInput("estimated_rewards must match action_dist", field="estimated_rewards")
    # np.average, as obp computes it: divides by the weights' sum, so unnormalized rows work.
    direct = np.average(q[rounds, :, position], weights=dist[rounds, :, position], axis=1)
    return RoundTerms(log.reward, weight, direct, q[rounds, log.action, position])


def _self_normalized(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``values / mean(weight)``; all zeros when no round has weight (a bootstrap can draw
    such a sample), where obp would return NaN."""
    mean = weight.mean()
    if mean > 0:
        result: np.ndarray = values / mean
        return result
    return np.zeros_like(values, dtype=float)


class Estimator(ABC):
    """An off-policy estimator: a mean of per-round contributions (obp's round rewards)."""

    name: str = ""
    uses_reward_model: bool = True

    @abstractmethod
    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        """Per-round contributions whose mean is the estimate."""

    def estimate(self, terms: RoundTerms) -> float:
        """The estimated policy value."""
        return float(self.round_rewards(terms).mean())

    @staticmethod
    def _model(terms: RoundTerms) -> tuple[np.ndarray, np.ndarray]:
        if terms.direct is None or terms.factual is None:
            raise InvalidInput("this estimator needs estimated_rewards from a reward model")
        return terms.direct, terms.factual

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class DirectMethod(Estimator):
    """Trust the reward model: average its prediction under the evaluation policy."""

    name = "dm"

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        return self._model(terms)[0]


class InverseProbabilityWeighting(Estimator):
    """Reweight logged rewards; unbiased when the logged propensities are right."""

    name = "ips"
    uses_reward_model = False

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        result: np.ndarray = terms.reward * terms.weight
        return result


class SelfNormalizedInverseProbabilityWeighting(Estimator):
    """IPS divided by the mean weight: slightly biased, much steadier with large weights."""

    name = "snips"
    uses_reward_model = False

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        return _self_normalized(terms.reward * terms.weight, terms.weight)


class DoublyRobust(Estimator):
    """DM plus an IPS correction of the model's error on the logged action."""

    name = "dr"

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        direct, factual = self._model(terms)
        result: np.ndarray = direct + terms.weight * (terms.reward - factual)
        return result


class SelfNormalizedDoublyRobust(Estimator):
    """DR with the correction self-normalized by the mean weight."""

    name = "sndr"

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        direct, factual = self._model(terms)
        correction = _self_normalized(terms.weight * (terms.reward - factual), terms.weight)
        result: np.ndarray = direct + correction
        return result


class SwitchDoublyRobust(Estimator):
    """DR where the weight is at most ``tau``, DM alone where it is larger (obp's default 1)."""

    def __init__(self, tau: float = 1.0) -> None:
        if not tau >= 0:
            raise InvalidInput("tau must be a non-negative number", field="tau")
        self.tau = tau
        self.name = "switch-dr"

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        direct, factual = self._model(terms)
        switch = np.array(terms.weight <= self.tau, dtype=int)
        result: np.ndarray = direct + switch * terms.weight * (terms.reward - factual)
        return result

    def __repr__(self) -> str:
        return f"SwitchDoublyRobust(tau={self.tau!r})"


class DoublyRobustWithShrinkage(Estimator):
    """DR with weights shrunk to ``lambda w / (w^2 + lambda)`` (obp's DRos, default 0)."""

    def __init__(self, lambda_: float = 0.0) -> None:
        if not lambda_ >= 0:
            raise InvalidInput("lambda_ must be a non-negative number", field="lambda_")
        self.lambda_ = lambda_
        self.name = "dr-os"

    def round_rewards(self, terms: RoundTerms) -> np.ndarray:
        direct, factual = self._model(terms)
        shrunk = (self.lambda_ * terms.weight) / (terms.weight**2 + self.lambda_)
        result: np.ndarray = direct + shrunk * (terms.reward - factual)
        return result

    def __repr__(self) -> str:
        return f"DoublyRobustWithShrinkage(lambda_={self.lambda_!r})"


def default_estimators(*, tau: float = 1.0) -> list[Estimator]:
    """DM, IPS, SNIPS, DR, SNDR and Switch-DR, in that order."""
    return [
        DirectMethod(),
        InverseProbabilityWeighting(),
        SelfNormalizedInverseProbabilityWeighting(),
        DoublyRobust(),
        SelfNormalizedDoublyRobust(),
        SwitchDoublyRobust(tau),
    ]
