"""Contextual bandits: policies behind one contract, their state, off-policy evaluation and an
artwork simulator. The decision service and its log build on these."""

from limelight.bandits.base import Action, Decision, Policy, apply_floor
from limelight.bandits.features import FeatureSpace
from limelight.bandits.policies import (
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    Softmax,
    UniformRandom,
)
from limelight.bandits.state import load_policy, save_policy

__all__ = [
    "Action",
    "Decision",
    "EpsilonGreedy",
    "FeatureSpace",
    "LinUCB",
    "LinearThompson",
    "Policy",
    "Softmax",
    "UniformRandom",
    "apply_floor",
    "load_policy",
    "save_policy",
]
