"""The artwork simulator: seeded, deterministic, and personal enough to matter."""

from __future__ import annotations

import numpy as np

from limelight.bandits import LinUCB, UniformRandom
from limelight.bandits.simulator import ArtworkSimulator, fixed_chooser, oracle_chooser, run


def test_same_seed_same_world_and_same_rounds() -> None:
    first = ArtworkSimulator(n_users=100, n_titles=5, seed=3)
    second = ArtworkSimulator(n_users=100, n_titles=5, seed=3)
    assert np.array_equal(first.best_fixed, second.best_fixed)
    a, b = first.rounds(50, seed=1), second.rounds(50, seed=1)
    for x, y in zip(a, b, strict=True):
        assert x.context == y.context and x.actions == y.actions and x.draw == y.draw
        assert np.array_equal(x.probabilities, y.probabilities)
    other = ArtworkSimulator(n_users=100, n_titles=5, seed=4).rounds(50, seed=1)
    assert any(
        x.context != y.context or x.actions != y.actions for x, y in zip(a, other, strict=True)
    )


def test_titles_have_three_to_five_distinct_styles() -> None:
    simulator = ArtworkSimulator(n_users=20, n_titles=30, seed=0)
    for situation in simulator.rounds(100, seed=0):
        styles = [action.features["style"] for action in situation.actions]
        assert 3 <= len(styles) <= 5 and len(set(styles)) == len(styles)


def test_runs_are_deterministic_for_a_seeded_policy() -> None:
    simulator = ArtworkSimulator(n_users=200, n_titles=5, seed=1)
    first = run(simulator, LinUCB(random_state=2), 300, seed=5)
    second = run(simulator, LinUCB(random_state=2), 300, seed=5)
    assert np.array_equal(first.expected, second.expected)
    assert np.array_equal(first.clicks, second.clicks)


def test_the_oracle_bounds_everything_and_personalization_matters() -> None:
    simulator = ArtworkSimulator(n_users=500, n_titles=10, seed=2)
    rounds = simulator.rounds(3000, seed=0)
    oracle = run(simulator, None, 3000, chooser=oracle_chooser, rounds=rounds)
    fixed = run(simulator, None, 3000, chooser=fixed_chooser(simulator), rounds=rounds)
    uniform = run(simulator, UniformRandom(random_state=0), 3000, rounds=rounds)
    assert np.array_equal(oracle.expected, oracle.oracle)
    assert np.all(fixed.expected <= oracle.expected + 1e-15)
    # The best artwork differs between people: a fixed choice leaves much on the table.
    assert fixed.expected.mean() < 0.85 * oracle.expected.mean()
    assert uniform.expected.mean() < fixed.expected.mean()
    assert np.all(uniform.logged_probability <= 1 / 3 + 1e-12)


def test_a_learning_policy_beats_the_fixed_choice_on_a_small_world() -> None:
    simulator = ArtworkSimulator(n_users=300, n_titles=3, seed=5)
    result = run(simulator, LinUCB(shared=True, random_state=0), 4000, seed=1)
    assert result.window_ratio(1000, against="fixed") > 1.0
    points, curve = result.click_rate_curve(every=1000)
    assert points.tolist() == [1000, 2000, 3000, 4000] and curve.shape == (4,)
    assert result.regret_curve()[-1] > 0
