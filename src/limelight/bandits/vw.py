"""Vowpal Wabbit's ``cb_explore_adf`` as a policy behind the same contract as the others.

Why offer it: VW is the reference contextual-bandit engine (Azure Personalizer ran on it), with
hashed features that need no vocabulary, and sparse learning whose cost does not grow with the
square of the feature count. Choosing it per decision point lets its numbers be compared with
the native policies on the same log, and lets a team migrating from Personalizer keep its
learner.

How it maps onto the contract: each decision is one VW multi-line "action dependent features"
example, a ``shared`` line with the context (namespace ``c``) and one line per candidate with its
features (namespace ``a``), with quadratic ``c x a`` interactions by default. VW answers with its
exploration distribution (epsilon-greedy over its cost estimates); that distribution is the
proposal, the propensity floor is applied on top of it as for every policy, and the draw is made
with the policy's own generator, so the logged probability is exact. Learning passes the cost
``-reward`` and the logged probability on the served action's line (VW's usual label
``0:cost:probability``). State is the binary VW model (VW's own format, not pickle) as a byte
array, next to the usual JSON parameters.

The ``vowpalwabbit`` package is optional (the ``vw`` extra). It is imported on first use, so that
this module imports without it and a point configured with it fails with a clear message.
"""

from __future__ import annotations

import importlib
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from limelight.bandits.base import (
    Action,
    Features,
    Policy,
    RandomState,
    State,
    check_feedback,
)
from limelight.bandits.features import terms
from limelight.errors import InvalidInput

REQUIREMENT = "vowpalwabbit>=9.11,<10"
CB_TYPES = ("mtr", "ips", "dr", "dm")
_FORBIDDEN = str.maketrans({" ": "_", ":": "_", "|": "_", "\t": "_", "\n": "_", "\r": "_"})


def _module() -> Any:
    try:
        return importlib.import_module("vowpalwabbit")
    except ImportError:
        raise InvalidInput(
            f"the vw policy needs the vowpalwabbit package: pip install '{REQUIREMENT}' "
            "(or the limelight[vw] extra)",
            field="policy.name",
        ) from None


def available() -> bool:
    """Whether the ``vowpalwabbit`` package can be imported here."""
    try:
        importlib.import_module("vowpalwabbit")
    except ImportError:
        return False
    return True


def _line(features: Features) -> str:
    """Features in VW's text format: ``name:value`` for numbers, ``name=value`` for strings."""
    parts = []
    for name, value in terms(features):
        term = name.translate(_FORBIDDEN)
        parts.append(term if value == 1.0 else f"{term}:{value!r}")
    return " ".join(parts)


class VowpalWabbit(Policy):
    """``--cb_explore_adf`` with epsilon-greedy exploration over VW's cost estimates.

    ``cb_type`` is VW's estimator for learning from logged bandit feedback (``mtr``, its default,
    regresses the cost of the served action); ``interactions`` are VW ``-q`` pairs of
    namespaces (``c`` context, ``a`` action), ``bits`` the hash table size (``-b``).
    """

    kind = "vw"

    def __init__(
        self,
        epsilon: float = 0.05,
        *,
        cb_type: str = "mtr",
        interactions: str = "ca",
        bits: int = 18,
        learning_rate: float = 0.5,
        min_probability: float = 0.01,
        random_state: RandomState = None,
    ) -> None:
        super().__init__(min_probability=min_probability, random_state=random_state)
        if not 0.0 <= epsilon <= 1.0:
            raise InvalidInput("epsilon must be in [0, 1]", field="epsilon")
        if cb_type not in CB_TYPES:
            raise InvalidInput(f"cb_type must be one of {', '.join(CB_TYPES)}", field="cb_type")
        pairs = [pair for pair in interactions.split(",") if pair]
        if any(len(pair) != 2 or not set(pair) <= {"a", "c"} for pair in pairs):
            raise InvalidInput("interactions are pairs of c and a, e.g. 'ca'", field="interactions")
        if not 1 <= bits <= 30:
            raise InvalidInput("bits must be between 1 and 30", field="bits")
        if not learning_rate > 0:
            raise InvalidInput("learning_rate must be positive", field="learning_rate")
        self.epsilon = epsilon
        self.cb_type = cb_type
        self.interactions = ",".join(pairs)
        self.bits = bits
        self.learning_rate = learning_rate
        self.seed = random_state if isinstance(random_state, int) else 0
        self._workspace = _module().Workspace(self._arguments())

    def _arguments(self) -> str:
        quadratic = " ".join(f"-q {pair}" for pair in self.interactions.split(",") if pair)
        return (
            f"--cb_explore_adf --epsilon {self.epsilon!r} --cb_type {self.cb_type} {quadratic} "
            f"-b {self.bits} -l {self.learning_rate!r} --random_seed {self.seed} --quiet"
        )

    def params(self) -> dict[str, Any]:
        return {
            "epsilon": self.epsilon,
            "cb_type": self.cb_type,
            "interactions": self.interactions,
            "bits": self.bits,
            "learning_rate": self.learning_rate,
            "random_state": self.seed,
        }

    @staticmethod
    def example(context: Features, actions: Sequence[Action], labels: dict[int, str]) -> list[str]:
        """The multi-line example; ``labels`` puts ``0:cost:probability`` on some lines."""
        lines = [f"shared |c {_line(context)}"]
        for index, action in enumerate(actions):
            label = labels.get(index)
            prefix = f"{label} " if label else ""
            lines.append(f"{prefix}|a {_line(action.features)}")
        return lines

    def _propose(
        self, context: Features, actions: Sequence[Action]
    ) -> tuple[np.ndarray, np.ndarray]:
        pmf = np.asarray(self._workspace.predict(self.example(context, actions, {})), dtype=float)
        if pmf.shape[0] != len(actions) or not np.isfinite(pmf).all() or pmf.sum() <= 0:
            raise InvalidInput("Vowpal Wabbit returned no usable distribution")
        proposed: np.ndarray = pmf / pmf.sum()
        return proposed, proposed  # VW's preference is its distribution

    def learn_one(
        self, context: Features, action: Action, reward: float, probability: float = 1.0
    ) -> None:
        check_feedback(reward, probability)
        cost = -float(reward)
        self._workspace.learn(self.example(context, [action], {0: f"0:{cost!r}:{probability!r}"}))

    def predict_one(self, context: Features, action: Action) -> float:
        """Not available: ``cb_explore_adf`` answers with probabilities, not reward estimates.

        Off-policy evaluation and the service use ``probabilities``; a reward model for the
        direct method is fitted separately (see :mod:`limelight.bandits.offpolicy`).
        """
        raise InvalidInput("the vw policy exposes probabilities, not reward estimates")

    def _model_state(self) -> State:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.vw"
            self._workspace.save(str(path))
            data = path.read_bytes()
        return {"vw_model": np.frombuffer(data, dtype=np.uint8).copy()}

    def _load_model(self, model: State) -> None:
        data = np.asarray(model["vw_model"], dtype=np.uint8).tobytes()
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.vw"
            path.write_bytes(data)
            self._workspace.finish()
            self._workspace = _module().Workspace(f"--quiet -i {path}")
