"""One call that runs every estimator with intervals and diagnostics on a log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from limelight.bandits.ope.bootstrap import (
    Interval,
    Method,
    WeightDiagnostics,
    bootstrap_interval,
    diagnostics,
)
from limelight.bandits.ope.estimators import (
    Estimator,
    LoggedFeedback,
    default_estimators,
    round_terms,
)


@dataclass(frozen=True, slots=True)
class Report:
    """Estimates by estimator name, and the weight diagnostics they share."""

    estimates: dict[str, Interval]
    diagnostics: WeightDiagnostics

    def values(self) -> dict[str, float]:
        """Point estimates by estimator name."""
        return {name: interval.estimate for name, interval in self.estimates.items()}


def evaluate(
    log: LoggedFeedback,
    action_dist: np.ndarray,
    estimated_rewards: np.ndarray | None = None,
    *,
    estimators: Sequence[Estimator] | None = None,
    n_bootstrap: int = 200,
    alpha: float = 0.05,
    random_state: int | None = 0,
    method: Method = "rounds",
) -> Report:
    """Estimate the value of the policy behind ``action_dist`` from ``log``.

    Without ``estimated_rewards`` the estimators that need a reward model are left out.

    >>> log = LoggedFeedback(np.array([0, 1, 0, 1]), np.array([1.0, 0.0, 1.0, 0.0]),
    ...                      np.full(4, 0.5))
    >>> always_first = np.tile([1.0, 0.0], (4, 1))
    >>> report = evaluate(log, always_first, n_bootstrap=20)
    >>> report.values()
    {'ips': 1.0, 'snips': 1.0}
    """
    chosen = list(estimators) if estimators is not None else default_estimators()
    terms = round_terms(log, action_dist, estimated_rewards)
    usable = [e for e in chosen if estimated_rewards is not None or not e.uses_reward_model]
    estimates = {
        estimator.name: bootstrap_interval(
            estimator,
            terms,
            n_bootstrap=n_bootstrap,
            alpha=alpha,
            random_state=random_state,
            method=method,
        )
        for estimator in usable
    }
    return Report(estimates, diagnostics(terms))
