"""Off-policy estimators on cases whose right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.bandits.ope import (
    DirectMethod,
    DoublyRobust,
    DoublyRobustWithShrinkage,
    InverseProbabilityWeighting,
    LoggedFeedback,
    SelfNormalizedDoublyRobust,
    SelfNormalizedInverseProbabilityWeighting,
    SwitchDoublyRobust,
    bootstrap_interval,
    cross_fit_rewards,
    default_estimators,
    diagnostics,
    evaluate,
    kfold,
    round_terms,
)
from limelight.errors import InvalidInput

N_ACTIONS = 3


def _logged(n: int = 2000, seed: int = 0) -> tuple[LoggedFeedback, np.ndarray, np.ndarray]:
    """A uniform logging policy over three actions, Bernoulli rewards from a known ``q``."""
    rng = np.random.default_rng(seed)
    context = rng.integers(0, 2, n)
    q = np.where(context[:, None] == 1, [0.2, 0.5, 0.7], [0.6, 0.3, 0.1])
    action = rng.integers(0, N_ACTIONS, n)
    reward = (rng.random(n) < q[np.arange(n), action]).astype(float)
    log = LoggedFeedback(action, reward, np.full(n, 1 / N_ACTIONS), context=context[:, None])
    return log, q, context


def _best_by_context(context: np.ndarray) -> np.ndarray:
    """A deterministic evaluation policy: action 2 when context is 1, action 0 otherwise."""
    dist = np.zeros((context.shape[0], N_ACTIONS))
    dist[np.arange(context.shape[0]), np.where(context == 1, 2, 0)] = 1.0
    return dist


def test_ips_of_the_logging_policy_is_the_mean_reward() -> None:
    log, _, _ = _logged()
    uniform = np.full((log.n_rounds, N_ACTIONS), 1 / N_ACTIONS)
    terms = round_terms(log, uniform)
    assert InverseProbabilityWeighting().estimate(terms) == pytest.approx(log.reward.mean())
    assert SelfNormalizedInverseProbabilityWeighting().estimate(terms) == pytest.approx(
        log.reward.mean()
    )


def test_dr_and_dm_with_a_perfect_noise_free_model_equal_the_true_value() -> None:
    log, q, context = _logged()
    exact = LoggedFeedback(log.action, q[np.arange(log.n_rounds), log.action], log.pscore)
    dist = _best_by_context(context)
    truth = float((dist * q).sum(axis=1).mean())
    terms = round_terms(exact, dist, q)
    for estimator in (DirectMethod(), DoublyRobust(), SelfNormalizedDoublyRobust()):
        assert estimator.estimate(terms) == pytest.approx(truth, abs=1e-12)
    assert SwitchDoublyRobust(5.0).estimate(terms) == pytest.approx(truth, abs=1e-12)


def test_unbiased_estimators_recover_the_value_of_another_policy() -> None:
    log, q, context = _logged(n=20_000, seed=1)
    dist = _best_by_context(context)
    truth = float((dist * q).sum(axis=1).mean())
    values = evaluate(log, dist, q, n_bootstrap=10).values()
    for name in ("ips", "snips", "dr", "sndr", "dm"):
        assert values[name] == pytest.approx(truth, abs=0.02), name


def test_each_estimator_on_a_hand_computed_log() -> None:
    log = LoggedFeedback(
        action=np.array([0, 1, 1]), reward=np.array([1.0, 0.0, 1.0]), pscore=np.array([0.5] * 3)
    )
    dist = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
    q = np.array([[0.8, 0.2], [0.4, 0.4], [0.5, 0.9]])
    terms = round_terms(log, dist, q)
    w = np.array([2.0, 2.0, 1.0])
    dm = np.array([0.8, 0.4, 0.7])
    error = np.array([0.2, -0.4, 0.1])
    assert DirectMethod().estimate(terms) == pytest.approx(dm.mean())
    assert InverseProbabilityWeighting().estimate(terms) == pytest.approx((w * log.reward).mean())
    assert SelfNormalizedInverseProbabilityWeighting().estimate(terms) == pytest.approx(
        (w * log.reward).sum() / w.sum()
    )
    assert DoublyRobust().estimate(terms) == pytest.approx((dm + w * error).mean())
    assert SelfNormalizedDoublyRobust().estimate(terms) == pytest.approx(
        (dm + w * error / w.mean()).mean()
    )
    assert SwitchDoublyRobust(1.5).estimate(terms) == pytest.approx(
        (dm + (w <= 1.5) * w * error).mean()
    )
    shrunk = 1.0 * w / (w**2 + 1.0)
    assert DoublyRobustWithShrinkage(1.0).estimate(terms) == pytest.approx(
        (dm + shrunk * error).mean()
    )


def test_switch_dr_spans_dm_and_dr() -> None:
    log, q, context = _logged()
    terms = round_terms(log, _best_by_context(context), q)
    assert SwitchDoublyRobust(np.inf).estimate(terms) == DoublyRobust().estimate(terms)
    assert SwitchDoublyRobust(0.0).estimate(terms) == pytest.approx(DirectMethod().estimate(terms))


def test_positions_select_their_slice() -> None:
    """With several slots, the logged position picks the slot of every array."""
    rng = np.random.default_rng(4)
    n, slots = 500, 2
    action, position = rng.integers(0, N_ACTIONS, n), rng.integers(0, slots, n)
    dist = rng.dirichlet(np.ones(N_ACTIONS), size=(n, slots)).transpose(0, 2, 1)
    q = rng.random((n, N_ACTIONS, slots))
    log = LoggedFeedback(action, rng.random(n), np.full(n, 1 / N_ACTIONS), position)
    terms = round_terms(log, dist, q)
    rows = np.arange(n)
    weight = dist[rows, action, position] * N_ACTIONS
    direct = (dist[rows, :, position] * q[rows, :, position]).sum(axis=1)
    assert np.allclose(terms.weight, weight)
    assert terms.direct is not None and np.allclose(terms.direct, direct)
    with pytest.raises(InvalidInput):
        round_terms(LoggedFeedback(action, log.reward, log.pscore), dist, q)


@pytest.mark.parametrize("method", ["rounds", "obp"])
def test_bootstrap_interval_contains_the_estimate_and_is_seeded(method: str) -> None:
    log, q, context = _logged()
    terms = round_terms(log, _best_by_context(context), q)
    for estimator in default_estimators():
        first = bootstrap_interval(estimator, terms, n_bootstrap=200, random_state=3, method=method)  # type: ignore[arg-type]
        again = bootstrap_interval(estimator, terms, n_bootstrap=200, random_state=3, method=method)  # type: ignore[arg-type]
        assert first == again
        assert first.lower <= first.estimate <= first.upper
        assert first.upper - first.lower < 0.2


def test_weight_diagnostics() -> None:
    log, _, context = _logged(n=1000)
    uniform = np.full((1000, N_ACTIONS), 1 / N_ACTIONS)
    same = diagnostics(round_terms(log, uniform))
    assert same.effective_sample_size == pytest.approx(1000)
    assert same.max_weight == pytest.approx(1.0)
    other = diagnostics(round_terms(log, _best_by_context(context)))
    assert other.max_weight == pytest.approx(3.0)
    assert other.effective_sample_size < 500


def test_evaluate_leaves_out_model_based_estimators_without_a_model() -> None:
    log, q, context = _logged(n=300)
    dist = _best_by_context(context)
    assert set(evaluate(log, dist, n_bootstrap=5).estimates) == {"ips", "snips"}
    full = evaluate(log, dist, q, n_bootstrap=5)
    assert list(full.estimates) == ["dm", "ips", "snips", "dr", "sndr", "switch-dr"]
    assert full.diagnostics.n_rounds == 300


@pytest.mark.parametrize(
    "change",
    [
        {"pscore": np.zeros(4)},
        {"action": np.array([0, 1, 0, 5])},
        {"reward": np.ones(3)},
    ],
)
def test_bad_logs_are_rejected(change: dict[str, np.ndarray]) -> None:
    base = {"action": np.array([0, 1, 0, 1]), "reward": np.ones(4), "pscore": np.full(4, 0.5)}
    with pytest.raises(InvalidInput):
        log = LoggedFeedback(**{**base, **change})
        round_terms(log, np.full((4, 2), 0.5))


def test_action_dist_must_be_a_distribution() -> None:
    log = LoggedFeedback(np.array([0, 1]), np.ones(2), np.full(2, 0.5))
    with pytest.raises(InvalidInput):
        round_terms(log, np.full((2, 2), 0.6))


class _MeanByActionAndContext:
    """A tiny real classifier: the click rate per (context, action) cell."""

    def fit(self, x: np.ndarray, y: np.ndarray) -> _MeanByActionAndContext:
        self.rates: dict[tuple[float, ...], float] = {}
        for key in {tuple(row) for row in x}:
            rows = np.all(x == key, axis=1)
            self.rates[key] = float(y[rows].mean())
        self.default = float(y.mean())
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = np.array([self.rates.get(tuple(row), self.default) for row in x])
        return np.column_stack([1 - p, p])


def test_cross_fitted_reward_model_learns_q() -> None:
    log, q, _ = _logged(n=6000, seed=2)
    assert log.context is not None
    estimated = cross_fit_rewards(
        _MeanByActionAndContext,
        log.context.astype(float),
        log.action,
        log.reward,
        np.eye(N_ACTIONS),
        n_folds=3,
        random_state=0,
    )
    assert estimated.shape == (6000, N_ACTIONS, 1)
    assert np.abs(estimated[:, :, 0] - q).max() < 0.08


def test_folds_are_those_of_scikit_learn() -> None:
    model_selection = pytest.importorskip("sklearn.model_selection")
    ours = list(kfold(103, 3, 12345))
    theirs = list(model_selection.KFold(3, shuffle=True, random_state=12345).split(np.zeros(103)))
    assert len(ours) == len(theirs)
    for (train, test), (their_train, their_test) in zip(ours, theirs, strict=True):
        assert np.array_equal(train, their_train)
        assert np.array_equal(test, their_test)


def test_reward_model_predicts_a_constant_where_a_slot_has_one_class() -> None:
    log, _, _ = _logged(n=300, seed=3)
    assert log.context is not None
    no_clicks = np.zeros(300)
    estimated = cross_fit_rewards(
        _MeanByActionAndContext,
        log.context.astype(float),
        log.action,
        no_clicks,
        np.eye(N_ACTIONS),
        n_folds=3,
        random_state=0,
    )
    assert np.array_equal(estimated, np.zeros((300, N_ACTIONS, 1)))
