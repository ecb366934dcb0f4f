"""Off-policy evaluation on a decision point's own log: would another policy have done better?

The decision log holds, for each decision, the context, the candidates, the served action and
the exact probability it was served with; the learning ledger holds the reward each decision
was finally worth (the first in-window reward, the sum, or the default, as the point
aggregates). Joined, they are logged bandit feedback, and the estimators of
:mod:`limelight.bandits.ope` (DM, IPS, SNIPS, DR, SNDR, Switch-DR) with bootstrap intervals and
weight diagnostics judge any candidate policy on it.

Which rounds: decisions served by the policy (mode ``live``) whose reward window has closed
(they have a ledger row), first slot only (the probabilities of later slots are conditional on
the slots above, which these estimators do not model). Baseline-served decisions (holdout,
apprentice) were deterministic, so importance weighting cannot use them for other actions; they
are left out unless ``include_baseline`` asks for them (then only DM is trustworthy).

Candidates differ per decision (each title has its own artworks), so actions are indexed
within each round and the arrays are padded to the largest candidate set with probability 0.

Candidate policies (``{"name": ..., "params": {...}}`` or just a name):

``uniform``
    Every candidate equally likely.
``greedy``
    The best candidate by the cross-fitted reward model (``params.epsilon`` mixes in uniform).
``current``
    The point's live model as it is now, frozen.
any policy name (``linucb``, ``thompson``, ``epsilon-greedy``, ``softmax``, ``vw``)
    That policy, built with the point's features, floor and seed and ``params``, replayed on
    the log in time order: its distribution for each round is taken before it learns that
    round's logged outcome, so each estimate uses only the past (progressive validation).

The reward model for DM and the doubly robust estimators is a ridge regression on context x
action features (the same features the shared linear policies use), cross-fitted over
``n_folds`` folds so that no round is predicted by a model that saw it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from limelight.bandits.base import Action, Policy
from limelight.bandits.batch import joint_design
from limelight.bandits.features import FeatureSpace
from limelight.bandits.ope import (
    Estimator,
    LoggedFeedback,
    Report,
    default_estimators,
    evaluate,
    kfold,
)
from limelight.bandits.points import (
    EPSILON_POLICIES,
    DecisionPoint,
    DecisionPointSpec,
    build_policy,
)
from limelight.bandits.rewards import learned_value, learned_values
from limelight.decisions import BATCH_KIND, DecisionRecord, expand
from limelight.errors import InvalidInput
from limelight.storage.database import Database
from limelight.storage.schema import decisions

SPECIAL = ("uniform", "greedy", "current")


@dataclass(frozen=True, slots=True)
class LoggedRounds:
    """A point's logged bandit feedback, one entry per usable decision, in time order."""

    decision_ids: list[str]
    contexts: list[dict[str, Any]]
    actions: list[list[Action]]
    chosen: np.ndarray
    reward: np.ndarray
    pscore: np.ndarray
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def n_rounds(self) -> int:
        return len(self.decision_ids)

    @property
    def sizes(self) -> np.ndarray:
        return np.array([len(actions) for actions in self.actions], dtype=int)


@dataclass(frozen=True, slots=True)
class PointEvaluation:
    """Estimates of a candidate policy's value on a point's log, with the logged policy's
    observed value on the same rounds for comparison."""

    point: str
    candidate: str
    n_rounds: int
    logged_value: float
    report: Report
    support: float  # share of rounds where the candidate gives the logged action any mass
    skipped: dict[str, int]

    def rows(self) -> list[dict[str, float | str]]:
        """One row per estimator: estimate, interval, and the relative change vs logged."""
        out: list[dict[str, float | str]] = []
        for name, interval in self.report.estimates.items():
            out.append(
                {
                    "estimator": name,
                    "estimate": interval.estimate,
                    "lower": interval.lower,
                    "upper": interval.upper,
                    "vs_logged": (
                        interval.estimate / self.logged_value - 1.0
                        if self.logged_value
                        else float("nan")
                    ),
                }
            )
        return out


def _candidate_name(candidate: Mapping[str, Any] | str) -> tuple[str, dict[str, Any]]:
    if isinstance(candidate, str):
        return candidate, {}
    name = candidate.get("name")
    params = candidate.get("params") or {}
    if not isinstance(name, str) or not isinstance(params, Mapping):
        raise InvalidInput("a candidate policy is {name, params}", field="policy")
    return name, dict(params)


