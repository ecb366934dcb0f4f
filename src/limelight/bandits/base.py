"""The one contract every bandit policy follows, documented here and checked by one test suite.

Why a single base class: the decision service, the decision log and off-policy evaluation only
ever see ``rank`` / ``learn_one`` / ``state``; a new policy plugs in by implementing three small
hooks. The habits are River's (``learn_one``/``predict_one``, features as plain dicts) so that
an online learner here reads like one anywhere else.

The contract
------------
``rank(context, actions) -> Decision``
    ``context`` is a plain dict of feature name -> number or string; ``actions`` are the
    candidates, each an :class:`Action` with an id and its own feature dict. The policy computes
    a probability for every candidate, draws the chosen action from exactly that vector with its
    own random generator, and returns the ranking (chosen first, then by estimated reward), the
    chosen action, its probability, the full probability vector, and whether it explored (the
    chosen action is not one the policy currently believes best). Every probability is at least
    the propensity floor (``min_probability``, capped at ``1/len(actions)``), so importance
    weights ``pi_e / pi_log`` stay bounded by ``1 / min_probability``.
``learn_one(context, action, reward, probability)``
    Feeds back the reward observed for ``action`` in ``context``; ``probability`` is the logged
    probability of that action (checked, and available to learners that reweight).
``predict_one(context, action) -> float``
    The current estimate of the expected reward, without exploration bonus or noise.
``state() -> dict`` and ``Policy.from_state(dict)``
    Everything needed to continue exactly where the policy stopped, as JSON-compatible values and
    numpy arrays (never pickle): parameters, learned model, feature vocabulary and the random
    generator's state. A policy restored from its state makes the same next decisions.

How the floor is applied: a policy proposes a distribution ``p``; when its smallest entry is
below the floor ``f``, it is mixed with the uniform distribution, ``(1 - g) p + g / K`` with the
smallest ``g`` that lifts every entry to ``f``. The logged probability is the mixed one, so it
is exact for the distribution the action was really drawn from.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from math import isfinite
from typing import Any, ClassVar, TypeAlias

import numpy as np

from limelight.errors import InvalidInput

FeatureValue: TypeAlias = float | int | str
Features: TypeAlias = Mapping[str, FeatureValue]
RandomState: TypeAlias = int | np.random.Generator | None
State: TypeAlias = dict[str, Any]

STATE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Action:
    """A candidate: an id (e.g. an artwork variant) and its features (e.g. its style).

    >>> Action("poster-2", {"style": "close-up", "brightness": 0.8}).id
    'poster-2'
    """

    id: str
    features: Features = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a policy chose and how likely that choice was.

    ``probabilities`` and ``scores`` follow the order of the candidates given to ``rank``;
    ``ranking`` starts with ``chosen`` and continues by decreasing estimated reward.
    """

    chosen: str
    probability: float
    ranking: tuple[str, ...]
    probabilities: Mapping[str, float]
    scores: Mapping[str, float]
    explored: bool
    policy: str


def signature(features: Mapping[str, Any]) -> tuple[Any, ...]:
    """A hashable key of a feature mapping (its items in key order): equal mappings, equal keys."""
    return tuple(sorted(features.items()))


def make_rng(random_state: RandomState) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (shared, not copied) or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)


def apply_floor(probabilities: np.ndarray, floor: float) -> np.ndarray:
    """Mix ``probabilities`` with uniform just enough that every entry is at least ``floor``.

    The floor is capped at ``1/K``: with more actions than ``1/floor`` only uniform can honour it.

    >>> apply_floor(np.array([1.0, 0.0, 0.0, 0.0]), 0.05).round(3).tolist()
    [0.85, 0.05, 0.05, 0.05]
    """
    size = probabilities.shape[0]
    target = min(floor, 1.0 / size)
    smallest = float(probabilities.min())
    if smallest >= target:
        return probabilities
    gamma = (target - smallest) / (1.0 / size - smallest)
    mixed: np.ndarray = (1.0 - gamma) * probabilities + gamma / size
    return mixed


