"""Decision points: the named places where the service makes a bandit choice.

A decision point (``artwork``, later ``row-order`` or ``ad-slot``) bundles everything that must
stay consistent for its log to be learnable and evaluable: the policy and its parameters, which
context keys and action attributes it may look at, how much it must explore, how long a reward
may take to arrive, what a missing reward counts as, how several rewards combine, which events
count as rewards, and how much traffic the policy is trusted with.

Why one pydantic model stored whole (as JSON in ``bandit_points``): it is read whole on every
refresh, validated once on the way in, and the same model is the HTTP body, the CLI file and the
Python API, so the three can never disagree.

Only part of the definition shapes the learned model (policy, features, exploration, seed).
Changing that part starts a fresh model under a new ``revision``; changing the reward window,
the event mapping or the rollout keeps what was learned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from limelight.bandits.base import Action, FeatureValue, Policy, State
from limelight.bandits.policies import EpsilonGreedy, LinearThompson, LinUCB, Softmax, UniformRandom
from limelight.errors import InvalidInput
from limelight.events.schema import EventType

#: Point names end up in URLs and in folder names under data_dir, so they are kept plain.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
PointName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
FeatureKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]

PolicyName = Literal["epsilon-greedy", "softmax", "linucb", "thompson", "uniform", "vw"]
#: Policies whose own parameter is an epsilon (the others explore by their own rule: a softmax
#: temperature, an upper-confidence width, posterior sampling; all of them honour the floor).
EPSILON_POLICIES = ("epsilon-greedy", "vw")
PolicyParam = bool | int | float | str

_STRICT = ConfigDict(extra="forbid")


class PolicySpec(BaseModel):
    """Which policy, with which constructor parameters (e.g. ``{"alpha": 0.3, "shared": true}``).

    ``min_probability`` and ``random_state`` are not parameters here: they come from the
    point's ``exploration.floor`` and ``seed``.
    """

    model_config = _STRICT

    name: PolicyName = "linucb"
    params: dict[Annotated[str, StringConstraints(max_length=64)], PolicyParam] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _no_reserved_params(self) -> PolicySpec:
        for reserved, instead in (
            ("min_probability", "exploration.floor"),
            ("random_state", "seed"),
            ("epsilon", "exploration.epsilon"),
        ):
            if reserved in self.params:
                raise ValueError(f"set {reserved!r} through {instead!r}, not policy.params")
        return self


class FeatureSpec(BaseModel):
    """Which context keys and action attributes the policy may use (``null``: all of them).

    Listing them protects the model from keys a client adds later for other purposes (an
    unbounded id would otherwise grow the vocabulary until it overflows).
    """

    model_config = _STRICT

    context: list[FeatureKey] | None = None
    action: list[FeatureKey] | None = None
    max_features: int = Field(default=4096, ge=2, le=65_536)

    def context_of(self, context: Mapping[str, FeatureValue]) -> dict[str, FeatureValue]:
        """The context restricted to the configured keys."""
        if self.context is None:
            return dict(context)
        return {key: context[key] for key in self.context if key in context}

    def action_of(self, features: Mapping[str, FeatureValue]) -> dict[str, FeatureValue]:
        """An action's attributes restricted to the configured keys."""
        if self.action is None:
            return dict(features)
        return {key: features[key] for key in self.action if key in features}


class Exploration(BaseModel):
    """How much the policy must explore.

    ``floor`` is every candidate's minimum probability (capped at ``1/K``), so importance
    weights in off-policy evaluation stay below ``1/floor``. ``epsilon`` is the uniform share of
    the epsilon-greedy and Vowpal Wabbit policies (refused for the others, which have their own
    exploration parameter, so that a setting never silently does nothing).
    """

    model_config = _STRICT

    floor: float = Field(default=0.01, ge=0.0, le=1.0)
    epsilon: float | None = Field(default=None, ge=0.0, le=1.0)


class EventReward(BaseModel):
    """The reward an event is worth: a constant ``value``, or a numeric ``property`` of the
    event divided by ``divide_by`` (``{"property": "watch_s", "divide_by": 60}`` is minutes
    watched)."""

    model_config = _STRICT

    value: float = 1.0
    property: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    divide_by: float = Field(default=1.0, gt=0.0)

    def of(self, properties: Mapping[str, Any]) -> float | None:
        """The reward for an event with these properties; None when the property is missing."""
        if self.property is None:
            return self.value
        found = properties.get(self.property)
        if isinstance(found, bool) or not isinstance(found, int | float):
            return None
        return float(found) / self.divide_by


def _default_event_rewards() -> dict[EventType, EventReward]:
    return {"click": EventReward(value=1.0), "play_start": EventReward(value=1.0)}