def logged_rounds(
    database: Database,
    point: DecisionPoint,
    *,
    since: float | None = None,
    until: float | None = None,
    limit: int | None = None,
    include_baseline: bool = False,
) -> LoggedRounds:
    """Join the point's decisions with what was learned from them (see the module doc)."""
    query = select(decisions).where(
        decisions.c.kind.in_(("bandit", BATCH_KIND)), decisions.c.point == point.name
    )
    if since is not None:
        query = query.where(decisions.c.created_at >= since)
    if until is not None:
        query = query.where(decisions.c.created_at < until)
    query = query.order_by(decisions.c.created_at.desc(), decisions.c.decision_id.desc())
    if limit is not None:
        query = query.limit(limit)
    with database.read() as connection:
        rows = [DecisionRecord.from_row(dict(r)) for r in connection.execute(query).mappings()]
        values = learned_values(connection, point.name)
    # newest first; a batch row (a page of decisions) stands for its members, newest last
    records = [m for r in rows for m in reversed(expand([r], "bandit"))]
    if limit is not None:
        records = records[:limit]
    records.reverse()
    features = point.features
    decision_ids: list[str] = []
    contexts: list[dict[str, Any]] = []
    action_lists: list[list[Action]] = []
    chosen: list[int] = []
    reward: list[float] = []
    pscore: list[float] = []
    skipped = {"baseline": 0, "open": 0}
    for record in records:
        mode = (record.extra or {}).get("mode", "live")
        if mode != "live" and not include_baseline:
            skipped["baseline"] += 1
            continue
        served = str(record.chosen[0])
        value = learned_value(values, record.decision_id, served)
        if value is None:
            skipped["open"] += 1
            continue
        actions = [
            Action(str(c["id"]), features.action_of(c.get("features") or {}))
            for c in record.candidates
        ]
        ids = [action.id for action in actions]
        decision_ids.append(record.decision_id)
        contexts.append(features.context_of(record.context))
        action_lists.append(actions)
        chosen.append(ids.index(served))
        reward.append(value)
        pscore.append(float((record.probabilities or [1.0])[0]))
    return LoggedRounds(
        decision_ids,
        contexts,
        action_lists,
        np.array(chosen, dtype=int),
        np.array(reward, dtype=float),
        np.array(pscore, dtype=float),
        skipped,
    )


def reward_model(
    rounds: LoggedRounds, *, ridge: float = 1.0, n_folds: int = 3, random_state: int | None = 0
) -> np.ndarray:
    """Cross-fitted ridge estimates ``q[t, k]`` of each round's candidates (padded with 0)."""
    space = FeatureSpace()
    matrix, offsets = joint_design(space, rounds.contexts, rounds.actions)
    logged = matrix[offsets[:-1] + rounds.chosen]
    sizes = rounds.sizes
    width = int(sizes.max())
    estimates = np.zeros((rounds.n_rounds, width))
    folds = (
        [(np.arange(rounds.n_rounds), np.arange(rounds.n_rounds))]
        if n_folds < 2 or rounds.n_rounds < n_folds
        else list(kfold(rounds.n_rounds, n_folds, random_state))
    )
    dimension = matrix.shape[1]
    for train, test in folds:
        x = logged[train]
        theta = np.linalg.solve(x.T @ x + ridge * np.eye(dimension), x.T @ rounds.reward[train])
        for t in test:
            block = matrix[offsets[t] : offsets[t + 1]]
            estimates[t, : sizes[t]] = block @ theta
    return estimates


def _candidate_spec(point: DecisionPoint, name: str, params: dict[str, Any]) -> DecisionPointSpec:
    """The point's configuration with the candidate's policy; ``floor``, ``epsilon`` and
    ``seed`` among ``params`` override the point's exploration and seed."""
    data = point.model_dump(include=set(DecisionPointSpec.model_fields))
    policy_params = dict(params)
    exploration = dict(data["exploration"])
    if "floor" in policy_params:
        exploration["floor"] = policy_params.pop("floor")
    epsilon = policy_params.pop("epsilon", None)
    exploration["epsilon"] = epsilon
    if epsilon is None and name in EPSILON_POLICIES and point.policy.name == name:
        exploration["epsilon"] = point.exploration.epsilon
    data["seed"] = policy_params.pop("seed", data["seed"])
    data["policy"] = {"name": name, "params": policy_params}
    data["exploration"] = exploration
    try:
        return DecisionPointSpec.model_validate(data)
    except ValueError as error:
        raise InvalidInput(f"invalid candidate policy: {error}", field="policy") from None


def _padded_uniform(sizes: np.ndarray) -> np.ndarray:
    width = int(sizes.max())
    mask = np.arange(width) < sizes[:, None]
    distribution: np.ndarray = np.where(mask, 1.0 / sizes[:, None], 0.0)
    return distribution