class Policy(ABC):
    """Base class of every bandit policy; see the module docstring for the contract.

    Subclasses set ``kind`` (the name stored in the state) and implement ``_propose`` (scores and
    a distribution before the floor), ``learn_one``, ``predict_one``, ``params`` and the two model
    state hooks. Everything else (validation, the floor, the draw, the ranking, RNG persistence)
    lives here once.
    """

    kind: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type[Policy]]] = {}

    def __init__(self, *, min_probability: float = 0.01, random_state: RandomState = None) -> None:
        if not 0.0 <= min_probability <= 1.0:
            raise InvalidInput("min_probability must be in [0, 1]", field="min_probability")
        self.min_probability = min_probability
        self.random_state = random_state
        self._rng = make_rng(random_state)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            Policy._registry[cls.kind] = cls

    # -- the contract ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The policy's name as logged with each decision."""
        return self.kind

    def rank(self, context: Features, actions: Sequence[Action]) -> Decision:
        """Choose one of ``actions`` for ``context``; see the module docstring."""
        candidates = _checked_actions(actions)
        scores, proposed = self._propose(context, candidates)
        probabilities = apply_floor(proposed, self.min_probability)
        index = self._draw(probabilities)
        ids = [action.id for action in candidates]
        floats = probabilities.tolist()
        estimates = scores.tolist()
        order = sorted(range(len(ids)), key=lambda i: (i != index, -estimates[i], i))
        return Decision(
            chosen=ids[index],
            probability=floats[index],
            ranking=tuple([ids[i] for i in order]),
            probabilities=dict(zip(ids, floats, strict=True)),
            scores=dict(zip(ids, estimates, strict=True)),
            explored=self._explored(scores, index),
            policy=self.name,
        )

    def probabilities(self, context: Features, actions: Sequence[Action]) -> np.ndarray:
        """The floored distribution ``rank`` would draw from (what OPE needs as ``pi_e``).

        Policies that compute it by Monte Carlo (Thompson sampling) use their generator here.
        """
        candidates = _checked_actions(actions)
        return apply_floor(self._propose(context, candidates)[1], self.min_probability)

    @abstractmethod
    def learn_one(
        self, context: Features, action: Action, reward: float, probability: float = 1.0
    ) -> None:
        """Learn from the reward observed after showing ``action`` in ``context``."""

    def learn_many(self, feedback: Sequence[tuple[Features, Action, float, float]]) -> None:
        """Learn from many ``(context, action, reward, probability)`` in order: ``learn_one``
        for each, unless the policy can fold them into one update (linear policies do)."""
        for context, action, reward, probability in feedback:
            self.learn_one(context, action, reward, probability)

    @abstractmethod
    def predict_one(self, context: Features, action: Action) -> float:
        """The estimated expected reward of ``action`` in ``context`` (no exploration)."""

    def state(self) -> State:
        """Parameters, learned model and RNG state as JSON-compatible values and arrays."""
        from limelight.bandits.state import rng_to_state

        return {
            "format": STATE_FORMAT,
            "kind": self.kind,
            "params": {"min_probability": self.min_probability, **self.params()},
            "rng": rng_to_state(self._rng),
            "model": self._model_state(),
        }

    @classmethod
    def from_state(cls, state: State) -> Policy:
        """Rebuild a policy from ``state()``; on ``Policy`` itself the kind picks the class."""
        from limelight.bandits.state import rng_from_state

        if state.get("format") != STATE_FORMAT:
            raise InvalidInput(f"unsupported policy state format {state.get('format')!r}")
        kind = state.get("kind")
        target = Policy._registry.get(str(kind)) if cls is Policy else cls
        if target is None or target.kind != kind:
            raise InvalidInput(f"state of kind {kind!r} cannot build {cls.__name__}", field="kind")
        policy = target(**state["params"])
        policy._rng = rng_from_state(state["rng"])
        policy._load_model(state["model"])
        return policy

    # -- hooks for subclasses ---------------------------------------------------------------

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Constructor parameters (besides ``min_probability`` and ``random_state``)."""

    @abstractmethod
    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Estimated rewards and the policy's distribution over ``actions`` before the floor."""

    @abstractmethod
    def _model_state(self) -> State:
        """The learned part of the state."""

    @abstractmethod
    def _load_model(self, model: State) -> None:
        """Restore what ``_model_state`` returned."""

    def _explored(self, scores: np.ndarray, index: int) -> bool:
        return bool(scores[index] < scores.max())

    # -- helpers ----------------------------------------------------------------------------

    def _draw(self, probabilities: np.ndarray) -> int:
        """Inverse CDF: the first action whose cumulative probability exceeds ``u * total``.

        In Python floats (the same sequential sums and product as ``np.cumsum`` and
        ``np.searchsorted(..., "right")``, so the same pick): for a handful of candidates the
        array calls would cost more than the arithmetic.
        """
        cumulative = list(accumulate(probabilities.tolist()))
        position = bisect_right(cumulative, self._rng.random() * cumulative[-1])
        return min(position, len(cumulative) - 1)


def check_feedback(reward: float, probability: float) -> None:
    """Reject rewards and probabilities that would corrupt a model silently."""
    if not isfinite(reward):
        raise InvalidInput("reward must be a finite number", field="reward")
    if not 0.0 < probability <= 1.0:
        raise InvalidInput("probability must be in (0, 1]", field="probability")


def _checked_actions(actions: Sequence[Action]) -> tuple[Action, ...]:
    candidates = tuple(actions)
    if not candidates:
        raise InvalidInput("at least one action is needed", field="actions")
    ids = [action.id for action in candidates]
    if len(set(ids)) != len(ids):
        raise InvalidInput("action ids must be unique", field="actions")
    return candidates
