"""The policy contract, checked once for every policy (see ``limelight.bandits.base``)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from limelight.bandits import (
    Action,
    EpsilonGreedy,
    LinearThompson,
    LinUCB,
    Policy,
    Softmax,
    UniformRandom,
    load_policy,
    save_policy,
)
from limelight.bandits.base import Features
from limelight.bandits.state import split_arrays
from limelight.errors import InvalidInput

Factory = Callable[[int], Policy]

FACTORIES: dict[str, Factory] = {
    "epsilon-greedy": lambda seed: EpsilonGreedy(0.1, random_state=seed),
    "epsilon-greedy-shared": lambda seed: EpsilonGreedy(0.1, shared=True, random_state=seed),
    "softmax": lambda seed: Softmax(0.1, random_state=seed),
    "softmax-shared": lambda seed: Softmax(0.1, shared=True, random_state=seed),
    "linucb": lambda seed: LinUCB(0.5, random_state=seed),
    "linucb-shared": lambda seed: LinUCB(0.5, shared=True, random_state=seed),
    "thompson": lambda seed: LinearThompson(0.2, n_draws=500, random_state=seed),
    "thompson-shared": lambda seed: LinearThompson(
        0.2, n_draws=500, shared=True, random_state=seed
    ),
    "uniform": lambda seed: UniformRandom(random_state=seed),
}
LEARNERS = [name for name in FACTORIES if name != "uniform"]

TV: Features = {"device": "tv", "hour": 21.0}
PHONE: Features = {"device": "mobile", "hour": 8.0}
DARK = Action("dark", {"style": "dark"})
BRIGHT = Action("bright", {"style": "bright"})
CALM = Action("calm", {"style": "calm"})
POSTERS = (DARK, BRIGHT, CALM)


def _history(policy: Policy, steps: int, seed: int = 0) -> None:
    """A stream where dark works on TV and bright on phones."""
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        context = TV if rng.random() < 0.5 else PHONE
        decision = policy.rank(context, POSTERS)
        action = next(a for a in POSTERS if a.id == decision.chosen)
        good = "dark" if context is TV else "bright"
        reward = float(rng.random() < (0.8 if action.id == good else 0.1))
        policy.learn_one(context, action, reward, decision.probability)


@pytest.fixture(params=sorted(FACTORIES))
def factory(request: pytest.FixtureRequest) -> Factory:
    return FACTORIES[request.param]


@pytest.fixture(params=LEARNERS)
def learner(request: pytest.FixtureRequest) -> Factory:
    return FACTORIES[request.param]


def test_decision_is_a_distribution_over_the_candidates(factory: Factory) -> None:
    policy = factory(1)
    _history(policy, 60)
    for context in (TV, PHONE):
        decision = policy.rank(context, POSTERS)
        assert set(decision.probabilities) == {a.id for a in POSTERS}
        assert sum(decision.probabilities.values()) == pytest.approx(1.0, abs=1e-12)
        assert decision.probability == decision.probabilities[decision.chosen]
        assert decision.ranking[0] == decision.chosen
        assert sorted(decision.ranking) == sorted(a.id for a in POSTERS)
        assert decision.policy == policy.name


def test_every_probability_respects_the_floor(factory: Factory) -> None:
    policy = factory(2)
    policy.min_probability = 0.05
    _history(policy, 150)
    for context in (TV, PHONE):
        decision = policy.rank(context, POSTERS)
        assert min(decision.probabilities.values()) >= 0.05 - 1e-12
        assert decision.probability >= 0.05 - 1e-12


def test_floor_is_capped_at_uniform_when_there_are_many_actions(factory: Factory) -> None:
    policy = factory(3)
    policy.min_probability = 0.2
    many = [Action(f"a{i}", {"style": f"s{i}"}) for i in range(10)]
    probabilities = policy.probabilities(TV, many)
    assert np.allclose(probabilities, 0.1)


def test_same_seed_same_decisions(factory: Factory) -> None:
    first, second = factory(7), factory(7)
    _history(first, 40, seed=3)
    _history(second, 40, seed=3)
    for context in (TV, PHONE, TV):
        assert first.rank(context, POSTERS) == second.rank(context, POSTERS)


def test_restored_state_makes_identical_next_decisions(factory: Factory, tmp_path: Path) -> None:
    original = factory(11)
    _history(original, 80)
    json.dumps(split_arrays(original.state(), {}))  # JSON-compatible once arrays are split out
    save_policy(original, tmp_path / "policy")
    restored = load_policy(tmp_path / "policy")
    in_memory = Policy.from_state(original.state())
    assert type(restored) is type(original)
    for step in range(30):
        context = TV if step % 3 else PHONE
        a, b, c = (p.rank(context, POSTERS) for p in (original, restored, in_memory))
        assert a == b == c
        action = next(x for x in POSTERS if x.id == a.chosen)
        for policy in (original, restored, in_memory):
            policy.learn_one(context, action, float(step % 2), a.probability)
    assert original.predict_one(TV, DARK) == restored.predict_one(TV, DARK)


def test_learning_prefers_the_rewarded_action_in_its_context(learner: Factory) -> None:
    policy = learner(5)
    for _ in range(150):
        policy.learn_one(TV, DARK, 1.0, 0.5)
        policy.learn_one(TV, BRIGHT, 0.0, 0.5)
        policy.learn_one(TV, CALM, 0.0, 0.5)
        policy.learn_one(PHONE, DARK, 0.0, 0.5)
        policy.learn_one(PHONE, BRIGHT, 1.0, 0.5)
        policy.learn_one(PHONE, CALM, 0.0, 0.5)
    on_tv = policy.rank(TV, POSTERS)
    on_phone = policy.rank(PHONE, POSTERS)
    assert on_tv.ranking[0] == "dark" or on_tv.explored
    assert max(on_tv.probabilities, key=on_tv.probabilities.__getitem__) == "dark"
    assert max(on_phone.probabilities, key=on_phone.probabilities.__getitem__) == "bright"
    assert policy.predict_one(TV, DARK) > policy.predict_one(TV, BRIGHT)
    assert policy.predict_one(PHONE, BRIGHT) > policy.predict_one(PHONE, DARK)


def test_choice_frequencies_match_the_logged_probabilities(factory: Factory) -> None:
    policy = factory(9)
    _history(policy, 60)
    draws = 3000
    counts = dict.fromkeys((a.id for a in POSTERS), 0)
    mean_probability = dict.fromkeys(counts, 0.0)
    for _ in range(draws):
        decision = policy.rank(TV, POSTERS)
        counts[decision.chosen] += 1
        for key, value in decision.probabilities.items():
            mean_probability[key] += value / draws
    for key, count in counts.items():
        p = mean_probability[key]
        assert abs(count / draws - p) <= 4 * np.sqrt(p * (1 - p) / draws) + 1e-9


def test_explored_means_not_the_best_estimate() -> None:
    policy = EpsilonGreedy(1.0, random_state=0)  # always uniform
    for _ in range(50):
        policy.learn_one(TV, DARK, 1.0, 1 / 3)
    decisions = [policy.rank(TV, POSTERS) for _ in range(200)]
    assert all(d.explored == (d.chosen != "dark") for d in decisions)
    assert any(d.explored for d in decisions) and not all(d.explored for d in decisions)


def test_linucb_is_greedy_on_its_bound_and_floor_is_the_only_exploration() -> None:
    policy = LinUCB(0.0, min_probability=0.02, random_state=0)
    for _ in range(20):
        policy.learn_one(TV, BRIGHT, 1.0, 0.5)
    probabilities = policy.probabilities(TV, POSTERS)
    assert probabilities.tolist() == pytest.approx([0.02, 0.96, 0.02])


def test_thompson_two_actions_uses_the_closed_form() -> None:
    policy = LinearThompson(1.0, random_state=0)
    means = np.array([0.3, 0.1])
    covariance = np.array([[0.04, 0.01], [0.01, 0.02]])
    probability = policy.best_probabilities(means, covariance)[0]
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(means, covariance, size=200_000)
    assert probability == pytest.approx(float((draws[:, 0] > draws[:, 1]).mean()), abs=0.005)


def test_thompson_monte_carlo_matches_a_large_sample() -> None:
    policy = LinearThompson(1.0, n_draws=20_000, random_state=0)
    means = np.array([0.3, 0.25, 0.1])
    covariance = np.diag([0.01, 0.02, 0.03])
    estimate = policy.best_probabilities(means, covariance)
    draws = np.random.default_rng(1).multivariate_normal(means, covariance, size=200_000)
    truth = np.bincount(draws.argmax(axis=1), minlength=3) / draws.shape[0]
    assert estimate.sum() == pytest.approx(1.0)
    assert np.abs(estimate - truth).max() < 0.015


def test_thompson_leaves_out_candidates_that_cannot_be_best() -> None:
    """A candidate far behind is left out (probability 0); the two left take the closed form,
    with no Monte Carlo draws at all."""
    policy = LinearThompson(1.0, random_state=0)
    means = np.array([0.3, 0.28, -5.0])
    covariance = np.diag([0.01, 0.01, 0.01])
    estimate = policy.best_probabilities(means, covariance)
    first = 0.5 * (1.0 + math.erf(0.02 / math.sqrt(0.02) / math.sqrt(2.0)))
    assert estimate.tolist() == pytest.approx([first, 1.0 - first, 0.0], abs=1e-12)
    assert estimate[2] == 0.0
    assert policy._pool is None  # no normals were drawn
    # Three in contention: Monte Carlo over all three.
    close = policy.best_probabilities(np.array([0.3, 0.28, 0.29]), covariance)
    assert policy._pool is not None and (close > 0.1).all()


@pytest.mark.parametrize(
    "actions",
    [[], [Action("a"), Action("a")]],
    ids=["no actions", "duplicate ids"],
)
def test_bad_candidates_are_rejected(factory: Factory, actions: list[Action]) -> None:
    with pytest.raises(InvalidInput):
        factory(0).rank(TV, actions)


@pytest.mark.parametrize("probability", [0.0, -0.1, 1.5, float("nan")])
def test_bad_feedback_is_rejected(factory: Factory, probability: float) -> None:
    with pytest.raises(InvalidInput):
        factory(0).learn_one(TV, DARK, 1.0, probability)


def test_state_of_another_kind_is_refused() -> None:
    state = LinUCB(random_state=0).state()
    with pytest.raises(InvalidInput):
        Softmax.from_state(state)
    with pytest.raises(InvalidInput):
        Policy.from_state({**state, "format": 99})


def test_learn_many_is_learn_one_in_turn(factory: Factory) -> None:
    """Folding a batch (repeated contexts and actions, as a page of tiles has) gives the model
    that learning each observation in turn gives, up to rounding."""
    rng = np.random.default_rng(3)
    contexts = [TV, PHONE, {"device": "tv", "hour": 22.0}]
    feedback = [
        (
            contexts[int(rng.integers(3))],
            POSTERS[int(rng.integers(3))],
            float(rng.random() < 0.3),
            float(rng.uniform(0.2, 1.0)),
        )
        for _ in range(300)
    ]
    one_by_one, folded = factory(0), factory(0)
    _history(one_by_one, 20)
    _history(folded, 20)
    for context, action, reward, probability in feedback:
        one_by_one.learn_one(context, action, reward, probability)
    folded.learn_many(feedback)
    for context in (*contexts, {"device": "radio", "hour": 3.0}):
        for action in (*POSTERS, Action("new", {"style": "neon"})):
            assert folded.predict_one(context, action) == pytest.approx(
                one_by_one.predict_one(context, action), abs=1e-9
            )
        if not isinstance(folded, LinearThompson):  # its probabilities are Monte Carlo draws
            assert np.allclose(
                folded.probabilities(context, POSTERS),
                one_by_one.probabilities(context, POSTERS),
                atol=1e-9,
            )


def test_learn_many_checks_everything_before_learning(learner: Factory) -> None:
    policy = learner(0)
    before = policy.predict_one(TV, DARK)
    with pytest.raises(InvalidInput):
        policy.learn_many([(TV, DARK, 1.0, 0.5), (TV, DARK, math.nan, 0.5)])
    assert policy.predict_one(TV, DARK) == before