def candidate_distribution(
    rounds: LoggedRounds,
    point: DecisionPoint,
    candidate: Mapping[str, Any] | str,
    *,
    estimates: np.ndarray,
    current: Policy | None = None,
) -> tuple[str, np.ndarray]:
    """The candidate's probability of each round's candidates (padded) and its label."""
    name, params = _candidate_name(candidate)
    sizes = rounds.sizes
    width = int(sizes.max())
    mask = np.arange(width) < sizes[:, None]
    if name == "uniform":
        return "uniform", _padded_uniform(sizes)
    if name == "greedy":
        epsilon = float(params.get("epsilon", 0.0))
        if not 0.0 <= epsilon <= 1.0:
            raise InvalidInput("epsilon must be in [0, 1]", field="params.epsilon")
        scores = np.where(mask, estimates, -np.inf)
        best = (scores == scores.max(axis=1, keepdims=True)) & mask
        greedy = best / best.sum(axis=1, keepdims=True)
        label = "greedy" if epsilon == 0 else f"greedy(epsilon={epsilon:g})"
        return label, (1.0 - epsilon) * greedy + epsilon * _padded_uniform(sizes)
    distribution = np.zeros((rounds.n_rounds, width))
    if name == "current":
        if current is None:
            raise InvalidInput("no current model to evaluate", field="policy")
        for t in range(rounds.n_rounds):
            distribution[t, : sizes[t]] = current.probabilities(
                rounds.contexts[t], rounds.actions[t]
            )
        return f"current ({current.name})", distribution
    policy = build_policy(_candidate_spec(point, name, params))
    for t in range(rounds.n_rounds):
        actions = rounds.actions[t]
        distribution[t, : sizes[t]] = policy.probabilities(rounds.contexts[t], actions)
        logged = actions[int(rounds.chosen[t])]
        policy.learn_one(
            rounds.contexts[t], logged, float(rounds.reward[t]), float(rounds.pscore[t])
        )
    label = name if not params else f"{name}({', '.join(f'{k}={v}' for k, v in params.items())})"
    return f"{label} replayed", distribution


def evaluate_point(
    database: Database,
    point: DecisionPoint,
    candidate: Mapping[str, Any] | str,
    *,
    current: Policy | None = None,
    since: float | None = None,
    until: float | None = None,
    limit: int | None = 50_000,
    include_baseline: bool = False,
    estimators: Sequence[Estimator] | None = None,
    n_bootstrap: int = 200,
    alpha: float = 0.05,
    tau: float = 10.0,
    ridge: float = 1.0,
    n_folds: int = 3,
    random_state: int | None = 0,
) -> PointEvaluation:
    """Estimate ``candidate``'s value on the point's log (see the module doc).

    ``tau`` is Switch-DR's weight threshold (above it the round uses DM alone); the default of
    10 suits logs with a floor of 0.01 to 0.1, where weights reach 10 to 100.
    """
    rounds = logged_rounds(
        database,
        point,
        since=since,
        until=until,
        limit=limit,
        include_baseline=include_baseline,
    )
    if rounds.n_rounds < 2:
        raise InvalidInput(
            f"decision point {point.name!r} has {rounds.n_rounds} usable logged rounds "
            "(served by the policy, window closed); at least 2 are needed",
            field="point",
        )
    estimates = reward_model(rounds, ridge=ridge, n_folds=n_folds, random_state=random_state)
    label, distribution = candidate_distribution(
        rounds, point, candidate, estimates=estimates, current=current
    )
    log = LoggedFeedback(rounds.chosen, rounds.reward, rounds.pscore)
    report = evaluate(
        log,
        distribution,
        estimates,
        estimators=default_estimators(tau=tau) if estimators is None else estimators,
        n_bootstrap=n_bootstrap,
        alpha=alpha,
        random_state=random_state,
    )
    on_logged = distribution[np.arange(rounds.n_rounds), rounds.chosen]
    return PointEvaluation(
        point=point.name,
        candidate=label,
        n_rounds=rounds.n_rounds,
        logged_value=float(rounds.reward.mean()),
        report=report,
        support=float(np.mean(on_logged > 0)),
        skipped=rounds.skipped,
    )


def plot_evaluation(evaluation: PointEvaluation, path: Path) -> Path:
    """Each estimator's estimate with its interval, against the logged policy's value."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    names = list(evaluation.report.estimates)
    intervals = [evaluation.report.estimates[name] for name in names]
    centres = np.array([interval.estimate for interval in intervals])
    below = centres - np.array([interval.lower for interval in intervals])
    above = np.array([interval.upper for interval in intervals]) - centres
    positions = np.arange(len(names))
    axes.errorbar(
        positions,
        centres,
        yerr=np.vstack([np.maximum(below, 0), np.maximum(above, 0)]),
        fmt="o",
        capsize=4,
        label=f"{evaluation.candidate} ({1 - intervals[0].alpha:.0%} bootstrap interval)"
        if intervals
        else evaluation.candidate,
    )
    axes.axhline(evaluation.logged_value, linestyle="--", color="grey", label="logged policy")
    axes.set_xticks(positions, [name.upper() for name in names])
    axes.set_ylabel("estimated reward per decision")
    axes.set_title(f"{evaluation.point}: {evaluation.n_rounds:,} logged rounds")
    axes.legend(loc="best", fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", dpi=100)
    return path