class RewardSpec(BaseModel):
    """How rewards are collected and combined.

    ``window_s``: rewards arriving later than this after the decision are stored for analysis
    but not learned from. ``default``: what a decision with no in-window reward is worth when
    its window closes (usually 0: shown, not clicked). ``aggregation``:

    ``first``
        Learn from the first in-window reward as soon as it arrives (fast: a click teaches the
        model within milliseconds), and from the default at the window's close if none came.
        Later rewards of the same decision are stored but not learned from, so a click followed
        by a play counts as one success.
    ``sum``
        Learn once, when the window closes, from the sum of every in-window reward (or the
        default). Right for additive rewards such as minutes watched, at the cost of a model
        that lags by one window.
    """

    model_config = _STRICT

    window_s: float = Field(default=3600.0, gt=0.0, le=30 * 86_400.0)
    default: float = 0.0
    aggregation: Literal["first", "sum"] = "first"
    events: dict[EventType, EventReward] = Field(default_factory=_default_event_rewards)

    def rule_for(self, event_type: str) -> EventReward | None:
        """What an event of this type is worth at this point (None: not a reward here)."""
        for kind, rule in self.events.items():
            if kind == event_type:
                return rule
        return None


class Rollout(BaseModel):
    """How much the policy is trusted.

    ``live``: a share ``percent`` of traffic (by a stable hash of the person, so a person sees
    one arm throughout) is served by the policy; the rest gets the baseline action.
    ``apprentice``: everyone gets the baseline while the policy's own choice is logged next to
    it and the policy learns from the baseline's rewards; the agreement rate says when it is
    ready to go live. ``baseline``: ``default`` is the candidate whose attribute
    ``default_flag`` is true (the title's default artwork), falling back to the first; ``first``
    is the first candidate as sent.
    """

    model_config = _STRICT

    mode: Literal["live", "apprentice"] = "live"
    percent: float = Field(default=100.0, ge=0.0, le=100.0)
    baseline: Literal["default", "first"] = "default"
    default_flag: FeatureKey = "default"

    def baseline_index(self, actions: Sequence[Action]) -> int:
        """The index of the baseline action among ``actions``."""
        if self.baseline == "default":
            for index, action in enumerate(actions):
                if _truthy(action.features.get(self.default_flag)):
                    return index
        return 0

    def serves_policy(self, point: str, unit: str) -> bool:
        """Whether ``unit`` (a person, else the decision) falls in the policy's share."""
        if self.mode == "apprentice":
            return False
        if self.percent >= 100.0:
            return True
        return bucket(point, unit) < self.percent


def _truthy(value: FeatureValue | None) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def bucket(point: str, unit: str) -> float:
    """A stable number in [0, 100) for ``unit`` at ``point`` (BLAKE2b, so every process and
    every restart agrees, unlike Python's salted ``hash``)."""
    digest = hashlib.blake2b(f"{point}\x00{unit}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * 100.0


class DecisionPointSpec(BaseModel):
    """A decision point as configured (the body of ``PUT /v1/decision-points/{name}``)."""

    model_config = _STRICT

    name: PointName
    description: Annotated[str, StringConstraints(max_length=1000)] = ""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    features: FeatureSpec = Field(default_factory=FeatureSpec)
    exploration: Exploration = Field(default_factory=Exploration)
    reward: RewardSpec = Field(default_factory=RewardSpec)
    rollout: Rollout = Field(default_factory=Rollout)
    seed: int | None = Field(
        default=None, ge=0, description="Seeds the policy's random generator (reproducible runs)."
    )

    @model_validator(mode="after")
    def _epsilon_belongs_to_its_policies(self) -> DecisionPointSpec:
        if self.exploration.epsilon is not None and self.policy.name not in EPSILON_POLICIES:
            raise ValueError(
                f"exploration.epsilon applies to {' and '.join(EPSILON_POLICIES)}; "
                f"{self.policy.name!r} explores through its own parameter and the floor"
            )
        return self

    def model_key(self) -> str:
        """A digest of the fields that shape the learned model (a change starts a new one)."""
        shaping = self.model_dump(include={"policy", "features", "exploration", "seed"})
        return hashlib.sha256(orjson.dumps(shaping, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


class DecisionPoint(DecisionPointSpec):
    """A stored decision point: the spec plus its model revision and times (epoch seconds)."""

    revision: int = Field(ge=1, description="Increases when the model-shaping fields change.")
    created_at: float
    updated_at: float


_POLICIES: dict[str, type[Policy]] = {
    "epsilon-greedy": EpsilonGreedy,
    "softmax": Softmax,
    "linucb": LinUCB,
    "thompson": LinearThompson,
    "uniform": UniformRandom,
}
_LINEAR = ("epsilon-greedy", "softmax", "linucb", "thompson")


def build_policy(point: DecisionPointSpec) -> Policy:
    """The policy a point's configuration describes, untrained."""
    name = point.policy.name
    params: dict[str, Any] = dict(point.policy.params)
    if point.exploration.epsilon is not None:
        params["epsilon"] = point.exploration.epsilon
    if name in _LINEAR:
        if "max_features" in params:
            raise InvalidInput(
                "set max_features through features.max_features", field="policy.params"
            )
        params["max_features"] = point.features.max_features
    if name == "vw":
        from limelight.bandits.vw import VowpalWabbit

        cls: type[Policy] = VowpalWabbit
    else:
        cls = _POLICIES[name]
    try:
        return cls(min_probability=point.exploration.floor, random_state=point.seed, **params)
    except TypeError as error:
        raise InvalidInput(f"policy.params: {error}", field="policy.params") from None


def policy_from_state(state: State) -> Policy:
    """``Policy.from_state``, importing the Vowpal Wabbit backend first when needed."""
    if state.get("kind") == "vw":
        import limelight.bandits.vw  # noqa: F401 - registers the kind

    return Policy.from_state(state)
