"""Off-policy evaluation: judge a policy on another policy's log before it goes live."""

from limelight.bandits.ope.bootstrap import (
    Interval,
    WeightDiagnostics,
    bootstrap_interval,
    diagnostics,
)
from limelight.bandits.ope.estimators import (
    DirectMethod,
    DoublyRobust,
    DoublyRobustWithShrinkage,
    Estimator,
    InverseProbabilityWeighting,
    LoggedFeedback,
    RoundTerms,
    SelfNormalizedDoublyRobust,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
    default_estimators,
    round_terms,
)
from limelight.bandits.ope.evaluate import Report, evaluate
from limelight.bandits.ope.reward_model import cross_fit_rewards, kfold

__all__ = [
    "DirectMethod",
    "DoublyRobust",
    "DoublyRobustWithShrinkage",
    "Estimator",
    "Interval",
    "InverseProbabilityWeighting",
    "LoggedFeedback",
    "Report",
    "RoundTerms",
    "SelfNormalizedDoublyRobust",
    "SelfNormalizedInverseProbabilityWeighting",
    "SwitchDoublyRobust",
    "WeightDiagnostics",
    "bootstrap_interval",
    "cross_fit_rewards",
    "default_estimators",
    "diagnostics",
    "evaluate",
    "kfold",
    "round_terms",
]
