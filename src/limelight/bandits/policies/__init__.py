"""Bandit policies; every one follows the contract of ``limelight.bandits.base.Policy``."""

from limelight.bandits.policies.greedy import EpsilonGreedy, Softmax
from limelight.bandits.policies.linucb import LinUCB
from limelight.bandits.policies.thompson import LinearThompson
from limelight.bandits.policies.uniform import UniformRandom

__all__ = ["EpsilonGreedy", "LinUCB", "LinearThompson", "Softmax", "UniformRandom"]
